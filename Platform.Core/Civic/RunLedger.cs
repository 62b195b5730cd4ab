using System.Text.Json;
using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Core.Data;
using NpgsqlTypes;
using Platform.Core.Jobs;

namespace Platform.Core.Civic;

/// <summary>A stage failed in a way a retry cannot fix (unreadable document, gate reject): the run ends, the job completes.</summary>
public sealed class RunFailedException(string message) : Exception(message);

/// <summary>Shared bookkeeping of processing runs: per-stage status, timings and errors.</summary>
public sealed partial class RunLedger(NpgsqlDataSource db, ILogger<RunLedger> logger)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public sealed record RunState(Guid Id, Guid TenantId, Guid CityId, Guid MeetingId, Guid ArtifactId, string Status, DateTimeOffset CreatedAt);

    public async Task<RunState?> GetRunningAsync(Guid tenantId, Guid runId, CancellationToken ct)
    {
        await using var cmd = await db.CreateTenantCommandAsync(tenantId,
            "SELECT id, tenant_id, city_id, meeting_id, artifact_id, status, created_at FROM civic.processing_runs WHERE id = $1", ct);
        cmd.Parameters.Add(new() { Value = runId });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        if (!await r.ReadAsync(ct))
        {
            return null;
        }
        var run = new RunState(r.GetGuid(0), r.GetGuid(1), r.GetGuid(2), r.GetGuid(3), r.GetGuid(4), r.GetString(5), r.GetFieldValue<DateTimeOffset>(6));
        return run.Status == "running" ? run : null; // a finished run is not processed again (at-least-once delivery)
    }

    /// <summary>Records a stage's outcome in the run's <c>stages</c> document.</summary>
    public static NpgsqlCommand StageCommand(NpgsqlConnection conn, NpgsqlTransaction? tx, Guid runId, string stage, string status,
        DateTimeOffset startedAt, string? error, int attempt)
    {
        var entry = JsonSerializer.Serialize(new
        {
            status,
            startedAt,
            finishedAt = DateTimeOffset.UtcNow,
            durationMs = Math.Round((DateTimeOffset.UtcNow - startedAt).TotalMilliseconds, 1),
            attempt,
            error,
        }, Json);
        var cmd = new NpgsqlCommand("UPDATE civic.processing_runs SET stages = stages || jsonb_build_object($2::text, $3::jsonb) WHERE id = $1", conn, tx);
        cmd.Parameters.Add(new() { Value = runId });
        cmd.Parameters.Add(new() { Value = stage });
        cmd.Parameters.Add(new() { Value = entry, NpgsqlDbType = NpgsqlDbType.Jsonb });
        return cmd;
    }

    /// <summary>
    /// Runs a stage: records its timing and error; a <see cref="RunFailedException"/> or the last attempt ends the
    /// run as failed (never the job queue's problem), any other exception is retried by the job engine.
    /// </summary>
    public async Task RunStageAsync(Guid tenantId, Guid runId, string stage, JobContext context, Func<RunState, Task> body)
    {
        var run = await GetRunningAsync(tenantId, runId, context.CancellationToken);
        if (run is null)
        {
            return;
        }
        var started = DateTimeOffset.UtcNow;
        try
        {
            await body(run);
        }
        catch (Exception ex) when (ex is RunFailedException || (context.IsLastAttempt && ex is not OperationCanceledException))
        {
            LogRunFailed(logger, runId, stage, ex.Message);
            await FailAsync(run, stage, started, ex.Message, context.Attempt, context.CancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await using var conn = await db.OpenForTenantAsync(run.TenantId, context.CancellationToken);
            await using var cmd = StageCommand(conn, null, runId, stage, "retrying", started, ex.Message, context.Attempt);
            await cmd.ExecuteNonQueryAsync(context.CancellationToken);
            throw;
        }
    }

    public async Task FailAsync(RunState run, string stage, DateTimeOffset started, string error, int attempt, CancellationToken ct)
    {
        await using var conn = await db.OpenForTenantAsync(run.TenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var s = StageCommand(conn, tx, run.Id, stage, "failed", started, error, attempt))
        {
            await s.ExecuteNonQueryAsync(ct);
        }
        await using (var cmd = new NpgsqlCommand("""
            UPDATE civic.processing_runs SET status = 'failed', error = $2, finished_at = now() WHERE id = $1 AND status = 'running';
            UPDATE civic.meetings SET status = 'failed', updated_at = now()
            WHERE id = $3 AND NOT EXISTS (SELECT 1 FROM civic.summary_versions v WHERE v.meeting_id = $3 AND v.is_current);
            """, conn, tx))
        {
            cmd.Parameters.Add(new() { Value = run.Id });
            cmd.Parameters.Add(new() { Value = $"{stage}: {error}" });
            cmd.Parameters.Add(new() { Value = run.MeetingId });
            await cmd.ExecuteAllAsync(null, ct);
        }
        await tx.CommitAsync(ct);
        CivicTelemetry.IngestFailed.Add(1, new System.Diagnostics.TagList { { "civic.city", run.CityId.ToString() }, { "civic.stage", stage } });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Processing run {RunId} failed at {Stage}: {Error}")]
    private static partial void LogRunFailed(ILogger logger, Guid runId, string stage, string error);
}

/// <summary><c>city.scan</c>: lists every source of a city and enqueues an ingest for each new or changed document.</summary>
public sealed partial class CityScanHandler(NpgsqlDataSource db, IJobQueue jobs, SourceReader reader, IArtifactStore store,
    ILogger<CityScanHandler> logger) : IJobHandler<CityScanArgs>
{
    public async Task HandleAsync(CityScanArgs args, JobContext context)
    {
        var ct = context.CancellationToken;
        var sources = new List<SourceRow>();
        string? citySlug = null;
        await using (var cmd = await db.CreateTenantCommandAsync(args.TenantId, """
            SELECT s.id, s.city_id, s.kind, s.location, s.etag, s.last_modified, c.slug
            FROM civic.sources s JOIN civic.cities c ON c.id = s.city_id WHERE s.city_id = $1 AND c.tenant_id = $2 ORDER BY s.id
            """, ct))
        {
            cmd.Parameters.Add(new() { Value = args.CityId });
            cmd.Parameters.Add(new() { Value = args.TenantId });
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                sources.Add(new SourceRow(r.GetGuid(0), r.GetGuid(1), r.GetString(2), r.GetString(3),
                    r.IsDBNull(4) ? null : r.GetString(4), r.IsDBNull(5) ? null : r.GetString(5)));
                citySlug = r.GetString(6);
            }
        }
        foreach (var source in sources)
        {
            // One source failing is recorded on that source and never stops the others.
            var started = DateTimeOffset.UtcNow;
            try
            {
                var listing = await reader.ListAsync(source, args.TenantId, ct);
                var queued = 0;
                foreach (var doc in listing.Documents)
                {
                    queued += await OfferAsync(args, source, doc, ct) ? 1 : 0;
                }
                await using var ok = await db.CreateTenantCommandAsync(args.TenantId, """
                    UPDATE civic.sources SET etag = $2, last_modified = $3, last_checked_at = now(), last_success_at = now(), last_error = NULL WHERE id = $1
                    """, ct);
                ok.Parameters.Add(new() { Value = source.Id });
                ok.Parameters.Add(new() { Value = (object?)listing.ETag ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
                ok.Parameters.Add(new() { Value = (object?)listing.LastModified ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
                await ok.ExecuteNonQueryAsync(ct);
                CivicTelemetry.SourceSucceeded(citySlug!, source.Id.ToString(), source.Kind);
                LogScanned(logger, citySlug!, source.Kind, listing.Documents.Count, queued, listing.NotModified);
            }
            catch (Exception ex) when (ex is SourceException or IOException or UnauthorizedAccessException)
            {
                LogSourceFailed(logger, citySlug!, source.Kind, source.Location, ex.Message);
                CivicTelemetry.SourceFailed(citySlug!, source.Id.ToString(), source.Kind);
                await RecordSourceFailureAsync(args, source, started, ex.Message, ct);
            }
        }
    }

    /// <summary>Stores the document and enqueues its ingest unless the meeting already has exactly these bytes.</summary>
    private async Task<bool> OfferAsync(CityScanArgs args, SourceRow source, SourceDocument doc, CancellationToken ct)
    {
        var sha = LocalFolderArtifactStore.Sha256Of(doc.Bytes);
        await using (var cmd = await db.CreateTenantCommandAsync(args.TenantId, """
            SELECT 1 FROM civic.meetings m JOIN civic.artifacts a ON a.id = m.artifact_id
            WHERE m.city_id = $1 AND m.meeting_uid = $2 AND a.sha256 = $3
            """, ct))
        {
            cmd.Parameters.Add(new() { Value = args.CityId });
            cmd.Parameters.Add(new() { Value = doc.MeetingUid });
            cmd.Parameters.Add(new() { Value = sha });
            if (await cmd.ExecuteScalarAsync(ct) is not null)
            {
                return false; // unchanged: a re-scan creates nothing
            }
        }
        await store.PutAsync(doc.Bytes, ct);
        var key = $"ingest:{args.CityId}:{doc.MeetingUid}:{sha}";
        await jobs.EnqueueAsync(new MeetingIngestArgs(args.TenantId, args.CityId, source.Id, doc.MeetingUid, doc.Title, doc.MeetingDate, sha,
                doc.MediaType, doc.Bytes.Length, key, args.TraceId ?? CivicJobOptions.CurrentTraceId()),
            new JobOptions { UniqueKey = key, MaxAttempts = CivicJobOptions.PipelineAttempts }, ct);
        return true;
    }

    private async Task RecordSourceFailureAsync(CityScanArgs args, SourceRow source, DateTimeOffset started, string error, CancellationToken ct)
    {
        var stages = JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["scan"] = new { status = "failed", startedAt = started, finishedAt = DateTimeOffset.UtcNow, source = source.Id, error },
        }, RunLedger.Json);
        await using var conn = await db.OpenForTenantAsync(args.TenantId, ct);
        await using var cmd = new NpgsqlCommand("""
            UPDATE civic.sources SET last_checked_at = now(), last_error = $2 WHERE id = $1;
            INSERT INTO civic.processing_runs (id, tenant_id, city_id, trigger, status, stages, error, trace_id, finished_at)
            VALUES ($3, $4, $5, $6, 'failed', $7, $2, $8, now());
            """, conn);
        cmd.Parameters.Add(new() { Value = source.Id });
        cmd.Parameters.Add(new() { Value = $"scan {source.Kind} {source.Location}: {error}" });
        cmd.Parameters.Add(new() { Value = Guid.CreateVersion7() });
        cmd.Parameters.Add(new() { Value = args.TenantId });
        cmd.Parameters.Add(new() { Value = args.CityId });
        cmd.Parameters.Add(new() { Value = args.Trigger });
        cmd.Parameters.Add(new() { Value = stages, NpgsqlDbType = NpgsqlDbType.Jsonb });
        cmd.Parameters.Add(new() { Value = (object?)args.TraceId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        await cmd.ExecuteAllAsync(null, ct);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Scanned {City} ({Kind}): {Documents} documents, {Queued} new or changed, not modified: {NotModified}")]
    private static partial void LogScanned(ILogger logger, string city, string kind, int documents, int queued, bool notModified);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Source of {City} ({Kind} {Location}) failed: {Error}")]
    private static partial void LogSourceFailed(ILogger logger, string city, string kind, string location, string error);
}

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
