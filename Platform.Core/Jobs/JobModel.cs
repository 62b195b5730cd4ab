using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Platform.Core.Jobs;

/// <summary>
/// The arguments of one kind of job. The kind lives on the args type, so any service can enqueue a job
/// without referencing its handler, and a typo in a kind string cannot happen at the call site.
/// </summary>
public interface IJobArgs
{
    /// <summary>Stable name of the job kind, stored with every job (e.g. <c>ops.canary</c>).</summary>
    static abstract string Kind { get; }

    /// <summary>Version of the args' JSON shape; bump it when the shape changes incompatibly.</summary>
    static virtual int Version => 1;

    /// <summary>Turns args stored by an older version into the current shape (default: unchanged).</summary>
    static virtual JsonElement Upgrade(JsonElement args, int fromVersion) => args;
}

/// <summary>Runs jobs of one kind. Handlers must be idempotent: every queue of this design is at-least-once.</summary>
public interface IJobHandler<in TArgs> where TArgs : IJobArgs
{
    Task HandleAsync(TArgs args, JobContext context);
}

/// <summary>What a handler knows about the run it is in.</summary>
public sealed class JobContext
{
    public required long JobId { get; init; }
    public required string Kind { get; init; }
    public required string Queue { get; init; }
    /// <summary>1 on the first run, 2 on the first retry, …</summary>
    public required int Attempt { get; init; }
    public required int MaxAttempts { get; init; }
    public required int ArgsVersion { get; init; }
    public required DateTimeOffset ScheduledAt { get; init; }
    /// <summary>Cancelled when the worker loses the job's lease (or an operator cancels it) and on shutdown.</summary>
    public required CancellationToken CancellationToken { get; init; }
    public required ILogger Logger { get; init; }
    /// <summary>The run's span, a child of the span that enqueued the job.</summary>
    public Activity? Activity { get; init; }

    public bool IsLastAttempt => Attempt >= MaxAttempts;
}

/// <summary>How one job is enqueued. Every property is optional.</summary>
public sealed record JobOptions
{
    public static readonly JobOptions Default = new();

    /// <summary>Named queue; each worker runs a fixed number of jobs per queue at once.</summary>
    public string Queue { get; init; } = "default";
    /// <summary>1 (first) … 4 (last).</summary>
    public short Priority { get; init; } = 2;
    public int MaxAttempts { get; init; } = 20;
    /// <summary>Run no earlier than this (UTC). Null: as soon as a worker is free.</summary>
    public DateTimeOffset? RunAt { get; init; }
    /// <summary>While a job of the same kind with this key is pending or running, enqueueing returns it instead.</summary>
    public string? UniqueKey { get; init; }
    /// <summary>At most one job with this key runs at a time, across all workers (e.g. one pipeline run per meeting).</summary>
    public string? ConcurrencyKey { get; init; }
}

/// <summary>The result of an enqueue: the job's id and whether this call created it.</summary>
public readonly record struct EnqueuedJob(long Id, bool Duplicate);

public static class JobStates
{
    public const string Available = "available";
    public const string Scheduled = "scheduled";
    public const string Running = "running";
    public const string Retryable = "retryable";
    public const string Completed = "completed";
    public const string Discarded = "discarded";
    public const string Cancelled = "cancelled";

    public static readonly IReadOnlyList<string> All = [Available, Scheduled, Running, Retryable, Completed, Discarded, Cancelled];

    public static bool IsFinal(string state) => state is Completed or Discarded or Cancelled;
}

/// <summary>Retry delay: attempt^4 seconds ±10 % jitter (River's default), scaled by a unit for tests.</summary>
public static class RetryPolicy
{
    public static TimeSpan Delay(int attempt, TimeSpan unit, double random01)
    {
        var jitter = 0.9 + 0.2 * random01;
        return unit * (Math.Pow(Math.Max(attempt, 1), 4) * jitter);
    }
}

/// <summary>Thrown by a handler to end a job as discarded at once, without further retries.</summary>
public sealed class JobDiscardException(string message) : Exception(message);
