using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Platform.Core.Data;

namespace Platform.Core.Jobs;

/// <summary>
/// The job engine of one process: per queue a claim loop (woken by NOTIFY, polling as fallback) that claims a
/// batch with FOR UPDATE SKIP LOCKED in one statement; handlers run with a lease that heartbeats extend;
/// completions are written in batches; a rescuer, the schedules, retention and the gauges run beside it.
/// Every maintenance step is safe to run on any number of workers at once.
/// </summary>
public sealed partial class JobWorker : BackgroundService
{
    private readonly NpgsqlDataSource _db;
    private readonly SchemaGate _gate;
    private readonly IServiceScopeFactory _scopes;
    private readonly Dictionary<string, JobHandlerRegistration> _handlers;
    private readonly RecurringSchedules _schedules;
    private readonly JobWorkerOptions _options;
    private readonly ILogger<JobWorker> _logger;
    private readonly ILoggerFactory _loggers;
    private readonly Dictionary<string, WakeSignal> _signals;
    private readonly ConcurrentDictionary<long, RunningJob> _running = new();
    private readonly Channel<RunningJob> _completions = Channel.CreateUnbounded<RunningJob>(new() { SingleReader = true });
    /// <summary>Cancelled only when shutdown gives up waiting for running handlers.</summary>
    private readonly CancellationTokenSource _jobsCts = new();
    /// <summary>Keeps heartbeats, completions and the listener alive until in-flight jobs are settled.</summary>
    private readonly CancellationTokenSource _infraCts = new();

    public string WorkerId { get; }

    /// <summary>Whether this worker still holds the job (handler running or its completion not yet written).</summary>
    public bool IsRunning(long jobId) => _running.ContainsKey(jobId);

    public int RunningCount => _running.Count;

    public JobWorker(
        NpgsqlDataSource db, SchemaGate gate, IServiceScopeFactory scopes, IEnumerable<JobHandlerRegistration> handlers,
        IEnumerable<RecurringJobDefinition> schedules, IOptions<JobWorkerOptions> options, ILoggerFactory loggers)
    {
        _db = db;
        _gate = gate;
        _scopes = scopes;
        _options = options.Value;
        _loggers = loggers;
        _logger = loggers.CreateLogger<JobWorker>();
        _handlers = new Dictionary<string, JobHandlerRegistration>(StringComparer.Ordinal);
        foreach (var h in handlers)
        {
            _handlers[h.Kind] = h; // the last registration of a kind wins, like DI
        }
        WorkerId = string.IsNullOrWhiteSpace(_options.WorkerId)
            ? $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..6]}"
            : _options.WorkerId;
        _signals = _options.Queues.Where(q => q.Value > 0).ToDictionary(q => q.Key, _ => new WakeSignal(), StringComparer.Ordinal);
        _schedules = new RecurringSchedules(db, schedules.ToList(), loggers.CreateLogger<RecurringSchedules>());
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await _gate.WaitAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        LogStarted(_logger, WorkerId, string.Join(", ", _options.Queues.Select(q => $"{q.Key}={q.Value}")));

        var infra = _infraCts.Token;
        var background = new List<Task>
        {
            ListenAsync(infra),
            CompleteAsync(infra),
            EveryAsync(_options.HeartbeatInterval, HeartbeatAsync, infra),
            EveryAsync(_options.RescueInterval, RescueAsync, stoppingToken),
            EveryAsync(_options.PruneInterval, PruneAsync, stoppingToken),
            EveryAsync(_options.StatsInterval, RefreshStatsAsync, stoppingToken),
            _schedules.RunAsync(_options.SchedulerInterval, stoppingToken),
        };
        var claimLoops = _options.Queues.Where(q => q.Value > 0)
            .Select(q => Task.Run(() => ClaimLoopAsync(q.Key, q.Value, stoppingToken), CancellationToken.None)).ToList();

        await Task.WhenAll(claimLoops);
        await DrainAsync();
        await _infraCts.CancelAsync();
        await Task.WhenAll(background.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
        LogStopped(_logger, WorkerId);
    }

    /// <summary>Graceful shutdown: let running handlers finish, then cancel and release what is left.</summary>
    private async Task DrainAsync()
    {
        var inFlight = _running.Values.Select(r => r.Execution).ToArray();
        if (inFlight.Length > 0)
        {
            LogDraining(_logger, inFlight.Length, _options.ShutdownTimeout);
            var all = Task.WhenAll(inFlight);
            if (await Task.WhenAny(all, Task.Delay(_options.ShutdownTimeout)) != all)
            {
                await _jobsCts.CancelAsync();
                await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(2)));
            }
        }
        // Completions still buffered are written before the connection loops stop.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (_running.Values.Any(r => r.Finished) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        await ReleaseAsync(_running.Values.Where(r => !r.Finished).ToList());
    }

    private async Task ClaimLoopAsync(string queue, int concurrency, CancellationToken ct)
    {
        var slots = new SemaphoreSlim(concurrency, concurrency);
        var signal = _signals[queue];
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await slots.WaitAsync(ct);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            var want = 1;
            while (want < concurrency && slots.Wait(0))
            {
                want++;
            }

            IReadOnlyList<ClaimedJob> claimed;
            try
            {
                claimed = await ClaimAsync(queue, want, ct);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                // Another worker started a job with the same concurrency key in the same instant; claim again
                // (its commit is visible to the next statement, which then skips that key).
                slots.Release(want);
                await Task.Delay(5, CancellationToken.None);
                continue;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                slots.Release(want);
                break;
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                // Database away or any other surprise: keep the loop alive and try again after the poll interval.
                slots.Release(want);
                LogClaimFailed(_logger, ex, queue);
                await signal.WaitAsync(_options.PollInterval, ct);
                continue;
            }

            if (claimed.Count < want)
            {
                slots.Release(want - claimed.Count);
            }
            foreach (var job in claimed)
            {
                var running = new RunningJob(job, CancellationTokenSource.CreateLinkedTokenSource(_jobsCts.Token));
                _running[job.Id] = running;
                running.Execution = Task.Run(async () =>
                {
                    try
                    {
                        await RunAsync(running);
                    }
                    finally
                    {
                        slots.Release();
                    }
                }, CancellationToken.None);
            }
            if (claimed.Count < want)
            {
                // The queue is drained for now: sleep until NOTIFY, a freed concurrency key, or the poll.
                await signal.WaitAsync(_options.PollInterval, ct);
            }
        }
    }

    private const string ClaimSql = """
        WITH candidates AS (
            SELECT id, concurrency_key, priority, scheduled_at
            FROM ops.jobs j
            WHERE state IN ('available', 'scheduled', 'retryable') AND queue = $1 AND scheduled_at <= now()
              AND (concurrency_key IS NULL OR NOT EXISTS (
                    SELECT 1 FROM ops.jobs r WHERE r.state = 'running' AND r.concurrency_key = j.concurrency_key))
            ORDER BY priority, scheduled_at, id
            LIMIT $2
            FOR UPDATE SKIP LOCKED
        ), picked AS (
            SELECT id FROM (
                SELECT id, concurrency_key,
                       row_number() OVER (PARTITION BY concurrency_key ORDER BY priority, scheduled_at, id) AS rn
                FROM candidates) c
            WHERE concurrency_key IS NULL OR rn = 1
        )
        UPDATE ops.jobs j
        SET state = 'running', attempt = j.attempt + 1, attempted_at = now(),
            attempted_by = array_append(j.attempted_by, $3), locked_by = $3, locked_until = now() + $4
        FROM picked
        WHERE j.id = picked.id
        RETURNING j.id, j.kind, j.queue, j.args::text, j.args_version, j.attempt, j.max_attempts, j.scheduled_at,
                  j.trace_parent, j.concurrency_key
        """;

    private async Task<IReadOnlyList<ClaimedJob>> ClaimAsync(string queue, int limit, CancellationToken ct)
    {
        await using var cmd = new EngineCommand(_db, ClaimSql);
        cmd.Parameters.Add(new() { Value = queue });
        cmd.Parameters.Add(new() { Value = limit });
        cmd.Parameters.Add(new() { Value = WorkerId });
        cmd.Parameters.Add(new() { Value = _options.LeaseDuration, NpgsqlDbType = NpgsqlDbType.Interval });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var list = new List<ClaimedJob>(limit);
        while (await reader.ReadAsync(ct))
        {
            list.Add(new ClaimedJob(
                reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt32(4),
                reader.GetInt32(5), reader.GetInt32(6), reader.GetFieldValue<DateTimeOffset>(7),
                reader.IsDBNull(8) ? null : reader.GetString(8), reader.IsDBNull(9) ? null : reader.GetString(9)));
        }
        return list;
    }

    private async Task RunAsync(RunningJob running)
    {
        var job = running.Job;
        ActivityContext.TryParse(job.TraceParent, null, out var parent);
        using var activity = JobTelemetry.Source.StartActivity("job run " + job.Kind, ActivityKind.Consumer, parent);
        activity?.SetTag("job.id", job.Id);
        activity?.SetTag("job.kind", job.Kind);
        activity?.SetTag("job.queue", job.Queue);
        activity?.SetTag("job.attempt", job.Attempt);
        var started = Stopwatch.GetTimestamp();
        var tags = JobTelemetry.Tags(job.Kind, job.Queue);
        try
        {
            if (!_handlers.TryGetValue(job.Kind, out var handler))
            {
                throw new InvalidOperationException($"No handler for job kind '{job.Kind}' is registered on worker {WorkerId}.");
            }
            var context = new JobContext
            {
                JobId = job.Id,
                Kind = job.Kind,
                Queue = job.Queue,
                Attempt = job.Attempt,
                MaxAttempts = job.MaxAttempts,
                ArgsVersion = job.ArgsVersion,
                ScheduledAt = job.ScheduledAt,
                CancellationToken = running.Cancellation.Token,
                Logger = _loggers.CreateLogger("Platform.Jobs." + job.Kind),
                Activity = activity,
            };
            await using (var scope = _scopes.CreateAsyncScope())
            {
                await handler.InvokeAsync(scope.ServiceProvider, job.ArgsJson, job.ArgsVersion, context);
            }
            JobTelemetry.Duration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
            running.Finished = true;
            _completions.Writer.TryWrite(running);
        }
        catch (Exception ex) when (running.LeaseLost)
        {
            // The job is no longer ours (lease expired and rescued, or cancelled by an operator): record nothing.
            LogLeaseLostRun(_logger, job.Id, job.Kind, ex.GetType().Name);
            Forget(running);
        }
        catch (OperationCanceledException) when (_jobsCts.IsCancellationRequested)
        {
            // Shutdown cancelled the handler: DrainAsync releases the job without counting the attempt.
        }
        catch (Exception ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            JobTelemetry.Duration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
            await FailAsync(running, ex);
        }
    }

    private const string FailSql = """
        UPDATE ops.jobs
        SET state = CASE WHEN $4 OR attempt >= max_attempts THEN 'discarded' ELSE 'retryable' END,
            finalized_at = CASE WHEN $4 OR attempt >= max_attempts THEN now() END,
            scheduled_at = CASE WHEN $4 OR attempt >= max_attempts THEN scheduled_at ELSE now() + $5 END,
            errors = errors || jsonb_build_array(jsonb_build_object(
                'attempt', attempt, 'at', now(), 'error', $6::text, 'type', $7::text, 'worker', $3::text)),
            locked_by = NULL, locked_until = NULL
        WHERE id = $1 AND attempt = $2 AND locked_by = $3 AND state = 'running'
        RETURNING state
        """;

    private async Task FailAsync(RunningJob running, Exception error)
    {
        var job = running.Job;
        var delay = RetryPolicy.Delay(job.Attempt, _options.RetryDelayUnit, Random.Shared.NextDouble());
        var message = error.Message.Length > 4000 ? error.Message[..4000] : error.Message;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var cmd = new EngineCommand(_db, FailSql);
                cmd.Parameters.Add(new() { Value = job.Id });
                cmd.Parameters.Add(new() { Value = job.Attempt });
                cmd.Parameters.Add(new() { Value = WorkerId });
                cmd.Parameters.Add(new() { Value = error is JobDiscardException });
                cmd.Parameters.Add(new() { Value = delay, NpgsqlDbType = NpgsqlDbType.Interval });
                cmd.Parameters.Add(new() { Value = message });
                cmd.Parameters.Add(new() { Value = error.GetType().FullName ?? error.GetType().Name });
                string? state = null;
                await using (var reader = await cmd.ExecuteReaderAsync(CancellationToken.None))
                {
                    if (await reader.ReadAsync())
                    {
                        state = reader.GetString(0);
                    }
                }
                var tags = JobTelemetry.Tags(job.Kind, job.Queue);
                JobTelemetry.Failed.Add(1, tags);
                if (state == JobStates.Discarded)
                {
                    JobTelemetry.Discarded.Add(1, tags);
                    LogDiscarded(_logger, error, job.Id, job.Kind, job.Attempt);
                }
                else
                {
                    LogFailed(_logger, job.Id, job.Kind, job.Attempt, job.MaxAttempts, delay, error.Message);
                }
                break;
            }
            catch (NpgsqlException ex) when (attempt < 5)
            {
                LogWriteRetry(_logger, ex, job.Id);
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt));
            }
            catch (NpgsqlException ex)
            {
                // The lease will expire and the rescuer will retry the job.
                LogWriteRetry(_logger, ex, job.Id);
                break;
            }
        }
        Forget(running);
    }

    private const string CompleteSql = """
        UPDATE ops.jobs j
        SET state = 'completed', finalized_at = now(), locked_by = NULL, locked_until = NULL
        FROM unnest($1::bigint[], $2::int[]) AS d(id, attempt)
        WHERE j.id = d.id AND j.attempt = d.attempt AND j.locked_by = $3 AND j.state = 'running'
        """;

    /// <summary>Writes completions in batches: under load one statement settles hundreds of jobs.</summary>
    private async Task CompleteAsync(CancellationToken ct)
    {
        var reader = _completions.Reader;
        var batch = new List<RunningJob>(1024);
        while (true)
        {
            try
            {
                if (!await reader.WaitToReadAsync(ct))
                {
                    return;
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            while (batch.Count < 1000 && reader.TryRead(out var done))
            {
                batch.Add(done);
            }
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await using var cmd = new EngineCommand(_db, CompleteSql);
                    cmd.Parameters.Add(new() { Value = batch.Select(r => r.Job.Id).ToArray() });
                    cmd.Parameters.Add(new() { Value = batch.Select(r => r.Job.Attempt).ToArray() });
                    cmd.Parameters.Add(new() { Value = WorkerId });
                    // A finished job with a concurrency key frees that key: wake every worker serving its queue.
                    foreach (var queue in batch.Where(r => r.Job.ConcurrencyKey is not null).Select(r => r.Job.Queue).Distinct())
                    {
                        var notify = new NpgsqlBatchCommand($"SELECT pg_notify('{JobQueue.NotifyChannel}', $1)");
                        notify.Parameters.Add(new() { Value = queue });
                        cmd.Add(notify);
                    }
                    await cmd.ExecuteNonQueryAsync(CancellationToken.None);
                    break;
                }
                catch (NpgsqlException ex) when (attempt < 10)
                {
                    LogCompleteRetry(_logger, ex, batch.Count);
                    await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt), CancellationToken.None);
                }
                catch (NpgsqlException ex)
                {
                    // Leases expire and the rescuer retries these jobs: at-least-once, never lost.
                    LogCompleteRetry(_logger, ex, batch.Count);
                    break;
                }
            }
            foreach (var done in batch)
            {
                JobTelemetry.Completed.Add(1, JobTelemetry.Tags(done.Job.Kind, done.Job.Queue));
                Forget(done);
            }
            batch.Clear();
        }
    }

    private void Forget(RunningJob running)
    {
        _running.TryRemove(new KeyValuePair<long, RunningJob>(running.Job.Id, running));
        running.Cancellation.Dispose();
    }

    private async Task HeartbeatAsync(CancellationToken ct)
    {
        var mine = _running.Values.ToList();
        if (mine.Count == 0)
        {
            return;
        }
        await using var cmd = new EngineCommand(_db, """
            UPDATE ops.jobs SET locked_until = now() + $3
            WHERE id = ANY($1) AND locked_by = $2 AND state = 'running'
            RETURNING id
            """);
        cmd.Parameters.Add(new() { Value = mine.Select(r => r.Job.Id).ToArray() });
        cmd.Parameters.Add(new() { Value = WorkerId });
        cmd.Parameters.Add(new() { Value = _options.LeaseDuration, NpgsqlDbType = NpgsqlDbType.Interval });
        var renewed = new HashSet<long>();
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                renewed.Add(reader.GetInt64(0));
            }
        }
        foreach (var r in mine)
        {
            if (!renewed.Contains(r.Job.Id) && !r.Finished && _running.ContainsKey(r.Job.Id) && !r.LeaseLost)
            {
                // Rescued after a stall, or cancelled by an operator: the handler must stop.
                r.LeaseLost = true;
                LogLeaseLost(_logger, r.Job.Id, r.Job.Kind);
                try
                {
                    await r.Cancellation.CancelAsync();
                }
                catch (ObjectDisposedException)
                {
                }
            }
        }
    }

    private async Task ReleaseAsync(IReadOnlyList<RunningJob> jobs)
    {
        if (jobs.Count == 0)
        {
            return;
        }
        try
        {
            await using var cmd = new EngineCommand(_db, """
                UPDATE ops.jobs j
                SET state = 'available', attempt = j.attempt - 1, scheduled_at = now(), locked_by = NULL, locked_until = NULL
                FROM unnest($1::bigint[], $2::int[]) AS d(id, attempt)
                WHERE j.id = d.id AND j.attempt = d.attempt AND j.locked_by = $3 AND j.state = 'running'
                """);
            cmd.Parameters.Add(new() { Value = jobs.Select(r => r.Job.Id).ToArray() });
            cmd.Parameters.Add(new() { Value = jobs.Select(r => r.Job.Attempt).ToArray() });
            cmd.Parameters.Add(new() { Value = WorkerId });
            var released = await cmd.ExecuteNonQueryAsync(CancellationToken.None);
            LogReleased(_logger, released);
        }
        catch (NpgsqlException ex)
        {
            LogReleaseFailed(_logger, ex, jobs.Count);
        }
    }

    /// <summary>Returns jobs whose lease expired (their worker crashed or hung) to the queue, or discards them.</summary>
    private async Task RescueAsync(CancellationToken ct)
    {
        await using var cmd = new EngineCommand(_db, """
            UPDATE ops.jobs j
            SET state = CASE WHEN j.attempt >= j.max_attempts THEN 'discarded' ELSE 'retryable' END,
                finalized_at = CASE WHEN j.attempt >= j.max_attempts THEN now() END,
                scheduled_at = now(),
                errors = j.errors || jsonb_build_array(jsonb_build_object(
                    'attempt', j.attempt, 'at', now(), 'type', 'LeaseExpired', 'worker', j.locked_by,
                    'error', 'Lease expired: worker ' || j.locked_by || ' stopped renewing it (crashed or hung).')),
                locked_by = NULL, locked_until = NULL
            FROM (SELECT id FROM ops.jobs WHERE state = 'running' AND locked_until < now()
                  ORDER BY locked_until LIMIT 1000 FOR UPDATE SKIP LOCKED) expired
            WHERE j.id = expired.id
            RETURNING j.id, j.queue, j.state
            """);
        var queues = new HashSet<string>();
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                LogRescued(_logger, reader.GetInt64(0), reader.GetString(2));
                queues.Add(reader.GetString(1));
            }
        }
        foreach (var queue in queues)
        {
            await using var notify = _db.CreateCommand($"SELECT pg_notify('{JobQueue.NotifyChannel}', $1)");
            notify.Parameters.Add(new() { Value = queue });
            await notify.ExecuteNonQueryAsync(ct);
        }
    }

    private async Task PruneAsync(CancellationToken ct)
    {
        while (true)
        {
            await using var cmd = _db.CreateCommand("""
                DELETE FROM ops.jobs WHERE id IN (
                    SELECT id FROM ops.jobs WHERE state = 'completed' AND finalized_at < now() - $1 LIMIT 5000)
                """);
            cmd.Parameters.Add(new() { Value = _options.CompletedRetention, NpgsqlDbType = NpgsqlDbType.Interval });
            var deleted = await cmd.ExecuteNonQueryAsync(ct);
            if (deleted > 0)
            {
                LogPruned(_logger, deleted);
            }
            if (deleted < 5000)
            {
                return;
            }
        }
    }

    private async Task RefreshStatsAsync(CancellationToken ct)
    {
        await using var cmd = _db.CreateCommand("""
            SELECT queue, count(*), coalesce(extract(epoch FROM now() - min(scheduled_at)), 0)::float8
            FROM ops.jobs
            WHERE state IN ('available', 'scheduled', 'retryable') AND scheduled_at <= now()
            GROUP BY queue
            """);
        var stats = new Dictionary<string, (long, double)>();
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                stats[reader.GetString(0)] = (reader.GetInt64(1), reader.GetDouble(2));
            }
        }
        JobTelemetry.SetQueueStats(stats);
    }

    /// <summary>One connection LISTENs for enqueues and wakes the matching claim loop; polling covers any gap.</summary>
    private async Task ListenAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var conn = await _db.OpenConnectionAsync(ct);
                conn.Notification += (_, e) =>
                {
                    if (_signals.TryGetValue(e.Payload, out var signal))
                    {
                        signal.Set();
                    }
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {JobQueue.NotifyChannel}", conn))
                {
                    await listen.ExecuteNonQueryAsync(ct);
                }
                // Jobs enqueued while we were not listening are found by this wake-up (and by the poll).
                foreach (var s in _signals.Values)
                {
                    s.Set();
                }
                while (!ct.IsCancellationRequested)
                {
                    await conn.WaitAsync(ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or System.IO.IOException)
            {
                LogListenFailed(_logger, ex);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task EveryAsync(TimeSpan interval, Func<CancellationToken, Task> work, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                try
                {
                    await work(ct);
                }
                catch (Exception ex) when (!ct.IsCancellationRequested)
                {
                    LogMaintenanceFailed(_logger, ex, work.Method.Name);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public override void Dispose()
    {
        _jobsCts.Dispose();
        _infraCts.Dispose();
        base.Dispose();
    }

    internal sealed record ClaimedJob(
        long Id, string Kind, string Queue, string ArgsJson, int ArgsVersion, int Attempt, int MaxAttempts,
        DateTimeOffset ScheduledAt, string? TraceParent, string? ConcurrencyKey);

    private sealed class RunningJob(ClaimedJob job, CancellationTokenSource cancellation)
    {
        public ClaimedJob Job { get; } = job;
        public CancellationTokenSource Cancellation { get; } = cancellation;
        public Task Execution { get; set; } = Task.CompletedTask;
        public volatile bool Finished;
        public volatile bool LeaseLost;
    }

    /// <summary>An auto-reset wake-up: a Set while nobody waits is remembered once.</summary>
    private sealed class WakeSignal
    {
        private readonly Channel<bool> _channel = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

        public void Set() => _channel.Writer.TryWrite(true);

        public async Task WaitAsync(TimeSpan timeout, CancellationToken ct)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(timeout);
            try
            {
                await _channel.Reader.ReadAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                // timeout (poll) or shutdown: the caller's loop checks which
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job worker {WorkerId} started (queues: {Queues})")]
    private static partial void LogStarted(ILogger logger, string workerId, string queues);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job worker {WorkerId} stopped")]
    private static partial void LogStopped(ILogger logger, string workerId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutting down: waiting up to {Timeout} for {Count} running jobs")]
    private static partial void LogDraining(ILogger logger, int count, TimeSpan timeout);

    [LoggerMessage(Level = LogLevel.Information, Message = "Released {Count} unfinished jobs back to the queue")]
    private static partial void LogReleased(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not release {Count} unfinished jobs; their leases will expire")]
    private static partial void LogReleaseFailed(ILogger logger, Exception ex, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Claiming jobs from queue {Queue} failed")]
    private static partial void LogClaimFailed(ILogger logger, Exception ex, string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} ({Kind}) failed on attempt {Attempt} of {MaxAttempts}; retrying in {Delay}: {Error}")]
    private static partial void LogFailed(ILogger logger, long jobId, string kind, int attempt, int maxAttempts, TimeSpan delay, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId} ({Kind}) discarded after attempt {Attempt}")]
    private static partial void LogDiscarded(ILogger logger, Exception ex, long jobId, string kind, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the lease of job {JobId} ({Kind}); cancelling its handler")]
    private static partial void LogLeaseLost(ILogger logger, long jobId, string kind);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} ({Kind}) ended with {Exception} after its lease was lost; nothing recorded")]
    private static partial void LogLeaseLostRun(ILogger logger, long jobId, string kind, string exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rescued job {JobId} from an expired lease; now {State}")]
    private static partial void LogRescued(ILogger logger, long jobId, string state);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pruned {Count} completed jobs past retention")]
    private static partial void LogPruned(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recording the failure of job {JobId} failed; retrying")]
    private static partial void LogWriteRetry(ILogger logger, Exception ex, long jobId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recording {Count} completions failed; retrying")]
    private static partial void LogCompleteRetry(ILogger logger, Exception ex, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job notifications lost; reconnecting (polling continues meanwhile)")]
    private static partial void LogListenFailed(ILogger logger, Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job maintenance step {Step} failed")]
    private static partial void LogMaintenanceFailed(ILogger logger, Exception ex, string step);
}
