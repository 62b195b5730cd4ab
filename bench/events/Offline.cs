using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Platform.Core.Ai;
using Platform.Core.Events.Matching;

/// <summary>
/// The matcher without the API: the seed crowd, its tags embedded by the local MiniLM model as the Api does, then
///   1. building the <see cref="MatchingIndex"/>;
///   2. one attendee's recommendations (top 10, warm index), with and without the semantic feature;
///   3. the recalculation job's scoring: the stored top 20 of every attendee, spread over the cores as
///      <c>Matchmaking.CalculateAsync</c> does (storing is left out: it needs PostgreSQL).
/// It prints a digest of every list the recalculation produced (ids, scores to the last bit, features, reasons,
/// starters), so two builds of the matcher can be shown to give identical results on the full crowd.
/// </summary>
internal static class Offline
{
    public static void Run(int attendees, int samples, int? calculate)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"uptime: {File.ReadAllText("/proc/loadavg").Trim()}"));
        var profiles = Enumerable.Range(0, attendees).Select(i => PlantedPairs.ToProfile(i, JsonSerializer.SerializeToElement(Crowd.Profile(i)))).ToList();
        // Some declines, as a conference collects them: every 20th attendee declined someone.
        var declined = Enumerable.Range(0, attendees).Where(i => i % 20 == 0)
            .Select(i => (Crowd.Id(i), Crowd.Id((i * 7 + 3) % attendees))).ToHashSet();

        var watch = Stopwatch.StartNew();
        var texts = profiles.SelectMany(p => p.AllTags()).Distinct(StringComparer.Ordinal).ToList();
        var vectors = LocalMiniLmEmbeddingGenerator.Shared.Encode(texts);
        var map = texts.Zip(vectors).ToDictionary(t => t.First, t => t.Second, StringComparer.Ordinal);
        var embeddings = ProfileEmbeddings.From(new EmbeddedTexts(LocalMiniLmEmbeddingGenerator.ModelId, map));
        var embedSeconds = watch.Elapsed.TotalSeconds;

        watch.Restart();
        var strings = new MatchingIndex(profiles);
        var buildStrings = watch.Elapsed.TotalMilliseconds;
        watch.Restart();
        var index = new MatchingIndex(profiles, embeddings);
        var buildSemantic = watch.Elapsed.TotalMilliseconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{attendees} attendees, {texts.Count} distinct tags embedded in {embedSeconds:0.0} s, {declined.Count} declines"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"index build: {buildStrings:0} ms without embeddings, {buildSemantic:0} ms with"));

        var user = Crowd.Id(7);
        foreach (var (name, x) in new[] { ("tag strings only", strings), ("with the semantic feature", index) })
        {
            for (var i = 0; i < 3; i++) ReciprocalMatcher.Recommend(x, user, MatchWeights.Default, declined, 10);
            var times = new List<double>();
            for (var s = 0; s < samples; s++)
            {
                var sw = Stopwatch.StartNew();
                ReciprocalMatcher.Recommend(x, Crowd.Id(s * 37 % attendees), MatchWeights.Default, declined, 10);
                times.Add(sw.Elapsed.TotalMilliseconds);
            }
            times.Sort();
            double P(double q) => times[Math.Min(times.Count - 1, (int)Math.Ceiling(q * times.Count) - 1)];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"recommend (top 10, {samples} attendees, one thread), {name}: p50 {P(0.5):0.00} ms, p95 {P(0.95):0.00} ms, max {times[^1]:0.00} ms"));
        }

        var targets = profiles.Take(calculate ?? attendees).Select(p => p.Id).ToList();
        var results = new IReadOnlyList<MatchRecommendation>[targets.Count];
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        watch.Restart();
        Parallel.For(0, targets.Count, i => results[i] = ReciprocalMatcher.Recommend(index, targets[i], MatchWeights.Default, declined, 20));
        var wall = watch.Elapsed.TotalSeconds;
        var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"recalculation scoring (top 20 of {targets.Count} attendees, {Environment.ProcessorCount} cores): {wall:0.00} s wall, {cpuSeconds:0.00} s CPU, {wall * 1000 / targets.Count:0.000} ms per attendee"));
        Console.WriteLine($"digest of the lists: {Digest(targets, results)}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"uptime: {File.ReadAllText("/proc/loadavg").Trim()}"));
    }

    private static string Digest(List<string> targets, IReadOnlyList<MatchRecommendation>[] results)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string s) => hash.AppendData(Encoding.UTF8.GetBytes(s + "\n"));
        static string R(double d) => d.ToString("R", CultureInfo.InvariantCulture);
        static string F(MatchFeatures f) => $"{R(f.InterestOverlap)} {R(f.Complementarity)} {R(f.BioSimilarity)} {R(f.SemanticSimilarity)}";
        for (var i = 0; i < targets.Count; i++)
        {
            Add(targets[i]);
            foreach (var m in results[i])
            {
                Add($"{m.AttendeeId} {R(m.Score)} {R(m.ScoreForUser)} {R(m.ScoreForMatch)} {F(m.UserToMatch)} {F(m.MatchToUser)}");
                foreach (var r in m.Reasons) Add(r);
                Add(m.ConversationStarter);
            }
        }
        return Convert.ToHexString(hash.GetHashAndReset())[..16];
    }
}
