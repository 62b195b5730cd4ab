using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Platform.Core.Jobs;

/// <summary>
/// Traces and meters of jobs: the enqueue span's context travels with the job (outbox row, then the Hangfire job's
/// arguments), so a request, the jobs it enqueued and their runs form one trace.
/// </summary>
public static class JobTelemetry
{
    public const string Name = "Platform.Jobs";

    public static readonly ActivitySource Source = new(Name);
    public static readonly Meter Meter = new(Name);

    public static readonly Counter<long> Enqueued = Meter.CreateCounter<long>("platform.jobs.enqueued", "{job}", "Job requests written to the outbox");
    public static readonly Counter<long> HandedOver = Meter.CreateCounter<long>("platform.jobs.handed_over", "{job}", "Job requests the relay handed to Hangfire");
    public static readonly Counter<long> Completed = Meter.CreateCounter<long>("platform.jobs.completed", "{job}", "Job runs that succeeded");
    public static readonly Counter<long> Failed = Meter.CreateCounter<long>("platform.jobs.failed", "{job}", "Job runs that failed (and will be retried or end failed)");
    public static readonly Counter<long> Discarded = Meter.CreateCounter<long>("platform.jobs.discarded", "{job}", "Jobs that ended failed after their last attempt");
    public static readonly Histogram<double> Duration = Meter.CreateHistogram<double>("platform.jobs.duration", "s", "Handler run time");
    public static readonly Histogram<double> Lag = Meter.CreateHistogram<double>("platform.jobs.lag", "s",
        "From enqueue (or due time) to the start of the first attempt");

    private static Func<IEnumerable<Measurement<long>>>? _depth;
    private static Func<IEnumerable<Measurement<double>>>? _outboxAge;

    static JobTelemetry()
    {
        Meter.CreateObservableGauge("platform.jobs.queue.depth", () => _depth?.Invoke() ?? [], "{job}",
            "Jobs waiting per Hangfire queue, and requests waiting in the outbox (queue=outbox)");
        Meter.CreateObservableGauge("platform.jobs.outbox.oldest_age", () => _outboxAge?.Invoke() ?? [], "s",
            "Age of the oldest request the relay has not handed over yet");
    }

    /// <summary>The Worker's stats loop publishes the latest figures here; the gauges read them.</summary>
    internal static void SetQueueStats(IReadOnlyDictionary<string, long> depth, double outboxOldestAgeSeconds)
    {
        var d = depth.Select(q => new Measurement<long>(q.Value, new KeyValuePair<string, object?>("queue", q.Key))).ToArray();
        var a = new[] { new Measurement<double>(outboxOldestAgeSeconds) };
        _depth = () => d;
        _outboxAge = () => a;
    }

    internal static TagList Tags(string kind, string queue) => new() { { "job.kind", kind }, { "job.queue", queue } };
}
