using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using Quartz;

namespace Platform.Core.Jobs;

/// <summary>
/// Fires the recurring schedules of <c>ops.schedules</c>. Any number of workers may tick at once: a fire time is
/// claimed by a compare-and-set on <c>next_fire_at</c> in the same transaction that inserts its job, so each
/// (schedule, fire time) is enqueued at most once; the job's unique key names the fire time as a second wall.
/// Missed fire times (workers down, schedule overdue) are coalesced: only the latest one is enqueued, like
/// Quartz's fire-once-now misfire policy for cron triggers.
/// </summary>
public sealed partial class RecurringSchedules(NpgsqlDataSource db, IReadOnlyList<RecurringJobDefinition> definitions, ILogger<RecurringSchedules> logger)
{
    public static CronExpression Parse(string cron) => new(cron, TimeZoneInfo.Utc);

    public static string FireKey(string schedule, DateTimeOffset fireTime) =>
        $"schedule:{schedule}:{fireTime.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}";

    internal async Task RunAsync(TimeSpan interval, CancellationToken ct)
    {
        while (true)
        {
            try
            {
                await DeclareAsync(ct);
                break;
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex)
            {
                // Database not reachable yet: schedules must not silently stay undeclared.
                LogTickFailed(logger, ex);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(2), ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
        using var timer = new PeriodicTimer(interval);
        try
        {
            do
            {
                try
                {
                    await TickAsync(ct);
                }
                catch (Exception ex) when (!ct.IsCancellationRequested)
                {
                    LogTickFailed(logger, ex);
                }
            }
            while (await timer.WaitForNextTickAsync(ct));
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Upserts the schedules declared in code. Pause state and fire history survive; a changed cron resets the next fire time.</summary>
    internal async Task DeclareAsync(CancellationToken ct)
    {
        foreach (var d in definitions)
        {
            var next = Parse(d.Cron).GetNextValidTimeAfter(DateTimeOffset.UtcNow)
                ?? throw new InvalidOperationException($"Cron '{d.Cron}' of schedule '{d.Name}' never fires.");
            await using var cmd = db.CreateCommand("""
                INSERT INTO ops.schedules (name, cron, kind, args, args_version, queue, priority, max_attempts, next_fire_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                ON CONFLICT (name) DO UPDATE SET
                    kind = EXCLUDED.kind, args = EXCLUDED.args, args_version = EXCLUDED.args_version, queue = EXCLUDED.queue,
                    priority = EXCLUDED.priority, max_attempts = EXCLUDED.max_attempts, cron = EXCLUDED.cron,
                    next_fire_at = CASE WHEN ops.schedules.cron = EXCLUDED.cron THEN ops.schedules.next_fire_at ELSE EXCLUDED.next_fire_at END,
                    updated_at = now()
                WHERE (ops.schedules.cron, ops.schedules.kind, ops.schedules.args, ops.schedules.args_version, ops.schedules.queue,
                       ops.schedules.priority, ops.schedules.max_attempts)
                      IS DISTINCT FROM (EXCLUDED.cron, EXCLUDED.kind, EXCLUDED.args, EXCLUDED.args_version, EXCLUDED.queue,
                       EXCLUDED.priority, EXCLUDED.max_attempts)
                """);
            cmd.Parameters.Add(new() { Value = d.Name });
            cmd.Parameters.Add(new() { Value = d.Cron });
            cmd.Parameters.Add(new() { Value = d.Kind });
            cmd.Parameters.Add(new() { Value = d.ArgsJson, NpgsqlDbType = NpgsqlDbType.Jsonb });
            cmd.Parameters.Add(new() { Value = d.ArgsVersion });
            cmd.Parameters.Add(new() { Value = d.Options.Queue });
            cmd.Parameters.Add(new() { Value = d.Options.Priority });
            cmd.Parameters.Add(new() { Value = d.Options.MaxAttempts });
            cmd.Parameters.Add(new() { Value = next.ToUniversalTime() });
            await cmd.ExecuteNonQueryAsync(ct);
        }
    }

    internal async Task TickAsync(CancellationToken ct)
    {
        var due = new List<ScheduleRow>();
        await using (var cmd = db.CreateCommand($"""
            SELECT {ScheduleRow.Columns} FROM ops.schedules WHERE NOT paused AND next_fire_at <= now() ORDER BY next_fire_at
            """))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                due.Add(ScheduleRow.Read(reader));
            }
        }
        foreach (var s in due)
        {
            await FireAsync(s, ct);
        }
    }

    private async Task FireAsync(ScheduleRow s, CancellationToken ct)
    {
        var cron = Parse(s.Cron);
        var now = DateTimeOffset.UtcNow;
        var fire = LatestFireTime(cron, s.NextFireAt, now).ToUniversalTime();
        // A cron with no further fire time parks the schedule a century ahead rather than storing infinity.
        var next = (cron.GetNextValidTimeAfter(now) ?? now.AddYears(100)).ToUniversalTime();

        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var claim = new NpgsqlCommand("""
            UPDATE ops.schedules SET next_fire_at = $3, last_fire_at = $4, updated_at = now()
            WHERE name = $1 AND next_fire_at = $2 AND NOT paused
            """, conn, tx))
        {
            claim.Parameters.Add(new() { Value = s.Name });
            claim.Parameters.Add(new() { Value = s.NextFireAt });
            claim.Parameters.Add(new() { Value = next });
            claim.Parameters.Add(new() { Value = fire });
            if (await claim.ExecuteNonQueryAsync(ct) == 0)
            {
                return; // another worker fired it, or it was paused meanwhile
            }
        }
        var job = await JobQueue.EnqueueRawAsync(conn, tx, s.Kind, s.ArgsJson, s.ArgsVersion,
            s.Options with { UniqueKey = FireKey(s.Name, fire) }, ct);
        await using (var record = new NpgsqlCommand("UPDATE ops.schedules SET last_job_id = $2 WHERE name = $1", conn, tx))
        {
            record.Parameters.Add(new() { Value = s.Name });
            record.Parameters.Add(new() { Value = job.Id });
            await record.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        var missed = CountBetween(cron, s.NextFireAt, fire);
        if (missed > 0)
        {
            LogCoalesced(logger, s.Name, missed, fire);
        }
        LogFired(logger, s.Name, fire, job.Id);
    }

    /// <summary>The latest fire time at or before <paramref name="now"/>, starting from the stored next fire time.</summary>
    public static DateTimeOffset LatestFireTime(CronExpression cron, DateTimeOffset nextFireAt, DateTimeOffset now)
    {
        var fire = nextFireAt;
        if (now - fire > TimeSpan.FromHours(1) && cron.GetNextValidTimeAfter(now - TimeSpan.FromHours(1)) is { } jump && jump <= now)
        {
            fire = jump; // a long outage of a dense schedule: skip the walk over fire times that are coalesced anyway
        }
        while (cron.GetNextValidTimeAfter(fire) is { } n && n <= now)
        {
            fire = n;
        }
        return fire;
    }

    private static int CountBetween(CronExpression cron, DateTimeOffset from, DateTimeOffset to)
    {
        var count = 0;
        for (var t = from; t < to && count < 10_000; t = cron.GetNextValidTimeAfter(t) ?? to)
        {
            count++;
        }
        return count;
    }

    internal sealed record ScheduleRow(
        string Name, string Cron, string Kind, string ArgsJson, int ArgsVersion, JobOptions Options, bool Paused,
        DateTimeOffset NextFireAt, DateTimeOffset? LastFireAt, long? LastJobId)
    {
        public const string Columns = "name, cron, kind, args::text, args_version, queue, priority, max_attempts, paused, next_fire_at, last_fire_at, last_job_id";

        public static ScheduleRow Read(NpgsqlDataReader r) => new(
            r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetInt32(4),
            new JobOptions { Queue = r.GetString(5), Priority = r.GetInt16(6), MaxAttempts = r.GetInt32(7) },
            r.GetBoolean(8), r.GetFieldValue<DateTimeOffset>(9),
            r.IsDBNull(10) ? null : r.GetFieldValue<DateTimeOffset>(10), r.IsDBNull(11) ? null : r.GetInt64(11));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Schedule {Schedule} fired for {FireTime:o} as job {JobId}")]
    private static partial void LogFired(ILogger logger, string schedule, DateTimeOffset fireTime, long jobId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Schedule {Schedule} missed {Missed} fire times; enqueued once for the latest, {FireTime:o}")]
    private static partial void LogCoalesced(ILogger logger, string schedule, int missed, DateTimeOffset fireTime);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Declaring or checking recurring schedules failed; retrying")]
    private static partial void LogTickFailed(ILogger logger, Exception ex);
}
