using System.Diagnostics;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Hangfire.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Platform.Core.Jobs;

/// <summary>
/// Hands committed outbox requests to Hangfire. Woken by NOTIFY (sent at the enqueuer's commit), it takes up to a
/// batch of requests with <c>FOR UPDATE SKIP LOCKED</c> (so several Worker processes share the backlog), creates their
/// Hangfire jobs in parallel and marks them handed over in one statement, all in one transaction. A crash after
/// Hangfire has a job but before the mark commits hands that request over again: at most a duplicate run, which the
/// idempotent handlers absorb. It also prunes old requests, releases unique keys whose release was lost and
/// publishes queue depth for the gauges.
/// </summary>
public sealed partial class JobRelay(
    NpgsqlDataSource db, IBackgroundJobClient client, JobStorage storage, IOptions<JobWorkerOptions> options, ILogger<JobRelay> logger)
    : BackgroundService
{
    private readonly SemaphoreSlim _wake = new(0, 1);

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        var o = options.Value;
        _ = ListenAsync(ct);
        var nextPrune = DateTime.UtcNow;
        var nextStats = DateTime.UtcNow;
        while (!ct.IsCancellationRequested)
        {
            var handed = 0;
            try
            {
                handed = await RelayBatchAsync(ct);
                if (DateTime.UtcNow >= nextPrune)
                {
                    nextPrune = DateTime.UtcNow + o.PruneInterval;
                    await PruneAsync(ct);
                }
                if (DateTime.UtcNow >= nextStats)
                {
                    nextStats = DateTime.UtcNow + o.StatsInterval;
                    await PublishStatsAsync(ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogRelayFailed(logger, ex);
                await Delay(o.RelayPollInterval, ct);
                continue;
            }
            if (handed < o.RelayBatchSize)
            {
                try
                {
                    await _wake.WaitAsync(o.RelayPollInterval, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Hands over one batch; returns how many requests it took.</summary>
    public async Task<int> RelayBatchAsync(CancellationToken ct)
    {
        var o = options.Value;
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var batch = new List<Request>();
        await using (var cmd = new NpgsqlCommand("""
            SELECT id, kind, queue, args::text, args_version, max_attempts, run_at, unique_key, concurrency_key, trace_parent, created_at
            FROM ops.job_requests WHERE hangfire_job_id IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
            """, conn, tx))
        {
            cmd.Parameters.Add(new() { Value = o.RelayBatchSize });
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                batch.Add(new Request(r.GetInt64(0), r.GetString(1), new JobPayload(
                    r.GetInt64(0), r.GetString(2), r.GetString(3), r.GetInt32(4), r.GetInt32(5),
                    r.IsDBNull(7) ? null : r.GetString(7), r.IsDBNull(8) ? null : r.GetString(8), r.IsDBNull(9) ? null : r.GetString(9),
                    r.GetDateTime(10), r.IsDBNull(6) ? null : r.GetDateTime(6))));
            }
        }
        if (batch.Count == 0)
        {
            return 0;
        }

        var ids = new long[batch.Count];
        var jobIds = new string?[batch.Count];
        await Parallel.ForAsync(0, batch.Count, new ParallelOptions { MaxDegreeOfParallelism = o.RelayParallelism, CancellationToken = ct }, (i, _) =>
        {
            ids[i] = batch[i].Id;
            try
            {
                jobIds[i] = HandOver(batch[i]);
            }
            catch (Exception ex)
            {
                // Left in the outbox: the next batch tries again.
                LogHandOverFailed(logger, ex, batch[i].Id, batch[i].Kind);
            }
            return ValueTask.CompletedTask;
        });

        await using (var mark = new NpgsqlCommand("""
            UPDATE ops.job_requests r SET hangfire_job_id = h.job_id, handed_over_at = now()
            FROM unnest($1::bigint[], $2::text[]) AS h(id, job_id) WHERE r.id = h.id AND h.job_id IS NOT NULL
            """, conn, tx))
        {
            mark.Parameters.Add(new() { Value = ids });
            mark.Parameters.Add(new() { Value = jobIds, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text });
            await mark.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        foreach (var group in batch.Where((_, i) => jobIds[i] is not null).GroupBy(b => (b.Kind, b.Payload.Queue)))
        {
            JobTelemetry.HandedOver.Add(group.Count(), JobTelemetry.Tags(group.Key.Kind, group.Key.Queue));
        }
        return batch.Count;
    }

    private string HandOver(Request request)
    {
        var job = Job.FromExpression<JobDispatcher>(d => d.RunAsync(request.Kind, request.Payload, null, CancellationToken.None));
        IState state = request.Payload.RunAt is { } runAt && runAt > DateTime.UtcNow
            ? new ScheduledState(DateTime.SpecifyKind(runAt, DateTimeKind.Utc))
            : new EnqueuedState(request.Payload.Queue);
        return client.Create(job, state);
    }

    /// <summary>Deletes old handed-over requests and releases unique keys whose Hangfire job has ended or vanished.</summary>
    public async Task PruneAsync(CancellationToken ct)
    {
        await using (var cmd = db.CreateCommand("""
            DELETE FROM ops.job_requests WHERE id IN (
                SELECT id FROM ops.job_requests
                WHERE handed_over_at < now() - $1 AND (unique_key IS NULL OR released_at IS NOT NULL) LIMIT 10000)
            """))
        {
            cmd.Parameters.Add(new() { Value = options.Value.RequestRetention });
            await cmd.ExecuteNonQueryAsync(ct);
        }

        var held = new List<(long Id, string JobId)>();
        await using (var cmd = db.CreateCommand("""
            SELECT id, hangfire_job_id FROM ops.job_requests
            WHERE unique_key IS NOT NULL AND released_at IS NULL AND handed_over_at < now() - interval '1 minute' LIMIT 1000
            """))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                held.Add((r.GetInt64(0), r.GetString(1)));
            }
        }
        if (held.Count == 0)
        {
            return;
        }
        using var connection = storage.GetConnection();
        var ended = held.Where(h => connection.GetStateData(h.JobId)?.Name is null or "Succeeded" or "Failed" or "Deleted")
            .Select(h => h.Id).ToArray();
        if (ended.Length > 0)
        {
            await using var release = db.CreateCommand("UPDATE ops.job_requests SET released_at = now() WHERE id = ANY($1) AND released_at IS NULL");
            release.Parameters.Add(new() { Value = ended });
            await release.ExecuteNonQueryAsync(ct);
        }
    }

    private async Task PublishStatsAsync(CancellationToken ct)
    {
        var depth = new Dictionary<string, long>();
        var monitoring = storage.GetMonitoringApi();
        foreach (var queue in options.Value.Queues.Keys)
        {
            depth[queue] = monitoring.EnqueuedCount(queue);
        }
        await using var cmd = db.CreateCommand(
            "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 FROM ops.job_requests WHERE hangfire_job_id IS NULL");
        await using var r = await cmd.ExecuteReaderAsync(ct);
        await r.ReadAsync(ct);
        depth["outbox"] = r.GetInt64(0);
        JobTelemetry.SetQueueStats(depth, r.GetDouble(1));
    }

    private async Task ListenAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var conn = await db.OpenConnectionAsync(ct);
                conn.Notification += (_, _) => Wake();
                await using (var listen = new NpgsqlCommand($"LISTEN {JobQueue.NotifyChannel}", conn))
                {
                    await listen.ExecuteNonQueryAsync(ct);
                }
                Wake(); // anything committed while not listening
                while (!ct.IsCancellationRequested)
                {
                    await conn.WaitAsync(ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogListenFailed(logger, ex);
                await Delay(TimeSpan.FromSeconds(1), ct);
            }
        }
    }

    private void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already awake.
        }
    }

    private static async Task Delay(TimeSpan delay, CancellationToken ct)
    {
        try
        {
            await Task.Delay(delay, ct);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }

    private sealed record Request(long Id, string Kind, JobPayload Payload);

    [LoggerMessage(Level = LogLevel.Error, Message = "Outbox relay round failed")]
    private static partial void LogRelayFailed(ILogger logger, Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not hand job request {RequestId} ({Kind}) to Hangfire; it stays in the outbox")]
    private static partial void LogHandOverFailed(ILogger logger, Exception ex, long requestId, string kind);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox LISTEN connection failed; reconnecting")]
    private static partial void LogListenFailed(ILogger logger, Exception ex);
}
