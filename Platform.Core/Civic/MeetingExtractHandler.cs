using System.Text.Json;
using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Core.Data;
using NpgsqlTypes;
using Platform.Core.Jobs;

namespace Platform.Core.Civic;

/// <summary><c>meeting.extract</c>: document → text (kept on the artifact) → agenda items, motions and votes.</summary>
public sealed class MeetingExtractHandler(NpgsqlDataSource db, IJobQueue jobs, IArtifactStore store, RunLedger ledger, CivicOptions options) : IJobHandler<MeetingExtractArgs>
{
    public Task HandleAsync(MeetingExtractArgs args, JobContext context) => ledger.RunStageAsync(args.TenantId, args.RunId, "extract", context, async run =>
    {
        var ct = context.CancellationToken;
        var started = DateTimeOffset.UtcNow;
        string sha, mediaType;
        string? text;
        await using (var cmd = await db.CreateTenantCommandAsync(args.TenantId, "SELECT sha256, media_type, text_content FROM civic.artifacts WHERE id = $1", ct))
        {
            cmd.Parameters.Add(new() { Value = run.ArtifactId });
            await using var r = await cmd.ExecuteReaderAsync(ct);
            await r.ReadAsync(ct);
            (sha, mediaType, text) = (r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2));
        }
        if (text is null)
        {
            var bytes = await store.GetAsync(sha, ct);
            try
            {
                text = DocumentText.Extract(bytes, mediaType, options.Documents);
            }
            catch (DocumentFormatException ex)
            {
                throw new RunFailedException($"unreadable {mediaType} document: {ex.Message}");
            }
            await using var save = await db.CreateTenantCommandAsync(args.TenantId, "UPDATE civic.artifacts SET text_content = $2 WHERE id = $1 AND text_content IS NULL", ct);
            save.Parameters.Add(new() { Value = run.ArtifactId });
            save.Parameters.Add(new() { Value = text });
            await save.ExecuteNonQueryAsync(ct);
        }
        var extraction = MinutesExtractor.Extract(text);
        if (extraction.AgendaItems.Count == 0 && extraction.Votes.Count == 0)
        {
            throw new RunFailedException("no agenda items or votes found: the document does not look like meeting minutes.");
        }
        await using var conn = await db.OpenForTenantAsync(args.TenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var cmd = new NpgsqlCommand("""
            UPDATE civic.processing_runs SET extraction = $2 WHERE id = $1;
            UPDATE civic.meetings SET meeting_date = COALESCE(meeting_date, $4), title = COALESCE($5, title) WHERE id = $3;
            """, conn, tx))
        {
            cmd.Parameters.Add(new() { Value = run.Id });
            cmd.Parameters.Add(new() { Value = JsonSerializer.Serialize(extraction, RunLedger.Json), NpgsqlDbType = NpgsqlDbType.Jsonb });
            cmd.Parameters.Add(new() { Value = run.MeetingId });
            cmd.Parameters.Add(new() { Value = (object?)extraction.MeetingDate ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Date });
            cmd.Parameters.Add(new() { Value = (object?)extraction.Title ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            await cmd.ExecuteAllAsync(null, ct);
        }
        await using (var s = RunLedger.StageCommand(conn, tx, run.Id, "extract", "done", started, null, context.Attempt))
        {
            await s.ExecuteNonQueryAsync(ct);
        }
        await jobs.EnqueueAsync(tx, new MeetingSummarizeArgs(run.TenantId, run.Id, run.MeetingId, $"summarize:{run.Id}", args.TraceId),
            CivicJobOptions.Stage("summarize", run.Id, run.MeetingId), ct);
        await tx.CommitAsync(ct);
    });
}
