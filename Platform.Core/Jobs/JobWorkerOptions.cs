namespace Platform.Core.Jobs;

/// <summary>Worker settings, bound from <c>Platform:Jobs</c>. The defaults suit production; tests shorten the intervals.</summary>
public sealed class JobWorkerOptions
{
    public const string Section = "Platform:Jobs";

    /// <summary>Identifies this worker in leases and <c>attempted_by</c>. Default: host name, process id and a random suffix.</summary>
    public string? WorkerId { get; set; }

    /// <summary>Queues this worker serves and how many jobs of each it runs at once.</summary>
    public Dictionary<string, int> Queues { get; set; } = new() { ["default"] = 10 };

    /// <summary>Fallback poll when no notification arrives (NOTIFY is the fast path; this also finds jobs whose run-at came).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a claimed job is leased; heartbeats extend it while the handler runs.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(60);

    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often expired leases (crashed workers) are returned to the queue.</summary>
    public TimeSpan RescueInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often recurring schedules are checked for a due fire time.</summary>
    public TimeSpan SchedulerInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>One unit of the retry backoff: the delay after attempt n is n^4 units ±10 %.</summary>
    public TimeSpan RetryDelayUnit { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Completed jobs are deleted this long after they finished; discarded jobs are kept.</summary>
    public TimeSpan CompletedRetention { get; set; } = TimeSpan.FromDays(7);

    public TimeSpan PruneInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often queue depth and oldest-available age are read for the gauges.</summary>
    public TimeSpan StatsInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// On shutdown, running handlers get this long to finish before they are cancelled and their jobs released.
    /// Kept under the host's own 30 s shutdown limit, which also has to cover releasing and flushing.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(15);
}
