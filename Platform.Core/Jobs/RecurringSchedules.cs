using Hangfire;
using Hangfire.Common;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Platform.Core.Jobs;

/// <summary>
/// Declares the recurring schedules of this build to Hangfire at start (AddOrUpdate by name, UTC). Hangfire then
/// fires them from whichever server's scheduler takes its distributed lock, so each fire time is enqueued once
/// however many Workers run. Missed fire times are coalesced into one fire (Hangfire's relaxed misfire handling).
/// A schedule removed from the code keeps its Hangfire entry until an operator deletes it in the dashboard: a
/// worker cannot tell a removed schedule from one that only a newer build declares.
/// </summary>
public sealed partial class RecurringSchedules(
    IEnumerable<RecurringJobDefinition> definitions, IRecurringJobManager manager, ILogger<RecurringSchedules> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var d in definitions)
        {
            var payload = new JobPayload(null, d.Queue, d.ArgsJson, d.ArgsVersion, d.MaxAttempts, null, null, null, null, null);
            var job = Job.FromExpression<JobDispatcher>(x => x.RunAsync(d.Kind, payload, null, CancellationToken.None));
            manager.AddOrUpdate(d.Name, job, d.Cron, new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
            LogDeclared(logger, d.Name, d.Cron, d.Kind);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Debug, Message = "Schedule {Schedule} declared: {Cron} → {Kind}")]
    private static partial void LogDeclared(ILogger logger, string schedule, string cron, string kind);
}
