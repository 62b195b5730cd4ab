namespace Platform.Core.Community.Algorithms;

/// <summary>
/// Brandes (2001) betweenness centrality, normalised like NetworkX
/// (<c>normalized=True, endpoints=False</c>): the sum of pair dependencies over all sources,
/// times 1/((n−1)(n−2)) — for an undirected graph each pair is reached from both ends, which is
/// exactly NetworkX's 2/((n−1)(n−2)) over unordered pairs.
/// Weighted mode treats an edge's distance as 1/weight (a strong tie is a short path).
/// </summary>
public static class Betweenness
{
    public const string Version = "brandes/1";

    /// <summary>Above this many nodes <see cref="Compute"/> samples sources instead of running all n.</summary>
    public const int DefaultExactNodeLimit = 2_000;
    /// <summary>Sources sampled above the limit; see <see cref="SampledErrorBound"/> for the guarantee.</summary>
    public const int DefaultSampleSources = 200;

    public sealed record Result(double[] Scores, bool Exact, int SourcesUsed, double ErrorBound95);

    /// <summary>Exact up to <paramref name="exactNodeLimit"/> nodes, sampled (k sources, fixed seed) beyond.</summary>
    public static Result Compute(InteractionGraph g, bool weighted, int exactNodeLimit = DefaultExactNodeLimit,
        int sampleSources = DefaultSampleSources, int seed = 17)
    {
        if (g.NodeCount <= exactNodeLimit || sampleSources >= g.NodeCount)
            return new Result(Exact(g, weighted), true, g.NodeCount, 0);
        return new Result(Sampled(g, weighted, sampleSources, seed), false, sampleSources,
            SampledErrorBound(g.NodeCount, sampleSources, 0.05));
    }

    public static double[] Exact(InteractionGraph g, bool weighted) =>
        Accumulate(g, weighted, Enumerable.Range(0, g.NodeCount).ToArray(), 1.0);

    /// <summary>
    /// Source-sampling estimator (Brandes &amp; Pich 2007; NetworkX's <c>k</c>): run Brandes from k
    /// distinct uniformly chosen sources and scale by n/k. Unbiased.
    /// </summary>
    public static double[] Sampled(InteractionGraph g, bool weighted, int k, int seed)
    {
        var n = g.NodeCount;
        k = Math.Clamp(k, 1, Math.Max(1, n));
        var order = Enumerable.Range(0, n).ToArray();
        new Random(seed).Shuffle(order);
        return Accumulate(g, weighted, order[..k], (double)n / k);
    }

    /// <summary>
    /// Hoeffding bound for the sampled estimate of one node's normalised betweenness: each source
    /// contributes X_s = n·δ_s(v)/((n−1)(n−2)) ∈ [0, n/(n−1)], so with probability ≥ 1−failure
    /// |estimate − exact| ≤ n/(n−1) · sqrt(ln(2/failure) / (2k)). For k = 200 at 95 % that is ≈ 0.096;
    /// it is a worst-case absolute bound — for the top connectors the observed error is far smaller.
    /// </summary>
    public static double SampledErrorBound(int n, int k, double failureProbability) =>
        n <= 1 || k <= 0 ? double.PositiveInfinity
            : (double)n / (n - 1) * Math.Sqrt(Math.Log(2 / failureProbability) / (2.0 * k));

    private sealed class Workspace
    {
        public readonly int[] Stack, Sigma0; public readonly double[] Sigma, Dist, Delta, Local;
        public readonly int[] PredHead, PredNext, PredNode; public int PredCount;
        public readonly int[] Heap, HeapPos; public int HeapCount;
        public readonly int[] Queue;
        public Workspace(int n, int m)
        {
            Stack = new int[n]; Sigma0 = new int[n]; Queue = new int[n];
            Sigma = new double[n]; Dist = new double[n]; Delta = new double[n]; Local = new double[n];
            PredHead = new int[n]; PredNext = new int[m + 1]; PredNode = new int[m + 1];
            Heap = new int[n]; HeapPos = new int[n];
        }
    }

    private static double[] Accumulate(InteractionGraph g, bool weighted, int[] sources, double sourceScale)
    {
        var n = g.NodeCount;
        var total = new double[n];
        if (n <= 2) return total;
        var gate = new object();
        // Parallel over sources: each worker owns its buffers and a local sum, merged once at the end.
        Parallel.For(0, sources.Length,
            () => new Workspace(n, g.EdgeCount),
            (i, _, ws) => { SingleSource(g, weighted, sources[i], ws); return ws; },
            ws => { lock (gate) for (var v = 0; v < n; v++) total[v] += ws.Local[v]; });
        var scale = sourceScale / ((n - 1.0) * (n - 2.0));
        for (var v = 0; v < n; v++) total[v] *= scale;
        return total;
    }

    private static void SingleSource(InteractionGraph g, bool weighted, int s, Workspace ws)
    {
        var n = g.NodeCount;
        var off = g.OutOffsets; var tgt = g.OutTargets; var w = g.OutWeights;
        var sigma = ws.Sigma; var dist = ws.Dist; var delta = ws.Delta;
        var predHead = ws.PredHead; var predNext = ws.PredNext; var predNode = ws.PredNode;
        Array.Fill(dist, -1.0); Array.Clear(sigma); Array.Clear(delta); Array.Fill(predHead, -1);
        ws.PredCount = 0;
        var stackTop = 0;
        sigma[s] = 1; dist[s] = 0;
        if (!weighted)
        {
            var head = 0; var tail = 0;
            ws.Queue[tail++] = s;
            while (head < tail)
            {
                var v = ws.Queue[head++];
                ws.Stack[stackTop++] = v;
                for (var e = off[v]; e < off[v + 1]; e++)
                {
                    var x = tgt[e];
                    if (dist[x] < 0) { dist[x] = dist[v] + 1; ws.Queue[tail++] = x; }
                    if (dist[x] == dist[v] + 1) { sigma[x] += sigma[v]; AddPred(ws, x, v); }
                }
            }
        }
        else
        {
            // Dijkstra with an indexed binary heap (decrease-key): the heap never holds more than n entries.
            var seen = delta; Array.Fill(seen, double.PositiveInfinity);
            var pos = ws.HeapPos; Array.Fill(pos, -1);
            var settled = ws.Sigma0; Array.Clear(settled);
            ws.HeapCount = 0;
            seen[s] = 0; HeapPush(ws, seen, s);
            while (ws.HeapCount > 0)
            {
                var v = HeapPop(ws, seen);
                var d = seen[v];
                settled[v] = 1; dist[v] = d;
                ws.Stack[stackTop++] = v;
                for (var e = off[v]; e < off[v + 1]; e++)
                {
                    var x = tgt[e];
                    if (settled[x] != 0) continue;
                    var nd = d + 1.0 / w[e];
                    if (nd < seen[x])
                    {
                        seen[x] = nd;
                        if (pos[x] < 0) HeapPush(ws, seen, x); else SiftUp(ws, seen, pos[x]);
                        sigma[x] = sigma[v]; predHead[x] = -1; AddPred(ws, x, v);
                    }
                    else if (nd == seen[x]) { sigma[x] += sigma[v]; AddPred(ws, x, v); }
                }
            }
            Array.Clear(delta);
        }
        // Dependency accumulation in order of non-increasing distance from s.
        var local = ws.Local;
        while (stackTop > 0)
        {
            var x = ws.Stack[--stackTop];
            var coeff = (1 + delta[x]) / sigma[x];
            for (var p = predHead[x]; p >= 0; p = predNext[p])
            {
                var v = predNode[p];
                delta[v] += sigma[v] * coeff;
            }
            if (x != s) local[x] += delta[x];
        }
    }

    private static void HeapPush(Workspace ws, double[] key, int v)
    {
        var i = ws.HeapCount++;
        ws.Heap[i] = v; ws.HeapPos[v] = i;
        SiftUp(ws, key, i);
    }

    private static int HeapPop(Workspace ws, double[] key)
    {
        var heap = ws.Heap; var pos = ws.HeapPos;
        var top = heap[0];
        pos[top] = -1;
        var last = heap[--ws.HeapCount];
        if (ws.HeapCount == 0) return top;
        var i = 0; var n = ws.HeapCount; var k = key[last];
        while (true)
        {
            var c = 2 * i + 1;
            if (c >= n) break;
            if (c + 1 < n && key[heap[c + 1]] < key[heap[c]]) c++;
            if (key[heap[c]] >= k) break;
            heap[i] = heap[c]; pos[heap[i]] = i; i = c;
        }
        heap[i] = last; pos[last] = i;
        return top;
    }

    private static void SiftUp(Workspace ws, double[] key, int i)
    {
        var heap = ws.Heap; var pos = ws.HeapPos;
        var v = heap[i]; var k = key[v];
        while (i > 0)
        {
            var parent = (i - 1) / 2;
            if (key[heap[parent]] <= k) break;
            heap[i] = heap[parent]; pos[heap[i]] = i; i = parent;
        }
        heap[i] = v; pos[v] = i;
    }

    private static void AddPred(Workspace ws, int x, int v)
    {
        var p = ws.PredCount++;
        ws.PredNode[p] = v; ws.PredNext[p] = ws.PredHead[x]; ws.PredHead[x] = p;
    }
}
