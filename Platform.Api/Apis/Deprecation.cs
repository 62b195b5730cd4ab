using System.Globalization;

namespace Platform.Api.Apis;

/// <summary>
/// An address kept for existing clients after its resource moved: every answer carries <c>Deprecation</c> (RFC 9745,
/// the date it was deprecated) and <c>Link: &lt;successor&gt;; rel="successor-version"</c>, and the OpenAPI document
/// marks the operations deprecated, so generated clients and people reading the document both see where to go.
/// </summary>
public static class Deprecation
{
    public static RouteGroupBuilder MovedTo(this RouteGroupBuilder group, string successor, DateTimeOffset since)
    {
        var deprecation = "@" + since.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var link = $"<{successor}>; rel=\"successor-version\"";
        group.AddEndpointFilter(async (context, next) =>
        {
            var headers = context.HttpContext.Response.Headers;
            headers["Deprecation"] = deprecation;
            headers.Link = link;
            return await next(context);
        });
        group.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.Deprecated = true;
            operation.Description = $"Deprecated: use {successor}. {operation.Description}".TrimEnd();
            return Task.CompletedTask;
        });
        return group;
    }
}
