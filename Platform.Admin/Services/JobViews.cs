using System.Text.Json;

namespace Platform.Admin.Services;

// Shapes of Api's /v1/admin/jobs and /v1/admin/schedules answers, read from Hangfire's storage and the job outbox.
public sealed record JobStateEntry(string State, DateTime At, string? Reason, string? Error);

public sealed record JobView(
    long Id, string? HangfireJobId, string Kind, string Queue, string State, int Attempt, int MaxAttempts, JsonElement Args,
    DateTime CreatedAt, DateTime? RunAt, DateTime? HandedOverAt, string? UniqueKey, string? ConcurrencyKey, IReadOnlyList<JobStateEntry> History)
{
    // What the API accepts: retry of a job that is not waiting or running; cancel of one that has not ended.
    public bool CanRetry => HangfireJobId is not null && State is "failed" or "deleted" or "succeeded" or "scheduled";
    public bool CanCancel => HangfireJobId is not null && State is "enqueued" or "scheduled" or "processing" or "awaiting";
}

public sealed record QueueDepth(string Queue, long Enqueued, long Fetched);

public sealed record JobStats(
    long Pending, double OldestPendingAgeSeconds, long Enqueued, long Scheduled, long Processing, long Succeeded, long Failed, long Deleted,
    long Servers, IReadOnlyList<QueueDepth> Queues);

public sealed record JobAccepted(long JobId);

public sealed record ScheduleView(
    string Name, string Cron, string Kind, string Queue, bool Paused, DateTime? NextFireAt, DateTime? LastFireAt,
    string? LastJobId, string? LastJobState, string? Error);
