using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Platform.Core.Ai;

namespace Platform.Core.Events.Matching;

/// <summary>What an attendee tells the matcher. Interest weights express priority (default 1).</summary>
public sealed record AttendeeProfile(
    string Id, string DisplayName, string? Company, IReadOnlyDictionary<string, double> Interests,
    IReadOnlyList<string> Offering, IReadOnlyList<string> Seeking, string? Bio, bool ConsentToMatch, IReadOnlyList<string>? Skills = null)
{
    /// <summary>Every tag of the profile (interests, skills, offers, needs), normalised: the texts that are embedded.</summary>
    public IEnumerable<string> AllTags() =>
        Interests.Keys.Concat(Skills ?? []).Concat(Offering).Concat(Seeking).Select(MatchingIndex.NormaliseTag).Where(t => t.Length > 0);
}

/// <summary>Per-conference weights of the four directional components; kept summing to 1.</summary>
public sealed record MatchWeights(double Interests, double Complementarity, double Bio, double Semantic = 0)
{
    /// <summary>(0.4, 0.4, 0.2, 0.25) normalised: the column defaults of a new conference.</summary>
    public static MatchWeights Default { get; } = new(0.4 / 1.25, 0.4 / 1.25, 0.2 / 1.25, 0.25 / 1.25);

    public MatchWeights Normalised()
    {
        var sum = Interests + Complementarity + Bio + Semantic;
        return sum <= 0 ? Default : new MatchWeights(Interests / sum, Complementarity / sum, Bio / sum, Semantic / sum);
    }
}

/// <summary>
/// Components of one direction a→b: interest overlap and bio similarity are symmetric; complementarity is not, and
/// neither is semantic similarity (it also compares what a seeks with what b is about).
/// </summary>
public readonly record struct MatchFeatures(double InterestOverlap, double Complementarity, double BioSimilarity, double SemanticSimilarity = 0);

/// <summary>Embeddings of the normalised tags (<see cref="AttendeeProfile.AllTags"/>) by tag text, from one model.</summary>
public sealed record ProfileEmbeddings(string Model, IReadOnlyDictionary<string, float[]> Tags)
{
    public static ProfileEmbeddings From(EmbeddedTexts texts) => new(texts.Model, texts.ByText);
}

public enum MatchOutcome { Accepted, Declined, Met }

public sealed record MatchRecommendation(
    string AttendeeId, double Score, double ScoreForUser, double ScoreForMatch,
    MatchFeatures UserToMatch, MatchFeatures MatchToUser, IReadOnlyList<string> Reasons, string ConversationStarter);

/// <summary>
/// Attendees compiled once per conference: tags interned to ints (sorted arrays), bios turned into
/// L2-normalised TF-IDF vectors (sorted term ids), companies normalised. Scoring one attendee
/// against all others is then merge-joins over short sorted arrays — no allocation per pair.
/// </summary>
public sealed partial class MatchingIndex
{
    internal readonly AttendeeProfile[] Profiles;
    internal readonly Dictionary<string, int> PositionById;
    internal readonly string[] Tags;
    internal readonly string[] Terms;
    internal readonly int[][] InterestIds; internal readonly double[][] InterestWeights; internal readonly double[] InterestTotal;
    internal readonly int[][] OfferIds; internal readonly int[][] SeekIds;
    internal readonly int[][] BioTerms; internal readonly double[][] BioValues;
    internal readonly string?[] Company;
    /// <summary>Each attendee's normalised company as an int (−1 without one) and their consent: the exclusions per pair.</summary>
    internal readonly int[] CompanyIds; internal readonly bool[] Consent;
    /// <summary>Interests, skills and offers per attendee (what they are about), and each tag's embedding (null without).</summary>
    internal readonly int[][] AboutIds; internal readonly float[]?[] TagVectors;

    /// <summary>
    /// Up to this many distinct tags, each tag's row of r(cos) against every tag is kept once computed (at most
    /// 2,048² doubles, 32 MiB; a conference has a few hundred tags). Above it a row is computed for each use.
    /// </summary>
    public const int CachedSimilarityTags = 2048;
    private readonly double[]?[]? _similarityRows;

    /// <summary>The embedding model behind the semantic feature; null when the index was built without embeddings.</summary>
    public string? EmbeddingModel { get; }

    private static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "i", "in", "is", "it", "its", "of", "on",
        "or", "that", "the", "to", "was", "we", "with", "my", "our", "me", "you", "your", "am", "this", "who", "about", "into",
        "currently", "also", "love", "work", "working", "based", "years", "year",
    };

    public int Count => Profiles.Length;

    public MatchingIndex(IReadOnlyList<AttendeeProfile> attendees, ProfileEmbeddings? embeddings = null)
    {
        Profiles = [.. attendees];
        var n = Profiles.Length;
        EmbeddingModel = embeddings?.Model;
        PositionById = new Dictionary<string, int>(n, StringComparer.Ordinal);
        for (var i = 0; i < n; i++)
            if (!PositionById.TryAdd(Profiles[i].Id, i)) throw new ArgumentException($"Duplicate attendee {Profiles[i].Id}.", nameof(attendees));
        var tagIds = new Dictionary<string, int>(StringComparer.Ordinal);
        int Tag(string t) { t = NormaliseTag(t); if (!tagIds.TryGetValue(t, out var id)) tagIds[t] = id = tagIds.Count; return id; }
        InterestIds = new int[n][]; InterestWeights = new double[n][]; InterestTotal = new double[n];
        OfferIds = new int[n][]; SeekIds = new int[n][]; Company = new string?[n]; AboutIds = new int[n][];
        for (var i = 0; i < n; i++)
        {
            var p = Profiles[i];
            var interests = new SortedDictionary<int, double>();
            foreach (var (tag, w) in p.Interests) if (w > 0) { var id = Tag(tag); interests[id] = Math.Max(interests.GetValueOrDefault(id), w); }
            InterestIds[i] = [.. interests.Keys]; InterestWeights[i] = [.. interests.Values]; InterestTotal[i] = interests.Values.Sum();
            OfferIds[i] = p.Offering.Select(Tag).Distinct().Order().ToArray();
            SeekIds[i] = p.Seeking.Select(Tag).Distinct().Order().ToArray();
            AboutIds[i] = InterestIds[i].Concat((p.Skills ?? []).Select(Tag)).Concat(OfferIds[i]).Distinct().Order().ToArray();
            Company[i] = string.IsNullOrWhiteSpace(p.Company) ? null : p.Company.Trim().ToLowerInvariant();
        }
        Tags = new string[tagIds.Count];
        foreach (var (t, id) in tagIds) Tags[id] = t;
        TagVectors = [.. Tags.Select(t => embeddings?.Tags.GetValueOrDefault(t))];
        if (!TagVectors.Any(v => v is not null)) EmbeddingModel = null;
        if (EmbeddingModel is not null && Tags.Length <= CachedSimilarityTags) _similarityRows = new double[]?[Tags.Length];
        var companyIds = new Dictionary<string, int>(StringComparer.Ordinal);
        CompanyIds = new int[n]; Consent = new bool[n];
        for (var i = 0; i < n; i++)
        {
            Consent[i] = Profiles[i].ConsentToMatch;
            if (Company[i] is not { } c) { CompanyIds[i] = -1; continue; }
            if (!companyIds.TryGetValue(c, out var id)) companyIds[c] = id = companyIds.Count;
            CompanyIds[i] = id;
        }

        // TF-IDF over bios: sublinear tf (1 + ln tf), smoothed idf ln((1+N)/(1+df)) + 1, L2-normalised.
        var termIds = new Dictionary<string, int>(StringComparer.Ordinal);
        var docs = new Dictionary<int, int>[n];
        var df = new List<int>();
        for (var i = 0; i < n; i++)
        {
            var counts = new Dictionary<int, int>();
            foreach (Match m in WordRegex().Matches(Profiles[i].Bio ?? ""))
            {
                var w = m.Value.ToLowerInvariant();
                if (w.Length < 2 || StopWords.Contains(w)) continue;
                if (!termIds.TryGetValue(w, out var id)) { termIds[w] = id = termIds.Count; df.Add(0); }
                counts[id] = counts.GetValueOrDefault(id) + 1;
            }
            foreach (var id in counts.Keys) df[id]++;
            docs[i] = counts;
        }
        Terms = new string[termIds.Count];
        foreach (var (t, id) in termIds) Terms[id] = t;
        BioTerms = new int[n][]; BioValues = new double[n][];
        for (var i = 0; i < n; i++)
        {
            var ids = docs[i].Keys.Order().ToArray();
            var vals = ids.Select(id => (1 + Math.Log(docs[i][id])) * (Math.Log((1.0 + n) / (1 + df[id])) + 1)).ToArray();
            var norm = Math.Sqrt(vals.Sum(v => v * v));
            if (norm > 0) for (var k = 0; k < vals.Length; k++) vals[k] /= norm;
            BioTerms[i] = ids; BioValues[i] = vals;
        }
    }

    /// <summary>r(cos) of two tags' embeddings, 1 for the same tag (<see cref="ReciprocalMatcher.Semantic"/>).</summary>
    internal double TagSimilarity(int t, int u) =>
        _similarityRows is not null ? SimilarityRow(t)[u] : u == t ? 1 : ReciprocalMatcher.Rescale(StoredEmbeddings.Cosine(TagVectors[t], TagVectors[u]));

    /// <summary>
    /// Tag <paramref name="t"/>'s similarity to every tag. Symmetric: the cosine multiplies the same float pairs in
    /// the same order either way round, so row t at u is bit for bit row u at t.
    /// </summary>
    internal double[] SimilarityRow(int t)
    {
        if (_similarityRows is not null && Volatile.Read(ref _similarityRows[t]) is { } cached) return cached;
        var row = new double[Tags.Length];
        for (var u = 0; u < row.Length; u++)
            row[u] = u == t ? 1 : ReciprocalMatcher.Rescale(StoredEmbeddings.Cosine(TagVectors[t], TagVectors[u]));
        // Two threads may compute the same row; the values are equal, the first one stored is kept.
        return _similarityRows is null ? row : Interlocked.CompareExchange(ref _similarityRows[t], row, null) ?? row;
    }

    public static string NormaliseTag(string tag) => string.Join(' ', tag.Trim().ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries));

    public int PositionOf(string attendeeId) =>
        PositionById.TryGetValue(attendeeId, out var i) ? i : throw new KeyNotFoundException($"Unknown attendee {attendeeId}.");

    [GeneratedRegex(@"[A-Za-z][A-Za-z0-9+#\-]*")]
    private static partial Regex WordRegex();
}

/// <summary>
/// Reciprocal matchmaking (RECON-style, Pizzato et al. 2010): each direction
/// s(a→b) = w_I·weightedJaccard(interests) + w_C·|seek_a ∩ offer_b|/|seek_a| + w_B·cos_TFIDF(bios);
/// the pair score is the harmonic mean of s(a→b) and s(b→a), so a match must suit both sides.
/// </summary>
public static class ReciprocalMatcher
{
    public const string Version = "reciprocal-match/2";
    /// <summary>
    /// Cosine below this is what unrelated short tags score with all-MiniLM-L6-v2 (see docs/matchmaking.md);
    /// the semantic feature rescales [floor, 1] to [0, 1] so that noise does not count as similarity.
    /// </summary>
    public const double SemanticFloor = 0.25;
    /// <summary>Learning rate and floor of the online weight update (docs/matchmaking.md).</summary>
    public const double LearningRate = 0.5, MinimumWeight = 0.05;

    public static MatchFeatures Features(MatchingIndex x, int a, int b) => new(
        WeightedJaccard(x, a, b),
        x.SeekIds[a].Length == 0 ? 0 : (double)IntersectCount(x.SeekIds[a], x.OfferIds[b]) / x.SeekIds[a].Length,
        SparseDot(x.BioTerms[a], x.BioValues[a], x.BioTerms[b], x.BioValues[b]),
        Semantic(x, a, b));

    /// <summary>
    /// Soft tag overlap: for each of a's interests (all of a's tags when a lists no interests) the closest of b's
    /// interests, skills and offers, r(max cos), averaged; when a seeks something, averaged half and half with the
    /// same over a's needs. r(c) = clamp((c − floor) / (1 − floor), 0, 1); an identical tag scores 1, 0 without embeddings.
    /// </summary>
    public static double Semantic(MatchingIndex x, int a, int b)
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

    /// <summary>The tag of <paramref name="to"/> closest in meaning to tag <paramref name="t"/>, and r(cos).</summary>
    private static (int Tag, double Similarity) Closest(MatchingIndex x, int t, int[] to)
    {
        (int Tag, double Similarity) best = (-1, 0);
        foreach (var u in to)
        {
            var s = x.TagSimilarity(t, u);
            if (s > best.Similarity) best = (u, s);
        }
        return best;
    }

    internal static double Rescale(double cosine) => Math.Clamp((cosine - SemanticFloor) / (1 - SemanticFloor), 0, 1);

    public static double Directional(MatchWeights w, MatchFeatures f) =>
        w.Interests * f.InterestOverlap + w.Complementarity * f.Complementarity + w.Bio * f.BioSimilarity + w.Semantic * f.SemanticSimilarity;

    public static double HarmonicMean(double x, double y) => x + y <= 0 ? 0 : 2 * x * y / (x + y);

    public static double PairScore(MatchingIndex x, int a, int b, MatchWeights w)
    {
        w = w.Normalised();
        return HarmonicMean(Directional(w, Features(x, a, b)), Directional(w, Features(x, b, a)));
    }

    /// <summary>Hard exclusions: self, no consent on either side, same company, a decline in either direction.</summary>
    public static bool IsExcluded(MatchingIndex x, int a, int b, ISet<(string, string)> declined)
    {
        if (a == b || !x.Profiles[a].ConsentToMatch || !x.Profiles[b].ConsentToMatch) return true;
        if (x.Company[a] is { } ca && ca == x.Company[b]) return true;
        return declined.Contains((x.Profiles[a].Id, x.Profiles[b].Id)) || declined.Contains((x.Profiles[b].Id, x.Profiles[a].Id));
    }

    public static IReadOnlyList<MatchRecommendation> Recommend(MatchingIndex x, string userId, MatchWeights weights,
        ISet<(string, string)> declined, int limit = 10)
    {
        var a = x.PositionOf(userId);
        return Recommend(x, a, weights.Normalised(), DeclinedWith(x, a, declined), limit);
    }

    /// <summary>
    /// The top <paramref name="limit"/> of each attendee in <paramref name="userIds"/> (the recalculation job), spread
    /// over the cores; each list is what <see cref="Recommend(MatchingIndex, string, MatchWeights, ISet{ValueTuple{string, string}}, int)"/>
    /// returns for that attendee. The declines are sorted out by attendee once for all of them.
    /// </summary>
    public static IReadOnlyList<MatchRecommendation>[] RecommendMany(MatchingIndex x, IReadOnlyList<string> userIds, MatchWeights weights,
        ISet<(string, string)> declined, int limit, CancellationToken ct = default)
    {
        var w = weights.Normalised();
        var byAttendee = new Dictionary<int, List<int>>();
        foreach (var (from, to) in declined)
        {
            if (!x.PositionById.TryGetValue(from, out var f) || !x.PositionById.TryGetValue(to, out var t)) continue;
            (CollectionsMarshal.GetValueRefOrAddDefault(byAttendee, f, out _) ??= []).Add(t);
            (CollectionsMarshal.GetValueRefOrAddDefault(byAttendee, t, out _) ??= []).Add(f);
        }
        var positions = userIds.Select(x.PositionOf).ToArray();
        var results = new IReadOnlyList<MatchRecommendation>[positions.Length];
        Parallel.For(0, positions.Length, new ParallelOptions { CancellationToken = ct }, i =>
            results[i] = Recommend(x, positions[i], w, byAttendee.TryGetValue(positions[i], out var d) ? [.. d.Order().Distinct()] : [], limit));
        return results;
    }

    /// <summary>Positions a declined or was declined by, ascending (pairs compared by ordinal id, as <see cref="IsExcluded"/> does).</summary>
    private static int[] DeclinedWith(MatchingIndex x, int a, ISet<(string, string)> declined)
    {
        if (declined.Count == 0) return [];
        var id = x.Profiles[a].Id;
        var list = new List<int>();
        foreach (var (from, to) in declined)
        {
            if (string.Equals(from, id, StringComparison.Ordinal) && x.PositionById.TryGetValue(to, out var t)) list.Add(t);
            if (string.Equals(to, id, StringComparison.Ordinal) && x.PositionById.TryGetValue(from, out var f)) list.Add(f);
        }
        return [.. list.Order().Distinct()];
    }

    /// <summary>
    /// Scores a against everyone: the exclusions of <see cref="IsExcluded"/> and the pair score of
    /// <see cref="PairScore"/>, computed from a's side laid out once (<see cref="Side"/>) so that each pair costs
    /// table lookups over b's short arrays and no allocation. Only the top k are explained.
    /// </summary>
    private static IReadOnlyList<MatchRecommendation> Recommend(MatchingIndex x, int a, MatchWeights w, int[] declinedWith, int limit)
    {
        if (!x.Consent[a] || limit <= 0) return [];
        using var side = new Side(x, a);
        // Bounded top-k: a min-heap of the best `limit` so far keeps this O(n log k).
        var heap = new PriorityQueue<(int B, double S), (double Score, int NegIndex)>(limit + 1);
        var company = x.CompanyIds[a];
        var nextDeclined = 0;
        for (var b = 0; b < x.Count; b++)
        {
            if (nextDeclined < declinedWith.Length && declinedWith[nextDeclined] == b) { nextDeclined++; continue; }
            if (b == a || !x.Consent[b] || (company >= 0 && x.CompanyIds[b] == company)) continue;
            var (ab, ba) = side.Features(b);
            var s = HarmonicMean(Directional(w, ab), Directional(w, ba));
            if (s <= 0) continue;
            var key = (s, -b);
            if (heap.Count < limit) heap.Enqueue((b, s), key);
            else if (heap.TryPeek(out _, out var worst) && key.CompareTo(worst) > 0) heap.DequeueEnqueue((b, s), key);
        }
        var top = new (int B, double S)[heap.Count];
        for (var k = top.Length - 1; heap.TryDequeue(out var e, out _); k--) top[k] = e;
        var list = new List<MatchRecommendation>(top.Length);
        foreach (var (b, s) in top)
        {
            var (ab, ba) = side.Features(b);
            var (reasons, starter) = Explain(x, a, b);
            list.Add(new MatchRecommendation(x.Profiles[b].Id, s, Directional(w, ab), Directional(w, ba), ab, ba, reasons, starter));
        }
        return list;
    }

    /// <summary>
    /// One attendee's side of every pair, spread over arrays indexed by tag and term id, so that
    /// <see cref="Features(int)"/> gives <see cref="ReciprocalMatcher.Features(MatchingIndex, int, int)"/> both ways round
    /// bit for bit: every sum adds the same products in the same (ascending id) order, and an id a lacks adds +0.
    /// Semantic: a's tags' similarity rows for a→b; for b→a, each tag's closest tag among what a is about.
    /// </summary>
    private sealed class Side : IDisposable
    {
        private readonly MatchingIndex x;
        private readonly int a;
        private readonly double[] interest, bio;
        private readonly byte[] seeks, offers;
        private readonly int[] from;
        private readonly double[][] fromRows, seekRows;
        private readonly double[]? closestToA;

        public Side(MatchingIndex x, int a)
        {
            this.x = x; this.a = a;
            interest = ArrayPool<double>.Shared.Rent(x.Tags.Length);
            bio = ArrayPool<double>.Shared.Rent(x.Terms.Length);
            seeks = ArrayPool<byte>.Shared.Rent(x.Tags.Length);
            offers = ArrayPool<byte>.Shared.Rent(x.Tags.Length);
            Array.Clear(interest, 0, x.Tags.Length); Array.Clear(bio, 0, x.Terms.Length);
            Array.Clear(seeks, 0, x.Tags.Length); Array.Clear(offers, 0, x.Tags.Length);
            for (var i = 0; i < x.InterestIds[a].Length; i++) interest[x.InterestIds[a][i]] = x.InterestWeights[a][i];
            for (var i = 0; i < x.BioTerms[a].Length; i++) bio[x.BioTerms[a][i]] = x.BioValues[a][i];
            foreach (var t in x.SeekIds[a]) seeks[t] = 1;
            foreach (var t in x.OfferIds[a]) offers[t] = 1;
            from = x.InterestIds[a].Length > 0 ? x.InterestIds[a] : x.AboutIds[a];
            if (x.EmbeddingModel is null) { fromRows = seekRows = []; return; }
            fromRows = [.. from.Select(x.SimilarityRow)];
            seekRows = [.. x.SeekIds[a].Select(x.SimilarityRow)];
            if (x.AboutIds[a].Length == 0) return;
            closestToA = new double[x.Tags.Length];
            foreach (var u in x.AboutIds[a])
            {
                var row = x.SimilarityRow(u);
                for (var t = 0; t < closestToA.Length; t++) if (row[t] > closestToA[t]) closestToA[t] = row[t];
            }
        }

        public (MatchFeatures AB, MatchFeatures BA) Features(int b)
        {
            int[] ib = x.InterestIds[b]; double[] wb = x.InterestWeights[b];
            double min = 0;
            for (var j = 0; j < ib.Length; j++) min += Math.Min(interest[ib[j]], wb[j]);
            var unionMax = x.InterestTotal[a] + x.InterestTotal[b] - min;
            var overlap = unionMax <= 0 ? 0 : min / unionMax;

            int[] seekA = x.SeekIds[a], seekB = x.SeekIds[b];
            var theyMeet = 0; foreach (var t in x.OfferIds[b]) theyMeet += seeks[t];
            var youMeet = 0; foreach (var t in seekB) youMeet += offers[t];

            int[] tb = x.BioTerms[b]; double[] vb = x.BioValues[b];
            var dot = 0.0;
            for (var j = 0; j < tb.Length; j++) dot += bio[tb[j]] * vb[j];

            return (new MatchFeatures(overlap, seekA.Length == 0 ? 0 : (double)theyMeet / seekA.Length, dot, SemanticAB(b)),
                new MatchFeatures(overlap, seekB.Length == 0 ? 0 : (double)youMeet / seekB.Length, dot, SemanticBA(b)));
        }

        private double SemanticAB(int b)
        {
            var about = x.AboutIds[b];
            if (x.EmbeddingModel is null || about.Length == 0) return 0;
            var cover = Cover(fromRows, about);
            return seekRows.Length > 0 ? (cover + Cover(seekRows, about)) / 2 : cover;
        }

        private static double Cover(double[][] rows, int[] to)
        {
            if (rows.Length == 0) return 0;
            var sum = 0.0;
            foreach (var row in rows)
            {
                var best = 0.0;
                foreach (var u in to) if (row[u] > best) best = row[u];
                sum += best;
            }
            return sum / rows.Length;
        }

        private double SemanticBA(int b)
        {
            if (closestToA is null) return 0;
            var fromB = x.InterestIds[b].Length > 0 ? x.InterestIds[b] : x.AboutIds[b];
            var cover = Cover(fromB);
            return x.SeekIds[b].Length > 0 ? (cover + Cover(x.SeekIds[b])) / 2 : cover;
        }

        private double Cover(int[] tags)
        {
            if (tags.Length == 0) return 0;
            var sum = 0.0;
            foreach (var t in tags) sum += closestToA![t];
            return sum / tags.Length;
        }

        public void Dispose()
        {
            ArrayPool<double>.Shared.Return(interest); ArrayPool<double>.Shared.Return(bio);
            ArrayPool<byte>.Shared.Return(seeks); ArrayPool<byte>.Shared.Return(offers);
        }
    }

    /// <summary>
    /// Online update from feedback on a shown match (user a, match b): target y = 1 for met,
    /// 0.8 accepted, 0 declined; prediction p = s(a→b). Gradient step on squared error
    /// w_k ← max(0.05, w_k + η·(y − p)·f_k) with η = 0.5, then renormalise to sum 1 — components
    /// that were high in declined matches lose weight, those high in met matches gain it.
    /// </summary>
    public static MatchWeights UpdateWeights(MatchWeights current, MatchFeatures shown, MatchOutcome outcome)
    {
        var w = current.Normalised();
        var target = outcome switch { MatchOutcome.Met => 1.0, MatchOutcome.Accepted => 0.8, _ => 0.0 };
        var error = target - Directional(w, shown);
        return new MatchWeights(
            Math.Max(MinimumWeight, w.Interests + LearningRate * error * shown.InterestOverlap),
            Math.Max(MinimumWeight, w.Complementarity + LearningRate * error * shown.Complementarity),
            Math.Max(MinimumWeight, w.Bio + LearningRate * error * shown.BioSimilarity),
            Math.Max(MinimumWeight, w.Semantic + LearningRate * error * shown.SemanticSimilarity)).Normalised();
    }

    /// <summary>Reasons from what they share; the starter leads with a need one of them can meet.</summary>
    public static (IReadOnlyList<string> Reasons, string Starter) Explain(MatchingIndex x, int a, int b)
    {
        var other = x.Profiles[b];
        var reasons = new List<string>();
        var shared = SharedInterests(x, a, b).Take(3).ToList();
        var theyOffer = Intersect(x.SeekIds[a], x.OfferIds[b]).Select(t => x.Tags[t]).Take(2).ToList();
        var youOffer = Intersect(x.SeekIds[b], x.OfferIds[a]).Select(t => x.Tags[t]).Take(2).ToList();
        var terms = SharedBioTerms(x, a, b).Take(3).ToList();
        if (shared.Count > 0) reasons.Add($"You both follow {Join(shared)}.");
        if (theyOffer.Count > 0) reasons.Add($"{other.DisplayName} offers {Join(theyOffer)}, which you are looking for.");
        if (youOffer.Count > 0) reasons.Add($"You offer {Join(youOffer)}, which {other.DisplayName} is looking for.");
        if (terms.Count > 0) reasons.Add($"Your bios both mention {Join(terms)}.");
        // The closest pair of different tags: what string matching cannot see.
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

    private static IEnumerable<string> SharedInterests(MatchingIndex x, int a, int b)
    {
        var list = new List<(string Tag, double W)>();
        int[] ia = x.InterestIds[a], ib = x.InterestIds[b];
        for (int i = 0, j = 0; i < ia.Length && j < ib.Length;)
        {
            if (ia[i] == ib[j]) { list.Add((x.Tags[ia[i]], Math.Min(x.InterestWeights[a][i], x.InterestWeights[b][j]))); i++; j++; }
            else if (ia[i] < ib[j]) i++; else j++;
        }
        return list.OrderByDescending(t => t.W).ThenBy(t => t.Tag, StringComparer.Ordinal).Select(t => t.Tag);
    }

    private static IEnumerable<string> SharedBioTerms(MatchingIndex x, int a, int b)
    {
        var list = new List<(string Term, double W)>();
        int[] ta = x.BioTerms[a], tb = x.BioTerms[b];
        for (int i = 0, j = 0; i < ta.Length && j < tb.Length;)
        {
            if (ta[i] == tb[j]) { list.Add((x.Terms[ta[i]], x.BioValues[a][i] * x.BioValues[b][j])); i++; j++; }
            else if (ta[i] < tb[j]) i++; else j++;
        }
        return list.OrderByDescending(t => t.W).ThenBy(t => t.Term, StringComparer.Ordinal).Select(t => t.Term);
    }

    /// <summary>Σ_t min(w_a,t, w_b,t) / Σ_t max(w_a,t, w_b,t) over the union of interests.</summary>
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
        // On the overlap w_a + w_b = min + max, so Σ max over the union = total_a + total_b − Σ min.
        var unionMax = x.InterestTotal[a] + x.InterestTotal[b] - min;
        return unionMax <= 0 ? 0 : min / unionMax;
    }

    private static int IntersectCount(int[] a, int[] b)
    {
        var c = 0;
        for (int i = 0, j = 0; i < a.Length && j < b.Length;)
        {
            if (a[i] == b[j]) { c++; i++; j++; } else if (a[i] < b[j]) i++; else j++;
        }
        return c;
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
