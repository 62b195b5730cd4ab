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

/// <summary>
/// Scores texts with the configured <see cref="IOutcomeModel"/> and stores the five dimensions (abstentions as NULL)
/// with the model version, and each evidence sentence encrypted under the person's key with its SHA-256. Only
/// <c>pending</c> texts are scored: a flagged text waits for its review, an erased person's text is never read.
/// Re-running replaces this model version's scores, so a retry never duplicates. One job scores one text
/// (<see cref="ScoreTextArgs"/>, after a review) or a batch (<see cref="ScoreTextsArgs"/>, on ingestion): a batch
/// shares one transaction and one pass of the model over all its sentences.
/// </summary>
public sealed class ScoreTextHandler(NpgsqlDataSource dataSource, PiiVault vault, IOutcomeModel model) : IJobHandler<ScoreTextArgs>, IJobHandler<ScoreTextsArgs>
{
    private sealed record PendingText(Guid TextId, Guid Person, Guid Company, string Kind, DateTimeOffset OccurredAt, PiiKeyring Keyring, string Body);

    public Task HandleAsync(ScoreTextArgs args, JobContext context) => ScoreAsync(args.TenantId, [args.TextId], ScoreTextArgs.Kind, context.CancellationToken);

    public Task HandleAsync(ScoreTextsArgs args, JobContext context) => ScoreAsync(args.TenantId, args.TextIds, ScoreTextsArgs.Kind, context.CancellationToken);

    private async Task ScoreAsync(Guid tenantId, IReadOnlyList<Guid> textIds, string jobKind, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenForTenantAsync(tenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var pending = new List<PendingText>();
        foreach (var textId in textIds.Distinct())
        {
            Guid person, company;
            string kind;
            DateTimeOffset occurredAt;
            byte[]? body;
            await using (var cmd = new NpgsqlCommand("""
                SELECT person_id, company_id, kind, occurred_at, body_enc FROM impact.texts
                 WHERE tenant_id = $1 AND id = $2 AND status = 'pending' FOR UPDATE
                """, conn, tx))
            {
                cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
                cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = textId });
                await using var reader = await cmd.ExecuteReaderAsync(ct);
                if (!await reader.ReadAsync(ct))
                {
                    continue; // scored already, flagged, excluded or erased
                }
                person = reader.GetGuid(0);
                company = reader.GetGuid(1);
                kind = reader.GetString(2);
                occurredAt = reader.GetFieldValue<DateTimeOffset>(3);
                body = reader.IsDBNull(4) ? null : reader.GetFieldValue<byte[]>(4);
            }
            var keyring = await vault.KeyringAsync(conn, tx, tenantId, [person], "outcome-scoring", $"job:{jobKind}", ct);
            var text = keyring.Read(person, "text", body);
            if (text is null)
            {
                await SetStatusAsync(conn, tx, tenantId, textId, "erased", ct);
                await keyring.FlushAsync(conn, tx, ct);
                continue;
            }
            pending.Add(new PendingText(textId, person, company, kind, occurredAt, keyring, text));
        }
        var scores = pending.Count == 0 ? [] : await model.ScoreManyAsync([.. pending.Select(p => p.Body)], ct);
        for (var k = 0; k < pending.Count; k++)
        {
            await StoreAsync(conn, tx, tenantId, pending[k], scores[k], ct);
            await SetStatusAsync(conn, tx, tenantId, pending[k].TextId, "scored", ct);
            await pending[k].Keyring.FlushAsync(conn, tx, ct);
        }
        await tx.CommitAsync(ct);
    }

    private static async Task StoreAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid tenantId, PendingText text, OutcomeScore score, CancellationToken ct)
    {
        await using (var clear = new NpgsqlCommand("DELETE FROM impact.outcome_scores WHERE text_id = $1 AND model_version = $2", conn, tx))
        {
            clear.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = text.TextId });
            clear.Parameters.Add(new NpgsqlParameter<string> { TypedValue = score.ModelVersion });
            await clear.ExecuteNonQueryAsync(ct);
        }
        var key = text.Keyring.KeyOf(text.Person)!;
        var ids = new List<Guid>();
        var dims = new List<string>();
        var values = new List<decimal?>();
        var confidences = new List<decimal>();
        var evScore = new List<Guid>();
        var evId = new List<Guid>();
        var evText = new List<byte[]>();
        var evSha = new List<string>();
        var evStart = new List<int>();
        var evLength = new List<int>();
        var evCues = new List<string>();
        var evContribution = new List<double>();
        foreach (var (dimension, d) in score.Dimensions)
        {
            var id = Guid.CreateVersion7();
            ids.Add(id);
            dims.Add(dimension);
            values.Add(d.Score is { } s ? (decimal)s : null);
            confidences.Add(Math.Round((decimal)d.Confidence, 3));
            foreach (var e in d.Evidence)
            {
                evScore.Add(id);
                evId.Add(Guid.CreateVersion7());
                evText.Add(PiiVault.Encrypt(key, e.Sentence, text.Person));
                evSha.Add(e.Sha256);
                evStart.Add(e.Start);
                evLength.Add(e.Length);
                evCues.Add(JsonSerializer.Serialize(e.Cues));
                evContribution.Add(e.Contribution);
            }
        }
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO impact.outcome_scores (id, tenant_id, company_id, text_id, person_id, text_type, dimension, score, confidence, model_version, occurred_at)
            SELECT i, $2, $3, $4, $5, $6, d, s, c, $10, $11 FROM unnest($1::uuid[], $7::text[], $8::numeric[], $9::numeric[]) AS t(i, d, s, c)
            """, conn, tx))
        {
            insert.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = ids.ToArray() });
            insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = text.Company });
            insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = text.TextId });
            insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = text.Person });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = text.Kind });
            insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = dims.ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = values.Select(v => (object?)v ?? DBNull.Value).ToArray(), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Numeric });
            insert.Parameters.Add(new NpgsqlParameter<decimal[]> { TypedValue = confidences.ToArray() });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = score.ModelVersion });
            insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = text.OccurredAt });
            await insert.ExecuteNonQueryAsync(ct);
        }
        if (evId.Count > 0)
        {
            await using var evidence = new NpgsqlCommand("""
                INSERT INTO impact.evidence_snippets (id, tenant_id, outcome_score_id, snippet_enc, snippet_sha256, start_offset, length, cues, contribution)
                SELECT i, $2, o, e, h, s, l, ARRAY(SELECT jsonb_array_elements_text(c::jsonb)), w
                  FROM unnest($1::uuid[], $3::uuid[], $4::bytea[], $5::text[], $6::int[], $7::int[], $8::text[], $9::float8[]) AS t(i, o, e, h, s, l, c, w)
                """, conn, tx);
            evidence.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = evId.ToArray() });
            evidence.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            evidence.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = evScore.ToArray() });
            evidence.Parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = evText.ToArray() });
            evidence.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = evSha.ToArray() });
            evidence.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = evStart.ToArray() });
            evidence.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = evLength.ToArray() });
            evidence.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = evCues.ToArray() });
            evidence.Parameters.Add(new NpgsqlParameter<double[]> { TypedValue = evContribution.ToArray() });
            await evidence.ExecuteNonQueryAsync(ct);
        }
    }

    private static async Task SetStatusAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid tenantId, Guid textId, string status, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("UPDATE impact.texts SET status = $3 WHERE tenant_id = $1 AND id = $2", conn, tx);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = textId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = status });
        await cmd.ExecuteNonQueryAsync(ct);
    }
}

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
