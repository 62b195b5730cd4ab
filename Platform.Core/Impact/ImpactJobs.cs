using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Core.Data;
using Platform.Core.Impact.Privacy;
using Platform.Core.Impact.Programs;
using Platform.Core.Impact.Reporting;
using Platform.Core.Impact.Safety;
using Platform.Core.Impact.Scoring;
using Platform.Core.Jobs;

namespace Platform.Core.Impact;

/// <summary>Applies a stored domain event once: the event row's <c>processed_at</c> is set in the same transaction.</summary>
public sealed class ApplyDomainEventHandler(NpgsqlDataSource dataSource, PiiVault vault, IJobQueue jobs) : IJobHandler<ApplyDomainEventArgs>
{
    public async Task HandleAsync(ApplyDomainEventArgs args, JobContext context)
    {
        var ct = context.CancellationToken;
        await using var conn = await dataSource.OpenForTenantAsync(args.TenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        string source, json;
        Guid company;
        await using (var cmd = new NpgsqlCommand("""
            SELECT source, company_id, envelope_enc, envelope::text FROM impact.domain_events
             WHERE tenant_id = $1 AND event_id = $2 AND processed_at IS NULL FOR UPDATE
            """, conn, tx))
        {
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = args.TenantId });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = args.EventId });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
            {
                return;
            }
            source = reader.GetString(0);
            company = reader.GetGuid(1);
            // Rows stored before envelopes were sealed still hold plaintext until they are applied.
            json = !reader.IsDBNull(2) ? vault.OpenEnvelope(reader.GetFieldValue<byte[]>(2), args.TenantId) : reader.GetString(3);
        }
        var (envelope, _, error) = DomainEvents.Parse(System.Text.Encoding.UTF8.GetBytes(json));
        if (envelope is null)
        {
            throw new JobDiscardException($"Stored event {args.EventId} no longer parses: {error}");
        }
        var ingest = new ProgramIngest(conn, tx, vault, args.TenantId, company);
        await DomainEvents.ApplyAsync(ingest, source, envelope, ct);
        await ingest.QueueScoringAsync(jobs, ct);
        // Applied: the envelope's personal data now lives in the vault-encrypted tables, so the envelope itself is dropped.
        // The row stays (without body or person links) so a redelivered event id is still recognised as a duplicate.
        await using (var done = new NpgsqlCommand("""
            UPDATE impact.domain_events SET processed_at = now(), envelope = NULL, envelope_enc = NULL, person_refs = '{}'
             WHERE tenant_id = $1 AND event_id = $2
            """, conn, tx))
        {
            done.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = args.TenantId });
            done.Parameters.Add(new NpgsqlParameter<string> { TypedValue = args.EventId });
            await done.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
    }
}

public sealed class ComputeCompanyMetricsHandler(NpgsqlDataSource dataSource) : IJobHandler<ComputeCompanyMetricsArgs>
{
    public async Task HandleAsync(ComputeCompanyMetricsArgs args, JobContext context)
    {
        var month = new DateOnly(args.Month.Year, args.Month.Month, 1);
        var metrics = await CompanyMetrics.MonthsAsync(dataSource, args.TenantId, args.CompanyId, month, month.AddMonths(1), context.CancellationToken);
        foreach (var m in metrics)
        {
            await CompanyMetrics.StoreAsync(dataSource, args.TenantId, args.CompanyId, m, context.CancellationToken);
        }
    }
}

/// <summary>Runs an export or an erasure request and records the outcome on the request row.</summary>
public sealed partial class PrivacyRequestHandler(NpgsqlDataSource dataSource, PiiVault vault, ILogger<PrivacyRequestHandler> logger)
    : IJobHandler<PrivacyRequestArgs>
{
    private const string Actor = "job:" + "impact.privacy-request";

    public async Task HandleAsync(PrivacyRequestArgs args, JobContext context)
    {
        var ct = context.CancellationToken;
        await using var conn = await dataSource.OpenForTenantAsync(args.TenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        Guid subject;
        string kind;
        await using (var cmd = new NpgsqlCommand(
            "SELECT subject_id, kind FROM impact.privacy_requests WHERE tenant_id = $1 AND id = $2 AND status = 'pending' FOR UPDATE", conn, tx))
        {
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = args.TenantId });
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = args.RequestId });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
            {
                return;
            }
            subject = reader.GetGuid(0);
            kind = reader.GetString(1);
        }
        object result;
        byte[]? bundle = null;
        if (kind == PrivacyKinds.Export)
        {
            var keyring = await vault.KeyringAsync(conn, tx, args.TenantId, [subject], "gdpr-export", Actor, ct);
            var json = await SubjectExport.BuildAsync(conn, tx, args.TenantId, subject, keyring, ct);
            json["pendingEvents"] = await SubjectExport.PendingEventsAsync(conn, tx, args.TenantId, subject, vault, ct);
            if (keyring.KeyOf(subject) is { } key)
            {
                bundle = PiiVault.Encrypt(key, json.ToJsonString(), subject);
            }
            keyring.Record(subject, "export_bundle", "exported");
            await keyring.FlushAsync(conn, tx, ct);
            result = new { sections = json.Select(p => p.Key).ToArray(), erased = keyring.KeyOf(subject) is null };
        }
        else
        {
            result = await SubjectErasure.EraseAsync(conn, tx, args.TenantId, subject, Actor, ct);
        }
        await using (var done = new NpgsqlCommand("""
            UPDATE impact.privacy_requests SET status = 'completed', completed_at = now(), result = $3::jsonb, bundle_enc = $4 WHERE tenant_id = $1 AND id = $2
            """, conn, tx))
        {
            done.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = args.TenantId });
            done.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = args.RequestId });
            done.Parameters.Add(new NpgsqlParameter<string> { TypedValue = JsonSerializer.Serialize(result, JsonSerializerOptions.Web) });
            done.Parameters.Add(Db.Nullable(bundle, NpgsqlTypes.NpgsqlDbType.Bytea));
            await done.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        LogCompleted(logger, kind, args.RequestId, args.TenantId);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Privacy {Kind} request {RequestId} of tenant {TenantId} completed")]
    private static partial void LogCompleted(ILogger logger, string kind, Guid requestId, Guid tenantId);
}

/// <summary>Fans out <see cref="ComputeCompanyMetricsArgs"/> for every company, for the fire time's month and the one before.</summary>
public sealed record MetricsSweepArgs : IJobArgs
{
    public static string Kind => "impact.metrics-sweep";
    public static string Queue => "impact";
}

public sealed class MetricsSweepHandler(NpgsqlDataSource dataSource, IJobQueue jobs) : IJobHandler<MetricsSweepArgs>
{
    public async Task HandleAsync(MetricsSweepArgs args, JobContext context)
    {
        var at = context.ScheduledAt.UtcDateTime;
        var month = new DateOnly(at.Year, at.Month, 1);
        var work = new List<(ComputeCompanyMetricsArgs, JobOptions)>();
        await using (var cmd = await dataSource.CreateSystemCommandAsync("nightly metrics sweep over every tenant's companies",
            "SELECT tenant_id, id FROM impact.companies", context.CancellationToken))
        await using (var reader = await cmd.ExecuteReaderAsync(context.CancellationToken))
        {
            while (await reader.ReadAsync(context.CancellationToken))
            {
                foreach (var m in new[] { month.AddMonths(-1), month })
                {
                    work.Add((new ComputeCompanyMetricsArgs(reader.GetGuid(0), reader.GetGuid(1), m),
                        new JobOptions { UniqueKey = $"{reader.GetGuid(0)}:{reader.GetGuid(1)}:{m:yyyy-MM}" }));
                }
            }
        }
        await jobs.EnqueueManyAsync(work, null, context.CancellationToken);
    }
}

/// <summary>Deletes webhook rejection windows older than <see cref="Retention"/>.</summary>
public sealed record PruneRejectionsArgs : IJobArgs
{
    public static string Kind => "impact.rejections-prune";

    public static readonly TimeSpan Retention = TimeSpan.FromDays(30);
}

public sealed class PruneRejectionsHandler(NpgsqlDataSource dataSource) : IJobHandler<PruneRejectionsArgs>
{
    public async Task HandleAsync(PruneRejectionsArgs args, JobContext context)
    {
        await using var cmd = await dataSource.CreateSystemCommandAsync("pruning every tenant's old webhook rejection windows",
            "DELETE FROM impact.webhook_rejections WHERE window_start < now() - $1", context.CancellationToken);
        cmd.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = PruneRejectionsArgs.Retention });
        await cmd.ExecuteNonQueryAsync(context.CancellationToken);
    }
}
