using Platform.Api.Apis;

namespace Platform.Api.Security;

/// <summary>
/// Refuses a query string that carries U+0000 (<c>%00</c>) with 400 naming the parameter, before any endpoint runs:
/// PostgreSQL can neither store nor compare text containing it, so a search or filter with one would fail deep in a
/// query. Request bodies get the same rule from <see cref="JsonBody"/>; Kestrel itself refuses it in the path.
/// </summary>
public static class QueryTextGuard
{
    public static IApplicationBuilder UseQueryTextGuard(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.Request.QueryString.HasValue)
        {
            foreach (var (name, values) in context.Request.Query)
            {
                if (name.Contains('\0', StringComparison.Ordinal) || values.Any(v => v is not null && v.Contains('\0', StringComparison.Ordinal)))
                {
                    var field = name.Replace("\0", "", StringComparison.Ordinal);
                    var message = $"{field} contains the character U+0000.";
                    // Direct Line clients read Direct Line's own error shape.
                    var answer = context.Request.Path.StartsWithSegments(DirectLineApi.Prefix, StringComparison.OrdinalIgnoreCase)
                        ? DirectLineApi.Error(StatusCodes.Status400BadRequest, "BadArgument", message)
                        : Problems.Invalid(field, message);
                    await answer.ExecuteAsync(context);
                    return;
                }
            }
        }
        await next(context);
    });
}
