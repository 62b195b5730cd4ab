using System.Text.Json;
using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Core.Data;
using NpgsqlTypes;
using Platform.Core.Jobs;

namespace Platform.Core.Civic;

/// <summary>
/// <c>meeting.publish</c>: the quality gate, then TX-B — summary version, claims, evidence, the current flip,
/// the meeting's status and the subscribers' notification outbox rows commit together or not at all.
/// </summary>
public sealed partial class MeetingPublishHandler(NpgsqlDataSource db, RunLedger ledger, CivicOptions options, INotificationOutbox outbox,
    ILogger<MeetingPublishHandler> logger) : IJobHandler<MeetingPublishArgs>
{
    public Task HandleAsync(MeetingPublishArgs args, JobContext context) => ledger.RunStageAsync(args.TenantId, args.RunId, "publish", context, async run =>
    {
        var ct = context.CancellationToken;
        var started = DateTimeOffset.UtcNow;
        await using var conn = await db.OpenForTenantAsync(args.TenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        string draftJson, text, cityId;
        await using (var cmd = new NpgsqlCommand("""
            SELECT r.draft::text, a.text_content, r.status, r.city_id::text FROM civic.processing_runs r
            JOIN civic.artifacts a ON a.id = r.artifact_id WHERE r.id = $1 FOR UPDATE OF r
            """, conn, tx))
        {
            cmd.Parameters.Add(new() { Value = run.Id });
            await using var r = await cmd.ExecuteReaderAsync(ct);
            await r.ReadAsync(ct);
            if (r.GetString(2) != "running")
            {
                return; // published by an earlier delivery of this job
            }
            (draftJson, text, cityId) = (r.GetString(0), r.GetString(1), r.GetString(3));
        }
        var draft = JsonSerializer.Deserialize<SummaryDraft>(draftJson, RunLedger.Json)!;
        var gate = QualityGate.Evaluate(draft, new Dictionary<Guid, string> { [run.ArtifactId] = text }, options.Gate);
        CivicTelemetry.GateOutcome.Add(1, new System.Diagnostics.TagList { { "civic.gate.outcome", gate.Outcome } });
        CivicTelemetry.EvidenceCoverage.Record(gate.Coverage);
        var gateJson = JsonSerializer.Serialize(gate, RunLedger.Json);

        if (gate.Outcome == GateOutcomes.Reject)
        {
            await using (var cmd = new NpgsqlCommand("""
                UPDATE civic.processing_runs SET status = 'manual_review_needed', gate = $2, error = $3, finished_at = now() WHERE id = $1;
                UPDATE civic.meetings SET status = 'manual_review_needed', updated_at = now()
                WHERE id = $4 AND NOT EXISTS (SELECT 1 FROM civic.summary_versions v WHERE v.meeting_id = $4 AND v.is_current);
                """, conn, tx))
            {
                cmd.Parameters.Add(new() { Value = run.Id });
                cmd.Parameters.Add(new() { Value = gateJson, NpgsqlDbType = NpgsqlDbType.Jsonb });
                cmd.Parameters.Add(new() { Value = "gate rejected: " + string.Join(" ", gate.Problems) });
                cmd.Parameters.Add(new() { Value = run.MeetingId });
                await cmd.ExecuteAllAsync(null, ct);
            }
            await using (var s = RunLedger.StageCommand(conn, tx, run.Id, "publish", "rejected", started, string.Join(" ", gate.Problems), context.Attempt))
            {
                await s.ExecuteNonQueryAsync(ct);
            }
            await tx.CommitAsync(ct);
            LogRejected(logger, run.MeetingId, run.Id, gate.Coverage);
            return;
        }

        var versionId = await CivicPublication.InsertVersionAsync(conn, tx, run, draft, gate, ct);
        var status = gate.Outcome == GateOutcomes.Pass ? "processed" : "limited_confidence";
        await using (var cmd = new NpgsqlCommand("""
            UPDATE civic.meetings SET status = $2, published_at = now(), updated_at = now() WHERE id = $1;
            UPDATE civic.processing_runs SET status = $3, gate = $4, finished_at = now() WHERE id = $5;
            """, conn, tx))
        {
            cmd.Parameters.Add(new() { Value = run.MeetingId });
            cmd.Parameters.Add(new() { Value = status });
            cmd.Parameters.Add(new() { Value = gate.Outcome == GateOutcomes.Pass ? "published" : "limited_confidence" });
            cmd.Parameters.Add(new() { Value = gateJson, NpgsqlDbType = NpgsqlDbType.Jsonb });
            cmd.Parameters.Add(new() { Value = run.Id });
            await cmd.ExecuteAllAsync(null, ct);
        }
        await using (var s = RunLedger.StageCommand(conn, tx, run.Id, "publish", "done", started, null, context.Attempt))
        {
            await s.ExecuteNonQueryAsync(ct);
        }
        await outbox.EnqueueMeetingPublishedAsync(conn, tx, run.TenantId, run.CityId, run.MeetingId, versionId, status, ct);
        await tx.CommitAsync(ct);
        CivicTelemetry.PublishLatency.Record((DateTimeOffset.UtcNow - run.CreatedAt).TotalSeconds,
            new System.Diagnostics.TagList { { "civic.city", cityId } });
    });

    [LoggerMessage(Level = LogLevel.Warning, Message = "Quality gate rejected meeting {MeetingId} (run {RunId}, coverage {Coverage}); manual review needed")]
    private static partial void LogRejected(ILogger logger, Guid meetingId, Guid runId, double coverage);
}

/// <summary>Writes a summary version with its claims and evidence and makes it the meeting's only current one.</summary>
public static class CivicPublication
{
    public static async Task<Guid> InsertVersionAsync(NpgsqlConnection conn, NpgsqlTransaction tx, RunLedger.RunState run, SummaryDraft draft,
        GateResult gate, CancellationToken ct)
    {
        var versionId = Guid.CreateVersion7();
        // Lock the meeting row so two publishes of one meeting serialise on the version number and the flip.
        await using (var cmd = new NpgsqlCommand("""
            SELECT 1 FROM civic.meetings WHERE id = $1 FOR UPDATE;
            UPDATE civic.summary_versions SET is_current = false WHERE meeting_id = $1 AND is_current;
            INSERT INTO civic.summary_versions (id, meeting_id, run_id, version, is_current, short_summary, key_decisions, notable_topics,
                confidence_label, evidence_coverage, summarizer, model, prompt_version, prompt, fallback_reason)
            SELECT $2, $1, $3, COALESCE(MAX(version), 0) + 1, true, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13
            FROM civic.summary_versions WHERE meeting_id = $1;
            """, conn, tx))
        {
            cmd.Parameters.Add(new() { Value = run.MeetingId });
            cmd.Parameters.Add(new() { Value = versionId });
            cmd.Parameters.Add(new() { Value = run.Id });
            cmd.Parameters.Add(new() { Value = draft.ShortSummary });
            cmd.Parameters.Add(new() { Value = JsonSerializer.Serialize(draft.KeyDecisions, RunLedger.Json), NpgsqlDbType = NpgsqlDbType.Jsonb });
            cmd.Parameters.Add(new() { Value = JsonSerializer.Serialize(draft.NotableTopics, RunLedger.Json), NpgsqlDbType = NpgsqlDbType.Jsonb });
            cmd.Parameters.Add(new() { Value = gate.Outcome });
            cmd.Parameters.Add(new() { Value = gate.Coverage });
            cmd.Parameters.Add(new() { Value = draft.Summarizer });
            foreach (var value in new[] { draft.Provenance?.Model, draft.Provenance?.PromptVersion, draft.Provenance?.Prompt, draft.Provenance?.FallbackReason })
            {
                cmd.Parameters.Add(new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            }
            await cmd.ExecuteAllAsync(null, ct);
        }
        var claimIds = new List<Guid>();
        var ordinals = new List<int>();
        var kinds = new List<string>();
        var texts = new List<string>();
        var evClaim = new List<Guid>();
        var evArtifact = new List<Guid>();
        var evRef = new List<string>();
        var evStart = new List<int>();
        var evEnd = new List<int>();
        var evExcerpt = new List<string>();
        var evPage = new List<int?>();
        for (var i = 0; i < draft.Claims.Count; i++)
        {
            var id = Guid.CreateVersion7();
            claimIds.Add(id);
            ordinals.Add(i);
            kinds.Add(draft.Claims[i].Kind);
            texts.Add(draft.Claims[i].Text);
            foreach (var e in draft.Claims[i].Evidence)
            {
                evClaim.Add(id);
                evArtifact.Add(e.ArtifactId);
                evRef.Add(e.SectionRef);
                evStart.Add(e.Start);
                evEnd.Add(e.End);
                evExcerpt.Add(e.Excerpt);
                evPage.Add(e.Page);
            }
        }
        await using (var cmd = new NpgsqlCommand("""
            INSERT INTO civic.claims (id, summary_version_id, ordinal, kind, text)
            SELECT c.id, $1, c.ordinal, c.kind, c.text FROM unnest($2::uuid[], $3::int[], $4::text[], $5::text[]) AS c(id, ordinal, kind, text);
            INSERT INTO civic.claim_evidence (id, claim_id, artifact_id, section_ref, start_offset, end_offset, excerpt, page)
            SELECT gen_random_uuid(), e.claim, e.artifact, e.ref, e.s, e.e, e.x, e.p
            FROM unnest($6::uuid[], $7::uuid[], $8::text[], $9::int[], $10::int[], $11::text[], $12::int[]) AS e(claim, artifact, ref, s, e, x, p);
            """, conn, tx))
        {
            cmd.Parameters.Add(new() { Value = versionId });
            cmd.Parameters.Add(new() { Value = claimIds.ToArray() });
            cmd.Parameters.Add(new() { Value = ordinals.ToArray() });
            cmd.Parameters.Add(new() { Value = kinds.ToArray() });
            cmd.Parameters.Add(new() { Value = texts.ToArray() });
            cmd.Parameters.Add(new() { Value = evClaim.ToArray() });
            cmd.Parameters.Add(new() { Value = evArtifact.ToArray() });
            cmd.Parameters.Add(new() { Value = evRef.ToArray() });
            cmd.Parameters.Add(new() { Value = evStart.ToArray() });
            cmd.Parameters.Add(new() { Value = evEnd.ToArray() });
            cmd.Parameters.Add(new() { Value = evExcerpt.ToArray() });
            cmd.Parameters.Add(new() { Value = evPage.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
            await cmd.ExecuteAllAsync(null, ct);
        }
        return versionId;
    }
}
