using System.Globalization;
using System.Text.Json;
using Platform.Core.Ai;
using Platform.Core.Community;
using Platform.Core.Community.Algorithms;

/// <summary>
/// Collaborator recommendations against the planted pairs of seeds/community/collaborators-planted.json (offline: the
/// ranking over the same inputs the service builds, no database). For each planted pair, both directions: is the
/// partner in the top 5, and at which rank. Weights are learned only from the "tune" pairs (each tune member accepts
/// their partner and dismisses the best-ranked other candidate, by the documented update); the "heldout" pairs are
/// reported apart and never used to choose anything.
/// </summary>
internal static class CollaboratorEvaluation
{
    public const int K = 5;

    public static int Run(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        var consenting = root.GetProperty("members").EnumerateArray().Where(m => m.GetProperty("consent").GetBoolean())
            .Select(m => m.GetProperty("userId").GetString()!).ToHashSet(StringComparer.Ordinal);
        var messages = root.GetProperty("messages").EnumerateObject().Where(p => consenting.Contains(p.Name))
            .ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(t => t.GetString()!).ToList(), StringComparer.Ordinal);
        var topics = Collaborators.MessageTopics(messages);
        var catalysts = root.GetProperty("catalysts").EnumerateArray().ToList();
        var members = root.GetProperty("members").EnumerateArray().Where(m => consenting.Contains(m.GetProperty("userId").GetString()!)).Select(m =>
        {
            var id = m.GetProperty("userId").GetString()!;
            var mine = catalysts.Where(c => c.GetProperty("contributors").EnumerateArray().Any(x => x.GetString() == id)).ToList();
            var skills = m.GetProperty("skills").EnumerateArray().Select(s => s.GetString()!)
                .Concat(mine.SelectMany(c => c.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!)))
                .Select(CollaboratorInputs.Normalise).Distinct().Order(StringComparer.Ordinal).ToList();
            return new MemberExpertise(id, id, m.GetProperty("team").GetString(), skills,
                [.. mine.Select(c => c.GetProperty("title").GetString()!).Take(5)], topics.GetValueOrDefault(id) ?? []);
        }).ToList();
        var ties = root.GetProperty("signals").EnumerateArray().Select(s => (s.GetProperty("actorId").GetString()!, s.GetProperty("targetId").GetString()!, 1.0)).ToList();
        var activity = ties.GroupBy(t => t.Item1).ToDictionary(g => g.Key, g => (double)g.Count(), StringComparer.Ordinal);
        var pairs = root.GetProperty("pairs").EnumerateArray().Select(p => (A: p.GetProperty("a").GetString()!, B: p.GetProperty("b").GetString()!,
            Split: p.GetProperty("split").GetString()!)).ToList();

        var texts = members.Select(m => m.ExpertiseText()).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        var vectors = LocalMiniLmEmbeddingGenerator.Shared.Encode(texts);
        var embedded = new EmbeddedTexts($"{LocalMiniLmEmbeddingGenerator.ProviderName}:{LocalMiniLmEmbeddingGenerator.ModelId}",
            texts.Zip(vectors).ToDictionary(t => t.First, t => t.Second, StringComparer.Ordinal));
        var withEmbeddings = new CollaboratorInputs(members, embedded, ties, activity);
        var noEmbeddings = new CollaboratorInputs(members, null, ties, activity);
        var none = new HashSet<(string, string)>();

        var learned = CollaboratorWeights.Default;
        foreach (var (a, b, _) in pairs.Where(p => p.Split == "tune"))
        {
            var x = withEmbeddings;
            var top = CollaboratorRanking.Recommend(x, a, learned, none, K).FirstOrDefault(r => r.UserId != b);
            if (top is not null)
                learned = CollaboratorRanking.UpdateWeights(learned, CollaboratorRanking.Features(x, x.PositionById[a], x.PositionById[top.UserId]), CollaboratorOutcome.Dismissed);
            learned = CollaboratorRanking.UpdateWeights(learned, CollaboratorRanking.Features(x, x.PositionById[a], x.PositionById[b]), CollaboratorOutcome.Accepted);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{members.Count} consenting members, {ties.Count} signals, {pairs.Count} planted pairs; {texts.Count} expertise texts embedded by {embedded.Model}; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}"));
        Console.WriteLine($"| ranking | weights (skills, expertise, shared contacts, participation) | tune: recall@{K} / MRR | held-out: recall@{K} / MRR |");
        Console.WriteLine("|---|---|---|---|");
        void Row(string name, CollaboratorInputs x, CollaboratorWeights w)
        {
            var n = w.Normalised();
            var (rt, mt) = Score(x, w, pairs.Where(p => p.Split == "tune").Select(p => (p.A, p.B)).ToList());
            var (rh, mh) = Score(x, w, pairs.Where(p => p.Split == "heldout").Select(p => (p.A, p.B)).ToList());
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | ({n.Skills:0.00}, {n.Expertise:0.00}, {n.SharedContacts:0.00}, {n.Participation:0.00}) | {rt:0.00} / {mt:0.00} | {rh:0.00} / {mh:0.00} |"));
        }
        Row("skill strings only", noEmbeddings, new CollaboratorWeights(1, 0, 0, 0));
        Row("interaction graph only", noEmbeddings, new CollaboratorWeights(0, 0, 1, 0));
        Row("skills + graph + participation, no embeddings", noEmbeddings, CollaboratorWeights.Default);
        Row("collaborators/1 with embeddings, default weights", withEmbeddings, CollaboratorWeights.Default);
        Row("collaborators/1 with embeddings, weights learned from tune feedback", withEmbeddings, learned);
        return 0;
    }

    /// <summary>Recall@K and mean reciprocal rank over both directions of each pair.</summary>
    private static (double Recall, double Mrr) Score(CollaboratorInputs x, CollaboratorWeights w, List<(string A, string B)> pairs)
    {
        double hits = 0, rr = 0;
        var none = new HashSet<(string, string)>();
        foreach (var (from, to) in pairs.SelectMany(p => new[] { (p.A, p.B), (p.B, p.A) }))
        {
            var list = CollaboratorRanking.Recommend(x, from, w, none, x.Members.Count);
            var rank = list.Select((r, i) => (r.UserId, i)).Where(t => t.UserId == to).Select(t => t.i + 1).FirstOrDefault();
            if (rank is > 0 and <= K) hits++;
            if (rank > 0) rr += 1.0 / rank;
        }
        var n = Math.Max(1, 2 * pairs.Count);
        return (hits / n, rr / n);
    }
}
