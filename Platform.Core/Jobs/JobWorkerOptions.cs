namespace Platform.Core.Jobs;

/// <summary>Job settings, bound from <c>Platform:Jobs</c>. The defaults suit production; tests shorten the intervals.</summary>
public sealed class JobWorkerOptions
{
    public const string Section = "Platform:Jobs";

    /// <summary>Hangfire schema in the platform database (created by Hangfire.PostgreSql at first start).</summary>
    public string Schema { get; set; } = "hangfire";

    /// <summary>
    /// Queues this worker serves and how many jobs of each it runs at once. Each queue gets its own Hangfire server
    /// in the process, so one module's backlog cannot take another module's workers.
    /// </summary>
    public Dictionary<string, int> Queues { get; set; } = new()
    {
        ["default"] = 5, ["civic"] = 4, ["notifications"] = 10, ["impact"] = 4, ["scoring"] = 2, ["events"] = 2,
    };

    /// <summary>
    /// Long polling: new jobs wake the fetchers at once through LISTEN/NOTIFY. Each Hangfire worker then holds a
    /// connection of its own, so the pool needs at least the sum of the worker counts plus headroom. Off: every idle
    /// worker polls its queue every <see cref="QueuePollInterval"/>.
    /// </summary>
    public bool LongPolling { get; set; } = true;

    /// <summary>Poll of a queue: the fallback with long polling, the only wake-up without.</summary>
    public TimeSpan QueuePollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A fetched job whose server died becomes visible to other servers again after this long.</summary>
    public TimeSpan InvisibilityTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often delayed jobs (retries, run-at) and recurring schedules are checked.</summary>
    public TimeSpan SchedulePollingInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often a running job checks whether an operator deleted it (its cancellation token then fires).</summary>
    public TimeSpan CancellationCheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>One unit of the retry backoff: the delay after attempt n is n^4 units ±10 %.</summary>
    public TimeSpan RetryDelayUnit { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A run that takes longer fails (and is retried): its token is cancelled and its worker freed.</summary>
    public TimeSpan DefaultTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Timeouts per job kind, e.g. <c>Platform:Jobs:Timeouts:notifications.send = 00:01:00</c>.</summary>
    public Dictionary<string, TimeSpan> Timeouts { get; set; } = new()
    {
        ["notifications.send"] = TimeSpan.FromMinutes(2),
        ["notifications.fanout"] = TimeSpan.FromMinutes(5),
        ["impact.score-text"] = TimeSpan.FromMinutes(2),
        ["impact.domain-event"] = TimeSpan.FromMinutes(2),
        ["community.extract-activity-signals"] = TimeSpan.FromMinutes(5),
    };

    /// <summary>The outbox relay: whether this process runs it, its batch size and how many hand-overs run at once.</summary>
    public bool RelayEnabled { get; set; } = true;

    public int RelayBatchSize { get; set; } = 500;

    public int RelayParallelism { get; set; } = 8;

    /// <summary>Fallback poll of the outbox when no NOTIFY arrives (lost notification, reconnect).</summary>
    public TimeSpan RelayPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Handed-over requests (our job id → Hangfire's) are kept this long; Hangfire expires finished jobs after a day.</summary>
    public TimeSpan RequestRetention { get; set; } = TimeSpan.FromDays(7);

    public TimeSpan PruneInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often queue depth and outbox age are read for the gauges.</summary>
    public TimeSpan StatsInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>On shutdown, running jobs get this long to finish before their tokens are cancelled.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(15);

    public TimeSpan TimeoutFor(string kind) => Timeouts.TryGetValue(kind, out var t) ? t : DefaultTimeout;
}
