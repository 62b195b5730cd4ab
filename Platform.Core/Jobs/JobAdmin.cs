using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Platform.Core.Jobs;

public sealed record JobError(int Attempt, DateTimeOffset At, string Error, string? Type, string? Worker);

public sealed record JobDetails(
    long Id, string Kind, string Queue, string State, short Priority, int Attempt, int MaxAttempts, JsonElement Args, int ArgsVersion,
    DateTimeOffset ScheduledAt, DateTimeOffset CreatedAt, DateTimeOffset? AttemptedAt, DateTimeOffset? FinalizedAt,
    IReadOnlyList<string> AttemptedBy, string? UniqueKey, string? ConcurrencyKey, IReadOnlyList<JobError> Errors);

public sealed record JobPage(IReadOnlyList<JobDetails> Items, string? NextCursor);

public sealed record QueueStateCount(string Queue, string State, long Count);

public sealed record QueueAge(string Queue, long Available, double OldestAvailableAgeSeconds);

public sealed record JobStats(IReadOnlyList<QueueStateCount> Counts, IReadOnlyList<QueueAge> Queues);

public sealed record ScheduleDetails(
    string Name, string Cron, string Kind, string Queue, bool Paused, DateTimeOffset NextFireAt, DateTimeOffset? LastFireAt, long? LastJobId);

public enum JobChange
{
    Done,
    NotFound,
    /// <summary>The job's state does not allow the change (e.g. cancelling a completed job).</summary>
    Conflict,
}

/// <summary>The operator's view of the queue: read jobs and schedules, retry, cancel, pause, resume, trigger.</summary>
public sealed class JobAdmin(NpgsqlDataSource db)
{
    private const string Columns = """
        id, kind, queue, state, priority, attempt, max_attempts, args::text, args_version, scheduled_at, created_at,
        attempted_at, finalized_at, attempted_by, unique_key, concurrency_key, errors::text
        """;

    public async Task<JobDetails?> GetAsync(long id, CancellationToken ct = default)
    {
        await using var cmd = db.CreateCommand($"SELECT {Columns} FROM ops.jobs WHERE id = $1");
        cmd.Parameters.Add(new() { Value = id });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }

    /// <summary>Newest first. The cursor is opaque to callers (it is the last id seen).</summary>
    public async Task<JobPage> ListAsync(string? state, string? queue, string? kind, string? cursor, int limit, CancellationToken ct = default)
    {
        limit = Math.Clamp(limit, 1, 200);
        var before = DecodeCursor(cursor) ?? long.MaxValue;
        await using var cmd = db.CreateCommand($"""
            SELECT {Columns} FROM ops.jobs
            WHERE id < $1 AND ($2::text IS NULL OR state = $2) AND ($3::text IS NULL OR queue = $3) AND ($4::text IS NULL OR kind = $4)
            ORDER BY id DESC LIMIT $5
            """);
        cmd.Parameters.Add(new() { Value = before });
        cmd.Parameters.Add(new() { Value = (object?)state ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = (object?)queue ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = (object?)kind ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = limit + 1 });
        var items = new List<JobDetails>();
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                items.Add(Read(reader));
            }
        }
        string? next = null;
        if (items.Count > limit)
        {
            items.RemoveAt(items.Count - 1);
            next = EncodeCursor(items[^1].Id);
        }
        return new JobPage(items, next);
    }

    public static bool IsValidCursor(string? cursor) => cursor is null || DecodeCursor(cursor) is not null;

    private static string EncodeCursor(long id) => Convert.ToBase64String(BitConverter.GetBytes(id)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static long? DecodeCursor(string? cursor)
    {
        if (string.IsNullOrEmpty(cursor))
        {
            return null;
        }
        try
        {
            var b64 = cursor.Replace('-', '+').Replace('_', '/');
            var bytes = Convert.FromBase64String(b64.PadRight(b64.Length + (4 - b64.Length % 4) % 4, '='));
            return bytes.Length == 8 ? BitConverter.ToInt64(bytes) : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    public async Task<JobStats> StatsAsync(CancellationToken ct = default)
    {
        var counts = new List<QueueStateCount>();
        var ages = new List<QueueAge>();
        await using var batch = db.CreateBatch();
        batch.BatchCommands.Add(new("SELECT queue, state, count(*) FROM ops.jobs GROUP BY queue, state ORDER BY queue, state"));
        batch.BatchCommands.Add(new("""
            SELECT queue, count(*), coalesce(extract(epoch FROM now() - min(scheduled_at)), 0)::float8
            FROM ops.jobs WHERE state IN ('available', 'scheduled', 'retryable') AND scheduled_at <= now()
            GROUP BY queue ORDER BY queue
            """));
        await using var reader = await batch.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            counts.Add(new(reader.GetString(0), reader.GetString(1), reader.GetInt64(2)));
        }
        await reader.NextResultAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            ages.Add(new(reader.GetString(0), reader.GetInt64(1), reader.GetDouble(2)));
        }
        return new JobStats(counts, ages);
    }

    /// <summary>Runs a finished, waiting or discarded job again now; a discarded job gets one more attempt.</summary>
    public async Task<JobChange> RetryAsync(long id, CancellationToken ct = default)
    {
        try
        {
            await using var cmd = db.CreateCommand($"""
                WITH retried AS (
                    UPDATE ops.jobs SET state = 'available', scheduled_at = now(), finalized_at = NULL,
                                        max_attempts = greatest(max_attempts, attempt + 1)
                    WHERE id = $1 AND state IN ('scheduled', 'retryable', 'completed', 'discarded', 'cancelled')
                    RETURNING queue)
                SELECT pg_notify('{JobQueue.NotifyChannel}', queue) FROM retried
                """);
            cmd.Parameters.Add(new() { Value = id });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            if (await reader.ReadAsync(ct))
            {
                return JobChange.Done;
            }
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return JobChange.Conflict; // another pending job now holds its unique key
        }
        return await ExistsAsync(id, ct) ? JobChange.Conflict : JobChange.NotFound;
    }

    /// <summary>Cancels a job that has not finished. A running handler is told through its lease (at the next heartbeat).</summary>
    public async Task<JobChange> CancelAsync(long id, CancellationToken ct = default)
    {
        await using var cmd = db.CreateCommand("""
            UPDATE ops.jobs SET state = 'cancelled', finalized_at = now(), locked_by = NULL, locked_until = NULL
            WHERE id = $1 AND state IN ('available', 'scheduled', 'retryable', 'running')
            """);
        cmd.Parameters.Add(new() { Value = id });
        if (await cmd.ExecuteNonQueryAsync(ct) == 1)
        {
            return JobChange.Done;
        }
        return await ExistsAsync(id, ct) ? JobChange.Conflict : JobChange.NotFound;
    }

    private async Task<bool> ExistsAsync(long id, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("SELECT 1 FROM ops.jobs WHERE id = $1");
        cmd.Parameters.Add(new() { Value = id });
        return await cmd.ExecuteScalarAsync(ct) is not null;
    }

    public async Task<IReadOnlyList<ScheduleDetails>> SchedulesAsync(CancellationToken ct = default)
    {
        await using var cmd = db.CreateCommand($"SELECT {RecurringSchedules.ScheduleRow.Columns} FROM ops.schedules ORDER BY name");
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var list = new List<ScheduleDetails>();
        while (await reader.ReadAsync(ct))
        {
            list.Add(ToDetails(RecurringSchedules.ScheduleRow.Read(reader)));
        }
        return list;
    }

    public async Task<ScheduleDetails?> ScheduleAsync(string name, CancellationToken ct = default)
    {
        await using var cmd = db.CreateCommand($"SELECT {RecurringSchedules.ScheduleRow.Columns} FROM ops.schedules WHERE name = $1");
        cmd.Parameters.Add(new() { Value = name });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? ToDetails(RecurringSchedules.ScheduleRow.Read(reader)) : null;
    }

    public async Task<ScheduleDetails?> PauseAsync(string name, CancellationToken ct = default)
    {
        await using var cmd = db.CreateCommand("UPDATE ops.schedules SET paused = true, updated_at = now() WHERE name = $1");
        cmd.Parameters.Add(new() { Value = name });
        await cmd.ExecuteNonQueryAsync(ct);
        return await ScheduleAsync(name, ct);
    }

    /// <summary>Resumes from now on: fire times that passed while paused are skipped.</summary>
    public async Task<ScheduleDetails?> ResumeAsync(string name, CancellationToken ct = default)
    {
        var current = await ScheduleAsync(name, ct);
        if (current is null)
        {
            return null;
        }
        if (current.Paused)
        {
            var next = (RecurringSchedules.Parse(current.Cron).GetNextValidTimeAfter(DateTimeOffset.UtcNow)
                ?? DateTimeOffset.UtcNow.AddYears(100)).ToUniversalTime();
            await using var cmd = db.CreateCommand(
                "UPDATE ops.schedules SET paused = false, next_fire_at = $2, updated_at = now() WHERE name = $1 AND paused");
            cmd.Parameters.Add(new() { Value = name });
            cmd.Parameters.Add(new() { Value = next });
            await cmd.ExecuteNonQueryAsync(ct);
        }
        return await ScheduleAsync(name, ct);
    }

    /// <summary>Enqueues the schedule's job now, outside its cron (also while paused). Returns null for an unknown schedule.</summary>
    public async Task<EnqueuedJob?> TriggerAsync(string name, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        RecurringSchedules.ScheduleRow? row = null;
        await using (var cmd = new NpgsqlCommand(
            $"SELECT {RecurringSchedules.ScheduleRow.Columns} FROM ops.schedules WHERE name = $1 FOR UPDATE", conn, tx))
        {
            cmd.Parameters.Add(new() { Value = name });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            if (await reader.ReadAsync(ct))
            {
                row = RecurringSchedules.ScheduleRow.Read(reader);
            }
        }
        if (row is null)
        {
            return null;
        }
        var job = await JobQueue.EnqueueRawAsync(conn, tx, row.Kind, row.ArgsJson, row.ArgsVersion, row.Options, ct);
        await using (var record = new NpgsqlCommand("UPDATE ops.schedules SET last_job_id = $2, updated_at = now() WHERE name = $1", conn, tx))
        {
            record.Parameters.Add(new() { Value = name });
            record.Parameters.Add(new() { Value = job.Id });
            await record.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return job;
    }

    private static ScheduleDetails ToDetails(RecurringSchedules.ScheduleRow r) =>
        new(r.Name, r.Cron, r.Kind, r.Options.Queue, r.Paused, r.NextFireAt, r.LastFireAt, r.LastJobId);

    private static JobDetails Read(NpgsqlDataReader r)
    {
        using var args = JsonDocument.Parse(r.GetString(7));
        var errors = JsonSerializer.Deserialize<List<JobError>>(r.GetString(16), JobQueue.Json) ?? [];
        return new JobDetails(
            r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetInt16(4), r.GetInt32(5), r.GetInt32(6),
            args.RootElement.Clone(), r.GetInt32(8), r.GetFieldValue<DateTimeOffset>(9), r.GetFieldValue<DateTimeOffset>(10),
            r.IsDBNull(11) ? null : r.GetFieldValue<DateTimeOffset>(11), r.IsDBNull(12) ? null : r.GetFieldValue<DateTimeOffset>(12),
            r.GetFieldValue<string[]>(13), r.IsDBNull(14) ? null : r.GetString(14), r.IsDBNull(15) ? null : r.GetString(15), errors);
    }
}
