using System.Text.Json;

namespace Platform.Admin.Services;

/// <summary>The job states of the engine (ARCHITECTURE §6), in the order a job moves through them.</summary>
public static class JobStates
{
    public static readonly string[] All = ["available", "scheduled", "running", "retryable", "completed", "discarded", "cancelled"];
}

// Shapes of Api's /v1/admin/jobs and /v1/admin/schedules answers (issue 5).
public sealed record JobError(int Attempt, DateTime At, string Error, string? Type, string? Worker);

public sealed record JobView(
    long Id, string Kind, string Queue, string State, int Priority, int Attempt, int MaxAttempts, JsonElement Args,
    DateTime ScheduledAt, DateTime CreatedAt, DateTime? AttemptedAt, DateTime? FinalizedAt,
    IReadOnlyList<string> AttemptedBy, string? UniqueKey, string? ConcurrencyKey, IReadOnlyList<JobError> Errors)
{
    // What the engine accepts: retry of a job that is not running or waiting; cancel of one that has not finished.
    public bool CanRetry => State is "discarded" or "cancelled" or "completed" or "retryable";
    public bool CanCancel => State is "available" or "scheduled" or "retryable" or "running";
}

public sealed record JobPage(IReadOnlyList<JobView> Items, string? NextCursor);

public sealed record QueueStateCount(string Queue, string State, long Count);

public sealed record QueueAge(string Queue, long Available, double OldestAvailableAgeSeconds);

public sealed record JobStatsAnswer(IReadOnlyList<QueueStateCount> Counts, IReadOnlyList<QueueAge> Queues);

public sealed record JobAccepted(long JobId);

public sealed record ScheduleView(string Name, string Cron, string Kind, string Queue, bool Paused, DateTime NextFireAt, DateTime? LastFireAt, long? LastJobId);

/// <summary>Counts per queue × state and the age of each queue's oldest available job (its lag).</summary>
public sealed record JobStats(IReadOnlyList<QueueStats> Queues)
{
    internal static JobStats From(JobStatsAnswer answer)
    {
        var queues = new SortedDictionary<string, QueueStats>(StringComparer.Ordinal);
        QueueStats Get(string name) => queues.TryGetValue(name, out var q) ? q : queues[name] = new QueueStats(name);
        foreach (var c in answer.Counts)
        {
            Get(c.Queue).Counts[c.State] = c.Count;
        }
        foreach (var a in answer.Queues)
        {
            Get(a.Queue).OldestAvailableAgeSeconds = a.OldestAvailableAgeSeconds;
        }
        return new JobStats([.. queues.Values]);
    }
}

public sealed class QueueStats(string queue)
{
    public string Queue { get; } = queue;
    public Dictionary<string, long> Counts { get; } = new(StringComparer.Ordinal);
    public double? OldestAvailableAgeSeconds { get; set; }
    public long Count(string state) => Counts.TryGetValue(state, out var n) ? n : 0;

    /// <summary>Jobs waiting to run: available now, due for a retry, or scheduled.</summary>
    public long Depth => Count("available") + Count("retryable") + Count("scheduled");
}
