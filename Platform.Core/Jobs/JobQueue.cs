using System.Diagnostics;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Platform.Core.Jobs;

/// <summary>
/// Puts jobs on the queue through the transactional outbox (<c>ops.job_requests</c>). Overloads taking a
/// transaction (Npgsql or EF) write the request inside it: the job exists only if that transaction commits, and the
/// Worker's relay is woken (NOTIFY) only then and hands the request to Hangfire.
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
    /// <summary>The channel the relay LISTENs on; NOTIFY is delivered at commit only.</summary>
    public const string NotifyChannel = "platform_job_requests";

    private const string InsertSql = """
        INSERT INTO ops.job_requests (kind, queue, args, args_version, max_attempts, run_at, unique_key, concurrency_key, trace_parent)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (kind, unique_key) WHERE unique_key IS NOT NULL AND released_at IS NULL DO NOTHING
        RETURNING id
        """;

    private const string BulkInsertSql = """
        INSERT INTO ops.job_requests (kind, queue, args, args_version, max_attempts, run_at, unique_key, concurrency_key, trace_parent)
        SELECT $1, q, a, $2, m, r, u, c, $3
        FROM unnest($4::text[], $5::jsonb[], $6::int[], $7::timestamptz[], $8::text[], $9::text[]) AS t(q, a, m, r, u, c)
        ON CONFLICT (kind, unique_key) WHERE unique_key IS NOT NULL AND released_at IS NULL DO NOTHING
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
        EnqueueRawAsync(conn, tx, TArgs.Kind, JsonSerializer.Serialize(args, Json), TArgs.Version, options?.Queue ?? TArgs.Queue,
            options ?? JobOptions.Default, ct);

    /// <summary>Enqueues already-serialised args (an operator's trigger of a schedule stores its args as JSON).</summary>
    internal static async Task<EnqueuedJob> EnqueueRawAsync(
        NpgsqlConnection conn, NpgsqlTransaction? tx, string kind, string argsJson, int argsVersion, string queue, JobOptions options, CancellationToken ct)
    {
        Validate(options, queue);
        using var activity = JobTelemetry.Source.StartActivity("job enqueue " + kind, ActivityKind.Producer);
        activity?.SetTag("job.kind", kind);
        activity?.SetTag("job.queue", queue);
        var traceParent = Activity.Current?.Id;

        for (var round = 0; round < 5; round++)
        {
            await using var batch = new NpgsqlBatch(conn, tx);
            var insert = new NpgsqlBatchCommand(InsertSql);
            insert.Parameters.Add(new() { Value = kind });
            insert.Parameters.Add(new() { Value = queue });
            insert.Parameters.Add(new() { Value = argsJson, NpgsqlDbType = NpgsqlDbType.Jsonb });
            insert.Parameters.Add(new() { Value = argsVersion });
            insert.Parameters.Add(new() { Value = options.MaxAttempts });
            insert.Parameters.Add(new() { Value = (object?)options.RunAt?.ToUniversalTime() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            insert.Parameters.Add(new() { Value = (object?)options.UniqueKey ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            insert.Parameters.Add(new() { Value = (object?)options.ConcurrencyKey ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            insert.Parameters.Add(new() { Value = (object?)traceParent ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            batch.BatchCommands.Add(insert);
            // Delivered at commit only, so a worker never wakes for a job it cannot see yet.
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT pg_notify('{NotifyChannel}', '')"));

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
                JobTelemetry.Enqueued.Add(1, JobTelemetry.Tags(kind, queue));
                return new EnqueuedJob(created, false);
            }

            // A live job holds the key: return it. It may end between the two statements; then insert again.
            await using var find = new NpgsqlCommand(
                "SELECT id FROM ops.job_requests WHERE kind = $1 AND unique_key = $2 AND released_at IS NULL", conn, tx);
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
        var argsJson = new string[list.Count];
        var maxAttempts = new int[list.Count];
        var runAt = new DateTime?[list.Count];
        var uniqueKeys = new string?[list.Count];
        var concurrencyKeys = new string?[list.Count];
        var i = 0;
        foreach (var (a, o) in list)
        {
            queues[i] = o.Queue ?? TArgs.Queue;
            Validate(o, queues[i]);
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
            insert.Parameters.Add(new() { Value = argsJson, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb });
            insert.Parameters.Add(new() { Value = maxAttempts });
            insert.Parameters.Add(new() { Value = runAt, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
            insert.Parameters.Add(new() { Value = uniqueKeys, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            insert.Parameters.Add(new() { Value = concurrencyKeys, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            batch.BatchCommands.Add(insert);
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT pg_notify('{NotifyChannel}', '')"));
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

    private static void Validate(JobOptions o, string queue)
    {
        if (!JobQueueNames.IsValid(queue))
        {
            throw new ArgumentException($"'{queue}' is not a queue name: lower-case letters, digits, '-' and '_', at most 50.", nameof(o));
        }
        if (o.MaxAttempts < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(o), o.MaxAttempts, "A job needs at least one attempt.");
        }
    }
}

public static partial class JobQueueNames
{
    public static bool IsValid(string? queue) => queue is { Length: > 0 and <= 50 } && Pattern().IsMatch(queue);

    [System.Text.RegularExpressions.GeneratedRegex("^[a-z0-9_-]+$")]
    private static partial System.Text.RegularExpressions.Regex Pattern();
}
