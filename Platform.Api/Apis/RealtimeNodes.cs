namespace Platform.Api.Apis;

/// <summary>
/// The Realtime nodes a client may stream from, from service discovery (<c>services:realtime:https|http:n</c>),
/// handed out round-robin so new connections spread over the nodes.
/// </summary>
public sealed class RealtimeNodes(ServiceEndpointResolver resolver)
{
    private int _next = -1;

    /// <summary>An absolute ws(s) URL of the next node carrying the token, or null when no node is configured.</summary>
    public string? NextStreamUrl(string token)
    {
        var nodes = resolver.Resolve("realtime", "https");
        if (nodes.Count == 0)
        {
            nodes = resolver.Resolve("realtime", "http");
        }
        if (nodes.Count == 0)
        {
            return null;
        }
        var node = nodes[(int)((uint)Interlocked.Increment(ref _next) % (uint)nodes.Count)];
        return StreamUrl(node, token);
    }

    /// <summary><c>http://host:port/base</c> → <c>ws://host:port/base/v1/stream?token=…</c> (https → wss).</summary>
    public static string StreamUrl(Uri node, string token)
    {
        var builder = new UriBuilder(node)
        {
            Scheme = node.Scheme == Uri.UriSchemeHttps ? "wss" : "ws",
            Path = node.AbsolutePath.TrimEnd('/') + "/v1/stream",
            Query = "token=" + Uri.EscapeDataString(token),
        };
        if (node.IsDefaultPort)
        {
            builder.Port = -1;
        }
        return builder.Uri.AbsoluteUri;
    }
}
