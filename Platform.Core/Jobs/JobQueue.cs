using System.Diagnostics;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Platform.Core.Jobs;

/// <summary>
/// Puts jobs on the queue. Overloads taking a transaction (Npgsql or EF) enqueue inside it: the job exists
/// only if that transaction commits, and workers are woken (NOTIFY) only then.
/// </summary>
public interface IJobQueue
{
    Task<EnqueuedJob> EnqueueAsync<TArgs>(TArgs args, JobOptions? options = null, CancellationToken ct = default)
        where TArgs : IJobArgs;

    Task<EnqueuedJob> EnqueueAsync<TArgs>(NpgsqlTransaction transaction, TArgs args, JobOptions? options = null, CancellationToken ct = default)
        where TArgs : IJobArgs;

    /// <summary>Enqueues in the context's current transaction (or on its own when the context has none).</summary>
    Task<EnqueuedJob> EnqueueAsync<TArgs>(DbContext db, TArgs args, JobOptions? options = null, CancellationToken ct = default)
        where TArgs : IJobArgs;

    /// <summary>Fan-out: one statement for the whole list. Returns how many jobs were created (duplicates by unique key are skipped).</summary>
    Task<int> EnqueueManyAsync<TArgs>(IEnumerable<TArgs> args, JobOptions? options = null, NpgsqlTransaction? transaction = null, CancellationToken ct = default)
        where TArgs : IJobArgs;

    /// <summary>Fan-out with options per job (e.g. a unique key per recipient).</summary>
    Task<int> EnqueueManyAsync<TArgs>(IEnumerable<(TArgs Args, JobOptions Options)> jobs, NpgsqlTransaction? transaction = null, CancellationToken ct = default)
        where TArgs : IJobArgs;
}

public sealed class JobQueue(NpgsqlDataSource dataSource) : IJobQueue
{
    /// <summary>The channel workers LISTEN on; the payload is the queue name.</summary>
    public const string NotifyChannel = "platform_jobs";

    internal const string PendingStates = "('available', 'scheduled', 'running', 'retryable')";

    private const string InsertSql = $"""
        INSERT INTO ops.jobs (kind, queue, priority, args, args_version, max_attempts, scheduled_at, state,
                              unique_key, concurrency_key, trace_parent)
        VALUES ($1, $2, $3, $4, $5, $6, coalesce($7, now()),
                CASE WHEN $7 > now() THEN 'scheduled' ELSE 'available' END, $8, $9, $10)
        ON CONFLICT (kind, unique_key) WHERE unique_key IS NOT NULL AND state IN {PendingStates} DO NOTHING
        RETURNING id
        """;

    private const string BulkInsertSql = $"""
        INSERT INTO ops.jobs (kind, queue, priority, args, args_version, max_attempts, scheduled_at, state,
                              unique_key, concurrency_key, trace_parent)
        SELECT $1, q, p, a, $2, m, coalesce(r, now()), CASE WHEN r > now() THEN 'scheduled' ELSE 'available' END, u, c, $3
        FROM unnest($4::text[], $5::smallint[], $6::jsonb[], $7::int[], $8::timestamptz[], $9::text[], $10::text[]) AS t(q, p, a, m, r, u, c)
        ON CONFLICT (kind, unique_key) WHERE unique_key IS NOT NULL AND state IN {PendingStates} DO NOTHING
        """;

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<EnqueuedJob> EnqueueAsync<TArgs>(TArgs args, JobOptions? options = null, CancellationToken ct = default)
        where TArgs : IJobArgs
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await EnqueueAsync(conn, null, args, options, ct);
    }

    public Task<EnqueuedJob> EnqueueAsync<TArgs>(NpgsqlTransaction transaction, TArgs args, JobOptions? options = null, CancellationToken ct = default)
        where TArgs : IJobArgs
    {
        ArgumentNullException.ThrowIfNull(transaction);
        var conn = transaction.Connection ?? throw new InvalidOperationException("The transaction has already completed.");
        return EnqueueAsync(conn, transaction, args, options, ct);
    }

    public async Task<EnqueuedJob> EnqueueAsync<TArgs>(DbContext db, TArgs args, JobOptions? options = null, CancellationToken ct = default)
        where TArgs : IJobArgs
    {
        if (db.Database.CurrentTransaction?.GetDbTransaction() is NpgsqlTransaction tx)
        {
            return await EnqueueAsync(tx, args, options, ct);
        }
        return await EnqueueAsync(args, options, ct);
    }

    private static Task<EnqueuedJob> EnqueueAsync<TArgs>(NpgsqlConnection conn, NpgsqlTransaction? tx, TArgs args, JobOptions? options, CancellationToken ct)
        where TArgs : IJobArgs =>
        EnqueueRawAsync(conn, tx, TArgs.Kind, JsonSerializer.Serialize(args, Json), TArgs.Version, options ?? JobOptions.Default, ct);

    /// <summary>Enqueues already-serialised args (schedules store their args as JSON).</summary>
    internal static async Task<EnqueuedJob> EnqueueRawAsync(
        NpgsqlConnection conn, NpgsqlTransaction? tx, string kind, string argsJson, int argsVersion, JobOptions options, CancellationToken ct)
    {
        Validate(options);
        using var activity = JobTelemetry.Source.StartActivity("job enqueue " + kind, ActivityKind.Producer);
        activity?.SetTag("job.kind", kind);
        activity?.SetTag("job.queue", options.Queue);
        var traceParent = Activity.Current?.Id;

        for (var round = 0; round < 5; round++)
        {
            await using var batch = new NpgsqlBatch(conn, tx);
            var insert = new NpgsqlBatchCommand(InsertSql);
            insert.Parameters.Add(new() { Value = kind });
            insert.Parameters.Add(new() { Value = options.Queue });
            insert.Parameters.Add(new() { Value = options.Priority });
            insert.Parameters.Add(new() { Value = argsJson, NpgsqlDbType = NpgsqlDbType.Jsonb });
            insert.Parameters.Add(new() { Value = argsVersion });
            insert.Parameters.Add(new() { Value = options.MaxAttempts });
            insert.Parameters.Add(new() { Value = (object?)options.RunAt?.ToUniversalTime() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            insert.Parameters.Add(new() { Value = (object?)options.UniqueKey ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            insert.Parameters.Add(new() { Value = (object?)options.ConcurrencyKey ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            insert.Parameters.Add(new() { Value = (object?)traceParent ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            batch.BatchCommands.Add(insert);
            // Delivered at commit only, so a worker never wakes for a job it cannot see yet.
            var notify = new NpgsqlBatchCommand($"SELECT pg_notify('{NotifyChannel}', $1)");
            notify.Parameters.Add(new() { Value = options.Queue });
            batch.BatchCommands.Add(notify);

            long? id = null;
            await using (var reader = await batch.ExecuteReaderAsync(ct))
            {
                if (await reader.ReadAsync(ct))
                {
                    id = reader.GetInt64(0);
                }
            }
            if (id is { } created)
            {
                activity?.SetTag("job.id", created);
                JobTelemetry.Enqueued.Add(1, JobTelemetry.Tags(kind, options.Queue));
                return new EnqueuedJob(created, false);
            }

            // A pending job holds the key: return it. It may finish between the two statements; then insert again.
            await using var find = new NpgsqlCommand(
                $"SELECT id FROM ops.jobs WHERE kind = $1 AND unique_key = $2 AND state IN {PendingStates}", conn, tx);
            find.Parameters.Add(new() { Value = kind });
            find.Parameters.Add(new() { Value = options.UniqueKey! });
            if (await find.ExecuteScalarAsync(ct) is long existing)
            {
                activity?.SetTag("job.id", existing);
                activity?.SetTag("job.duplicate", true);
                return new EnqueuedJob(existing, true);
            }
        }
        throw new InvalidOperationException($"Could not enqueue or find the job '{kind}' with unique key '{options.UniqueKey}'.");
    }

    public Task<int> EnqueueManyAsync<TArgs>(IEnumerable<TArgs> args, JobOptions? options = null, NpgsqlTransaction? transaction = null, CancellationToken ct = default)
        where TArgs : IJobArgs
    {
        var o = options ?? JobOptions.Default;
        return EnqueueManyAsync(args.Select(a => (a, o)), transaction, ct);
    }

    public async Task<int> EnqueueManyAsync<TArgs>(IEnumerable<(TArgs Args, JobOptions Options)> jobs, NpgsqlTransaction? transaction = null, CancellationToken ct = default)
        where TArgs : IJobArgs
    {
        var list = jobs as IReadOnlyCollection<(TArgs Args, JobOptions Options)> ?? jobs.ToList();
        if (list.Count == 0)
        {
            return 0;
        }
        var queues = new string[list.Count];
        var priorities = new short[list.Count];
        var argsJson = new string[list.Count];
        var maxAttempts = new int[list.Count];
        var runAt = new DateTime?[list.Count];
        var uniqueKeys = new string?[list.Count];
        var concurrencyKeys = new string?[list.Count];
        var i = 0;
        foreach (var (a, o) in list)
        {
            Validate(o);
            queues[i] = o.Queue;
            priorities[i] = o.Priority;
            argsJson[i] = JsonSerializer.Serialize(a, Json);
            maxAttempts[i] = o.MaxAttempts;
            runAt[i] = o.RunAt?.UtcDateTime;
            uniqueKeys[i] = o.UniqueKey;
            concurrencyKeys[i] = o.ConcurrencyKey;
            i++;
        }

        using var activity = JobTelemetry.Source.StartActivity("job enqueue " + TArgs.Kind, ActivityKind.Producer);
        activity?.SetTag("job.kind", TArgs.Kind);
        activity?.SetTag("job.count", list.Count);

        NpgsqlConnection? owned = null;
        var conn = transaction?.Connection ?? (owned = await dataSource.OpenConnectionAsync(ct));
        try
        {
            await using var batch = new NpgsqlBatch(conn, transaction);
            var insert = new NpgsqlBatchCommand(BulkInsertSql);
            insert.Parameters.Add(new() { Value = TArgs.Kind });
            insert.Parameters.Add(new() { Value = TArgs.Version });
            insert.Parameters.Add(new() { Value = (object?)Activity.Current?.Id ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            insert.Parameters.Add(new() { Value = queues });
            insert.Parameters.Add(new() { Value = priorities });
            insert.Parameters.Add(new() { Value = argsJson, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb });
            insert.Parameters.Add(new() { Value = maxAttempts });
            insert.Parameters.Add(new() { Value = runAt, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
            insert.Parameters.Add(new() { Value = uniqueKeys, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            insert.Parameters.Add(new() { Value = concurrencyKeys, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            batch.BatchCommands.Add(insert);
            foreach (var queue in queues.Distinct())
            {
                var notify = new NpgsqlBatchCommand($"SELECT pg_notify('{NotifyChannel}', $1)");
                notify.Parameters.Add(new() { Value = queue });
                batch.BatchCommands.Add(notify);
            }
            await batch.ExecuteNonQueryAsync(ct);
            var created = insert.RecordsAffected;
            JobTelemetry.Enqueued.Add(created, JobTelemetry.Tags(TArgs.Kind, queues[0]));
            return created;
        }
        finally
        {
            if (owned is not null)
            {
                await owned.DisposeAsync();
            }
        }
    }

    private static void Validate(JobOptions o)
    {
        if (string.IsNullOrWhiteSpace(o.Queue))
        {
            throw new ArgumentException("A job needs a queue name.", nameof(o));
        }
        if (o.Priority is < 1 or > 4)
        {
            throw new ArgumentOutOfRangeException(nameof(o), o.Priority, "Priority runs from 1 (first) to 4 (last).");
        }
        if (o.MaxAttempts < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(o), o.MaxAttempts, "A job needs at least one attempt.");
        }
    }
}
