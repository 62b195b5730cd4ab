using Platform.Core.Jobs;

namespace Platform.Core.Community;

/// <summary>Score one tenant (or, with no tenant, enqueue a run for every active tenant with members or signals).</summary>
public sealed record ScoreChampionsArgs(Guid? TenantId = null, string Actor = "schedule") : IJobArgs
{
    public static string Kind => "community.score-champions";
    public static string Queue => "scoring";
}

/// <summary>Turn new conversation activities (replies, mentions, reactions, messages) into signals.</summary>
public sealed record ExtractActivitySignalsArgs(int MaxConversations = 500) : IJobArgs
{
    public static string Kind => "community.extract-activity-signals";
    public static string Queue => "scoring";
}

/// <summary>Settings (<c>Platform:Community</c>).</summary>
public sealed class CommunityOptions
{
    public const string Section = "Platform:Community";
    /// <summary>Champion scoring for every tenant; hourly by default (Quartz cron, UTC).</summary>
    public string ScoringCron { get; set; } = "0 0 * * * ?";
    /// <summary>Activity → signal extraction; every 30 seconds by default.</summary>
    public string ExtractionCron { get; set; } = "0/30 * * * * ?";
    /// <summary>Adoptions after which the idea's team leads are notified.</summary>
    public int AdoptionNotifyThreshold { get; set; } = 10;
}
