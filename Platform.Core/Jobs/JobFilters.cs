using Hangfire.Client;
using Hangfire.Common;
using Hangfire.States;
using Hangfire.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Platform.Core.Jobs;

/// <summary>
/// Our rules on Hangfire's state machine, for every job <see cref="JobDispatcher"/> runs:
/// <list type="bullet">
/// <item>every enqueue goes to the job's own queue (Hangfire would send a retried job to <c>default</c>);</item>
/// <item>a failed run is retried after attempt⁴ × <see cref="JobWorkerOptions.RetryDelayUnit"/> (±10 %) until the job's
/// own max attempts, then stays failed (<see cref="JobDiscardException"/> fails it at once);</item>
/// <item>a run that found its concurrency key busy is put back one second later without counting an attempt;</item>
/// <item>when the job ends (succeeded, failed for good, deleted) its unique key is released in the outbox.</item>
/// </list>
/// </summary>
public sealed partial class JobStateFilter(NpgsqlDataSource db, IOptions<JobWorkerOptions> options, ILogger<JobStateFilter> logger)
    : JobFilterAttribute, IElectStateFilter, IApplyStateFilter
{
    public void OnStateElection(ElectStateContext context)
    {
        if (Payload(context.BackgroundJob.Job) is not { } payload)
        {
            return;
        }
        switch (context.CandidateState)
        {
            case EnqueuedState enqueued when enqueued.Queue != payload.Queue:
                enqueued.Queue = payload.Queue;
                break;
            case FailedState failed when failed.Exception is ConcurrencyKeyBusyException busy:
                context.CandidateState = new ScheduledState(TimeSpan.FromSeconds(1)) { Reason = $"Waiting for concurrency key {busy.Key}" };
                break;
            case FailedState failed:
                // RetryCount counts every failed attempt, also the last, so a job retried from failure (API or
                // dashboard) runs as attempt max + 1 and ends failed again if that attempt fails too.
                var attempt = context.GetJobParameter<int>("RetryCount", allowStale: true) + 1;
                context.SetJobParameter("RetryCount", attempt);
                if (attempt < payload.MaxAttempts && failed.Exception is not JobDiscardException)
                {
                    var delay = RetryPolicy.Delay(attempt, options.Value.RetryDelayUnit, Random.Shared.NextDouble());
                    context.CandidateState = new ScheduledState(delay)
                    {
                        Reason = $"Retry {attempt} of {payload.MaxAttempts - 1}: {failed.Exception.GetType().Name}: {failed.Exception.Message}",
                    };
                }
                else
                {
                    JobTelemetry.Discarded.Add(1, JobTelemetry.Tags(KindOf(context.BackgroundJob.Job), payload.Queue));
                }
                break;
        }
    }

    public void OnStateApplied(ApplyStateContext context, IWriteOnlyTransaction transaction)
    {
        if (context.NewState.Name is not ("Succeeded" or "Failed" or "Deleted"))
        {
            return;
        }
        if (Payload(context.BackgroundJob.Job) is not { RequestId: { } requestId, UniqueKey: not null })
        {
            return;
        }
        try
        {
            // Outside Hangfire's transaction: a release that is lost here is redone by the relay's sweep.
            using var cmd = db.CreateCommand("UPDATE ops.job_requests SET released_at = now() WHERE id = $1 AND released_at IS NULL");
            cmd.Parameters.Add(new() { Value = requestId });
            cmd.ExecuteNonQuery();
        }
        catch (Exception ex)
        {
            LogReleaseFailed(logger, ex, requestId);
        }
    }

    public void OnStateUnapplied(ApplyStateContext context, IWriteOnlyTransaction transaction)
    {
    }

    internal static JobPayload? Payload(Job? job) =>
        job is { Type: var t, Args.Count: >= 2 } && t == typeof(JobDispatcher) ? job.Args[1] as JobPayload : null;

    internal static string KindOf(Job? job) => job?.Args.Count > 0 ? job.Args[0] as string ?? "?" : "?";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not release the unique key of job request {RequestId}; the relay's sweep will")]
    private static partial void LogReleaseFailed(ILogger logger, Exception ex, long requestId);
}

/// <summary>
/// Operator pause of recurring schedules, which Hangfire lacks: while <c>ops.schedule_controls</c> marks a schedule
/// paused, the job its fire would create is cancelled before it is stored. Hangfire still advances the schedule, so a
/// resume continues from the next fire time (fires during the pause are skipped, not made up). A fire is also
/// skipped while the job of the schedule's previous fire has not ended, so a slow run is never doubled (Hangfire's
/// own LastJobId is cleared by a skipped fire, so the last job is kept in the same table).
/// </summary>
public sealed partial class SchedulePauseFilter(NpgsqlDataSource db, ILogger<SchedulePauseFilter> logger) : JobFilterAttribute, IClientFilter
{
    public void OnCreating(CreatingContext context)
    {
        if (ScheduleOf(context.Parameters) is not { } name)
        {
            return;
        }
        using var cmd = db.CreateCommand("SELECT paused_at IS NOT NULL, last_job_id FROM ops.schedule_controls WHERE name = $1");
        cmd.Parameters.Add(new() { Value = name });
        using var r = cmd.ExecuteReader();
        if (!r.Read())
        {
            return;
        }
        if (r.GetBoolean(0))
        {
            LogSkipped(logger, name);
            context.Canceled = true;
            return;
        }
        var last = r.IsDBNull(1) ? null : r.GetString(1);
        if (last is { Length: > 0 } && context.Connection.GetStateData(last)?.Name is "Enqueued" or "Processing" or "Scheduled" or "Awaiting")
        {
            LogStillRunning(logger, name, last);
            context.Canceled = true;
        }
    }

    public void OnCreated(CreatedContext context)
    {
        if (ScheduleOf(context.Parameters) is not { } name || context.BackgroundJob?.Id is not { } jobId)
        {
            return;
        }
        using var cmd = db.CreateCommand("""
            INSERT INTO ops.schedule_controls (name, last_job_id) VALUES ($1, $2)
            ON CONFLICT (name) DO UPDATE SET last_job_id = excluded.last_job_id
            """);
        cmd.Parameters.Add(new() { Value = name });
        cmd.Parameters.Add(new() { Value = jobId });
        cmd.ExecuteNonQuery();
    }

    private static string? ScheduleOf(IDictionary<string, object> parameters) =>
        parameters.TryGetValue("RecurringJobId", out var value) && value is string { Length: > 0 } name ? name : null;

    [LoggerMessage(Level = LogLevel.Information, Message = "Schedule {Schedule}: fire skipped, its previous job {JobId} has not ended")]
    private static partial void LogStillRunning(ILogger logger, string schedule, string jobId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Schedule {Schedule} is paused: fire skipped")]
    private static partial void LogSkipped(ILogger logger, string schedule);
}
