using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Configuration-based service discovery, the part of Microsoft.Extensions.ServiceDiscovery the platform
/// uses: <c>http://api</c> resolves through <c>services:api:http:0</c> (what Aspire injects as
/// <c>services__api__http__0</c>); <c>https+http://api</c> prefers https and falls back to http.
/// Numbered entries are rotated round-robin.
/// </summary>
public static class ServiceDiscoveryExtensions
{
    public static IServiceCollection AddPlatformServiceDiscovery(this IServiceCollection services)
    {
        services.TryAddSingleton<ServiceEndpointResolver>();
        return services;
    }

    public static IHttpClientBuilder AddServiceDiscovery(this IHttpClientBuilder builder) =>
        builder.AddHttpMessageHandler(sp => new ServiceDiscoveryHandler(sp.GetRequiredService<ServiceEndpointResolver>()));
}

public sealed class ServiceEndpointResolver(IConfiguration configuration)
{
    private int _next;

    /// <summary>All endpoints configured for a service and scheme, in configuration order.</summary>
    public IReadOnlyList<Uri> Resolve(string service, string scheme)
    {
        var section = configuration.GetSection("services").GetSection(service).GetSection(scheme);
        var list = new List<Uri>();
        if (section.Value is { Length: > 0 } single && Uri.TryCreate(single, UriKind.Absolute, out var one))
        {
            list.Add(one);
        }
        foreach (var child in section.GetChildren().OrderBy(c => int.TryParse(c.Key, out var i) ? i : int.MaxValue))
        {
            if (Uri.TryCreate(child.Value, UriKind.Absolute, out var uri))
            {
                list.Add(uri);
            }
        }
        return list;
    }

    /// <summary>Rewrites a logical URI (<c>http://api/path</c>) to a configured endpoint, or returns it unchanged.</summary>
    public Uri Rewrite(Uri uri)
    {
        if (!uri.IsAbsoluteUri || uri.Host.Contains('.', StringComparison.Ordinal) || uri.HostNameType != UriHostNameType.Dns)
        {
            return uri;
        }
        var schemes = uri.Scheme switch
        {
            "https+http" => new[] { "https", "http" },
            "http+https" => new[] { "http", "https" },
            var s => new[] { s },
        };
        foreach (var scheme in schemes)
        {
            var endpoints = Resolve(uri.Host, scheme);
            if (endpoints.Count == 0)
            {
                continue;
            }
            var target = endpoints[(int)((uint)Interlocked.Increment(ref _next) % (uint)endpoints.Count)];
            var builder = new UriBuilder(uri) { Scheme = target.Scheme, Host = target.Host, Port = target.Port };
            var basePath = target.AbsolutePath.TrimEnd('/');
            if (basePath.Length > 0)
            {
                builder.Path = basePath + uri.AbsolutePath;
            }
            return builder.Uri;
        }
        return uri;
    }
}

internal sealed class ServiceDiscoveryHandler(ServiceEndpointResolver resolver) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.RequestUri is { } uri)
        {
            request.RequestUri = resolver.Rewrite(uri);
        }
        return base.SendAsync(request, cancellationToken);
    }
}
