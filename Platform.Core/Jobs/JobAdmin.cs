using System.Text.Json;
using Hangfire;
using Hangfire.States;
using Hangfire.Storage;
using Npgsql;

namespace Platform.Core.Jobs;

public sealed record JobStateEntry(string State, DateTimeOffset At, string? Reason, string? Error);

/// <summary>
/// One job as the operator API shows it: our request (id, kind, args, keys) and Hangfire's live state and history.
/// <see cref="HangfireJobId"/> is the id the Hangfire Dashboard shows.
/// </summary>
public sealed record JobDetails(
    long Id, string? HangfireJobId, string Kind, string Queue, string State, int Attempt, int MaxAttempts, JsonElement Args,
    DateTimeOffset CreatedAt, DateTimeOffset? RunAt, DateTimeOffset? HandedOverAt, string? UniqueKey, string? ConcurrencyKey,
    IReadOnlyList<JobStateEntry> History);

public sealed record QueueDepth(string Queue, long Enqueued, long Fetched);

public sealed record JobStats(
    long Pending, double OldestPendingAgeSeconds, long Enqueued, long Scheduled, long Processing, long Succeeded, long Failed, long Deleted,
    long Servers, IReadOnlyList<QueueDepth> Queues);

public sealed record ScheduleDetails(
    string Name, string Cron, string Kind, string Queue, bool Paused, DateTimeOffset? NextFireAt, DateTimeOffset? LastFireAt,
    string? LastJobId, string? LastJobState, string? Error);

public enum JobChange
{
    Done,
    NotFound,
    /// <summary>The job's state does not allow the change (e.g. cancelling a succeeded job).</summary>
    Conflict,
}

/// <summary>
/// The operator's view of jobs, read from Hangfire's storage (monitoring API, state machine) and the outbox: there is
/// no second copy of a job's state that could disagree with the Hangfire Dashboard.
/// </summary>
public sealed class JobAdmin(NpgsqlDataSource db, JobStorage storage, IBackgroundJobClient client)
{
    private const string Columns = """
        id, kind, queue, args::text, max_attempts, run_at, unique_key, concurrency_key, created_at, hangfire_job_id, handed_over_at
        """;

    public async Task<JobDetails?> GetAsync(long id, CancellationToken ct = default)
    {
        await using var cmd = db.CreateCommand($"SELECT {Columns} FROM ops.job_requests WHERE id = $1");
        cmd.Parameters.Add(new() { Value = id });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        if (!await r.ReadAsync(ct))
        {
            return null;
        }
        using var args = JsonDocument.Parse(r.GetString(3));
        var hangfireId = r.IsDBNull(9) ? null : r.GetString(9);
        var (state, attempt, history) = hangfireId is null ? (JobStates.Pending, 0, []) : Live(hangfireId);
        return new JobDetails(r.GetInt64(0), hangfireId, r.GetString(1), r.GetString(2), state, attempt, r.GetInt32(4), args.RootElement.Clone(),
            Utc(r.GetDateTime(8)), r.IsDBNull(5) ? null : Utc(r.GetDateTime(5)), r.IsDBNull(10) ? null : Utc(r.GetDateTime(10)),
            r.IsDBNull(6) ? null : r.GetString(6), r.IsDBNull(7) ? null : r.GetString(7), history);
    }

    private (string State, int Attempt, IReadOnlyList<JobStateEntry> History) Live(string hangfireId)
    {
        var details = storage.GetMonitoringApi().JobDetails(hangfireId);
        if (details is null)
        {
            // Hangfire expires finished jobs after a day; the request outlives it.
            return ("expired", 0, []);
        }
        var history = details.History.Select(h => new JobStateEntry(h.StateName.ToLowerInvariant(), Utc(h.CreatedAt), h.Reason,
            h.Data is { } d && d.TryGetValue("ExceptionMessage", out var m) ? $"{(d.TryGetValue("ExceptionType", out var t) ? t : "Exception")}: {m}" : null)).ToList();
        var state = history.Count > 0 ? history[0].State : JobStates.Enqueued;
        // RetryCount counts failed attempts (see JobStateFilter); a running or succeeded attempt adds one.
        var failedAttempts = details.Properties.TryGetValue("RetryCount", out var rc) && int.TryParse(rc.Trim('"'), out var n) ? n : 0;
        return (state, failedAttempts + (state is JobStates.Processing or JobStates.Succeeded ? 1 : 0), history);
    }

    /// <summary>Runs the job again now: a failed job gets one more attempt, a scheduled one runs at once.</summary>
    public async Task<JobChange> RetryAsync(long id, CancellationToken ct = default)
    {
        var job = await GetAsync(id, ct);
        if (job is null)
        {
            return JobChange.NotFound;
        }
        if (job.HangfireJobId is null || job.State is JobStates.Enqueued or JobStates.Processing or "expired")
        {
            return JobChange.Conflict;
        }
        if (job.UniqueKey is not null)
        {
            // Take the unique key back; another live job of the same key wins.
            try
            {
                await using var take = db.CreateCommand("UPDATE ops.job_requests SET released_at = NULL WHERE id = $1");
                take.Parameters.Add(new() { Value = id });
                await take.ExecuteNonQueryAsync(ct);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                return JobChange.Conflict;
            }
        }
        return client.Requeue(job.HangfireJobId) ? JobChange.Done : JobChange.Conflict;
    }

    /// <summary>Deletes the job in Hangfire; a running handler's token fires at its server's next cancellation check.</summary>
    public async Task<JobChange> CancelAsync(long id, CancellationToken ct = default)
    {
        var job = await GetAsync(id, ct);
        if (job is null)
        {
            return JobChange.NotFound;
        }
        if (job.HangfireJobId is null || JobStates.IsFinal(job.State) || job.State == "expired")
        {
            return JobChange.Conflict;
        }
        return client.Delete(job.HangfireJobId) ? JobChange.Done : JobChange.Conflict;
    }

    public async Task<JobStats> StatsAsync(CancellationToken ct = default)
    {
        var monitoring = storage.GetMonitoringApi();
        var s = monitoring.GetStatistics();
        var queues = monitoring.Queues().Select(q => new QueueDepth(q.Name, q.Length, q.Fetched ?? 0)).ToList();
        await using var cmd = db.CreateCommand(
            "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 FROM ops.job_requests WHERE hangfire_job_id IS NULL");
        await using var r = await cmd.ExecuteReaderAsync(ct);
        await r.ReadAsync(ct);
        return new JobStats(r.GetInt64(0), r.GetDouble(1), s.Enqueued, s.Scheduled, s.Processing, s.Succeeded, s.Failed, s.Deleted, s.Servers, queues);
    }

    /// <summary>Jobs that ended failed in this and the previous clock hour (Hangfire's hourly failure counter).</summary>
    public long FailedRecently()
    {
        var hours = storage.GetMonitoringApi().HourlyFailedJobs();
        var now = DateTime.UtcNow;
        var thisHour = new DateTime(now.Year, now.Month, now.Day, now.Hour, 0, 0, DateTimeKind.Utc);
        return hours.Where(h => h.Key.ToUniversalTime() >= thisHour.AddHours(-1)).Sum(h => h.Value);
    }

    public async Task<IReadOnlyList<ScheduleDetails>> SchedulesAsync(CancellationToken ct = default)
    {
        var paused = await PausedAsync(ct);
        using var connection = storage.GetConnection();
        return connection.GetRecurringJobs().OrderBy(j => j.Id).Select(j => new ScheduleDetails(
            j.Id, j.Cron, JobStateFilter.KindOf(j.Job), JobStateFilter.Payload(j.Job)?.Queue ?? j.Queue ?? "default", paused.Contains(j.Id),
            j.NextExecution is { } n ? Utc(n) : null, j.LastExecution is { } l ? Utc(l) : null, j.LastJobId,
            j.LastJobState?.ToLowerInvariant(), j.Error)).ToList();
    }

    public async Task<ScheduleDetails?> PauseAsync(string name, CancellationToken ct = default)
    {
        if (!Exists(name))
        {
            return null;
        }
        await using (var cmd = db.CreateCommand("""
            INSERT INTO ops.schedule_controls (name, paused_at) VALUES ($1, now())
            ON CONFLICT (name) DO UPDATE SET paused_at = coalesce(ops.schedule_controls.paused_at, now())
            """))
        {
            cmd.Parameters.Add(new() { Value = name });
            await cmd.ExecuteNonQueryAsync(ct);
        }
        return (await SchedulesAsync(ct)).FirstOrDefault(s => s.Name == name);
    }

    public async Task<ScheduleDetails?> ResumeAsync(string name, CancellationToken ct = default)
    {
        if (!Exists(name))
        {
            return null;
        }
        await using (var cmd = db.CreateCommand("UPDATE ops.schedule_controls SET paused_at = NULL WHERE name = $1"))
        {
            cmd.Parameters.Add(new() { Value = name });
            await cmd.ExecuteNonQueryAsync(ct);
        }
        return (await SchedulesAsync(ct)).FirstOrDefault(s => s.Name == name);
    }

    /// <summary>Enqueues the schedule's job now through the outbox (also while paused), without touching its cron position.</summary>
    public async Task<EnqueuedJob?> TriggerAsync(string name, CancellationToken ct = default)
    {
        using var connection = storage.GetConnection();
        var recurring = connection.GetRecurringJobs([name]).FirstOrDefault(j => !j.Removed);
        if (recurring?.Job is not { } job || JobStateFilter.Payload(job) is not { } payload)
        {
            return null;
        }
        await using var conn = await db.OpenConnectionAsync(ct);
        return await JobQueue.EnqueueRawAsync(conn, null, JobStateFilter.KindOf(job), payload.Args, payload.ArgsVersion, payload.Queue,
            new JobOptions { MaxAttempts = payload.MaxAttempts }, ct);
    }

    private bool Exists(string name)
    {
        using var connection = storage.GetConnection();
        return connection.GetRecurringJobs([name]).Any(j => !j.Removed);
    }

    private async Task<HashSet<string>> PausedAsync(CancellationToken ct)
    {
        var paused = new HashSet<string>();
        await using var cmd = db.CreateCommand("SELECT name FROM ops.schedule_controls WHERE paused_at IS NOT NULL");
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            paused.Add(r.GetString(0));
        }
        return paused;
    }

    private static DateTimeOffset Utc(DateTime t) => new(DateTime.SpecifyKind(t, DateTimeKind.Utc));
}
