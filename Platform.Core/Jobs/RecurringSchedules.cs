using Hangfire;
using Hangfire.Common;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Platform.Core.Jobs;

/// <summary>
/// Declares the recurring schedules of this build to Hangfire (AddOrUpdate by name, UTC). Hangfire then fires them
/// from whichever server's scheduler takes its distributed lock, so each fire time is enqueued once however many
/// Workers run. Missed fire times are coalesced into one fire (Hangfire's relaxed misfire handling).
/// <para>
/// Declaring takes Hangfire's per-schedule distributed lock, which another Worker may hold (two Workers starting
/// together, or a lock row left by a Worker that was killed, kept until the storage's lock timeout). So schedules are
/// declared in the background, not on the host's start path, and a schedule whose lock could not be taken is tried
/// again with backoff until it is declared: a held lock delays a declaration instead of stopping the Worker. A bad
/// cron expression is a build error, not a transient one: it stops the Worker at once.
/// </para>
/// A schedule removed from the code keeps its Hangfire entry until an operator deletes it in the dashboard: a
/// worker cannot tell a removed schedule from one that only a newer build declares.
/// </summary>
public sealed partial class RecurringSchedules(
    IEnumerable<RecurringJobDefinition> definitions, IRecurringJobManager manager, ILogger<RecurringSchedules> logger) : BackgroundService
{
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LongestRetryDelay = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield(); // AddOrUpdate blocks while it waits for a lock: never on the host's start path
        var pending = definitions.ToList();
        var delay = FirstRetryDelay;
        while (pending.Count > 0)
        {
            foreach (var d in pending.ToList())
            {
                stoppingToken.ThrowIfCancellationRequested();
                try
                {
                    Declare(d);
                    pending.Remove(d);
                    LogDeclared(logger, d.Name, d.Cron, d.Kind);
                }
                catch (ArgumentException)
                {
                    throw; // a bad cron expression: retrying cannot help
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogNotDeclared(logger, ex, d.Name, delay);
                }
            }
            if (pending.Count > 0)
            {
                await Task.Delay(delay, stoppingToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LongestRetryDelay.Ticks));
            }
        }
        LogAllDeclared(logger, definitions.Count());
    }

    private void Declare(RecurringJobDefinition d)
    {
        var payload = new JobPayload(null, d.Queue, d.ArgsJson, d.ArgsVersion, d.MaxAttempts, null, null, null, null, null);
        var job = Job.FromExpression<JobDispatcher>(x => x.RunAsync(d.Kind, payload, null, CancellationToken.None));
        manager.AddOrUpdate(d.Name, job, d.Cron, new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Schedule {Schedule} declared: {Cron} → {Kind}")]
    private static partial void LogDeclared(ILogger logger, string schedule, string cron, string kind);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Schedule {Schedule} not declared yet (its Hangfire lock is held or the storage did not answer); trying again in {Delay}")]
    private static partial void LogNotDeclared(ILogger logger, Exception exception, string schedule, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Count} recurring schedules declared")]
    private static partial void LogAllDeclared(ILogger logger, int count);
}
