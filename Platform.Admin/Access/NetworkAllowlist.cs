using System.Net;
using Microsoft.Extensions.Options;

namespace Platform.Admin.Access;

/// <summary>Who may reach the panel at all (configuration section <c>Admin</c>).</summary>
public sealed class AdminAccessOptions
{
    /// <summary>CIDRs allowed to reach the panel. Default: loopback only.</summary>
    public List<string> AllowedNetworks { get; set; } = [];

    /// <summary>CIDRs of reverse proxies whose <c>X-Forwarded-For</c> is believed. Default: none.</summary>
    public List<string> TrustedProxies { get; set; } = [];

    internal static readonly string[] LoopbackNetworks = ["127.0.0.0/8", "::1/128"];
}

/// <summary>
/// The first middleware of the pipeline: a request whose client address is outside <c>Admin:AllowedNetworks</c>
/// gets a bare 403 — no page, no redirect to sign-in, nothing that shows what answers here.
/// The client address is the direct peer, or, only when that peer is a trusted proxy, the nearest address
/// in <c>X-Forwarded-For</c> that is not itself a trusted proxy (walking from the right, since the left
/// part of the header is whatever the client wrote). A trusted proxy's <c>X-Forwarded-Proto</c> sets the scheme.
/// </summary>
public sealed partial class NetworkAllowlist(RequestDelegate next, IOptions<AdminAccessOptions> options, ILogger<NetworkAllowlist> logger)
{
    private readonly IPNetwork[] _allowed = Parse(options.Value.AllowedNetworks is { Count: > 0 } a ? a : [.. AdminAccessOptions.LoopbackNetworks], "Admin:AllowedNetworks");
    private readonly IPNetwork[] _proxies = Parse(options.Value.TrustedProxies, "Admin:TrustedProxies");

    public async Task InvokeAsync(HttpContext context)
    {
        var client = ClientAddress(context.Connection.RemoteIpAddress, context.Request.Headers["X-Forwarded-For"]);
        if (client is null || !Contains(_allowed, client))
        {
            LogRefused(logger, client?.ToString() ?? "unknown", context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            context.Response.ContentLength = 0;
            return;
        }
        // Behind a TLS-terminating proxy the request arrives over http: believe its X-Forwarded-Proto (only from a
        // trusted proxy), so the sign-in cookie is marked Secure and redirects stay on https.
        var peer = context.Connection.RemoteIpAddress;
        if (peer is not null && Contains(_proxies, Normalize(peer)) &&
            context.Request.Headers["X-Forwarded-Proto"].ToString().Split(',', StringSplitOptions.TrimEntries).LastOrDefault() is { Length: > 0 } proto &&
            (proto.Equals("https", StringComparison.OrdinalIgnoreCase) || proto.Equals("http", StringComparison.OrdinalIgnoreCase)))
        {
            context.Request.Scheme = proto.ToLowerInvariant();
        }
        // Later stages (sign-in throttling, logs) see the real client.
        context.Connection.RemoteIpAddress = client;
        await next(context);
    }

    internal IPAddress? ClientAddress(IPAddress? peer, Microsoft.Extensions.Primitives.StringValues forwardedFor)
    {
        if (peer is null)
        {
            return null; // fail closed
        }
        var address = Normalize(peer);
        if (!Contains(_proxies, address) || forwardedFor.Count == 0)
        {
            return address;
        }
        var hops = forwardedFor.SelectMany(v => (v ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).ToArray();
        for (var i = hops.Length - 1; i >= 0; i--)
        {
            if (!IPAddress.TryParse(hops[i], out var hop))
            {
                return null; // a trusted proxy sent garbage: refuse rather than guess
            }
            address = Normalize(hop);
            if (!Contains(_proxies, address))
            {
                return address;
            }
        }
        return address;
    }

    private static bool Contains(IPNetwork[] networks, IPAddress address) => networks.Any(n => n.Contains(address));

    private static IPAddress Normalize(IPAddress a) => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a;

    private static IPNetwork[] Parse(IEnumerable<string> cidrs, string setting) =>
        [.. cidrs.Where(c => !string.IsNullOrWhiteSpace(c)).Select(c =>
        {
            var text = c.Trim();
            if (!text.Contains('/', StringComparison.Ordinal) && IPAddress.TryParse(text, out var single))
            {
                return new IPNetwork(Normalize(single), single.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
            }
            return IPNetwork.TryParse(text, out var network)
                ? network
                : throw new InvalidOperationException($"{setting} holds '{text}', which is not a CIDR such as 10.0.0.0/8.");
        })];

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused admin request from {Client} (peer {Peer}): outside Admin:AllowedNetworks")]
    private static partial void LogRefused(ILogger logger, string client, string peer);
}
