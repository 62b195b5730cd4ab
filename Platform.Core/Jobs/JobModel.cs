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

    /// <summary>
    /// The Hangfire queue the kind runs on (lower-case letters, digits, '-' and '_'). Each queue has its own workers,
    /// so a slow module cannot starve another (<c>Platform:Jobs:Queues</c>).
    /// </summary>
    static virtual string Queue => "default";

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
    /// <summary>Our id of the job (the outbox request); null for a recurring schedule's fire, which Hangfire creates itself.</summary>
    public required long? RequestId { get; init; }
    /// <summary>Hangfire's id of the job (stable across its retries; what the dashboard shows).</summary>
    public required string JobId { get; init; }
    public required string Kind { get; init; }
    public required string Queue { get; init; }
    /// <summary>1 on the first run, 2 on the first retry, …</summary>
    public required int Attempt { get; init; }
    public required int MaxAttempts { get; init; }
    public required int ArgsVersion { get; init; }
    /// <summary>When the job was due: its run-at, the schedule's fire time, or when it was enqueued.</summary>
    public required DateTimeOffset ScheduledAt { get; init; }
    /// <summary>Cancelled when an operator deletes the job, when its kind's timeout passes, and on shutdown.</summary>
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

    /// <summary>Overrides the kind's queue (<see cref="IJobArgs.Queue"/>).</summary>
    public string? Queue { get; init; }
    public int MaxAttempts { get; init; } = 20;
    /// <summary>Run no earlier than this (UTC). Null: as soon as a worker is free.</summary>
    public DateTimeOffset? RunAt { get; init; }
    /// <summary>While a job of the same kind with this key has not ended, enqueueing returns it instead.</summary>
    public string? UniqueKey { get; init; }
    /// <summary>At most one job with this key runs at a time, across all workers (e.g. one pipeline run per meeting).</summary>
    public string? ConcurrencyKey { get; init; }
}

/// <summary>The result of an enqueue: the job's id (its outbox request) and whether this call created it.</summary>
public readonly record struct EnqueuedJob(long Id, bool Duplicate);

/// <summary>
/// A job's state as the operator API reports it: <c>pending</c> while the request waits in the outbox, then
/// Hangfire's own state names in lower case.
/// </summary>
public static class JobStates
{
    public const string Pending = "pending";
    public const string Enqueued = "enqueued";
    public const string Scheduled = "scheduled";
    public const string Processing = "processing";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Deleted = "deleted";
    public const string Awaiting = "awaiting";

    public static bool IsFinal(string state) => state is Succeeded or Failed or Deleted;
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

/// <summary>Thrown by a handler to end a job as failed at once, without further retries.</summary>
public sealed class JobDiscardException(string message) : Exception(message);
