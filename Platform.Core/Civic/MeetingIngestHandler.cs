using System.Text.Json;
using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Core.Data;
using NpgsqlTypes;
using Platform.Core.Jobs;

namespace Platform.Core.Civic;

/// <summary><c>meeting.ingest</c> (TX-A): upserts the artifact and the meeting and opens a processing run.</summary>
public sealed class MeetingIngestHandler(NpgsqlDataSource db, IJobQueue jobs) : IJobHandler<MeetingIngestArgs>
{
    public async Task HandleAsync(MeetingIngestArgs args, JobContext context)
    {
        var ct = context.CancellationToken;
        await using var conn = await db.OpenForTenantAsync(args.TenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        Guid artifactId;
        await using (var cmd = new NpgsqlCommand("""
            INSERT INTO civic.artifacts (id, tenant_id, sha256, media_type, storage_key, byte_size) VALUES ($1, $2, $3, $4, $3, $5)
            ON CONFLICT (tenant_id, sha256) DO UPDATE SET sha256 = EXCLUDED.sha256
            RETURNING id
            """, conn, tx))
        {
            cmd.Parameters.Add(new() { Value = Guid.CreateVersion7() });
            cmd.Parameters.Add(new() { Value = args.TenantId });
            cmd.Parameters.Add(new() { Value = args.Sha256 });
            cmd.Parameters.Add(new() { Value = args.MediaType });
            cmd.Parameters.Add(new() { Value = args.ByteSize });
            artifactId = (Guid)(await cmd.ExecuteScalarAsync(ct))!;
        }
        Guid meetingId;
        await using (var cmd = new NpgsqlCommand("""
            INSERT INTO civic.meetings (id, tenant_id, city_id, meeting_uid, title, meeting_date, source_id, artifact_id, status)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'ingested')
            ON CONFLICT (city_id, meeting_uid) DO UPDATE
              SET artifact_id = EXCLUDED.artifact_id, title = EXCLUDED.title, meeting_date = COALESCE(EXCLUDED.meeting_date, civic.meetings.meeting_date),
                  source_id = EXCLUDED.source_id, updated_at = now()
            RETURNING id
            """, conn, tx))
        {
            cmd.Parameters.Add(new() { Value = Guid.CreateVersion7() });
            cmd.Parameters.Add(new() { Value = args.TenantId });
            cmd.Parameters.Add(new() { Value = args.CityId });
            cmd.Parameters.Add(new() { Value = args.MeetingUid });
            cmd.Parameters.Add(new() { Value = args.Title });
            cmd.Parameters.Add(new() { Value = (object?)args.MeetingDate ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Date });
            cmd.Parameters.Add(new() { Value = args.SourceId });
            cmd.Parameters.Add(new() { Value = artifactId });
            meetingId = (Guid)(await cmd.ExecuteScalarAsync(ct))!;
        }
        await using (var cmd = new NpgsqlCommand(
            "SELECT 1 FROM civic.processing_runs WHERE meeting_id = $1 AND artifact_id = $2 AND trigger = 'scan'", conn, tx))
        {
            cmd.Parameters.Add(new() { Value = meetingId });
            cmd.Parameters.Add(new() { Value = artifactId });
            if (await cmd.ExecuteScalarAsync(ct) is not null)
            {
                return; // this document already has its run (a repeated delivery)
            }
        }
        var runId = Guid.CreateVersion7();
        var stages = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["ingest"] = new { status = "done", startedAt = DateTimeOffset.UtcNow, finishedAt = DateTimeOffset.UtcNow, attempt = context.Attempt },
        }, RunLedger.Json);
        await using (var cmd = new NpgsqlCommand("""
            INSERT INTO civic.processing_runs (id, tenant_id, city_id, meeting_id, artifact_id, trigger, status, stages, trace_id)
            VALUES ($1, $2, $3, $4, $5, 'scan', 'running', $6, $7)
            """, conn, tx))
        {
            cmd.Parameters.Add(new() { Value = runId });
            cmd.Parameters.Add(new() { Value = args.TenantId });
            cmd.Parameters.Add(new() { Value = args.CityId });
            cmd.Parameters.Add(new() { Value = meetingId });
            cmd.Parameters.Add(new() { Value = artifactId });
            cmd.Parameters.Add(new() { Value = stages, NpgsqlDbType = NpgsqlDbType.Jsonb });
            cmd.Parameters.Add(new() { Value = (object?)args.TraceId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            try
            {
                await cmd.ExecuteNonQueryAsync(ct);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                // Another run of this meeting is in progress: retried with backoff once it has finished.
                throw new InvalidOperationException($"Meeting {meetingId} has a processing run in progress.", ex);
            }
        }
        await jobs.EnqueueAsync(tx, new MeetingExtractArgs(args.TenantId, runId, meetingId, $"extract:{runId}", args.TraceId),
            CivicJobOptions.Stage("extract", runId, meetingId), ct);
        await tx.CommitAsync(ct);
    }
}
