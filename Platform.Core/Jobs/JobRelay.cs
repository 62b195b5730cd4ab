using System.Transactions;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Hangfire.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Platform.Core.Data;

namespace Platform.Core.Jobs;

/// <summary>
/// Hands committed outbox requests to Hangfire. Woken by NOTIFY (sent at the enqueuer's commit), it takes up to a
/// batch of requests with <c>FOR UPDATE SKIP LOCKED</c> (so several Worker processes share the backlog), creates their
/// Hangfire jobs and marks them handed over in one statement, all in one database transaction: a request is handed
/// over exactly once or stays in the outbox. It also prunes old requests, releases unique keys whose release was lost and
/// publishes queue depth for the gauges.
/// </summary>
public sealed partial class JobRelay(
    NpgsqlDataSource db, IBackgroundJobClient client, JobStorage storage, IOptions<JobWorkerOptions> options, ILogger<JobRelay> logger)
    : BackgroundService
{
    private readonly CommitSignal _signal = new(db, JobQueue.NotifyChannel, logger);

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        var o = options.Value;
        _ = _signal.ListenAsync(ct);
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
                await CommitSignal.PauseAsync(o.RelayPollInterval, ct);
                continue;
            }
            if (handed < o.RelayBatchSize)
            {
                if (!await _signal.WaitAsync(o.RelayPollInterval, ct))
                {
                    return;
                }
            }
        }
    }

    /// <summary>
    /// Hands over one batch; returns how many requests it took. The batch is ONE PostgreSQL transaction: an ambient
    /// <see cref="TransactionScope"/> that Hangfire.PostgreSql joins (its <c>EnableTransactionScopeEnlistment</c>), so
    /// taking the requests, creating their Hangfire jobs and marking them handed over commit together, with one WAL
    /// flush for the whole batch. Every connection is opened and closed in turn, so Npgsql lends the same physical
    /// connection to each (no distributed transaction). If the batch fails, each of its requests is handed over in a
    /// transaction of its own, so one bad request cannot hold back the others.
    /// </summary>
    public Task<int> RelayBatchAsync(CancellationToken ct) => Task.Run(() => RelayBatch(ct), ct);

    private int RelayBatch(CancellationToken ct)
    {
        var o = options.Value;
        List<Request> batch;
        try
        {
            using var scope = NewScope();
            batch = Take(o.RelayBatchSize, null);
            if (batch.Count == 0)
            {
                return 0;
            }
            var jobIds = batch.Select(HandOver).ToArray();
            Mark(batch, jobIds);
            scope.Complete();
        }
        catch (Exception ex) when (!ct.IsCancellationRequested && ex is not OperationCanceledException)
        {
            LogBatchFailed(logger, ex);
            return RelayOneByOne(ct);
        }
        CountHandedOver(batch);
        return batch.Count;
    }

    /// <summary>The fallback after a failed batch: each pending request in its own transaction.</summary>
    private int RelayOneByOne(CancellationToken ct)
    {
        var o = options.Value;
        List<Request> pending;
        using (var scope = NewScope())
        {
            pending = Take(o.RelayBatchSize, null);
            scope.Complete();
        }
        var handed = 0;
        foreach (var candidate in pending)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                using var scope = NewScope();
                if (Take(1, candidate.Id) is not [var request])
                {
                    continue; // taken by another relay meanwhile
                }
                Mark([request], [HandOver(request)]);
                scope.Complete();
                CountHandedOver([request]);
                handed++;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Left in the outbox: the next round tries again.
                LogHandOverFailed(logger, ex, candidate.Id, candidate.Kind);
            }
        }
        return handed;
    }

    private static TransactionScope NewScope() => new(
        TransactionScopeOption.RequiresNew,
        new TransactionOptions { IsolationLevel = IsolationLevel.ReadCommitted, Timeout = TimeSpan.FromMinutes(2) },
        TransactionScopeAsyncFlowOption.Suppress);

    private List<Request> Take(int limit, long? id)
    {
        var batch = new List<Request>();
        using var conn = db.OpenConnection();
        using var cmd = new NpgsqlCommand("""
            SELECT id, kind, queue, args::text, args_version, max_attempts, run_at, unique_key, concurrency_key, trace_parent, created_at
            FROM ops.job_requests WHERE hangfire_job_id IS NULL AND ($2::bigint IS NULL OR id = $2)
            ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
            """, conn);
        cmd.Parameters.Add(new() { Value = limit });
        cmd.Parameters.Add(new() { Value = (object?)id ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            batch.Add(new Request(r.GetInt64(0), r.GetString(1), new JobPayload(
                r.GetInt64(0), r.GetString(2), r.GetString(3), r.GetInt32(4), r.GetInt32(5),
                r.IsDBNull(7) ? null : r.GetString(7), r.IsDBNull(8) ? null : r.GetString(8), r.IsDBNull(9) ? null : r.GetString(9),
                r.GetDateTime(10), r.IsDBNull(6) ? null : r.GetDateTime(6))));
        }
        return batch;
    }

    private void Mark(IReadOnlyList<Request> batch, string[] jobIds)
    {
        using var conn = db.OpenConnection();
        using var mark = new NpgsqlCommand("""
            UPDATE ops.job_requests r SET hangfire_job_id = h.job_id, handed_over_at = now()
            FROM unnest($1::bigint[], $2::text[]) AS h(id, job_id) WHERE r.id = h.id
            """, conn);
        mark.Parameters.Add(new() { Value = batch.Select(b => b.Id).ToArray() });
        mark.Parameters.Add(new() { Value = jobIds, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text });
        mark.ExecuteNonQuery();
    }

    private static void CountHandedOver(IEnumerable<Request> handed)
    {
        foreach (var group in handed.GroupBy(b => (b.Kind, b.Payload.Queue)))
        {
            JobTelemetry.HandedOver.Add(group.Count(), JobTelemetry.Tags(group.Key.Kind, group.Key.Queue));
        }
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

    public override void Dispose()
    {
        _signal.Dispose();
        base.Dispose();
    }

    private sealed record Request(long Id, string Kind, JobPayload Payload);

    [LoggerMessage(Level = LogLevel.Error, Message = "Outbox relay round failed")]
    private static partial void LogRelayFailed(ILogger logger, Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox batch hand-over failed; handing its requests over one by one")]
    private static partial void LogBatchFailed(ILogger logger, Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not hand job request {RequestId} ({Kind}) to Hangfire; it stays in the outbox")]
    private static partial void LogHandOverFailed(ILogger logger, Exception ex, long requestId, string kind);

}
