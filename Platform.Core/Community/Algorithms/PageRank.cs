namespace Platform.Core.Community.Algorithms;

/// <summary>
/// Weighted PageRank by power iteration, matching NetworkX's <c>pagerank</c>:
/// x' = α·(xᵀP + Σ_dangling x · 1/n) + (1−α)/n, stopping when ‖x'−x‖₁ &lt; n·tol.
/// Dangling nodes (no out-weight) spread their rank uniformly, as NetworkX does by default.
/// </summary>
public static class PageRank
{
    public const string Version = "pagerank-power/1";

    public sealed record Result(double[] Scores, int Iterations, bool Converged);

    public static Result Compute(InteractionGraph g, double damping = 0.85, double tolerance = 1e-6, int maxIterations = 100)
    {
        var n = g.NodeCount;
        if (n == 0) return new Result([], 0, true);
        var x = new double[n];
        var next = new double[n];
        Array.Fill(x, 1.0 / n);
        var inOff = g.InOffsets; var inSrc = g.InSources; var inW = g.InWeights; var strength = g.OutStrength;
        // Per-node share x_u/W_u computed once per iteration; pulling over in-edges keeps writes local.
        var share = new double[n];
        for (var it = 1; it <= maxIterations; it++)
        {
            var dangling = 0.0;
            for (var u = 0; u < n; u++)
            {
                if (strength[u] > 0) share[u] = x[u] / strength[u];
                else { share[u] = 0; dangling += x[u]; }
            }
            var baseline = damping * dangling / n + (1 - damping) / n;
            var err = 0.0;
            for (var v = 0; v < n; v++)
            {
                var sum = 0.0;
                for (var e = inOff[v]; e < inOff[v + 1]; e++) sum += share[inSrc[e]] * inW[e];
                next[v] = damping * sum + baseline;
                err += Math.Abs(next[v] - x[v]);
            }
            (x, next) = (next, x);
            if (err < n * tolerance) return new Result(x, it, true);
        }
        return new Result(x, maxIterations, false);
    }

    /// <summary>
    /// The in-neighbours that contribute most to v's rank: term α·PR(u)·w_uv/W_u, the "why" of a champion.
    /// </summary>
    public static IReadOnlyList<(int Node, double Contribution)> TopContributors(InteractionGraph g, double[] scores, int v, int limit, double damping = 0.85)
    {
        var list = new List<(int, double)>();
        for (var e = g.InOffsets[v]; e < g.InOffsets[v + 1]; e++)
        {
            var u = g.InSources[e];
            list.Add((u, damping * scores[u] * g.InWeights[e] / g.OutStrength[u]));
        }
        return list.OrderByDescending(t => t.Item2).ThenBy(t => t.Item1).Take(limit).ToList();
    }
}
