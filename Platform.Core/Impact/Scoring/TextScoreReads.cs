using Npgsql;
using Platform.Core.Data;
using Platform.Core.Impact.Privacy;

namespace Platform.Core.Impact.Scoring;

public sealed record OutcomeEvidenceView(string? Sentence, string? Sha256, int Start, int Length, IReadOnlyList<string> Cues, double Contribution);
public sealed record DimensionView(string Dimension, decimal? Score, decimal Confidence, bool Abstained, string ModelVersion, IReadOnlyList<OutcomeEvidenceView> Evidence);
public sealed record TextScores(Guid TextId, string Status, IReadOnlyList<DimensionView> Dimensions);

/// <summary>
/// A text's outcome scores per dimension with their evidence sentences, decrypted under the author's key (null once
/// erased); every decryption is recorded in the key access log as a score-evidence view.
/// </summary>
public sealed class TextScoreReads(NpgsqlDataSource dataSource, PiiVault vault)
{
    /// <summary>The text's status and scores (none while pending or flagged); null when the tenant has no such text.</summary>
    public async Task<TextScores?> GetAsync(Guid tenant, Guid textId, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenForTenantAsync(tenant, ct);
        Guid person;
        string status;
        await using (var text = new NpgsqlCommand("SELECT person_id, status FROM impact.texts WHERE tenant_id = $1 AND id = $2", conn))
        {
            text.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenant });
            text.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = textId });
            await using var r = await text.ExecuteReaderAsync(ct);
            if (!await r.ReadAsync(ct))
            {
                return null;
            }
            person = r.GetGuid(0);
            status = r.GetString(1);
        }
        var rows = new List<(string Dim, decimal? Score, decimal Conf, string Model, byte[]? Enc, string? Sha, int Start, int Len, string[] Cues, double W, bool HasEvidence)>();
        await using (var cmd = new NpgsqlCommand("""
            SELECT s.dimension, s.score, s.confidence, s.model_version, e.snippet_enc, e.snippet_sha256, e.start_offset, e.length, e.cues, e.contribution, e.id IS NOT NULL
              FROM impact.outcome_scores s LEFT JOIN impact.evidence_snippets e ON e.outcome_score_id = s.id
             WHERE s.tenant_id = $1 AND s.text_id = $2 ORDER BY s.dimension, e.start_offset
            """, conn))
        {
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenant });
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = textId });
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                var has = r.GetBoolean(10);
                rows.Add((r.GetString(0), r.IsDBNull(1) ? null : r.GetDecimal(1), r.GetDecimal(2), r.GetString(3), has && !r.IsDBNull(4) ? r.GetFieldValue<byte[]>(4) : null,
                    has && !r.IsDBNull(5) ? r.GetString(5) : null, has ? r.GetInt32(6) : 0, has ? r.GetInt32(7) : 0, has ? r.GetFieldValue<string[]>(8) : [],
                    has ? r.GetDouble(9) : 0, has));
            }
        }
        var keyring = await vault.KeyringAsync(conn, null, tenant, [person], "score-evidence-view", "api:tenant-key", ct);
        var dims = rows.GroupBy(r => r.Dim).Select(g => new DimensionView(g.Key, g.First().Score, g.First().Conf, g.First().Score is null, g.First().Model,
            g.Where(r => r.HasEvidence).Select(r => new OutcomeEvidenceView(keyring.Read(person, "evidence", r.Enc), r.Sha, r.Start, r.Len, r.Cues, r.W)).ToList())).ToList();
        await keyring.FlushAsync(conn, null, ct);
        return new TextScores(textId, status, dims);
    }
}
