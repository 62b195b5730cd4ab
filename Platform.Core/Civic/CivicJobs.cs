using System.Diagnostics;
using Platform.Core.Jobs;

namespace Platform.Core.Civic;

// Versioned job envelopes: every stage carries an idempotency key and the trace id of the request or
// schedule that started the pipeline, so one meeting's run can be followed across stages and retries.

public sealed record CityScanArgs(Guid TenantId, Guid CityId, string Trigger, string IdempotencyKey, string? TraceId) : IJobArgs
{
    public static string Kind => "city.scan";
    public static string Queue => "civic";
}

public sealed record MeetingIngestArgs(Guid TenantId, Guid CityId, Guid SourceId, string MeetingUid, string Title, DateOnly? MeetingDate,
    string Sha256, string MediaType, int ByteSize, string IdempotencyKey, string? TraceId) : IJobArgs
{
    public static string Kind => "meeting.ingest";
    public static string Queue => "civic";
}

/// <summary>One envelope for the per-run stages; <see cref="Stage"/> names which.</summary>
public sealed record MeetingExtractArgs(Guid TenantId, Guid RunId, Guid MeetingId, string IdempotencyKey, string? TraceId) : IJobArgs
{
    public static string Kind => "meeting.extract";
    public static string Queue => "civic";
}

public sealed record MeetingSummarizeArgs(Guid TenantId, Guid RunId, Guid MeetingId, string IdempotencyKey, string? TraceId) : IJobArgs
{
    public static string Kind => "meeting.summarize";
    public static string Queue => "civic";
}

public sealed record MeetingPublishArgs(Guid TenantId, Guid RunId, Guid MeetingId, string IdempotencyKey, string? TraceId) : IJobArgs
{
    public static string Kind => "meeting.publish";
    public static string Queue => "civic";
}

/// <summary>Fired every minute; enqueues <c>city.scan</c> for every city whose own cron is due.</summary>
public sealed record CivicScanDueArgs : IJobArgs
{
    public static string Kind => "civic.scan-due";
    public static string Queue => "civic";
}

public sealed record ProfileDeleteArgs(Guid TenantId, string UserId, string IdempotencyKey) : IJobArgs
{
    public static string Kind => "civic.profile.delete";
    public static string Queue => "civic";
}

public static class CivicJobOptions
{
    public const int PipelineAttempts = 5;

    /// <summary>One processing run per meeting at a time: every stage of a meeting shares this key.</summary>
    public static string MeetingKey(Guid meetingId) => $"civic-meeting:{meetingId}";

    public static JobOptions Stage(string stage, Guid runId, Guid meetingId) => new()
    {
        UniqueKey = $"{stage}:{runId}",
        ConcurrencyKey = MeetingKey(meetingId),
        MaxAttempts = PipelineAttempts,
    };

    public static string? CurrentTraceId() => Activity.Current?.TraceId.ToString();
}
