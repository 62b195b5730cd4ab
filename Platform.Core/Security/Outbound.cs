using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;

namespace Platform.Core.Security;

/// <summary>
/// Operator settings of the outbound pipeline (<c>Platform:Outbound</c>). Every URL a tenant or an end user
/// controls (civic feeds and documents, webhook endpoints, Web Push endpoints) is called through it.
/// </summary>
public sealed class OutboundOptions
{
    public const string Section = "Platform:Outbound";

    /// <summary>
    /// Host names or literal addresses that may be called even though they resolve to a non-public address, and
    /// over plain http. For development (a local feed or receiver); empty in production.
    /// </summary>
    public List<string> AllowedHosts { get; set; } = [];

    /// <summary>Time to open a TCP connection (after DNS).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Redirects followed where a caller allows them at all; every hop is checked again.</summary>
    public int MaxRedirects { get; set; } = 3;

    /// <summary>Largest response headers accepted, in KiB.</summary>
    public int MaxResponseHeadersKiB { get; set; } = 64;

    public static OutboundOptions From(IConfiguration configuration)
    {
        var options = new OutboundOptions();
        configuration.GetSection(Section).Bind(options);
        return options;
    }

    public bool IsAllowedHost(string host) =>
        AllowedHosts.Any(h => string.Equals(h.Trim().TrimStart('[').TrimEnd(']'), host.TrimStart('[').TrimEnd(']'), StringComparison.OrdinalIgnoreCase));
}

/// <summary>A tenant-controlled URL the pipeline will not call; the message is safe to show to the tenant.</summary>
public sealed class OutboundRefusedException(string message) : IOException(message);

/// <summary>Which addresses a tenant-controlled URL may reach: public unicast only.</summary>
public static class AddressRules
{
    private static readonly (IPAddress Network, int Prefix, string Why)[] Refused =
    [
        (IPAddress.Parse("0.0.0.0"), 8, "unspecified"),
        (IPAddress.Parse("10.0.0.0"), 8, "private"),
        (IPAddress.Parse("100.64.0.0"), 10, "shared (carrier-grade NAT)"),
        (IPAddress.Parse("127.0.0.0"), 8, "loopback"),
        (IPAddress.Parse("169.254.0.0"), 16, "link-local (cloud metadata)"),
        (IPAddress.Parse("172.16.0.0"), 12, "private"),
        (IPAddress.Parse("192.0.0.0"), 24, "special-purpose"),
        (IPAddress.Parse("192.0.2.0"), 24, "documentation"),
        (IPAddress.Parse("192.88.99.0"), 24, "relay"),
        (IPAddress.Parse("192.168.0.0"), 16, "private"),
        (IPAddress.Parse("198.18.0.0"), 15, "benchmarking"),
        (IPAddress.Parse("198.51.100.0"), 24, "documentation"),
        (IPAddress.Parse("203.0.113.0"), 24, "documentation"),
        (IPAddress.Parse("224.0.0.0"), 4, "multicast"),
        (IPAddress.Parse("240.0.0.0"), 4, "reserved"),
        (IPAddress.Parse("::"), 128, "unspecified"),
        (IPAddress.Parse("::1"), 128, "loopback"),
        (IPAddress.Parse("100::"), 64, "discard"),
        (IPAddress.Parse("2001::"), 23, "special-purpose"),
        (IPAddress.Parse("2001:db8::"), 32, "documentation"),
        (IPAddress.Parse("fc00::"), 7, "unique local (private)"),
        (IPAddress.Parse("fe80::"), 10, "link-local"),
        (IPAddress.Parse("fec0::"), 10, "site-local"),
        (IPAddress.Parse("ff00::"), 8, "multicast"),
    ];

    private static readonly byte[] Nat64 = IPAddress.Parse("64:ff9b::").GetAddressBytes();
    private static readonly byte[] IPv4Compatible = IPAddress.Parse("::").GetAddressBytes();

    /// <summary>Null when the address is public unicast; otherwise why it is refused.</summary>
    public static string? WhyRefused(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return WhyRefused(address.MapToIPv4());
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var bytes = address.GetAddressBytes();
            // Addresses that carry an IPv4 address inside: judge the embedded one.
            if (InPrefix(bytes, Nat64, 96))
            {
                return WhyRefused(new IPAddress(bytes[12..16]));
            }
            if (InPrefix(bytes, IPv4Compatible, 96) && !address.Equals(IPAddress.IPv6Any) && !address.Equals(IPAddress.IPv6Loopback))
            {
                return "IPv4-compatible (deprecated)";
            }
            if (bytes[0] == 0x20 && bytes[1] == 0x02)
            {
                return WhyRefused(new IPAddress(bytes[2..6])); // 6to4
            }
        }
        else if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            return "not an IP address";
        }
        var raw = address.GetAddressBytes();
        foreach (var (network, prefix, why) in Refused)
        {
            var net = network.GetAddressBytes();
            if (net.Length == raw.Length && InPrefix(raw, net, prefix))
            {
                return why;
            }
        }
        return address.Equals(IPAddress.Broadcast) ? "broadcast" : null;
    }

    public static bool IsPublic(IPAddress address) => WhyRefused(address) is null;

    private static bool InPrefix(byte[] address, byte[] network, int prefix)
    {
        if (address.Length != network.Length)
        {
            return false;
        }
        var full = prefix / 8;
        for (var i = 0; i < full; i++)
        {
            if (address[i] != network[i])
            {
                return false;
            }
        }
        var rest = prefix % 8;
        return rest == 0 || (address[full] & (byte)(0xFF << (8 - rest))) == (network[full] & (byte)(0xFF << (8 - rest)));
    }
}

/// <summary>
/// The one outbound HTTP pipeline for tenant-controlled URLs. The check runs in the socket handler's
/// <see cref="SocketsHttpHandler.ConnectCallback"/>, on the addresses DNS returned, for every connection the
/// handler opens (so every redirect hop and every reconnect), and the socket connects to exactly the address
/// that was checked: a name that resolves differently a moment later (DNS rebinding) gains nothing.
/// No proxy is used, so the check cannot be bypassed through one.
/// </summary>
public static class OutboundHttp
{
    /// <param name="followRedirects">Whether to follow redirects (each hop checked again), or return 3xx to the caller.</param>
    public static HttpClient CreateClient(OutboundOptions options, bool followRedirects, TimeSpan timeout) =>
        new(CreateHandler(options, followRedirects), disposeHandler: true) { Timeout = timeout };

    public static SocketsHttpHandler CreateHandler(OutboundOptions options, bool followRedirects) => new()
    {
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = followRedirects,
        MaxAutomaticRedirections = Math.Max(1, options.MaxRedirects),
        MaxResponseHeadersLength = options.MaxResponseHeadersKiB,
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        ConnectTimeout = options.ConnectTimeout,
        ConnectCallback = (context, ct) => ConnectAsync(options, context.DnsEndPoint, ct),
    };

    /// <summary>
    /// Null when the URL may be called: http(s) only, https unless <paramref name="requireHttps"/> is false or the host
    /// is allowed, no credentials in it, and a literal address must be public. Names are checked again when connecting.
    /// </summary>
    public static string? WhyRefused(Uri url, OutboundOptions options, bool requireHttps)
    {
        if (!url.IsAbsoluteUri || url.Scheme is not ("http" or "https"))
        {
            return "only http(s) URLs are called";
        }
        if (!string.IsNullOrEmpty(url.UserInfo))
        {
            return "URLs with credentials in them are not called";
        }
        var allowed = options.IsAllowedHost(url.IdnHost);
        if (requireHttps && url.Scheme != "https" && !allowed)
        {
            return "only https URLs are called";
        }
        if (!allowed && IPAddress.TryParse(url.IdnHost.TrimStart('[').TrimEnd(']'), out var literal) && AddressRules.WhyRefused(literal) is { } why)
        {
            return $"the address is not public ({why})";
        }
        return null;
    }

    /// <summary>Throws <see cref="OutboundRefusedException"/> when <see cref="WhyRefused"/> says so.</summary>
    public static void EnsureAllowed(Uri url, OutboundOptions options, bool requireHttps)
    {
        if (WhyRefused(url, options, requireHttps) is { } why)
        {
            throw new OutboundRefusedException($"refused: {why}");
        }
    }

    /// <summary>The refusal inside an exception the handler threw, if that is what it was.</summary>
    public static OutboundRefusedException? Refusal(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is OutboundRefusedException refused)
            {
                return refused;
            }
        }
        return null;
    }

    internal static async ValueTask<Stream> ConnectAsync(OutboundOptions options, DnsEndPoint endpoint, CancellationToken ct)
    {
        var allowed = options.IsAllowedHost(endpoint.Host);
        IPAddress[] addresses = IPAddress.TryParse(endpoint.Host.TrimStart('[').TrimEnd(']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endpoint.Host, ct);
        // Every address the name has must be public: a name that also resolves to an internal address is refused whole.
        if (!allowed && addresses.Select(AddressRules.WhyRefused).FirstOrDefault(w => w is not null) is { } why)
        {
            throw new OutboundRefusedException($"refused: {endpoint.Host} resolves to an address that is not public ({why})");
        }
        if (addresses.Length == 0)
        {
            throw new OutboundRefusedException($"refused: {endpoint.Host} has no address");
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, endpoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Reads a response body up to <paramref name="maxBytes"/>; a larger one is refused without reading the rest.</summary>
    public static async Task<byte[]> ReadCappedAsync(HttpContent content, long maxBytes, CancellationToken ct)
    {
        if (content.Headers.ContentLength is { } declared && declared > maxBytes)
        {
            throw new OutboundRefusedException($"the response is larger than the {maxBytes}-byte limit");
        }
        await using var stream = await content.ReadAsStreamAsync(ct);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                throw new OutboundRefusedException($"the response is larger than the {maxBytes}-byte limit");
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}
