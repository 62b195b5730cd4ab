using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Core.Ai;
using Platform.Core.Community.Algorithms;
using Platform.Core.Data;
using Platform.Core.Governance;

namespace Platform.Core.Community;

public sealed record CollaboratorList(string UserId, string Algorithm, string? EmbeddingModel, CollaboratorWeights Weights,
    IReadOnlyList<CollaboratorRecommendation> Candidates, ProvenanceRef Provenance);

public sealed record CollaboratorFeedbackRecorded(long Id, string UserId, string CandidateId, string Outcome, CollaboratorFeatures Features,
    CollaboratorWeights WeightsBefore, CollaboratorWeights WeightsAfter, ProvenanceRef Provenance);

/// <summary>
/// Collaborator recommendations for a member, from expertise (skills, learning catalysts they contributed to, the
/// topics of their recent messages, compared as text embeddings) and participation (the interaction graph of the last
/// <see cref="WindowDays"/> days). Only members who consented to <c>recommendations</c> are read at all: as the person
/// the list is for and as candidates. Every list and every feedback step appends a provenance event.
/// </summary>
public sealed partial class Collaborators(NpgsqlDataSource dataSource, Consents consents, ProvenanceLedger ledger, StoredEmbeddings embeddings,
    ILogger<Collaborators> logger)
{
    public const int WindowDays = 90;
    /// <summary>Recent messages read per member for topics; their text is not stored, only the terms are embedded.</summary>
    public const int MessagesPerMember = 50;
    public const int TopicsPerMember = 5;

    /// <summary>Null when the member is not in the directory or has not consented to recommendations.</summary>
    public async Task<CollaboratorList?> RecommendAsync(Guid tenantId, string userId, int limit, string actor, CancellationToken ct = default)
    {
        var (inputs, weights, closed) = await LoadAsync(tenantId, ct);
        if (!inputs.PositionById.ContainsKey(userId))
        {
            return null;
        }
        var list = CollaboratorRanking.Recommend(inputs, userId, weights, closed, limit);
        var details = JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["embeddingModel"] = inputs.EmbeddingModel,
            ["weights"] = weights.Normalised().ToArray(),
            ["candidates"] = list.Select(c => new Dictionary<string, object> { ["userId"] = c.UserId, ["score"] = Math.Round(c.Score, 6), ["features"] = c.MemberToCandidate.ToArray() }).ToList(),
        });
        var e = await ledger.AppendAsync(tenantId, new ProvenanceEntry(ProvenanceActions.Recommendation, actor, userId, CollaboratorRanking.Algorithm,
            CollaboratorRanking.Version, details), ct);
        LogRecommended(logger, list.Count, tenantId);
        return new CollaboratorList(userId, CollaboratorRanking.Version, inputs.EmbeddingModel, weights.Normalised(), list,
            new ProvenanceRef(e.Id, e.Algorithm, e.Version, e.ComputedAt));
    }

    /// <summary>
    /// Records accepted/dismissed for a shown candidate and moves the tenant's weights in one transaction (the weights row
    /// is locked, so concurrent feedback applies in turn). Null when either member is not a consenting member.
    /// </summary>
    public async Task<CollaboratorFeedbackRecorded?> FeedbackAsync(Guid tenantId, string userId, string candidateId, CollaboratorOutcome outcome,
        string actor, CancellationToken ct = default)
    {
        var (inputs, _, _) = await LoadAsync(tenantId, ct);
        if (!inputs.PositionById.TryGetValue(userId, out var a) || !inputs.PositionById.TryGetValue(candidateId, out var b) || a == b)
        {
            return null;
        }
        var shown = CollaboratorRanking.Features(inputs, a, b);
        await using var conn = await dataSource.OpenForTenantAsync(tenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var ensure = new NpgsqlCommand("INSERT INTO community.collaborator_weights (tenant_id) VALUES ($1) ON CONFLICT DO NOTHING", conn, tx))
        {
            ensure.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            await ensure.ExecuteNonQueryAsync(ct);
        }
        CollaboratorWeights before;
        await using (var read = new NpgsqlCommand(
            "SELECT skills, expertise, shared_contacts, participation FROM community.collaborator_weights WHERE tenant_id = $1 FOR UPDATE", conn, tx))
        {
            read.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            await using var r = await read.ExecuteReaderAsync(ct);
            await r.ReadAsync(ct);
            before = new CollaboratorWeights(r.GetDouble(0), r.GetDouble(1), r.GetDouble(2), r.GetDouble(3)).Normalised();
        }
        var after = CollaboratorRanking.UpdateWeights(before, shown, outcome);
        await using (var update = new NpgsqlCommand(
            "UPDATE community.collaborator_weights SET skills = $2, expertise = $3, shared_contacts = $4, participation = $5, updated_at = now() WHERE tenant_id = $1", conn, tx))
        {
            update.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            foreach (var v in after.ToArray()) update.Parameters.Add(new NpgsqlParameter<double> { TypedValue = v });
            await update.ExecuteNonQueryAsync(ct);
        }
        var outcomeName = outcome.ToString().ToLowerInvariant();
        long id;
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO community.collaborator_feedback (tenant_id, user_id, candidate_id, outcome, features, weights_before, weights_after, actor, algorithm)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id
            """, conn, tx))
        {
            var p = insert.Parameters;
            p.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            p.Add(new NpgsqlParameter<string> { TypedValue = userId });
            p.Add(new NpgsqlParameter<string> { TypedValue = candidateId });
            p.Add(new NpgsqlParameter<string> { TypedValue = outcomeName });
            p.Add(new NpgsqlParameter<double[]> { TypedValue = shown.ToArray() });
            p.Add(new NpgsqlParameter<double[]> { TypedValue = before.ToArray() });
            p.Add(new NpgsqlParameter<double[]> { TypedValue = after.ToArray() });
            p.Add(new NpgsqlParameter<string> { TypedValue = actor });
            p.Add(new NpgsqlParameter<string> { TypedValue = CollaboratorRanking.Version });
            id = (long)(await insert.ExecuteScalarAsync(ct))!;
        }
        var details = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["feedbackId"] = id, ["candidateId"] = candidateId, ["outcome"] = outcomeName, ["features"] = shown.ToArray(), ["weightsAfter"] = after.ToArray(),
        });
        var e = await ledger.AppendAsync(conn, tx, tenantId, new ProvenanceEntry("collaborator.feedback", actor, userId, CollaboratorRanking.Algorithm,
            CollaboratorRanking.Version, details), ct);
        await tx.CommitAsync(ct);
        return new CollaboratorFeedbackRecorded(id, userId, candidateId, outcomeName, shown, before, after, new ProvenanceRef(e.Id, e.Algorithm, e.Version, e.ComputedAt));
    }

    private async Task<(CollaboratorInputs Inputs, CollaboratorWeights Weights, HashSet<(string, string)> Closed)> LoadAsync(Guid tenantId, CancellationToken ct)
    {
        var consenting = await consents.GrantedAsync(tenantId, ConsentPurposes.Recommendations, null, ct);
        var ids = consenting.ToArray();
        var members = new List<(string Id, string Name, string? Team, string[] Skills)>();
        var catalysts = new Dictionary<string, (List<string> Tags, List<string> Titles)>(StringComparer.Ordinal);
        var messages = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var ties = new List<(string, string, double)>();
        var activity = new Dictionary<string, double>(StringComparer.Ordinal);
        var closed = new HashSet<(string, string)>();
        var weights = CollaboratorWeights.Default;
        await using var conn = await dataSource.OpenForTenantAsync(tenantId, ct);
        async Task ReadAsync(string sql, Action<NpgsqlDataReader> row)
        {
            await using var cmd = new NpgsqlCommand(sql, conn);
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = ids });
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct)) row(r);
        }
        await ReadAsync("SELECT user_id, display_name, team, skills FROM community.members WHERE tenant_id = $1 AND user_id = ANY($2) ORDER BY user_id",
            r => members.Add((r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), r.GetFieldValue<string[]>(3))));
        await ReadAsync("SELECT title, tags, contributors FROM community.learning_catalysts WHERE tenant_id = $1 AND contributors && $2 ORDER BY occurred_at DESC", r =>
        {
            foreach (var c in r.GetFieldValue<string[]>(2))
            {
                if (!catalysts.TryGetValue(c, out var e)) catalysts[c] = e = ([], []);
                e.Tags.AddRange(r.GetFieldValue<string[]>(1));
                if (e.Titles.Count < 5) e.Titles.Add(r.GetString(0));
            }
        });
        await ReadAsync($"""
            SELECT from_id, text FROM (
                SELECT from_id, text, row_number() OVER (PARTITION BY from_id ORDER BY created_at DESC) AS n
                FROM core.activities WHERE tenant_id = $1 AND type = 'message' AND text IS NOT NULL AND from_id = ANY($2)
                    AND created_at > now() - interval '{WindowDays} days') m
            WHERE n <= {MessagesPerMember}
            """, r =>
        {
            if (!messages.TryGetValue(r.GetString(0), out var list)) messages[r.GetString(0)] = list = [];
            list.Add(r.GetString(1));
        });
        await ReadAsync($"""
            SELECT actor_id, target_id, sum(coalesce(weight, 1)) FROM community.signals
            WHERE tenant_id = $1 AND target_id IS NOT NULL AND actor_id = ANY($2) AND target_id = ANY($2) AND occurred_at > now() - interval '{WindowDays} days'
            GROUP BY 1, 2
            """, r => ties.Add((r.GetString(0), r.GetString(1), r.GetDouble(2))));
        await ReadAsync($"""
            SELECT actor_id, count(*) FROM community.signals
            WHERE tenant_id = $1 AND actor_id = ANY($2) AND occurred_at > now() - interval '{WindowDays} days' GROUP BY 1
            """, r => activity[r.GetString(0)] = r.GetInt64(1));
        await ReadAsync("SELECT user_id, candidate_id FROM community.collaborator_feedback WHERE tenant_id = $1 AND user_id = ANY($2)",
            r => closed.Add((r.GetString(0), r.GetString(1))));
        await using (var cmd = new NpgsqlCommand("SELECT skills, expertise, shared_contacts, participation FROM community.collaborator_weights WHERE tenant_id = $1", conn))
        {
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            await using var r = await cmd.ExecuteReaderAsync(ct);
            if (await r.ReadAsync(ct)) weights = new CollaboratorWeights(r.GetDouble(0), r.GetDouble(1), r.GetDouble(2), r.GetDouble(3)).Normalised();
        }

        var topics = MessageTopics(messages);
        var expertise = members.Select(m =>
        {
            var c = catalysts.GetValueOrDefault(m.Id);
            var skills = m.Skills.Concat(c.Tags ?? []).Select(CollaboratorInputs.Normalise).Where(s => s.Length > 0).Distinct().Order(StringComparer.Ordinal).ToList();
            return new MemberExpertise(m.Id, m.Name, m.Team, skills, c.Titles ?? [], topics.GetValueOrDefault(m.Id) ?? []);
        }).ToList();
        var vectors = await embeddings.GetAsync(tenantId, EmbeddingTable.MemberExpertise, expertise.Select(e => e.ExpertiseText()).OfType<string>(), ct);
        return (new CollaboratorInputs(expertise, vectors, ties, activity), weights, closed);
    }

    /// <summary>
    /// The terms that set each member's messages apart: TF-IDF over members (term frequency in the member's messages
    /// × ln(N / members using it)), top <see cref="TopicsPerMember"/> with at least two uses, common words left out.
    /// </summary>
    public static Dictionary<string, IReadOnlyList<string>> MessageTopics(IReadOnlyDictionary<string, List<string>> messages)
    {
        var counts = messages.ToDictionary(kv => kv.Key, kv =>
        {
            var c = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var text in kv.Value)
                foreach (Match m in Word().Matches(text.ToLowerInvariant()))
                    if (!StopWords.Contains(m.Value)) c[m.Value] = c.GetValueOrDefault(m.Value) + 1;
            return c;
        }, StringComparer.Ordinal);
        var df = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var c in counts.Values)
            foreach (var t in c.Keys) df[t] = df.GetValueOrDefault(t) + 1;
        var n = Math.Max(2, counts.Count);
        return counts.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)[.. kv.Value.Where(t => t.Value >= 2)
            .Select(t => (t.Key, Score: t.Value * Math.Log((double)n / df[t.Key] + 1)))
            .OrderByDescending(t => t.Score).ThenBy(t => t.Key, StringComparer.Ordinal).Take(TopicsPerMember).Select(t => t.Key)], StringComparer.Ordinal);
    }

    private static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "the", "and", "for", "are", "but", "not", "you", "all", "any", "can", "had", "her", "was", "one", "our", "out", "has", "have", "this", "that",
        "with", "from", "they", "will", "would", "there", "their", "what", "about", "which", "when", "make", "like", "just", "know", "take", "into",
        "your", "some", "could", "them", "than", "then", "now", "look", "only", "come", "its", "over", "think", "also", "back", "after", "use", "two",
        "how", "work", "first", "well", "way", "even", "new", "want", "because", "these", "give", "most", "thanks", "thank", "yes", "okay", "sure",
        "today", "tomorrow", "yesterday", "week", "please", "let", "lets", "get", "got", "did", "does", "done", "been", "being", "were", "who", "why",
        "here", "more", "very", "much", "still", "should", "need", "see", "going", "good", "great", "team", "meeting", "hey", "hi", "hello",
    };

    [GeneratedRegex(@"[a-z][a-z0-9+#\-]{2,}")]
    private static partial Regex Word();

    [LoggerMessage(Level = LogLevel.Debug, Message = "Recommended {Count} collaborators in tenant {TenantId}")]
    private static partial void LogRecommended(ILogger logger, int count, Guid tenantId);
}
