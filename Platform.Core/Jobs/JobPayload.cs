namespace Platform.Core.Jobs;

/// <summary>
/// The one argument (besides its kind) of every Hangfire job we create: what the outbox row held. Kept in the job's
/// arguments rather than in job parameters, so creating a job writes no extra rows.
/// </summary>
/// <param name="RequestId">Our job id (the outbox request); null for a recurring schedule's fire.</param>
/// <param name="Queue">The queue every (re)enqueue of the job goes to.</param>
/// <param name="EnqueuedAt">When the request was written (UTC): the start of the enqueue → start lag.</param>
public sealed record JobPayload(
    long? RequestId, string Queue, string Args, int ArgsVersion, int MaxAttempts,
    string? UniqueKey, string? ConcurrencyKey, string? TraceParent, DateTime? EnqueuedAt, DateTime? RunAt);
