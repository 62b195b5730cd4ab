using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Platform.Core.Jobs;

/// <summary>The engine's traces and meters: enqueue → run spans share a trace through the stored traceparent.</summary>
public static class JobTelemetry
{
    public const string Name = "Platform.Jobs";

    public static readonly ActivitySource Source = new(Name);
    public static readonly Meter Meter = new(Name);

    public static readonly Counter<long> Enqueued = Meter.CreateCounter<long>("platform.jobs.enqueued", "{job}", "Jobs enqueued");
    public static readonly Counter<long> Completed = Meter.CreateCounter<long>("platform.jobs.completed", "{job}", "Jobs completed");
    public static readonly Counter<long> Failed = Meter.CreateCounter<long>("platform.jobs.failed", "{job}", "Job runs that failed (and will be retried or discarded)");
    public static readonly Counter<long> Discarded = Meter.CreateCounter<long>("platform.jobs.discarded", "{job}", "Jobs discarded after their last attempt");
    public static readonly Histogram<double> Duration = Meter.CreateHistogram<double>("platform.jobs.duration", "s", "Handler run time");

    /// <summary>Latest queue depth and oldest available age per queue, refreshed by the worker's stats loop.</summary>
    private static readonly ConcurrentDictionary<string, (long Depth, double OldestAgeSeconds)> QueueStats = new();

    static JobTelemetry()
    {
        Meter.CreateObservableGauge("platform.jobs.queue.depth",
            () => QueueStats.Select(q => new Measurement<long>(q.Value.Depth, new KeyValuePair<string, object?>("queue", q.Key))),
            "{job}", "Jobs available to run now, per queue");
        Meter.CreateObservableGauge("platform.jobs.queue.oldest_age",
            () => QueueStats.Select(q => new Measurement<double>(q.Value.OldestAgeSeconds, new KeyValuePair<string, object?>("queue", q.Key))),
            "s", "Age of the oldest job available to run, per queue");
    }

    internal static void SetQueueStats(IReadOnlyDictionary<string, (long Depth, double OldestAgeSeconds)> stats)
    {
        foreach (var key in QueueStats.Keys.Where(k => !stats.ContainsKey(k)))
        {
            QueueStats[key] = (0, 0);
        }
        foreach (var (queue, value) in stats)
        {
            QueueStats[queue] = value;
        }
    }

    internal static TagList Tags(string kind, string queue) => new() { { "job.kind", kind }, { "job.queue", queue } };
}
