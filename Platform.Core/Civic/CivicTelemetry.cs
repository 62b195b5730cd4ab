using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Platform.Core.Civic;

/// <summary>Meter <c>Platform.Civic</c>: ingestion per city and source, ingest → publish latency, gate outcomes, coverage, freshness.</summary>
public static class CivicTelemetry
{
    public static readonly Meter Meter = new("Platform.Civic");

    public static readonly Counter<long> IngestSucceeded = Meter.CreateCounter<long>("platform.civic.ingest.succeeded", description: "Source scans that succeeded, per city and source");
    public static readonly Counter<long> IngestFailed = Meter.CreateCounter<long>("platform.civic.ingest.failed", description: "Source scans or meeting runs that failed, per city and source");
    public static readonly Histogram<double> PublishLatency = Meter.CreateHistogram<double>("platform.civic.publish.latency", "s", "Ingest → publish latency of a processing run");
    public static readonly Counter<long> GateOutcome = Meter.CreateCounter<long>("platform.civic.gate.outcome", description: "Quality gate outcomes (pass, limited_confidence, reject)");
    public static readonly Histogram<double> EvidenceCoverage = Meter.CreateHistogram<double>("platform.civic.evidence.coverage", description: "Evidence coverage rate per gated summary");

    // Source freshness: seconds since each source's last successful scan, as observed by this process.
    private static readonly ConcurrentDictionary<(string City, string Source), DateTimeOffset> LastSuccess = new();

    static CivicTelemetry()
    {
        Meter.CreateObservableGauge("platform.civic.source.freshness", () => LastSuccess.Select(kv =>
            new Measurement<double>((DateTimeOffset.UtcNow - kv.Value).TotalSeconds,
                new KeyValuePair<string, object?>("civic.city", kv.Key.City), new KeyValuePair<string, object?>("civic.source", kv.Key.Source))),
            "s", "Seconds since the source's last successful scan");
    }

    public static void SourceSucceeded(string city, string source, string kind)
    {
        IngestSucceeded.Add(1, new TagList { { "civic.city", city }, { "civic.source", source }, { "civic.source.kind", kind } });
        LastSuccess[(city, source)] = DateTimeOffset.UtcNow;
    }

    public static void SourceFailed(string city, string source, string kind) =>
        IngestFailed.Add(1, new TagList { { "civic.city", city }, { "civic.source", source }, { "civic.source.kind", kind } });
}
