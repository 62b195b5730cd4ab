using System.Net.Http.Headers;
using Microsoft.Extensions.Options;
using Platform.Admin.Services;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// The Hangfire Dashboard inside the panel: <c>/hangfire/…</c> is forwarded to Api's dashboard with the operator key,
/// so it is behind the panel's network allowlist and sign-in like every other page (no second login) while the
/// panel still never opens a database connection. Retry and delete work as in any Hangfire Dashboard.
/// </summary>
public static class HangfireDashboardProxy
{
    public const string ClientName = "hangfire-dashboard";

    private static readonly HashSet<string> SkippedRequestHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Cookie", "Authorization", "Connection", "Content-Length", "Content-Type", "Transfer-Encoding", "Accept-Encoding",
    };

    private static readonly HashSet<string> SkippedResponseHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Transfer-Encoding", "Connection", "Set-Cookie", "Server",
    };

    public static IServiceCollection AddHangfireDashboardProxy(this IServiceCollection services)
    {
        // Like PlatformApi's client: http://api through service discovery.
        services.AddHttpClient(ClientName, c =>
        {
            c.BaseAddress = new Uri("http://api");
            c.Timeout = TimeSpan.FromSeconds(30);
        });
        return services;
    }

    public static IEndpointRouteBuilder MapHangfireDashboardProxy(this IEndpointRouteBuilder app)
    {
        app.Map("/hangfire/{**path}", ForwardAsync).RequireAuthorization().DisableAntiforgery().ExcludeFromDescription();
        return app;
    }

    private static async Task ForwardAsync(HttpContext context, IHttpClientFactory clients, IOptions<PlatformApiOptions> options)
    {
        var http = clients.CreateClient(ClientName);
        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method),
            context.Request.Path.Value + context.Request.QueryString.Value);
        if (!string.IsNullOrEmpty(options.Value.OperatorKey))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", options.Value.OperatorKey);
        }
        foreach (var (name, values) in context.Request.Headers)
        {
            if (!SkippedRequestHeaders.Contains(name))
            {
                request.Headers.TryAddWithoutValidation(name, values.ToArray());
            }
        }
        if (context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            request.Content = new StreamContent(context.Request.Body);
            if (context.Request.ContentType is { } type)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", type);
            }
        }

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            if (!SkippedResponseHeaders.Contains(name))
            {
                context.Response.Headers[name] = values.ToArray();
            }
        }
        await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
    }
}
