using System.Text.Json;
using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Core.Data;
using NpgsqlTypes;
using Platform.Core.Jobs;

namespace Platform.Core.Civic;

/// <summary><c>meeting.summarize</c>: a draft summary (extractive by default; generative if configured).</summary>
public sealed class MeetingSummarizeHandler(NpgsqlDataSource db, IJobQueue jobs, ISummarizer summarizer, RunLedger ledger) : IJobHandler<MeetingSummarizeArgs>
{
    public Task HandleAsync(MeetingSummarizeArgs args, JobContext context) => ledger.RunStageAsync(args.TenantId, args.RunId, "summarize", context, async run =>
    {
        var ct = context.CancellationToken;
        var started = DateTimeOffset.UtcNow;
        string text, extractionJson, title;
        await using (var cmd = await db.CreateTenantCommandAsync(args.TenantId, """
            SELECT a.text_content, r.extraction::text, m.title FROM civic.processing_runs r
            JOIN civic.artifacts a ON a.id = r.artifact_id JOIN civic.meetings m ON m.id = r.meeting_id WHERE r.id = $1
            """, ct))
        {
            cmd.Parameters.Add(new() { Value = run.Id });
            await using var r = await cmd.ExecuteReaderAsync(ct);
            await r.ReadAsync(ct);
            (text, extractionJson, title) = (r.GetString(0), r.GetString(1), r.GetString(2));
        }
        var extraction = JsonSerializer.Deserialize<MeetingExtraction>(extractionJson, RunLedger.Json)!;
        var draft = await summarizer.SummarizeAsync(new SummaryInput(run.ArtifactId, text, extraction, title), ct);
        await using var conn = await db.OpenForTenantAsync(args.TenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var cmd = new NpgsqlCommand("UPDATE civic.processing_runs SET draft = $2 WHERE id = $1", conn, tx))
        {
            cmd.Parameters.Add(new() { Value = run.Id });
            cmd.Parameters.Add(new() { Value = JsonSerializer.Serialize(draft, RunLedger.Json), NpgsqlDbType = NpgsqlDbType.Jsonb });
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await using (var s = RunLedger.StageCommand(conn, tx, run.Id, "summarize", "done", started, null, context.Attempt))
        {
            await s.ExecuteNonQueryAsync(ct);
        }
        await jobs.EnqueueAsync(tx, new MeetingPublishArgs(run.TenantId, run.Id, run.MeetingId, $"publish:{run.Id}", args.TraceId),
            CivicJobOptions.Stage("publish", run.Id, run.MeetingId), ct);
        await tx.CommitAsync(ct);
    });
}
