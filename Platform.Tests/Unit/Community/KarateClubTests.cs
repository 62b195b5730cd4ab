using Platform.Core.Community.Algorithms;

namespace Platform.Tests.Unit.Community;

/// <summary>
/// Zachary's karate club (34 members, 78 ties, unweighted). Expected values come from
/// tools/reference/karate_reference.py, an independent plain-Python implementation of NetworkX's
/// pagerank and betweenness_centrality that also asserts the published NetworkX values quoted in
/// shared/reference/domain.md (node 0/33 PageRank and betweenness) to 1e-12.
/// </summary>
public class KarateClubTests
{
    // 1-indexed as in Zachary (1977); converted to NetworkX's 0-indexed nodes below.
    internal static readonly (int A, int B)[] Edges1 =
    [
        (2, 1), (3, 1), (3, 2), (4, 1), (4, 2), (4, 3), (5, 1), (6, 1), (7, 1), (7, 5),
        (7, 6), (8, 1), (8, 2), (8, 3), (8, 4), (9, 1), (9, 3), (10, 3), (11, 1), (11, 5),
        (11, 6), (12, 1), (13, 1), (13, 4), (14, 1), (14, 2), (14, 3), (14, 4), (17, 6), (17, 7),
        (18, 1), (18, 2), (20, 1), (20, 2), (22, 1), (22, 2), (26, 24), (26, 25), (28, 3), (28, 24),
        (28, 25), (29, 3), (30, 24), (30, 27), (31, 2), (31, 9), (32, 1), (32, 25), (32, 26), (32, 29),
        (33, 3), (33, 9), (33, 15), (33, 16), (33, 19), (33, 21), (33, 23), (33, 24), (33, 30), (33, 31),
        (33, 32), (34, 9), (34, 10), (34, 14), (34, 15), (34, 16), (34, 19), (34, 20), (34, 21), (34, 23),
        (34, 24), (34, 27), (34, 28), (34, 29), (34, 30), (34, 31), (34, 32), (34, 33),
    ];

    private static readonly double[] NetworkXPageRank =
    [
        0.09700181758983707, 0.052878391037427, 0.05707842304763673, 0.035860643223064786, 0.021979406974834498, 0.02911334166344221,
        0.029113341663442215, 0.02449075803950918, 0.02976533918616703, 0.014308950284462801, 0.0219794069748345, 0.009564916863537148,
        0.014645186487916191, 0.029536314977202983, 0.014535161524273824, 0.014535161524273824, 0.016785378110253487, 0.014558859774243493,
        0.014535161524273824, 0.019604416711937293, 0.014535161524273824, 0.014558859774243493, 0.014535161524273824, 0.03152091531163227,
        0.021075455001162948, 0.02100562817474579, 0.015043395360629753, 0.0256388035283505, 0.019572960509438537, 0.026287262837112076,
        0.024589336534292478, 0.03715663592267941, 0.07169213006588289, 0.1009179167487121
    ];

    private static readonly double[] NetworkXBetweenness =
    [
        0.43763528138528146, 0.053936688311688304, 0.14365680615680618, 0.011909271284271283, 0.0006313131313131313, 0.02998737373737374,
        0.029987373737373736, 0.0, 0.05592682780182781, 0.0008477633477633477, 0.0006313131313131313, 0.0,
        0.0, 0.04586339586339586, 0.0, 0.0, 0.0, 0.0,
        0.0, 0.03247504810004811, 0.0, 0.0, 0.0, 0.017613636363636363,
        0.0022095959595959595, 0.0038404882154882154, 0.0, 0.02233345358345358, 0.0017947330447330447, 0.0029220779220779218,
        0.014411976911976914, 0.13827561327561325, 0.145247113997114, 0.30407497594997596
    ];

    internal static InteractionGraph Graph() =>
        InteractionGraph.Undirected(34, Edges1.Select(e => new WeightedEdge(e.A - 1, e.B - 1, 1.0)));

    [Fact]
    public void Graph_has_34_members_and_78_ties()
    {
        var g = Graph();
        Assert.Equal(34, g.NodeCount);
        Assert.Equal(156, g.EdgeCount);
        Assert.True(g.IsSymmetric());
    }

    [Fact]
    public void PageRank_equals_networkx_to_1e6()
    {
        var result = PageRank.Compute(Graph(), damping: 0.85);
        Assert.True(result.Converged);
        for (var v = 0; v < 34; v++)
            Assert.True(Math.Abs(result.Scores[v] - NetworkXPageRank[v]) < 1e-6, $"node {v}: {result.Scores[v]} vs {NetworkXPageRank[v]}");
        Assert.Equal(0.1009179167487121, result.Scores[33], 1e-6);
        Assert.Equal(0.09700181758983709, result.Scores[0], 1e-6);
        Assert.Equal(1.0, result.Scores.Sum(), 1e-9);
    }

    [Fact]
    public void Betweenness_equals_networkx_to_1e6()
    {
        var exact = Betweenness.Exact(Graph(), weighted: false);
        for (var v = 0; v < 34; v++)
            Assert.True(Math.Abs(exact[v] - NetworkXBetweenness[v]) < 1e-6, $"node {v}: {exact[v]} vs {NetworkXBetweenness[v]}");
        Assert.Equal(0.43763528138528146, exact[0], 1e-6);
        Assert.Equal(0.30407497594997596, exact[33], 1e-6);
    }

    [Fact]
    public void Weighted_betweenness_with_unit_weights_equals_unweighted()
    {
        var g = Graph();
        var bfs = Betweenness.Exact(g, weighted: false);
        var dijkstra = Betweenness.Exact(g, weighted: true);
        for (var v = 0; v < 34; v++) Assert.Equal(bfs[v], dijkstra[v], 1e-12);
    }

    [Fact]
    public void Sampling_every_source_is_exact_and_fewer_sources_stay_within_the_documented_bound()
    {
        var g = Graph();
        var exact = Betweenness.Exact(g, weighted: false);
        var all = Betweenness.Sampled(g, weighted: false, k: 34, seed: 3);
        for (var v = 0; v < 34; v++) Assert.Equal(exact[v], all[v], 1e-12);
        var bound = Betweenness.SampledErrorBound(34, 20, 0.01);
        var sampled = Betweenness.Sampled(g, weighted: false, k: 20, seed: 3);
        for (var v = 0; v < 34; v++) Assert.True(Math.Abs(sampled[v] - exact[v]) <= bound, $"node {v}");
        var forced = Betweenness.Compute(g, weighted: false, exactNodeLimit: 10, sampleSources: 20);
        Assert.False(forced.Exact);
        Assert.Equal(Betweenness.SampledErrorBound(34, 20, 0.05), forced.ErrorBound95, 12);
    }
}
