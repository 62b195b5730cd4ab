using System.Diagnostics;
using Platform.Core.Community.Algorithms;
using Xunit.Abstractions;

namespace Platform.Tests.Unit.Community;

public class StructuralHoleTests
{
    private static InteractionGraph Undirected(int n, params (int, int)[] edges) =>
        InteractionGraph.Undirected(n, edges.Select(e => new WeightedEdge(e.Item1, e.Item2, 1)));

    [Fact]
    public void Constraint_of_a_triangle_is_1_125_for_everyone()
    {
        // p = 1/2 to each neighbour; indirect via the third node 1/2·1/2; (1/2 + 1/4)² · 2 = 1.125.
        var c = BurtConstraint.Compute(Undirected(3, (0, 1), (1, 2), (0, 2)));
        Assert.All(c, v => Assert.Equal(1.125, v, 12));
    }

    [Fact]
    public void Star_centre_is_least_constrained_and_leaves_fully_constrained()
    {
        var c = BurtConstraint.Compute(Undirected(4, (0, 1), (0, 2), (0, 3)));
        Assert.Equal(1.0 / 3, c[0], 12); // 3 · (1/3)²
        Assert.Equal(1.0, c[1], 12);
    }

    [Fact]
    public void Constraint_uses_mutual_weights_and_isolated_is_nan()
    {
        // 0–1 weight 3, 0–2 weight 1, 1–2 weight 1 (hand computed).
        var g = InteractionGraph.FromEdges(4, [new(0, 1, 2), new(1, 0, 1), new(0, 2, 1), new(1, 2, 1)]).Symmetrized();
        var c = BurtConstraint.Compute(g);
        // Node 0: p01 = 3/4, p02 = 1/4; node 1: p10 = 3/4, p12 = 1/4; node 2: p20 = 1/2, p21 = 1/2.
        // c0 = (3/4 + 1/4·1/2)² + (1/4 + 3/4·1/4)² = 0.765625 + 0.19140625
        Assert.Equal(0.765625 + 0.19140625, c[0], 12);
        Assert.True(double.IsNaN(c[3]));
    }

    [Fact]
    public void Participation_hand_computed_values()
    {
        // Node 3 ties: 4 (team 1), 5 (team 2), 1 (team 0) → 1 − 3·(1/3)² = 2/3.
        // Node 1 ties: 0 (team 0), 3 (team 1) → 1 − 2·(1/2)² = 1/2.
        var g = Undirected(6, (0, 1), (0, 2), (3, 4), (3, 5), (3, 1));
        var p = Participation.Compute(g, [0, 0, 0, 1, 1, 2], 3);
        Assert.Equal(2.0 / 3, p[3], 12);
        Assert.Equal(0.5, p[1], 12);
        Assert.Equal(0, p[2], 12);
    }
}

public class DiffusionAndPulseTests
{
    [Fact]
    public void Virality_of_star_and_chain_matches_hand_computation()
    {
        // Star of 4: distances 1,1,1,2,2,2 → 9/6 = 1.5. Chain of 4: 1,1,1,2,2,3 → 10/6.
        var star = StructuralVirality.Compute([-1, 0, 0, 0]);
        Assert.Equal(1.5, star.Virality, 12);
        Assert.Equal(1, star.Depth);
        Assert.Equal(3, star.MaxBreadth);
        var chain = StructuralVirality.Compute([-1, 0, 1, 2]);
        Assert.Equal(10.0 / 6, chain.Virality, 12);
        Assert.Equal(3, chain.Depth);
        Assert.True(chain.Virality > star.Virality);
    }

    [Fact]
    public void Virality_equals_brute_force_mean_pairwise_distance_on_random_trees()
    {
        var rng = new Random(5);
        for (var trial = 0; trial < 20; trial++)
        {
            var n = rng.Next(2, 60);
            var parent = new int[n];
            parent[0] = -1;
            for (var i = 1; i < n; i++) parent[i] = rng.Next(0, i);
            var adj = Enumerable.Range(0, n).Select(_ => new List<int>()).ToArray();
            for (var i = 1; i < n; i++) { adj[i].Add(parent[i]); adj[parent[i]].Add(i); }
            double total = 0;
            for (var s = 0; s < n; s++)
            {
                var d = Enumerable.Repeat(-1, n).ToArray(); d[s] = 0;
                var q = new Queue<int>([s]);
                while (q.Count > 0) { var v = q.Dequeue(); foreach (var w in adj[v]) if (d[w] < 0) { d[w] = d[v] + 1; q.Enqueue(w); } }
                total += d.Sum();
            }
            Assert.Equal(total / (n * (n - 1.0)), StructuralVirality.Compute(parent).Virality, 9);
        }
    }

    [Fact]
    public void Virality_rejects_forests_and_cycles()
    {
        Assert.Throws<ArgumentException>(() => StructuralVirality.Compute([-1, -1]));
        Assert.Throws<ArgumentException>(() => StructuralVirality.Compute([-1, 2, 1]));
    }

    [Fact]
    public void Sentiment_negation_flips_and_intensity_scales()
    {
        var good = SentimentScorer.Score("The retro was good.");
        var notGood = SentimentScorer.Score("The retro was not good.");
        var veryGood = SentimentScorer.Score("The retro was very good.");
        var slightlyGood = SentimentScorer.Score("The retro was slightly good.");
        Assert.Equal("positive", good.Label);
        Assert.Equal("negative", notGood.Label);
        Assert.True(veryGood.Compound > good.Compound);
        Assert.True(slightlyGood.Compound < good.Compound && slightlyGood.Compound > 0);
        Assert.Equal("positive", SentimentScorer.Score("Honestly the launch wasn't bad at all").Label);
        Assert.Equal("neutral", SentimentScorer.Score("The meeting is on Tuesday in room 4.").Label);
        // Compound normalisation x/√(x²+15): one "good" (1.9) → 0.4405.
        Assert.Equal(1.9 / Math.Sqrt(1.9 * 1.9 + 15), good.Compound, 4);
    }

    [Fact]
    public void Sentiment_but_clause_dominates_and_lexicon_is_a_few_hundred_words()
    {
        var s = SentimentScorer.Score("The offsite was fun but the planning was chaotic and stressful");
        Assert.Equal("negative", s.Label);
        Assert.InRange(SentimentScorer.LexiconSize, 300, 1000);
    }

    [Fact]
    public void Psychological_safety_reverse_scores_items_1_3_5()
    {
        Assert.True(PsychologicalSafety.IsReverseScored(1) && PsychologicalSafety.IsReverseScored(3) && PsychologicalSafety.IsReverseScored(5));
        Assert.False(PsychologicalSafety.IsReverseScored(2) || PsychologicalSafety.IsReverseScored(7));
        // Safest possible answers: disagree (1) with negative items, agree (7) with positive ones.
        Assert.Equal(7.0, PsychologicalSafety.ScoreRespondent([1, 7, 1, 7, 1, 7, 7]), 12);
        Assert.Equal(1.0, PsychologicalSafety.ScoreRespondent([7, 1, 7, 1, 7, 1, 1]), 12);
        // (8−2 + 5 + 8−3 + 6 + 8−4 + 5 + 6)/7 = 37/7
        Assert.Equal(37.0 / 7, PsychologicalSafety.ScoreRespondent([2, 5, 3, 6, 4, 5, 6]), 12);
        Assert.Throws<ArgumentOutOfRangeException>(() => PsychologicalSafety.ScoreRespondent([0, 5, 3, 6, 4, 5, 6]));
    }

    [Fact]
    public void Team_safety_is_suppressed_below_the_k_anonymity_floor()
    {
        IReadOnlyList<int>[] four = [[2, 5, 3, 6, 4, 5, 6], [1, 6, 2, 6, 2, 6, 7], [3, 4, 3, 5, 4, 4, 5], [2, 6, 2, 6, 3, 5, 6]];
        var small = PsychologicalSafety.ScoreTeam(four);
        Assert.False(small.Reportable);
        Assert.Null(small.Mean);
        var five = PsychologicalSafety.ScoreTeam([.. four, [1, 7, 1, 7, 1, 7, 7]]);
        Assert.True(five.Reportable);
        Assert.Equal(new[] { 37.0 / 7, 44.0 / 7, 32.0 / 7, 40.0 / 7, 7.0 }.Average(), five.Mean!.Value, 12);
        Assert.NotNull(five.CronbachAlpha);
    }

    [Fact]
    public void K_anonymity_floor_pools_small_groups()
    {
        var (reported, groups, members) = KAnonymity.Apply([("eng", 12, 0.4), ("ops", 4, 0.9), ("hr", 2, 0.1), ("sales", 5, 0.2)]);
        Assert.Equal(["eng", "sales"], reported.Keys.Order());
        Assert.Equal(2, groups);
        Assert.Equal(6, members);
    }

    [Fact]
    public void Recency_decay_halves_each_half_life()
    {
        var now = DateTimeOffset.Parse("2026-01-31T00:00:00Z");
        Assert.Equal(3.0, RecencyDecay.Weight(3, now, now, TimeSpan.FromDays(14)), 12);
        Assert.Equal(1.5, RecencyDecay.Weight(3, now.AddDays(-14), now, TimeSpan.FromDays(14)), 12);
        Assert.Equal(0.75, RecencyDecay.Weight(3, now.AddDays(-28), now, TimeSpan.FromDays(14)), 12);
    }
}

/// <summary>Timing tests run alone so the other tests do not share their two cores.</summary>
[CollectionDefinition("Timing", DisableParallelization = true)]
public class TimingCollection;

[Collection("Timing")]
public class ChampionRankingTests(ITestOutputHelper output)
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2026-03-01T00:00:00Z");

    [Fact]
    public void Bridge_between_two_teams_is_top_connector_and_most_replied_is_top_champion()
    {
        // Two cliques (team 0: 0..4, team 1: 5..9); member 4 also ties to 5 and 6 → the bridge.
        // Everyone in team 0 replies to member 1 → the champion.
        var signals = new List<InteractionSignal>();
        void Both(int a, int b) { signals.Add(new(a, b, SignalKind.Mention, Now.AddDays(-2))); signals.Add(new(b, a, SignalKind.Mention, Now.AddDays(-2))); }
        for (var a = 0; a < 5; a++) for (var b = a + 1; b < 5; b++) Both(a, b);
        for (var a = 5; a < 10; a++) for (var b = a + 1; b < 10; b++) Both(a, b);
        Both(4, 5); Both(4, 6);
        foreach (var a in new[] { 0, 2, 3, 4 }) for (var k = 0; k < 3; k++) signals.Add(new(a, 1, SignalKind.Reply, Now.AddDays(-1)));
        signals.Add(new(0, 1, SignalKind.Reply, Now.AddDays(-90))); // outside the window: ignored
        var result = ChampionRanking.Rank(10, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1], signals, Now);

        Assert.Equal(1, result.Champions[0].Member);
        Assert.Equal(1, result.Champions[0].Rank);
        Assert.NotEmpty(result.Champions[0].Why);
        Assert.Contains(result.Champions[0].Why, r => r.Member is 0 or 2 or 3 or 4);
        Assert.Equal(4, result.Connectors[0].Member);
        Assert.Contains(result.Connectors[0].Why, r => r.Member is 5 or 6 && r.Relation == "cross-team tie");
        Assert.True(result.Connectors[0].Components["participation"] > 0);
        Assert.True(result.BetweennessExact);
        Assert.Equal(signals.Count - 1, result.SignalsUsed);
    }

    [Fact]
    public void Sampled_betweenness_error_on_a_2500_node_graph_is_within_the_documented_bound()
    {
        // Preferential attachment (each newcomer ties to 3 members, popular ones likelier): hubs like a real community.
        var rng = new Random(23);
        const int n = 2_500;
        var edges = new List<WeightedEdge> { new(0, 1, 1), new(1, 2, 1), new(0, 2, 1) };
        var ends = new List<int> { 0, 1, 1, 2, 0, 2 };
        for (var v = 3; v < n; v++)
            for (var k = 0; k < 3; k++) { var u = ends[rng.Next(ends.Count)]; edges.Add(new(v, u, 1)); ends.Add(u); ends.Add(v); }
        var g = InteractionGraph.Undirected(n, edges);
        var exact = Betweenness.Exact(g, weighted: false);
        var sampled = Betweenness.Sampled(g, weighted: false, k: Betweenness.DefaultSampleSources, seed: 17);
        var maxError = exact.Zip(sampled, (a, b) => Math.Abs(a - b)).Max();
        var bound = Betweenness.SampledErrorBound(n, Betweenness.DefaultSampleSources, 0.05);
        var topExact = Enumerable.Range(0, n).OrderByDescending(i => exact[i]).Take(20).ToHashSet();
        var topSampled = Enumerable.Range(0, n).OrderByDescending(i => sampled[i]).Take(20);
        var overlap = topSampled.Count(topExact.Contains);
        output.WriteLine($"2,500 nodes, k=200: max |error| {maxError:E2} (bound95 {bound:F3}), max exact {exact.Max():F4}, top-20 overlap {overlap}/20");
        Assert.True(maxError <= bound);
        Assert.True(overlap >= 14, $"top-20 overlap {overlap}");
    }
}
