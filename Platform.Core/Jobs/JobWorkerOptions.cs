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
    /// Hangfire.PostgreSql's long polling (LISTEN/NOTIFY per fetch). Off by default: with it on, a fetch cancels its
    /// LISTEN task after taking a job, and a cancellation that lands in a short window of Npgsql's
    /// <c>WaitAsync</c> is lost, so that worker waits, holding the job it fetched (kept invisible by the sliding
    /// heartbeat), until the next NOTIFY (docs/jobs.md, "Known problems"). Off, jobs created in this process (the
    /// relay, retries, delayed jobs, schedules) still wake an idle worker at once through Hangfire.PostgreSql's
    /// in-process queue signal; jobs created by another process are found at the next <see cref="QueuePollInterval"/>.
    /// </summary>
    public bool LongPolling { get; set; }

    /// <summary>Poll of an idle queue: how soon a job enqueued by another process (another Worker's relay, an operator's retry in Api) starts.</summary>
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

    /// <summary>The outbox relay: whether this process runs it, and how many requests it hands over per transaction.</summary>
    public bool RelayEnabled { get; set; } = true;

    public int RelayBatchSize { get; set; } = 500;

    /// <summary>Fallback poll of the outbox when no NOTIFY arrives (lost notification, reconnect).</summary>
    public TimeSpan RelayPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Handed-over requests (our job id → Hangfire's) are kept this long; Hangfire expires finished jobs after a day.</summary>
    public TimeSpan RequestRetention { get; set; } = TimeSpan.FromDays(7);

    public TimeSpan PruneInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often queue depth and outbox age are read for the gauges.</summary>
    public TimeSpan StatsInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// On shutdown, running jobs get this long to finish; then their tokens are cancelled and a run that stops is given
    /// back to its queue at once (Hangfire's <c>StopTimeout</c>), for the next Worker to run.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// After the tokens are cancelled, how long the runs get to stop and give their jobs back before Hangfire abandons
    /// them (Hangfire's <c>ShutdownTimeout</c> is <see cref="ShutdownTimeout"/> plus this). It must be more than zero:
    /// a server that is torn down at the moment the tokens fire disposes them before they are cancelled, so the runs
    /// would never see the stop and their jobs would wait for the invisibility timeout.
    /// </summary>
    public TimeSpan ShutdownGrace { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The least shutdown timeout the hosting process needs (its <c>HostOptions.ShutdownTimeout</c>, 30 s by default):
    /// the jobs' window and grace plus a margin, or the host would cut Hangfire's servers off before the runs are given back.
    /// </summary>
    public TimeSpan HostShutdownTimeout => ShutdownTimeout + ShutdownGrace + TimeSpan.FromSeconds(5);

    public TimeSpan TimeoutFor(string kind) => Timeouts.TryGetValue(kind, out var t) ? t : DefaultTimeout;
}
