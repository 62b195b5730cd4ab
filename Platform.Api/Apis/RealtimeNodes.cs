using System.Net;
using Microsoft.Extensions.ServiceDiscovery;

namespace Platform.Api.Apis;

/// <summary>
/// The Realtime nodes a client may stream from, resolved by Microsoft.Extensions.ServiceDiscovery
/// (<c>https+http://realtime</c>: configuration <c>services:realtime:https|http:n</c>, as the AppHost sets it),
/// handed out round-robin so new connections spread over the nodes.
/// </summary>
public sealed class RealtimeNodes(ServiceEndpointResolver resolver)
{
    private const string Service = "https+http://realtime";
    private int _next = -1;

    /// <summary>An absolute ws(s) URL of the next node carrying the token, or null when no node is configured.</summary>
    public async ValueTask<string?> NextStreamUrlAsync(string token, CancellationToken ct)
    {
        IReadOnlyList<ServiceEndpoint> endpoints;
        try
        {
            endpoints = (await resolver.GetEndpointsAsync(Service, ct)).Endpoints;
        }
        catch (InvalidOperationException)
        {
            return null; // nothing configured for the service
        }
        // With nothing configured, discovery passes the logical name through ("realtime", port 0): that is no node.
        var nodes = endpoints.Select(e => e.EndPoint switch
        {
            UriEndPoint u => u.Uri,
            DnsEndPoint { Port: > 0 } d => new Uri($"http://{d.Host}:{d.Port}"),
            IPEndPoint ip => new Uri($"http://{ip}"),
            _ => null,
        }).OfType<Uri>().ToArray();
        if (nodes.Length == 0)
        {
            return null;
        }
        var node = nodes[(int)((uint)Interlocked.Increment(ref _next) % (uint)nodes.Length)];
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
