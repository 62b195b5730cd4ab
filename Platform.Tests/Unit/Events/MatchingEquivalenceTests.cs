using Platform.Core.Ai;
using Platform.Core.Events.Matching;

namespace Platform.Tests.Unit.Events;

/// <summary>
/// Pins what <see cref="ReciprocalMatcher.Recommend"/> returns — ids, order, scores and features to the last bit,
/// reasons and starters — against the matcher written out pair by pair (the formula of docs/matchmaking.md as it
/// stood before the scoring loop was optimised), over a generated crowd that has every edge case of the formula.
/// </summary>
public class MatchingEquivalenceTests
{
    private static readonly string[] Pool =
    [
        "ai", "machine learning", "ML models", "kubernetes", "k8s", "climate tech", "energy", "solar", "payments", "fintech",
        "banking", "rust", "golang", "Go  language", "privacy", "security", "design", "accessibility", "music", "jazz",
        "gardening", "cooking", "robotics", "iot", "sensors", "hiring", "leadership", "mentoring", "seed funding", "grants",
    ];

    private static readonly string[] Words =
        [.. "scaling platform teams latency pipelines reliability customers growth research models training inference compliance audits cloud costs onboarding mentoring hiring funding privacy payments grid solar carbon sensors".Split(' ')];

    /// <summary>
    /// 160 attendees: interests with priorities (and case/space variants of one tag), no interests, no needs, no tags at
    /// all, no consent, shared companies, clones (equal scores, so ties), and tags without an embedding.
    /// </summary>
    internal static List<AttendeeProfile> Crowd(int n = 160)
    {
        var rng = new Random(42);
        string Pick(string[] from) => from[rng.Next(from.Length)];
        var list = new List<AttendeeProfile>();
        for (var i = 0; i < n; i++)
        {
            if (i % 23 == 5)
            {
                var c = list[i - 1]; // a clone under another id and company: every score ties with the original's
                list.Add(c with { Id = $"p{i:D3}", DisplayName = $"Person {i}", Company = $"Clone {i}" });
                continue;
            }
            var interests = new Dictionary<string, double>();
            var count = i % 17 == 3 ? 0 : 2 + rng.Next(5);
            while (interests.Count < count) interests[Pick(Pool)] = 1 + rng.Next(3);
            if (i % 11 == 0 && interests.Count > 0) interests[interests.Keys.First().ToUpperInvariant() + " "] = 3;
            string[] Tags(int k) => i % 29 == 7 ? [] : [.. Enumerable.Range(0, k).Select(_ => Pick(Pool)).Distinct()];
            list.Add(new AttendeeProfile($"p{i:D3}", $"Person {i}", i % 9 == 0 ? null : $"Company {rng.Next(40)}", interests,
                Tags(rng.Next(3)), i % 5 == 0 ? [] : Tags(1 + rng.Next(2)),
                i % 13 == 0 ? null : string.Join(' ', Enumerable.Range(0, 5 + rng.Next(15)).Select(_ => Pick(Words))),
                rng.NextDouble() < 0.9, i % 3 == 0 ? Tags(2) : null));
        }
        return list;
    }

    /// <summary>Vectors near one of six directions per tag, unit length; every seventh tag has none.</summary>
    internal static ProfileEmbeddings Embeddings(IReadOnlyList<AttendeeProfile> profiles)
    {
        var rng = new Random(7);
        var centres = Enumerable.Range(0, 6).Select(_ => Enumerable.Range(0, 16).Select(_ => rng.NextDouble() - 0.5).ToArray()).ToArray();
        var tags = profiles.SelectMany(p => p.AllTags()).Distinct().Order(StringComparer.Ordinal).ToList();
        var map = new Dictionary<string, float[]>(StringComparer.Ordinal);
        for (var k = 0; k < tags.Count; k++)
        {
            if (k % 7 == 6) continue;
            var centre = centres[k % centres.Length];
            var v = centre.Select(c => c + 0.35 * (rng.NextDouble() - 0.5)).ToArray();
            var norm = Math.Sqrt(v.Sum(d => d * d));
            map[tags[k]] = [.. v.Select(d => (float)(d / norm))];
        }
        return new ProfileEmbeddings("test-vectors", map);
    }

    [Fact]
    public void Recommendations_equal_the_pair_by_pair_formula_bit_for_bit()
    {
        var profiles = Crowd();
        var declined = new HashSet<(string, string)> { ("p001", "p002"), ("p040", "p010"), ("p077", "p078"), ("p100", "unknown") };
        var strings = new MatchingIndex(profiles);
        var semantic = new MatchingIndex(profiles, Embeddings(profiles));
        Assert.NotNull(semantic.EmbeddingModel);
        var learned = new MatchWeights(0.7, 0.1, 0.15, 0.05);
        (MatchingIndex X, MatchWeights W, int Limit)[] cases =
        [
            (strings, MatchWeights.Default, 10), (strings, learned, profiles.Count), (semantic, MatchWeights.Default, 10),
            (semantic, MatchWeights.Default, profiles.Count), (semantic, learned, 10), (semantic, new MatchWeights(0, 0, 0, 1), 10),
        ];
        var lists = 0;
        var ties = 0;
        var related = 0;
        foreach (var (x, weights, limit) in cases)
            for (var a = 0; a < x.Count; a++)
            {
                var expected = Reference.Recommend(x, a, weights, declined, limit);
                var actual = ReciprocalMatcher.Recommend(x, profiles[a].Id, weights, declined, limit);
                Assert.Equal(expected.Count, actual.Count);
                for (var k = 0; k < expected.Count; k++)
                {
                    var (e, g) = (expected[k], actual[k]);
                    Assert.Equal(e.AttendeeId, g.AttendeeId);
                    Assert.Equal(e.Score, g.Score);
                    Assert.Equal(e.ScoreForUser, g.ScoreForUser);
                    Assert.Equal(e.ScoreForMatch, g.ScoreForMatch);
                    Assert.Equal(e.UserToMatch, g.UserToMatch);
                    Assert.Equal(e.MatchToUser, g.MatchToUser);
                    Assert.Equal(e.Reasons, g.Reasons);
                    Assert.Equal(e.ConversationStarter, g.ConversationStarter);
                }
                lists += expected.Count > 0 ? 1 : 0;
                ties += expected.Zip(expected.Skip(1)).Count(p => p.First.Score == p.Second.Score);
                related += expected.Count(m => m.Reasons.Any(r => r.StartsWith("Related in meaning", StringComparison.Ordinal)));
            }
        // The crowd is not degenerate: most consenting attendees get a list, some scores tie, some reasons are semantic.
        Assert.True(lists > cases.Length * 100, $"{lists} non-empty lists");
        Assert.True(ties > 0 && related > 0, $"{ties} ties, {related} semantic reasons");
    }

    [Fact]
    public void Recommendations_of_many_attendees_equal_those_of_one_at_a_time()
    {
        var profiles = Crowd();
        var x = new MatchingIndex(profiles, Embeddings(profiles));
        var declined = new HashSet<(string, string)> { ("p001", "p002"), ("p040", "p010") };
        var targets = profiles.Select(p => p.Id).Where((_, i) => i % 2 == 0).ToList();
        var lists = ReciprocalMatcher.RecommendMany(x, targets, MatchWeights.Default, declined, 20);
        Assert.Equal(targets.Count, lists.Length);
        for (var i = 0; i < targets.Count; i++)
        {
            var one = ReciprocalMatcher.Recommend(x, targets[i], MatchWeights.Default, declined, 20);
            Assert.Equal(one.Select(m => (m.AttendeeId, m.Score, m.UserToMatch, m.MatchToUser, m.ConversationStarter)),
                lists[i].Select(m => (m.AttendeeId, m.Score, m.UserToMatch, m.MatchToUser, m.ConversationStarter)));
            Assert.Equal(one.Select(m => m.Reasons), lists[i].Select(m => m.Reasons));
        }
    }

    /// <summary>The matcher as it was written before the scoring loop was optimised: every feature computed per pair.</summary>
    private static class Reference
    {
        public static List<MatchRecommendation> Recommend(MatchingIndex x, int a, MatchWeights weights, ISet<(string, string)> declined, int limit)
        {
            var w = weights.Normalised();
            if (!x.Profiles[a].ConsentToMatch || limit <= 0) return [];
            var scored = new List<(int B, double S)>();
            for (var b = 0; b < x.Count; b++)
            {
                if (Excluded(x, a, b, declined)) continue;
                var s = ReciprocalMatcher.HarmonicMean(ReciprocalMatcher.Directional(w, Features(x, a, b)), ReciprocalMatcher.Directional(w, Features(x, b, a)));
                if (s > 0) scored.Add((b, s));
            }
            return [.. scored.OrderByDescending(t => t.S).ThenBy(t => t.B).Take(limit).Select(t =>
            {
                var ab = Features(x, a, t.B); var ba = Features(x, t.B, a);
                var (reasons, starter) = Explain(x, a, t.B);
                return new MatchRecommendation(x.Profiles[t.B].Id, t.S, ReciprocalMatcher.Directional(w, ab), ReciprocalMatcher.Directional(w, ba), ab, ba, reasons, starter);
            })];
        }

        private static bool Excluded(MatchingIndex x, int a, int b, ISet<(string, string)> declined)
        {
            if (a == b || !x.Profiles[a].ConsentToMatch || !x.Profiles[b].ConsentToMatch) return true;
            if (x.Company[a] is { } ca && ca == x.Company[b]) return true;
            return declined.Contains((x.Profiles[a].Id, x.Profiles[b].Id)) || declined.Contains((x.Profiles[b].Id, x.Profiles[a].Id));
        }

        private static MatchFeatures Features(MatchingIndex x, int a, int b) => new(
            WeightedJaccard(x, a, b),
            x.SeekIds[a].Length == 0 ? 0 : (double)Intersect(x.SeekIds[a], x.OfferIds[b]).Count() / x.SeekIds[a].Length,
            SparseDot(x.BioTerms[a], x.BioValues[a], x.BioTerms[b], x.BioValues[b]),
            Semantic(x, a, b));

        private static double Semantic(MatchingIndex x, int a, int b)
        {
            if (x.EmbeddingModel is null || x.AboutIds[b].Length == 0) return 0;
            var from = x.InterestIds[a].Length > 0 ? x.InterestIds[a] : x.AboutIds[a];
            var about = SoftCover(x, from, x.AboutIds[b]);
            return x.SeekIds[a].Length > 0 ? (about + SoftCover(x, x.SeekIds[a], x.AboutIds[b])) / 2 : about;
        }

        private static double SoftCover(MatchingIndex x, int[] from, int[] to)
        {
            if (from.Length == 0) return 0;
            var sum = 0.0;
            foreach (var t in from) sum += Closest(x, t, to).Similarity;
            return sum / from.Length;
        }

        private static (int Tag, double Similarity) Closest(MatchingIndex x, int t, int[] to)
        {
            (int Tag, double Similarity) best = (-1, 0);
            foreach (var u in to)
            {
                var s = u == t ? 1 : Math.Clamp((StoredEmbeddings.Cosine(x.TagVectors[t], x.TagVectors[u]) - ReciprocalMatcher.SemanticFloor) / (1 - ReciprocalMatcher.SemanticFloor), 0, 1);
                if (s > best.Similarity) best = (u, s);
            }
            return best;
        }

        private static (IReadOnlyList<string> Reasons, string Starter) Explain(MatchingIndex x, int a, int b)
        {
            var other = x.Profiles[b];
            var reasons = new List<string>();
            var shared = Shared(x.InterestIds[a], x.InterestIds[b], (i, j) => Math.Min(x.InterestWeights[a][i], x.InterestWeights[b][j]), x.Tags).Take(3).ToList();
            var theyOffer = Intersect(x.SeekIds[a], x.OfferIds[b]).Select(t => x.Tags[t]).Take(2).ToList();
            var youOffer = Intersect(x.SeekIds[b], x.OfferIds[a]).Select(t => x.Tags[t]).Take(2).ToList();
            var terms = Shared(x.BioTerms[a], x.BioTerms[b], (i, j) => x.BioValues[a][i] * x.BioValues[b][j], x.Terms).Take(3).ToList();
            if (shared.Count > 0) reasons.Add($"You both follow {Join(shared)}.");
            if (theyOffer.Count > 0) reasons.Add($"{other.DisplayName} offers {Join(theyOffer)}, which you are looking for.");
            if (youOffer.Count > 0) reasons.Add($"You offer {Join(youOffer)}, which {other.DisplayName} is looking for.");
            if (terms.Count > 0) reasons.Add($"Your bios both mention {Join(terms)}.");
            var close = x.EmbeddingModel is null ? [] : x.AboutIds[a].Concat(x.SeekIds[a]).Distinct()
                .Select(t => (From: t, Match: Closest(x, t, [.. x.AboutIds[b].Where(u => u != t)])))
                .Where(p => p.Match.Tag >= 0 && p.Match.Similarity > 0).OrderByDescending(p => p.Match.Similarity).Take(2).ToList();
            if (close.Count > 0)
                reasons.Add(FormattableString.Invariant($"Related in meaning: {string.Join("; ", close.Select(p => $"your {x.Tags[p.From]} ~ {other.DisplayName}'s {x.Tags[p.Match.Tag]} ({p.Match.Similarity:0.00})"))} by {x.EmbeddingModel}."));
            var starter =
                theyOffer.Count > 0 ? $"Ask {other.DisplayName} about {theyOffer[0]} — it's what you came to find." :
                youOffer.Count > 0 ? $"{other.DisplayName} is looking for {youOffer[0]}: tell them how you could help." :
                shared.Count > 0 ? $"You both follow {shared[0]}: ask {other.DisplayName} what they're working on in it." :
                terms.Count > 0 ? $"You both mention {terms[0]} — ask {other.DisplayName} how it shows up in their work." :
                $"Ask {other.DisplayName} what brought them to the conference.";
            return (reasons, starter);
        }

        private static IEnumerable<string> Shared(int[] ia, int[] ib, Func<int, int, double> weight, string[] names)
        {
            var list = new List<(string Name, double W)>();
            for (int i = 0, j = 0; i < ia.Length && j < ib.Length;)
            {
                if (ia[i] == ib[j]) { list.Add((names[ia[i]], weight(i, j))); i++; j++; }
                else if (ia[i] < ib[j]) i++; else j++;
            }
            return list.OrderByDescending(t => t.W).ThenBy(t => t.Name, StringComparer.Ordinal).Select(t => t.Name);
        }

        private static double WeightedJaccard(MatchingIndex x, int a, int b)
        {
            int[] ia = x.InterestIds[a], ib = x.InterestIds[b];
            double[] wa = x.InterestWeights[a], wb = x.InterestWeights[b];
            double min = 0;
            for (int i = 0, j = 0; i < ia.Length && j < ib.Length;)
            {
                if (ia[i] == ib[j]) { min += Math.Min(wa[i], wb[j]); i++; j++; }
                else if (ia[i] < ib[j]) i++; else j++;
            }
            var unionMax = x.InterestTotal[a] + x.InterestTotal[b] - min;
            return unionMax <= 0 ? 0 : min / unionMax;
        }

        private static IEnumerable<int> Intersect(int[] a, int[] b)
        {
            for (int i = 0, j = 0; i < a.Length && j < b.Length;)
            {
                if (a[i] == b[j]) { yield return a[i]; i++; j++; } else if (a[i] < b[j]) i++; else j++;
            }
        }

        private static double SparseDot(int[] ta, double[] va, int[] tb, double[] vb)
        {
            var s = 0.0;
            for (int i = 0, j = 0; i < ta.Length && j < tb.Length;)
            {
                if (ta[i] == tb[j]) { s += va[i] * vb[j]; i++; j++; } else if (ta[i] < tb[j]) i++; else j++;
            }
            return s;
        }

        private static string Join(List<string> items) => items.Count switch
        {
            1 => items[0],
            2 => $"{items[0]} and {items[1]}",
            _ => string.Join(", ", items[..^1]) + " and " + items[^1],
        };
    }
}
