namespace Platform.Core.Community.Algorithms;

/// <summary>One weighted, directed relation between two members (dense indices 0..n-1).</summary>
public readonly record struct WeightedEdge(int Source, int Target, double Weight);

/// <summary>
/// Weighted directed interaction graph in compressed sparse row form (out- and in-adjacency).
/// Parallel edges are merged by summing weights and self-loops are dropped, so every algorithm
/// sees one edge per ordered pair. Arrays, not dictionaries, because the ranking job walks
/// 10^5–10^6 edges many times.
/// </summary>
public sealed class InteractionGraph
{
    public int NodeCount { get; }
    /// <summary>Out-adjacency: targets of node u are OutTargets[OutOffsets[u]..OutOffsets[u+1]).</summary>
    public int[] OutOffsets { get; }
    public int[] OutTargets { get; }
    public double[] OutWeights { get; }
    /// <summary>In-adjacency: sources of node v are InSources[InOffsets[v]..InOffsets[v+1]).</summary>
    public int[] InOffsets { get; }
    public int[] InSources { get; }
    public double[] InWeights { get; }
    /// <summary>Sum of out-edge weights per node (W_u in PageRank).</summary>
    public double[] OutStrength { get; }

    public int EdgeCount => OutTargets.Length;

    private InteractionGraph(int n, int[] outOff, int[] outTgt, double[] outW, int[] inOff, int[] inSrc, double[] inW)
    {
        NodeCount = n;
        OutOffsets = outOff; OutTargets = outTgt; OutWeights = outW;
        InOffsets = inOff; InSources = inSrc; InWeights = inW;
        OutStrength = new double[n];
        for (var u = 0; u < n; u++)
            for (var e = outOff[u]; e < outOff[u + 1]; e++) OutStrength[u] += outW[e];
    }

    /// <summary>Builds a directed graph. Non-positive weights and self-loops are ignored.</summary>
    public static InteractionGraph FromEdges(int nodeCount, IEnumerable<WeightedEdge> edges)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nodeCount);
        var list = new List<WeightedEdge>();
        foreach (var e in edges)
        {
            if ((uint)e.Source >= (uint)nodeCount || (uint)e.Target >= (uint)nodeCount)
                throw new ArgumentOutOfRangeException(nameof(edges), $"Edge {e.Source}->{e.Target} outside 0..{nodeCount - 1}.");
            if (e.Source == e.Target || !(e.Weight > 0) || double.IsInfinity(e.Weight)) continue;
            list.Add(e);
        }
        // Sort by the packed key (source, target) so duplicates are adjacent and rows come out ordered;
        // primitive keys sort several times faster than a comparison delegate over structs.
        var keys = new long[list.Count];
        var weights = new double[list.Count];
        for (var k = 0; k < list.Count; k++) { keys[k] = ((long)list[k].Source << 32) | (uint)list[k].Target; weights[k] = list[k].Weight; }
        Array.Sort(keys, weights);
        var m = 0;
        for (var k = 0; k < keys.Length; k++)
        {
            if (m > 0 && keys[m - 1] == keys[k]) weights[m - 1] += weights[k];
            else { keys[m] = keys[k]; weights[m] = weights[k]; m++; }
        }
        var outOff = new int[nodeCount + 1];
        var inOff = new int[nodeCount + 1];
        for (var k = 0; k < m; k++) { outOff[(int)(keys[k] >> 32) + 1]++; inOff[(int)(uint)keys[k] + 1]++; }
        for (var i = 0; i < nodeCount; i++) { outOff[i + 1] += outOff[i]; inOff[i + 1] += inOff[i]; }
        var outTgt = new int[m]; var outW = new double[m];
        var inSrc = new int[m]; var inW = new double[m];
        var inPos = (int[])inOff.Clone();
        for (var k = 0; k < m; k++)
        {
            int source = (int)(keys[k] >> 32), target = (int)(uint)keys[k];
            outTgt[k] = target; outW[k] = weights[k]; // keys are sorted by source, so k is the CSR slot
            var p = inPos[target]++;
            inSrc[p] = source; inW[p] = weights[k];
        }
        return new InteractionGraph(nodeCount, outOff, outTgt, outW, inOff, inSrc, inW);
    }

    /// <summary>Undirected graph: each pair {a,b} becomes a→b and b→a with the same weight.</summary>
    public static InteractionGraph Undirected(int nodeCount, IEnumerable<WeightedEdge> edges) =>
        FromEdges(nodeCount, edges.SelectMany(e => new[] { e, new WeightedEdge(e.Target, e.Source, e.Weight) }));

    /// <summary>
    /// Symmetric "tie strength" view: weight(a,b) = w(a→b) + w(b→a). Used by betweenness,
    /// participation and constraint, which reason about ties regardless of who spoke first.
    /// </summary>
    public InteractionGraph Symmetrized()
    {
        var edges = new List<WeightedEdge>(EdgeCount * 2);
        for (var u = 0; u < NodeCount; u++)
            for (var e = OutOffsets[u]; e < OutOffsets[u + 1]; e++)
            {
                edges.Add(new WeightedEdge(u, OutTargets[e], OutWeights[e]));
                edges.Add(new WeightedEdge(OutTargets[e], u, OutWeights[e]));
            }
        return FromEdges(NodeCount, edges);
    }

    public bool IsSymmetric()
    {
        for (var u = 0; u < NodeCount; u++)
            for (var e = OutOffsets[u]; e < OutOffsets[u + 1]; e++)
                if (WeightOf(OutTargets[e], u) != OutWeights[e]) return false;
        return true;
    }

    /// <summary>Weight of u→v or 0; binary search in the sorted CSR row.</summary>
    public double WeightOf(int u, int v)
    {
        var i = Array.BinarySearch(OutTargets, OutOffsets[u], OutOffsets[u + 1] - OutOffsets[u], v);
        return i >= 0 ? OutWeights[i] : 0;
    }
}

/// <summary>Exponential recency decay: a signal loses half its weight every half-life.</summary>
public static class RecencyDecay
{
    public const string Version = "recency-decay/1";

    /// <summary>weight × 2^(−age/halfLife); future-dated signals count at full weight.</summary>
    public static double Weight(double baseWeight, DateTimeOffset occurredAt, DateTimeOffset asOf, TimeSpan halfLife)
    {
        if (halfLife <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(halfLife));
        var age = (asOf - occurredAt).TotalSeconds;
        if (age <= 0) return baseWeight;
        return baseWeight * Math.Pow(2, -age / halfLife.TotalSeconds);
    }
}
