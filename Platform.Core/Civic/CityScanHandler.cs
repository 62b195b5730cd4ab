using System.Text.Json;
using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Core.Data;
using NpgsqlTypes;
using Platform.Core.Jobs;

namespace Platform.Core.Civic;

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
