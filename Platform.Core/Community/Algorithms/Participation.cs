namespace Platform.Core.Community.Algorithms;

/// <summary>
/// Participation coefficient (Guimerà &amp; Amaral 2005) across teams:
/// P_i = 1 − Σ_s (k_is / k_i)², where k_is is the tie strength from i to members of team s.
/// 0 = all ties inside one team; → 1 − 1/S when ties are spread evenly over S teams.
/// Ties to members with no known team (team &lt; 0) are ignored.
/// </summary>
public static class Participation
{
    public const string Version = "participation/1";

    public static double[] Compute(InteractionGraph ties, int[] teamOf, int teamCount)
    {
        var n = ties.NodeCount;
        if (teamOf.Length != n) throw new ArgumentException("teamOf must have one entry per node.", nameof(teamOf));
        var result = new double[n];
        var perTeam = new double[teamCount];
        var touched = new List<int>();
        for (var i = 0; i < n; i++)
        {
            var k = 0.0;
            for (var e = ties.OutOffsets[i]; e < ties.OutOffsets[i + 1]; e++)
            {
                var t = teamOf[ties.OutTargets[e]];
                if (t < 0) continue;
                if (perTeam[t] == 0) touched.Add(t);
                perTeam[t] += ties.OutWeights[e];
                k += ties.OutWeights[e];
            }
            if (k > 0)
            {
                var sumSq = 0.0;
                foreach (var t in touched) { var r = perTeam[t] / k; sumSq += r * r; }
                result[i] = 1 - sumSq;
            }
            foreach (var t in touched) perTeam[t] = 0;
            touched.Clear();
        }
        return result;
    }
}

/// <summary>
/// Burt's (1992) constraint, as NetworkX computes it: with mutual proportional tie strength
/// p_ij = (w_ij + w_ji) / Σ_k (w_ik + w_ki), c_i = Σ_{j∈N(i)} (p_ij + Σ_{q∈N(i), q≠i,j} p_iq·p_qj)².
/// Low constraint = a broker whose contacts are not tied to each other. Isolated nodes get NaN.
/// Cost O(Σ_i Σ_{q∈N(i)} deg(q)) with a dense marker array instead of hash lookups.
/// </summary>
public static class BurtConstraint
{
    public const string Version = "burt-constraint/1";

    /// <param name="ties">A symmetric tie graph (see <see cref="InteractionGraph.Symmetrized"/>).</param>
    public static double[] Compute(InteractionGraph ties) => ComputeWithLocal(ties, null);

    /// <summary>Also reports, per node, the neighbour that constrains it most (the "why").</summary>
    public static double[] ComputeWithLocal(InteractionGraph ties, int[]? largestConstraintFrom)
    {
        var n = ties.NodeCount;
        var off = ties.OutOffsets; var tgt = ties.OutTargets; var w = ties.OutWeights;
        // p for each CSR slot: in a symmetric graph the slot weight already is w_ij + w_ji up to a factor 2 that cancels.
        var p = new double[tgt.Length];
        for (var i = 0; i < n; i++)
        {
            var s = ties.OutStrength[i];
            for (var e = off[i]; e < off[i + 1]; e++) p[e] = w[e] / s;
        }
        var result = new double[n];
        var marker = new int[n]; Array.Fill(marker, -1);
        var acc = new double[n];
        for (var i = 0; i < n; i++)
        {
            if (off[i] == off[i + 1]) { result[i] = double.NaN; if (largestConstraintFrom != null) largestConstraintFrom[i] = -1; continue; }
            for (var e = off[i]; e < off[i + 1]; e++) { marker[tgt[e]] = i; acc[tgt[e]] = p[e]; }
            // Indirect paths i→q→j for j also a neighbour of i.
            for (var e = off[i]; e < off[i + 1]; e++)
            {
                var q = tgt[e]; var piq = p[e];
                for (var f = off[q]; f < off[q + 1]; f++)
                {
                    var j = tgt[f];
                    if (j != i && marker[j] == i) acc[j] += piq * p[f];
                }
            }
            var c = 0.0; var best = -1; var bestVal = -1.0;
            for (var e = off[i]; e < off[i + 1]; e++)
            {
                var local = acc[tgt[e]] * acc[tgt[e]];
                c += local;
                if (local > bestVal) { bestVal = local; best = tgt[e]; }
            }
            result[i] = c;
            if (largestConstraintFrom != null) largestConstraintFrom[i] = best;
        }
        return result;
    }
}

/// <summary>
/// Structural virality (Goel, Anderson, Hofman &amp; Watts 2016): the mean shortest-path distance
/// over all ordered pairs of a diffusion tree, ν = 2W / (n(n−1)) with the Wiener index
/// W = Σ_edges s_e·(n − s_e) — O(n) instead of all-pairs BFS.
/// </summary>
public static class StructuralVirality
{
    public const string Version = "structural-virality/1";

    public sealed record Result(int Size, int Depth, int MaxBreadth, double Virality, double MeanChildrenPerNonLeaf);

    /// <param name="parent">parent[i] is the index of i's parent, −1 for the root; must form one tree.</param>
    public static Result Compute(int[] parent)
    {
        var n = parent.Length;
        if (n == 0) return new Result(0, 0, 0, 0, 0);
        var roots = 0;
        var childCount = new int[n];
        for (var i = 0; i < n; i++)
        {
            if (parent[i] < 0) roots++;
            else if (parent[i] >= n || parent[i] == i) throw new ArgumentException($"Bad parent for node {i}.", nameof(parent));
            else childCount[parent[i]]++;
        }
        if (roots != 1) throw new ArgumentException("A diffusion tree needs exactly one root; split a forest first.", nameof(parent));
        // Depths by walking up with memoisation; detects cycles.
        var depth = new int[n]; Array.Fill(depth, -1);
        var path = new List<int>();
        for (var i = 0; i < n; i++)
        {
            var v = i; path.Clear();
            while (v >= 0 && depth[v] < 0)
            {
                if (path.Count > n) throw new ArgumentException("parent contains a cycle.", nameof(parent));
                path.Add(v); v = parent[v];
            }
            var d = v < 0 ? -1 : depth[v];
            for (var k = path.Count - 1; k >= 0; k--) depth[path[k]] = ++d;
        }
        // Subtree sizes: process nodes deepest first.
        var order = Enumerable.Range(0, n).OrderByDescending(i => depth[i]).ToArray();
        var size = new long[n]; Array.Fill(size, 1L);
        double wiener = 0;
        foreach (var v in order)
        {
            if (parent[v] < 0) continue;
            wiener += (double)size[v] * (n - size[v]);
            size[parent[v]] += size[v];
        }
        var maxDepth = depth.Max();
        var breadth = new int[maxDepth + 1];
        foreach (var d in depth) breadth[d]++;
        var nonLeaves = childCount.Count(c => c > 0);
        return new Result(n, maxDepth, breadth.Max(), n == 1 ? 0 : 2 * wiener / ((double)n * (n - 1)),
            nonLeaves == 0 ? 0 : (double)(n - 1) / nonLeaves);
    }
}

/// <summary>Groups smaller than the floor are never reported individually (re-identification risk).</summary>
public static class KAnonymity
{
    public const int DefaultFloor = 5;

    public static bool IsReportable(int groupSize, int floor = DefaultFloor) => groupSize >= floor;

    /// <summary>Keeps groups at or above the floor; the rest are pooled into one count, itself suppressed if below the floor.</summary>
    public static (IReadOnlyDictionary<TKey, TValue> Reported, int SuppressedGroups, int SuppressedMembers) Apply<TKey, TValue>(
        IEnumerable<(TKey Key, int Size, TValue Value)> groups, int floor = DefaultFloor) where TKey : notnull
    {
        var reported = new Dictionary<TKey, TValue>();
        int suppressedGroups = 0, suppressedMembers = 0;
        foreach (var (key, size, value) in groups)
        {
            if (IsReportable(size, floor)) reported[key] = value;
            else { suppressedGroups++; suppressedMembers += size; }
        }
        return (reported, suppressedGroups, suppressedMembers);
    }
}
