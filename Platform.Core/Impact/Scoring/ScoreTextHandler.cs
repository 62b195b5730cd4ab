using Npgsql;
using NpgsqlTypes;
using Platform.Core.Data;
using Platform.Core.Impact.Privacy;
using Platform.Core.Impact.Programs;
using Platform.Core.Jobs;

namespace Platform.Core.Impact.Scoring;

/// <summary>
/// Scores texts with the configured <see cref="IOutcomeModel"/> and stores the five dimensions (abstentions as NULL)
/// with the model version, and each evidence sentence encrypted under the person's key with its SHA-256. Only
/// <c>pending</c> texts are scored: a flagged text waits for its review, an erased person's text is never read.
/// One job scores one text (<see cref="ScoreTextArgs"/>, after a review) or a batch (<see cref="ScoreTextsArgs"/>, on
/// ingestion), and a batch costs a fixed number of statements whatever its size, all in one transaction:
/// <list type="number">
/// <item>one query claims the batch's pending texts (<c>FOR UPDATE SKIP LOCKED</c>, in id order) and reads their
/// ciphertext with each person's wrapped key;</item>
/// <item>decryption, one pass of the model over every text, and encryption of the evidence, in memory;</item>
/// <item>one round trip writes everything: this model version's old scores of these texts go, the scores, the evidence
/// and the texts' new status are written with one multi-row statement each, and one access-log row per text read.</item>
/// </list>
/// Two jobs holding the same text (a redelivered request, a review's job next to an ingestion batch) never both score
/// it: the second skips a text the first has locked, and once the first commits the text is no longer pending. The only
/// other transaction that locks a pending text is an erasure, which sets it to <c>erased</c>, so a skipped text is
/// always finished by the transaction that holds it. A failed batch rolls back whole: its texts stay pending and the
/// job's retry scores them. Re-running replaces this model version's scores, so a retry never duplicates.
/// </summary>
public sealed class ScoreTextHandler(NpgsqlDataSource dataSource, PiiVault vault, IOutcomeModel model) : IJobHandler<ScoreTextArgs>, IJobHandler<ScoreTextsArgs>
{
    private sealed record PendingText(Guid TextId, Guid Person, Guid Company, string Kind, DateTimeOffset OccurredAt, string Body);

    public const string Purpose = "outcome-scoring";

    public Task HandleAsync(ScoreTextArgs args, JobContext context) => ScoreAsync(args.TenantId, [args.TextId], ScoreTextArgs.Kind, context.CancellationToken);

    public Task HandleAsync(ScoreTextsArgs args, JobContext context) => ScoreAsync(args.TenantId, args.TextIds, ScoreTextsArgs.Kind, context.CancellationToken);

    /// <summary>Scores those of <paramref name="textIds"/> that are pending and not held by another job; returns how many it scored.</summary>
    public async Task<int> ScoreAsync(Guid tenantId, IReadOnlyList<Guid> textIds, string jobKind, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenForTenantAsync(tenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var claimed = new List<(Guid TextId, Guid Person, Guid Company, string Kind, DateTimeOffset OccurredAt, byte[]? Body)>();
        var wrappedKeys = new List<(Guid, byte[]?)>();
        await using (var cmd = new NpgsqlCommand("""
            SELECT t.id, t.person_id, t.company_id, t.kind, t.occurred_at, t.body_enc, k.person_id IS NOT NULL, k.wrapped_key
              FROM impact.texts t
              LEFT JOIN impact.person_keys k ON k.tenant_id = t.tenant_id AND k.person_id = t.person_id
             WHERE t.tenant_id = $1 AND t.id = ANY($2) AND t.status = 'pending'
             ORDER BY t.id
               FOR UPDATE OF t SKIP LOCKED
            """, conn, tx))
        {
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            cmd.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. textIds.Distinct()] });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var person = reader.GetGuid(1);
                claimed.Add((reader.GetGuid(0), person, reader.GetGuid(2), reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4),
                    reader.IsDBNull(5) ? null : reader.GetFieldValue<byte[]>(5)));
                if (reader.GetBoolean(6))
                {
                    wrappedKeys.Add((person, reader.IsDBNull(7) ? null : reader.GetFieldValue<byte[]>(7)));
                }
            }
        }
        if (claimed.Count == 0)
        {
            return 0; // scored already, flagged, excluded, erased, or held by another job
        }
        var keyring = vault.Keyring(tenantId, wrappedKeys, Purpose, $"job:{jobKind}");
        var pending = new List<PendingText>(claimed.Count);
        var erased = new List<Guid>();
        foreach (var c in claimed)
        {
            // Each read is one access-log row; a destroyed key is logged as unreadable and the text is marked erased.
            if (keyring.Read(c.Person, "text", c.Body) is { } text)
            {
                pending.Add(new PendingText(c.TextId, c.Person, c.Company, c.Kind, c.OccurredAt, text));
            }
            else
            {
                erased.Add(c.TextId);
            }
        }
        var scores = pending.Count == 0 ? [] : await model.ScoreManyAsync([.. pending.Select(p => p.Body)], ct);

        await using var batch = new NpgsqlBatch(conn, tx);
        if (pending.Count > 0)
        {
            AddScores(batch, tenantId, keyring, pending, scores);
        }
        var statusIds = pending.Select(p => p.TextId).Concat(erased).ToArray();
        var statuses = pending.Select(_ => "scored").Concat(erased.Select(_ => "erased")).ToArray();
        var update = new NpgsqlBatchCommand("""
            UPDATE impact.texts t SET status = u.status
              FROM unnest($2::uuid[], $3::text[]) AS u (id, status)
             WHERE t.tenant_id = $1 AND t.id = u.id
            """);
        update.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        update.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = statusIds });
        update.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = statuses });
        batch.BatchCommands.Add(update);
        keyring.FlushInto(batch);
        await batch.ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
        return pending.Count;
    }

    private static void AddScores(NpgsqlBatch batch, Guid tenantId, PiiKeyring keyring, List<PendingText> pending, IReadOnlyList<OutcomeScore> scores)
    {
        // A retry, or a text scored again by this model version, replaces its scores (evidence goes with them: ON DELETE CASCADE).
        foreach (var version in scores.Select(s => s.ModelVersion).Distinct())
        {
            var clear = new NpgsqlBatchCommand("DELETE FROM impact.outcome_scores WHERE text_id = ANY($1) AND model_version = $2");
            clear.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. pending.Where((_, k) => scores[k].ModelVersion == version).Select(p => p.TextId)] });
            clear.Parameters.Add(new NpgsqlParameter<string> { TypedValue = version });
            batch.BatchCommands.Add(clear);
        }
        var rows = pending.Count * OutcomeDimensions.All.Count;
        var ids = new List<Guid>(rows);
        var textIds = new List<Guid>(rows);
        var companies = new List<Guid>(rows);
        var people = new List<Guid>(rows);
        var kinds = new List<string>(rows);
        var dims = new List<string>(rows);
        var values = new List<object>(rows);
        var confidences = new List<decimal>(rows);
        var versions = new List<string>(rows);
        var occurred = new List<DateTimeOffset>(rows);
        var evScore = new List<Guid>();
        var evId = new List<Guid>();
        var evText = new List<byte[]>();
        var evSha = new List<string>();
        var evStart = new List<int>();
        var evLength = new List<int>();
        var evCues = new List<string>();
        var evContribution = new List<double>();
        for (var k = 0; k < pending.Count; k++)
        {
            var text = pending[k];
            var key = keyring.KeyOf(text.Person)!;
            foreach (var (dimension, d) in scores[k].Dimensions)
            {
                var id = Guid.CreateVersion7();
                ids.Add(id);
                textIds.Add(text.TextId);
                companies.Add(text.Company);
                people.Add(text.Person);
                kinds.Add(text.Kind);
                dims.Add(dimension);
                values.Add(d.Score is { } s ? (decimal)s : DBNull.Value);
                confidences.Add(Math.Round((decimal)d.Confidence, 3));
                versions.Add(scores[k].ModelVersion);
                occurred.Add(text.OccurredAt);
                foreach (var e in d.Evidence)
                {
                    evScore.Add(id);
                    evId.Add(Guid.CreateVersion7());
                    evText.Add(PiiVault.Encrypt(key, e.Sentence, text.Person));
                    evSha.Add(e.Sha256);
                    evStart.Add(e.Start);
                    evLength.Add(e.Length);
                    evCues.Add(TextArrayLiteral(e.Cues));
                    evContribution.Add(e.Contribution);
                }
            }
        }
        var insert = new NpgsqlBatchCommand("""
            INSERT INTO impact.outcome_scores (id, tenant_id, company_id, text_id, person_id, text_type, dimension, score, confidence, model_version, occurred_at)
            SELECT i, $2, c, t, p, k, d, s, f, v, o
              FROM unnest($1::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::text[], $7::text[], $8::numeric[], $9::numeric[], $10::text[], $11::timestamptz[])
                   AS u (i, c, t, p, k, d, s, f, v, o)
            """);
        insert.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. ids] });
        insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        insert.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. companies] });
        insert.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. textIds] });
        insert.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. people] });
        insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. kinds] });
        insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. dims] });
        insert.Parameters.Add(new NpgsqlParameter { Value = values.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Numeric });
        insert.Parameters.Add(new NpgsqlParameter<decimal[]> { TypedValue = [.. confidences] });
        insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. versions] });
        insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]> { TypedValue = [.. occurred] });
        batch.BatchCommands.Add(insert);
        if (evId.Count > 0)
        {
            var evidence = new NpgsqlBatchCommand("""
                INSERT INTO impact.evidence_snippets (id, tenant_id, outcome_score_id, snippet_enc, snippet_sha256, start_offset, length, cues, contribution)
                SELECT i, $2, o, e, h, s, l, c::text[], w
                  FROM unnest($1::uuid[], $3::uuid[], $4::bytea[], $5::text[], $6::int[], $7::int[], $8::text[], $9::float8[]) AS t(i, o, e, h, s, l, c, w)
                """);
            evidence.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. evId] });
            evidence.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            evidence.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. evScore] });
            evidence.Parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = [.. evText] });
            evidence.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. evSha] });
            evidence.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = [.. evStart] });
            evidence.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = [.. evLength] });
            evidence.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. evCues] });
            evidence.Parameters.Add(new NpgsqlParameter<double[]> { TypedValue = [.. evContribution] });
            batch.BatchCommands.Add(evidence);
        }
    }

    /// <summary>A PostgreSQL array literal of <paramref name="items"/> (each quoted and escaped), so a ragged list of lists travels as one text[] parameter.</summary>
    public static string TextArrayLiteral(IReadOnlyList<string> items) =>
        "{" + string.Join(',', items.Select(i => "\"" + i.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"")) + "}";
}
