using System.ComponentModel;
using System.Diagnostics;
using Hangfire;
using Hangfire.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Platform.Core.Jobs;

/// <summary>
/// The method every Hangfire job calls: finds the kind's handler, builds its <see cref="JobContext"/>, holds the
/// job's concurrency key, enforces the kind's timeout and records the run's span, logs and meters.
/// Retries are <see cref="JobStateFilter"/>'s (per-job attempts, our backoff), so Hangfire's own are off here.
/// A run stopped because the Worker is stopping ends with an <see cref="OperationCanceledException"/> on Hangfire's
/// token, whatever the handler threw: Hangfire then puts the job back on its queue at once (no attempt counted).
/// </summary>
public sealed partial class JobDispatcher(
    IServiceProvider services, JobHandlerCatalog catalog, NpgsqlDataSource db, IOptions<JobWorkerOptions> options,
    IHostApplicationLifetime lifetime, ILogger<JobDispatcher> logger)
{
    [AutomaticRetry(Attempts = 0)]
    [DisplayName("{0}")]
    public async Task RunAsync(string kind, JobPayload payload, PerformContext? perform, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(perform);
        var registration = catalog.Find(kind)
            ?? throw new InvalidOperationException($"No handler for job kind '{kind}' in this worker.");
        var jobId = perform.BackgroundJob.Id;
        var attempt = perform.GetJobParameter<int>("RetryCount") + 1;
        var scheduledAt = ScheduledAt(payload, perform);

        ActivityContext.TryParse(payload.TraceParent, null, out var parent);
        using var activity = JobTelemetry.Source.StartActivity("job run " + kind, ActivityKind.Consumer, parent);
        activity?.SetTag("job.kind", kind);
        activity?.SetTag("job.queue", payload.Queue);
        activity?.SetTag("job.id", jobId);
        activity?.SetTag("job.request_id", payload.RequestId);
        activity?.SetTag("job.attempt", attempt);
        using var scope = logger.BeginScope(new Dictionary<string, object?>
        {
            ["JobId"] = jobId, ["JobKind"] = kind, ["JobRequestId"] = payload.RequestId, ["JobAttempt"] = attempt,
        });
        var tags = JobTelemetry.Tags(kind, payload.Queue);
        if (attempt == 1)
        {
            JobTelemetry.Lag.Record(Math.Max(0, (DateTimeOffset.UtcNow - scheduledAt).TotalSeconds), tags);
        }

        await using var keyLock = await ConcurrencyKeyLock.TakeAsync(db, payload.ConcurrencyKey, cancellationToken);

        var timeout = options.Value.TimeoutFor(kind);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        var started = Stopwatch.GetTimestamp();
        try
        {
            await using var handlerScope = services.CreateAsyncScope();
            var context = new JobContext
            {
                RequestId = payload.RequestId, JobId = jobId, Kind = kind, Queue = payload.Queue, Attempt = attempt,
                MaxAttempts = payload.MaxAttempts, ArgsVersion = payload.ArgsVersion, ScheduledAt = scheduledAt,
                CancellationToken = cts.Token, Logger = logger, Activity = activity,
            };
            var run = registration.InvokeAsync(handlerScope.ServiceProvider, payload.Args, payload.ArgsVersion, context);
            try
            {
                // WaitAsync frees the worker even from a handler that ignores its token.
                await run.WaitAsync(timeout + TimeSpan.FromSeconds(1), cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !run.IsCompleted)
            {
                // Hangfire's token fired (the Worker is stopping, or an operator deleted the job). Token callbacks run
                // last-registered first, so WaitAsync can end this method before the linked source has passed the
                // cancellation on, and disposing that source would then keep it from the handler for good. Cancel it
                // here, and give the handler part of the shutdown grace to stop before its scope goes and its job is
                // given back, so it does not run on beside the next Worker's run.
                await cts.CancelAsync();
                await Task.WhenAny(run, Task.Delay(options.Value.ShutdownGrace / 2, CancellationToken.None));
                _ = run.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
                throw;
            }
            JobTelemetry.Completed.Add(1, tags);
        }
        catch (Exception ex) when (cancellationToken.IsCancellationRequested && lifetime.ApplicationStopping.IsCancellationRequested)
        {
            // The Worker's shutdown window closed (Hangfire cancelled the token). Hangfire requeues the job only when the
            // run ends with OperationCanceledException; anything else would count as a failed attempt.
            LogGivenBack(logger, kind, jobId, attempt);
            if (ex is OperationCanceledException)
            {
                throw;
            }
            throw new OperationCanceledException("The Worker is stopping; the job goes back to its queue.", ex, cancellationToken);
        }
        catch (Exception ex)
        {
            JobTelemetry.Failed.Add(1, tags);
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            if (cts.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                LogTimedOut(logger, kind, jobId, timeout);
                throw new TimeoutException($"Job '{kind}' ran longer than its timeout of {timeout}.", ex);
            }
            LogFailed(logger, ex, kind, jobId, attempt, payload.MaxAttempts);
            throw;
        }
        finally
        {
            JobTelemetry.Duration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
        }
    }

    /// <summary>Due time: the run-at, else a schedule's fire time, else when it was enqueued.</summary>
    private static DateTimeOffset ScheduledAt(JobPayload payload, PerformContext perform)
    {
        if (payload.RunAt is { } runAt)
        {
            return new DateTimeOffset(DateTime.SpecifyKind(runAt, DateTimeKind.Utc));
        }
        if (payload.EnqueuedAt is { } enqueuedAt)
        {
            return new DateTimeOffset(DateTime.SpecifyKind(enqueuedAt, DateTimeKind.Utc));
        }
        var fired = perform.GetJobParameter<long?>("Time");
        return fired is { } seconds ? DateTimeOffset.FromUnixTimeSeconds(seconds) : new DateTimeOffset(perform.BackgroundJob.CreatedAt, TimeSpan.Zero);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Kind} {JobId} failed (attempt {Attempt} of {MaxAttempts})")]
    private static partial void LogFailed(ILogger logger, Exception ex, string kind, string jobId, int attempt, int maxAttempts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Kind} {JobId} stopped by the Worker's shutdown (attempt {Attempt}); it goes back to its queue")]
    private static partial void LogGivenBack(ILogger logger, string kind, string jobId, int attempt);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {Kind} {JobId} timed out after {Timeout}")]
    private static partial void LogTimedOut(ILogger logger, string kind, string jobId, TimeSpan timeout);
}

/// <summary>All handler registrations of this process, by kind.</summary>
public sealed class JobHandlerCatalog(IEnumerable<JobHandlerRegistration> registrations)
{
    private readonly Dictionary<string, JobHandlerRegistration> _byKind = registrations
        .GroupBy(r => r.Kind).ToDictionary(g => g.Key, g => g.Last());

    public JobHandlerRegistration? Find(string kind) => _byKind.GetValueOrDefault(kind);

    public IEnumerable<string> Queues => _byKind.Values.Select(r => r.Queue).Distinct();
}

/// <summary>Thrown when another job holds the concurrency key; the job is put back without counting an attempt.</summary>
public sealed class ConcurrencyKeyBusyException(string key) : Exception($"Another job holding concurrency key '{key}' is running.")
{
    public string Key { get; } = key;
}

/// <summary>
/// A session advisory lock on a connection of its own, held while the job runs: at most one job per key runs at a
/// time across every worker, and a crashed worker's lock goes with its connection.
/// </summary>
internal sealed class ConcurrencyKeyLock : IAsyncDisposable
{
    private readonly NpgsqlConnection? _connection;

    private ConcurrencyKeyLock(NpgsqlConnection? connection) => _connection = connection;

    public static async Task<ConcurrencyKeyLock> TakeAsync(NpgsqlDataSource db, string? key, CancellationToken ct)
    {
        if (key is null)
        {
            return new ConcurrencyKeyLock(null);
        }
        var conn = await db.OpenConnectionAsync(ct);
        try
        {
            await using var cmd = new NpgsqlCommand("SELECT pg_try_advisory_lock(hashtextextended($1, 7))", conn);
            cmd.Parameters.Add(new() { Value = "job-concurrency:" + key });
            if ((bool)(await cmd.ExecuteScalarAsync(ct))!)
            {
                return new ConcurrencyKeyLock(conn);
            }
        }
        catch
        {
            await conn.DisposeAsync();
            throw;
        }
        await conn.DisposeAsync();
        throw new ConcurrencyKeyBusyException(key);
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            try
            {
                await using var cmd = new NpgsqlCommand("SELECT pg_advisory_unlock_all()", _connection);
                await cmd.ExecuteNonQueryAsync();
            }
            finally
            {
                await _connection.DisposeAsync();
            }
        }
    }
}
