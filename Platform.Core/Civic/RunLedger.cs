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
