using Npgsql;
using NpgsqlTypes;
using Platform.Core.Jobs;

namespace Platform.Core.Civic;

/// <summary>What asking for a rerun did.</summary>
public enum RerunOutcome { Started, MeetingNotFound, RunInProgress }

/// <summary>
/// The ops view of processing runs: a meeting's rerun, and the runs with their stages, gate result and errors. Every
/// method takes the caller's scope: a tenant, or null for the operator (every tenant).
/// </summary>
public sealed class ProcessingRuns(NpgsqlDataSource db, IJobQueue jobs)
{
    /// <summary>
    /// Opens a rerun of the meeting and enqueues its extract stage in the same transaction. A meeting has one run in
    /// progress at a time (a unique index on running runs), so a second rerun is refused until the first has finished.
    /// </summary>
    public async Task<(RerunOutcome Outcome, Guid RunId)> RerunAsync(Guid? scope, Guid meetingId, CancellationToken ct)
    {
        await using var conn = await CivicScope.OpenAsync(db, scope, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        Guid tenant, cityId, artifactId;
        await using (var cmd = new NpgsqlCommand(
            "SELECT tenant_id, city_id, artifact_id FROM civic.meetings WHERE id = $1 AND ($2::uuid IS NULL OR tenant_id = $2) FOR UPDATE", conn, tx))
        {
            cmd.Parameters.Add(new() { Value = meetingId });
            cmd.Parameters.Add(new() { Value = (object?)scope ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
            await using var r = await cmd.ExecuteReaderAsync(ct);
            if (!await r.ReadAsync(ct))
            {
                return (RerunOutcome.MeetingNotFound, Guid.Empty);
            }
            (tenant, cityId, artifactId) = (r.GetGuid(0), r.GetGuid(1), r.GetGuid(2));
        }
        var runId = Guid.CreateVersion7();
        await using (var cmd = new NpgsqlCommand("""
            INSERT INTO civic.processing_runs (id, tenant_id, city_id, meeting_id, artifact_id, trigger, status, trace_id)
            VALUES ($1, $2, $3, $4, $5, 'rerun', 'running', $6) ON CONFLICT DO NOTHING
            """, conn, tx))
        {
            cmd.Parameters.Add(new() { Value = runId });
            cmd.Parameters.Add(new() { Value = tenant });
            cmd.Parameters.Add(new() { Value = cityId });
            cmd.Parameters.Add(new() { Value = meetingId });
            cmd.Parameters.Add(new() { Value = artifactId });
            cmd.Parameters.Add(new() { Value = (object?)CivicJobOptions.CurrentTraceId() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            if (await cmd.ExecuteNonQueryAsync(ct) == 0)
            {
                return (RerunOutcome.RunInProgress, Guid.Empty);
            }
        }
        await jobs.EnqueueAsync(tx, new MeetingExtractArgs(tenant, runId, meetingId, $"extract:{runId}", CivicJobOptions.CurrentTraceId()),
            CivicJobOptions.Stage("extract", runId, meetingId), ct);
        await tx.CommitAsync(ct);
        return (RerunOutcome.Started, runId);
    }

    /// <summary>Runs, newest first: the one <paramref name="runId"/>, or a city's, or all in scope; at most <paramref name="limit"/>.</summary>
    public async Task<IReadOnlyList<RunView>> ListAsync(Guid? scope, Guid? runId, Guid? cityId, int limit, CancellationToken ct)
    {
        await using var cmd = await CivicScope.CommandAsync(db, scope, """
            SELECT id, city_id, meeting_id, artifact_id, trigger, status, stages::text, gate::text, error, trace_id, created_at, finished_at
            FROM civic.processing_runs
            WHERE ($1::uuid IS NULL OR tenant_id = $1) AND ($2::uuid IS NULL OR id = $2) AND ($3::uuid IS NULL OR city_id = $3)
            ORDER BY created_at DESC, id DESC LIMIT $4
            """, ct);
        cmd.Parameters.Add(new() { Value = (object?)scope ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        cmd.Parameters.Add(new() { Value = (object?)runId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        cmd.Parameters.Add(new() { Value = (object?)cityId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        cmd.Parameters.Add(new() { Value = limit });
        var list = new List<RunView>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(new RunView(r.GetGuid(0), r.GetGuid(1), r.IsDBNull(2) ? null : r.GetGuid(2), r.IsDBNull(3) ? null : r.GetGuid(3),
                r.GetString(4), r.GetString(5), CivicJson.Parse(r.GetString(6)), r.IsDBNull(7) ? null : CivicJson.Parse(r.GetString(7)),
                r.IsDBNull(8) ? null : r.GetString(8), r.IsDBNull(9) ? null : r.GetString(9),
                r.GetFieldValue<DateTimeOffset>(10), r.IsDBNull(11) ? null : r.GetFieldValue<DateTimeOffset>(11)));
        }
        return list;
    }
}
