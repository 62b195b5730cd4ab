using System.Globalization;
using Platform.Core.Ai;

namespace Platform.Core.Community.Algorithms;

/// <summary>Per-tenant weights of the four directional components; kept summing to 1, moved by feedback.</summary>
public sealed record CollaboratorWeights(double Skills, double Expertise, double SharedContacts, double Participation)
{
    public static CollaboratorWeights Default { get; } = new(0.3, 0.3, 0.25, 0.15);

    public CollaboratorWeights Normalised()
    {
        var sum = Skills + Expertise + SharedContacts + Participation;
        return sum <= 0 ? Default : new CollaboratorWeights(Skills / sum, Expertise / sum, SharedContacts / sum, Participation / sum);
    }

    public double[] ToArray() => [Skills, Expertise, SharedContacts, Participation];
}

/// <summary>
/// Components of one direction a→b (what b is worth to a as a collaborator): skill overlap, expertise similarity and
/// shared contacts are symmetric; participation is b's, so the two directions differ when one side is much less active.
/// </summary>
public readonly record struct CollaboratorFeatures(double SkillOverlap, double ExpertiseSimilarity, double SharedContacts, double Participation)
{
    public double[] ToArray() => [SkillOverlap, ExpertiseSimilarity, SharedContacts, Participation];
}

/// <summary>What one member brings: skills and learning tags (normalised), the titles of learning catalysts they
/// contributed to, and the top terms of their recent messages.</summary>
public sealed record MemberExpertise(string UserId, string DisplayName, string? Team, IReadOnlyList<string> Skills, IReadOnlyList<string> Catalysts,
    IReadOnlyList<string> MessageTopics)
{
    /// <summary>The text that is embedded; null when the member has said nothing about themselves yet.</summary>
    public string? ExpertiseText()
    {
        var parts = new List<string>();
        if (Skills.Count > 0) parts.Add(string.Join(", ", Skills));
        if (Catalysts.Count > 0) parts.Add(string.Join(", ", Catalysts));
        if (MessageTopics.Count > 0) parts.Add(string.Join(", ", MessageTopics));
        return parts.Count == 0 ? null : string.Join(". ", parts);
    }
}

public enum CollaboratorOutcome { Accepted, Dismissed }

public sealed record CollaboratorRecommendation(string UserId, string DisplayName, string? Team, double Score, double ScoreForMember, double ScoreForCandidate,
    CollaboratorFeatures MemberToCandidate, CollaboratorFeatures CandidateToMember, IReadOnlyList<string> Reasons);

/// <summary>
/// Everything the ranking needs, compiled once per request: consenting members only (others are not in it at all),
/// their expertise vectors, the undirected interaction graph between them, and each one's activity.
/// </summary>
public sealed class CollaboratorInputs
{
    public IReadOnlyList<MemberExpertise> Members { get; }
    public IReadOnlyDictionary<string, int> PositionById { get; }
    internal readonly HashSet<string>[] SkillSets;
    internal readonly float[]?[] Vectors;
    internal readonly Dictionary<int, double>[] Ties;
    internal readonly double[] Participation;
    public string? EmbeddingModel { get; }

    /// <param name="interactions">Undirected tie weights (signals between two members in the window, both directions summed).</param>
    /// <param name="activity">Signals each member sent in the window.</param>
    public CollaboratorInputs(IReadOnlyList<MemberExpertise> members, EmbeddedTexts? embeddings,
        IEnumerable<(string A, string B, double Weight)> interactions, IReadOnlyDictionary<string, double> activity)
    {
        Members = members;
        var n = members.Count;
        var pos = new Dictionary<string, int>(n, StringComparer.Ordinal);
        for (var i = 0; i < n; i++) pos[members[i].UserId] = i;
        PositionById = pos;
        SkillSets = [.. members.Select(m => m.Skills.Select(Normalise).Where(s => s.Length > 0).ToHashSet(StringComparer.Ordinal))];
        Vectors = [.. members.Select(m => embeddings?.Of(m.ExpertiseText()))];
        EmbeddingModel = Vectors.Any(v => v is not null) ? embeddings?.Model : null;
        Ties = [.. Enumerable.Range(0, n).Select(_ => new Dictionary<int, double>())];
        foreach (var (a, b, w) in interactions)
        {
            if (w <= 0 || !pos.TryGetValue(a, out var i) || !pos.TryGetValue(b, out var j) || i == j) continue;
            Ties[i][j] = Ties[i].GetValueOrDefault(j) + w;
            Ties[j][i] = Ties[j].GetValueOrDefault(i) + w;
        }
        // p = x / (x + median x): half-way at a typical member, saturating for the very active.
        var counts = members.Select(m => activity.GetValueOrDefault(m.UserId)).ToArray();
        var positive = counts.Where(c => c > 0).Order().ToArray();
        var median = positive.Length == 0 ? 1 : Math.Max(1, positive[positive.Length / 2]);
        Participation = [.. counts.Select(c => c / (c + median))];
    }

    public static string Normalise(string tag) => string.Join(' ', tag.Trim().ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries));

    public bool AreConnected(int a, int b) => Ties[a].ContainsKey(b);
}

/// <summary>
/// Collaborator recommendations (reciprocal, RECON-style like conference matchmaking):
/// s(a→b) = w_S·Jaccard(skills) + w_E·r(cos(expertise_a, expertise_b)) + w_N·(1 − e^(−AdamicAdar(a,b))) + w_P·participation(b);
/// the pair score is the harmonic mean of s(a→b) and s(b→a). People who already interact directly are not
/// recommended (they know each other); neither is a pair either side dismissed or already accepted.
/// </summary>
public static class CollaboratorRanking
{
    public const string Algorithm = "collaborator-recommendations";
    public const string Version = "collaborators/1";
    public const double LearningRate = 0.5, MinimumWeight = 0.05;
    /// <summary>Cosine below this is what unrelated expertise texts score with all-MiniLM-L6-v2; see docs/community.md.</summary>
    public const double SemanticFloor = 0.3;

    public static CollaboratorFeatures Features(CollaboratorInputs x, int a, int b)
    {
        var sa = x.SkillSets[a]; var sb = x.SkillSets[b];
        var inter = sa.Count(sb.Contains);
        var union = sa.Count + sb.Count - inter;
        var cos = StoredEmbeddings.Cosine(x.Vectors[a], x.Vectors[b]);
        var semantic = x.Vectors[a] is null || x.Vectors[b] is null ? 0 : Math.Clamp((cos - SemanticFloor) / (1 - SemanticFloor), 0, 1);
        var aa = 0.0;
        foreach (var z in x.Ties[a].Keys)
        {
            if (z != b && x.Ties[b].ContainsKey(z)) aa += 1 / Math.Log(1 + x.Ties[z].Count);
        }
        return new CollaboratorFeatures(union == 0 ? 0 : (double)inter / union, semantic, 1 - Math.Exp(-aa), x.Participation[b]);
    }

    public static double Directional(CollaboratorWeights w, CollaboratorFeatures f) =>
        w.Skills * f.SkillOverlap + w.Expertise * f.ExpertiseSimilarity + w.SharedContacts * f.SharedContacts + w.Participation * f.Participation;

    public static double PairScore(CollaboratorInputs x, int a, int b, CollaboratorWeights w)
    {
        w = w.Normalised();
        double ab = Directional(w, Features(x, a, b)), ba = Directional(w, Features(x, b, a));
        return ab + ba <= 0 ? 0 : 2 * ab * ba / (ab + ba);
    }

    /// <param name="closed">Pairs (either order) that are never recommended again: dismissed or accepted.</param>
    /// <param name="candidates">When set, only these members are considered (e.g. a team lead's view of another team).</param>
    public static IReadOnlyList<CollaboratorRecommendation> Recommend(CollaboratorInputs x, string userId, CollaboratorWeights weights,
        ISet<(string, string)> closed, int limit = 10)
    {
        if (!x.PositionById.TryGetValue(userId, out var a) || limit <= 0) return [];
        var w = weights.Normalised();
        var scored = new List<(int B, double Score)>();
        for (var b = 0; b < x.Members.Count; b++)
        {
            if (b == a || x.AreConnected(a, b)) continue;
            var other = x.Members[b].UserId;
            if (closed.Contains((userId, other)) || closed.Contains((other, userId))) continue;
            var s = PairScore(x, a, b, w);
            if (s > 0) scored.Add((b, s));
        }
        return [.. scored.OrderByDescending(t => t.Score).ThenBy(t => x.Members[t.B].UserId, StringComparer.Ordinal).Take(limit).Select(t =>
        {
            var ab = Features(x, a, t.B); var ba = Features(x, t.B, a);
            var m = x.Members[t.B];
            return new CollaboratorRecommendation(m.UserId, m.DisplayName, m.Team, t.Score, Directional(w, ab), Directional(w, ba), ab, ba, Reasons(x, a, t.B, ab));
        })];
    }

    /// <summary>
    /// Online update from feedback on a shown candidate: target 1 accepted, 0 dismissed; p = s(a→b);
    /// w_k ← max(0.05, w_k + η·(y − p)·f_k), η = 0.5, renormalised — the matchmaking rule.
    /// </summary>
    public static CollaboratorWeights UpdateWeights(CollaboratorWeights current, CollaboratorFeatures shown, CollaboratorOutcome outcome)
    {
        var w = current.Normalised();
        var error = (outcome == CollaboratorOutcome.Accepted ? 1.0 : 0.0) - Directional(w, shown);
        return new CollaboratorWeights(
            Math.Max(MinimumWeight, w.Skills + LearningRate * error * shown.SkillOverlap),
            Math.Max(MinimumWeight, w.Expertise + LearningRate * error * shown.ExpertiseSimilarity),
            Math.Max(MinimumWeight, w.SharedContacts + LearningRate * error * shown.SharedContacts),
            Math.Max(MinimumWeight, w.Participation + LearningRate * error * shown.Participation)).Normalised();
    }

    private static List<string> Reasons(CollaboratorInputs x, int a, int b, CollaboratorFeatures f)
    {
        var reasons = new List<string>();
        var other = x.Members[b];
        var shared = x.SkillSets[a].Where(x.SkillSets[b].Contains).Order(StringComparer.Ordinal).Take(3).ToList();
        if (shared.Count > 0) reasons.Add($"Both have {string.Join(", ", shared)}.");
        if (f.ExpertiseSimilarity > 0 && other.ExpertiseText() is { } text)
            reasons.Add(string.Create(CultureInfo.InvariantCulture, $"Related expertise: {other.DisplayName} works on {text} (similarity {f.ExpertiseSimilarity:0.00} by {x.EmbeddingModel})."));
        var common = x.Ties[a].Keys.Where(z => z != b && x.Ties[b].ContainsKey(z)).Select(z => x.Members[z].DisplayName).Order(StringComparer.Ordinal).ToList();
        if (common.Count > 0) reasons.Add($"{common.Count} shared contact{(common.Count == 1 ? "" : "s")}: {string.Join(", ", common.Take(3))}.");
        if (f.Participation >= 0.5) reasons.Add($"{other.DisplayName} takes an active part in the community.");
        return reasons;
    }
}
