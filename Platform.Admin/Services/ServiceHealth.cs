namespace Platform.Admin.Services;

public sealed record ServiceProbe(string Service, string Endpoint, string Status, long? Milliseconds);

/// <summary>
/// Health of every service the panel knows through service discovery (<c>services:{name}:{scheme}:{n}</c>):
/// a GET of each endpoint's <c>/health</c>. Api reports only its own health, so the panel asks each one.
/// A plain handler on purpose: a probe must see the first answer, not a retried one.
/// </summary>
public sealed class ServiceHealth(IConfiguration configuration) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) })
    {
        Timeout = TimeSpan.FromSeconds(3),
    };

    public async Task<IReadOnlyList<ServiceProbe>> ProbeAsync(CancellationToken ct)
    {
        var targets = new List<(string Service, Uri Endpoint)>();
        foreach (var service in configuration.GetSection("services").GetChildren())
        {
            var endpoints = new List<Uri>();
            foreach (var scheme in service.GetChildren())
            {
                var values = scheme.Value is { Length: > 0 } one ? [one] : scheme.GetChildren().Select(c => c.Value);
                foreach (var value in values)
                {
                    if (Uri.TryCreate(value, UriKind.Absolute, out var uri))
                    {
                        endpoints.Add(uri);
                    }
                }
            }
            // Several endpoints of one service are its nodes (realtime-0, realtime-1), each with its own card.
            targets.AddRange(endpoints.Select((uri, i) => (endpoints.Count > 1 ? $"{service.Key}-{i}" : service.Key, uri)));
        }
        var probes = targets.Select(async t =>
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                using var response = await _http.GetAsync(new Uri(t.Endpoint, "/health"), ct);
                var body = (await response.Content.ReadAsStringAsync(ct)).Trim();
                var status = response.IsSuccessStatusCode ? (body is "Degraded" ? "degraded" : "healthy") : "unhealthy";
                return new ServiceProbe(t.Service, t.Endpoint.Authority, status, (long)System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return new ServiceProbe(t.Service, t.Endpoint.Authority, "unreachable", null);
            }
        });
        return [new ServiceProbe("admin", "this process", "healthy", 0), .. await Task.WhenAll(probes)];
    }

    public void Dispose() => _http.Dispose();
}
