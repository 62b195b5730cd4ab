using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Platform.Core.Ai;
using Platform.Core.Events.Matching;

/// <summary>
/// Planted-pair recovery on the seed crowd: for every planted pair (both consenting) whether each side finds the other
/// in its top 10, with tag strings only (reciprocal-match/1 weights), with the semantic feature at its default weight,
/// and after the feedback loop learned the weights from the "tuning" half of the pairs (each tuning user meets their
/// partner and declines the top recommendation that is not their partner). The learned weights are scored on the
/// other, held-out half only. Also: how much the top 10 of everyone else changes when the semantic feature is on.
/// </summary>
internal static class PlantedPairs
{
    public static void Run(int attendees)
    {
        var profiles = Enumerable.Range(0, attendees).Select(i => ToProfile(i, JsonSerializer.SerializeToElement(Crowd.Profile(i)))).ToList();
        var pairs = Enumerable.Range(0, attendees - 1).Where(i => Crowd.IsPlanted(i) && profiles[i].ConsentToMatch && profiles[i + 1].ConsentToMatch)
            .Select(i => (A: profiles[i].Id, B: profiles[i + 1].Id)).ToList();
        var tuning = pairs.Where((_, k) => k % 2 == 0).ToList();
        var heldOut = pairs.Where((_, k) => k % 2 == 1).ToList();
        var none = new HashSet<(string, string)>();

        var strings = new MatchingIndex(profiles);
        var watch = Stopwatch.StartNew();
        var texts = profiles.SelectMany(p => p.AllTags()).Distinct(StringComparer.Ordinal).ToList();
        var vectors = LocalMiniLmEmbeddingGenerator.Shared.Encode(texts);
        var embedSeconds = watch.Elapsed.TotalSeconds;
        var map = texts.Zip(vectors).ToDictionary(t => t.First, t => t.Second, StringComparer.Ordinal);
        var semantic = new MatchingIndex(profiles, ProfileEmbeddings.From(new EmbeddedTexts(LocalMiniLmEmbeddingGenerator.ModelId, map)));

        var v1 = new MatchWeights(0.4, 0.4, 0.2, 0);
        var learned = MatchWeights.Default;
        foreach (var (a, b) in tuning)
        {
            int ia = semantic.PositionOf(a), ib = semantic.PositionOf(b);
            var top = ReciprocalMatcher.Recommend(semantic, a, learned, none, 10).FirstOrDefault(r => r.AttendeeId != b);
            if (top is not null)
            {
                learned = ReciprocalMatcher.UpdateWeights(learned, ReciprocalMatcher.Features(semantic, ia, semantic.PositionOf(top.AttendeeId)), MatchOutcome.Declined);
            }
            learned = ReciprocalMatcher.UpdateWeights(learned, ReciprocalMatcher.Features(semantic, ia, ib), MatchOutcome.Met);
        }

        string Row(string name, MatchingIndex x, MatchWeights w, List<(string A, string B)> set) =>
            string.Create(CultureInfo.InvariantCulture, $"| {name} | {set.Count} | {Recall(x, w, set, none):0.000} | {MeanRank(x, w, set, none)} |");
        var others = profiles.Where(p => p.ConsentToMatch && !pairs.Any(q => q.A == p.Id || q.B == p.Id)).Select(p => p.Id).Where((_, k) => k % 10 == 0).ToList();
        var overlap = others.Average(u =>
        {
            var before = ReciprocalMatcher.Recommend(strings, u, v1, none, 10).Select(r => r.AttendeeId).ToHashSet();
            return ReciprocalMatcher.Recommend(semantic, u, MatchWeights.Default, none, 10).Count(r => before.Contains(r.AttendeeId)) / 10.0;
        });

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{attendees} attendees, {pairs.Count} consenting planted pairs ({tuning.Count} tuning, {heldOut.Count} held out); {texts.Count} texts embedded in {embedSeconds:0.0} s by {LocalMiniLmEmbeddingGenerator.ModelId}; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}"));
        Console.WriteLine("| matcher | pairs | recall@10 (both directions) | median rank of partner |");
        Console.WriteLine("|---|---|---|---|");
        Console.WriteLine(Row("tag strings, reciprocal-match/1 weights (0.4, 0.4, 0.2)", strings, v1, pairs));
        Console.WriteLine(Row("+ semantic feature, default weights", semantic, MatchWeights.Default, pairs));
        Console.WriteLine(Row("tag strings, held-out half", strings, v1, heldOut));
        Console.WriteLine(Row("+ semantic, default weights, held-out half", semantic, MatchWeights.Default, heldOut));
        Console.WriteLine(Row(string.Create(CultureInfo.InvariantCulture,
            $"+ semantic, weights learned from the tuning half ({learned.Interests:0.00}, {learned.Complementarity:0.00}, {learned.Bio:0.00}, {learned.Semantic:0.00}), held-out half"),
            semantic, learned, heldOut));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Everyone else (every 10th non-planted attendee, {others.Count}): mean share of the top 10 unchanged by the semantic feature {overlap:0.00}"));
    }

    private static double Recall(MatchingIndex x, MatchWeights w, List<(string A, string B)> pairs, HashSet<(string, string)> none) =>
        pairs.Sum(p => (ReciprocalMatcher.Recommend(x, p.A, w, none, 10).Any(r => r.AttendeeId == p.B) ? 1 : 0)
            + (ReciprocalMatcher.Recommend(x, p.B, w, none, 10).Any(r => r.AttendeeId == p.A) ? 1 : 0)) / (2.0 * Math.Max(1, pairs.Count));

    private static string MeanRank(MatchingIndex x, MatchWeights w, List<(string A, string B)> pairs, HashSet<(string, string)> none)
    {
        var ranks = pairs.Select(p =>
        {
            var list = ReciprocalMatcher.Recommend(x, p.A, w, none, x.Count);
            var k = list.Select((r, i) => (r, i)).FirstOrDefault(t => t.r.AttendeeId == p.B).i;
            return list.Any(r => r.AttendeeId == p.B) ? k + 1 : int.MaxValue;
        }).Order().ToList();
        var median = ranks[ranks.Count / 2];
        return median == int.MaxValue ? "not ranked (score 0)" : median.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The attendee as the Api compiles it (<c>Attendee.ToProfile</c>): role, industry and skills join the bio.</summary>
    internal static AttendeeProfile ToProfile(int i, JsonElement p)
    {
        var skills = p.GetProperty("skills").EnumerateArray().Select(e => e.GetString()!).ToList();
        string? S(string name) => p.GetProperty(name).GetString();
        return new AttendeeProfile(Crowd.Id(i), S("displayName")!, S("company"),
            p.GetProperty("interests").EnumerateObject().ToDictionary(e => e.Name, e => e.Value.GetDouble()),
            [.. p.GetProperty("offering").EnumerateArray().Select(e => e.GetString()!)],
            [.. p.GetProperty("seeking").EnumerateArray().Select(e => e.GetString()!)],
            string.Join(' ', new[] { S("bio"), S("role"), S("industry") }.Concat(skills).Where(s => !string.IsNullOrWhiteSpace(s))),
            p.GetProperty("consentToMatch").GetBoolean(), skills);
    }
}
