// Timings of the pure algorithms behind Convener, TEEI and Conference Intelligence, outside any test:
//   dotnet run -c Release --project bench/algorithms -- [--smoke] [--out bench/results/algorithms.json]
// CPU time is reported beside wall time because a shared 2-core machine is often oversubscribed.
using System.Diagnostics;
using System.Text.Json;
using Platform.Core.Community.Algorithms;
using Platform.Core.Events.Matching;
using Platform.Core.Impact.Scoring;

var smoke = args.Contains("--smoke");
var outPath = args.SkipWhile(a => a != "--out").Skip(1).FirstOrDefault() ?? (smoke ? Path.Combine("bench", "results", "raw", "algorithms.smoke.json") : Path.Combine("bench", "results", "algorithms.json"));
var now = DateTimeOffset.Parse("2026-03-01T00:00:00Z");
var results = new Dictionary<string, object>();

// Champion/connector ranking: 10,000 members, 200,000 signals in 40 teams (smoke: 1,000 / 20,000).
{
    int members = smoke ? 1_000 : 10_000, signalCount = smoke ? 20_000 : 200_000, teams = 40;
    var rng = new Random(11);
    var teamOf = Enumerable.Range(0, members).Select(i => i % teams).ToArray();
    var kinds = new[] { SignalKind.Reply, SignalKind.Mention, SignalKind.Reaction, SignalKind.Endorsement };
    var signals = new InteractionSignal[signalCount];
    for (var i = 0; i < signalCount; i++)
    {
        var actor = rng.Next(members);
        // Mostly within-team ties with some cross-team traffic, like a real organisation.
        var target = rng.NextDouble() < 0.8 ? (rng.Next(members / teams) * teams + teamOf[actor]) : rng.Next(members);
        signals[i] = new(actor, target, kinds[rng.Next(kinds.Length)], now.AddMinutes(-rng.Next(30 * 24 * 60)));
    }
    var (wall, cpu, ranking) = Measure(() => ChampionRanking.Rank(members, teamOf, signals, now));
    results["ranking"] = new
    {
        members, signals = signalCount, wallMs = wall, cpuMs = cpu, pageRankIterations = ranking.PageRankIterations,
        betweennessExact = ranking.BetweennessExact, betweennessErrorBound95 = ranking.BetweennessErrorBound95,
    };
}

// Reciprocal matchmaking: one attendee against 10,000 (smoke: 1,000), and the index build.
{
    var n = smoke ? 1_001 : 10_001;
    var rng = new Random(3);
    var topics = Enumerable.Range(0, 200).Select(i => $"topic {i}").ToArray();
    var words = Enumerable.Range(0, 3000).Select(i => $"w{i}").ToArray();
    var profiles = Enumerable.Range(0, n).Select(i => new AttendeeProfile($"p{i}", $"P{i}", $"c{i % 2500}",
        Enumerable.Range(0, 8).Select(_ => topics[rng.Next(topics.Length)]).Distinct().ToDictionary(t => t, _ => 1 + rng.NextDouble()),
        Enumerable.Range(0, 3).Select(_ => topics[rng.Next(topics.Length)]).ToList(),
        Enumerable.Range(0, 3).Select(_ => topics[rng.Next(topics.Length)]).ToList(),
        string.Join(' ', Enumerable.Range(0, 40).Select(_ => words[rng.Next(words.Length)])), true)).ToList();
    var (buildWall, buildCpu, index) = Measure(() => new MatchingIndex(profiles));
    var none = new HashSet<(string, string)>();
    ReciprocalMatcher.Recommend(index, "p1", MatchWeights.Default, none); // warm-up (JIT)
    const int runs = 20;
    var perAttendee = new List<double>();
    for (var i = 0; i < runs; i++)
    {
        var (w, _, _) = Measure(() => ReciprocalMatcher.Recommend(index, $"p{i}", MatchWeights.Default, none, limit: 20));
        perAttendee.Add(w);
    }
    perAttendee.Sort();
    results["matching"] = new
    {
        attendees = n, indexBuildWallMs = buildWall, indexBuildCpuMs = buildCpu,
        recommendP50Ms = perAttendee[runs / 2], recommendP95Ms = perAttendee[(int)(runs * 0.95) - 1], runs,
    };
}

// Outcome scorer throughput over the evaluation set (texts/s, one thread).
{
    var set = FindUp(Path.Combine("seeds", "impact", "evaluation.jsonl"));
    var texts = File.ReadLines(set).Where(l => l.Length > 0)
        .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("text").GetString()!).ToList();
    foreach (var t in texts) OutcomeScorer.Score(t); // warm-up (JIT, regex)
    var rounds = smoke ? 1 : 20;
    var (wall, cpu, scored) = Measure(() =>
    {
        var count = 0;
        for (var r = 0; r < rounds; r++) foreach (var t in texts) { OutcomeScorer.Score(t); count++; }
        return count;
    });
    results["outcomeScorer"] = new { texts = scored, wallMs = wall, cpuMs = cpu, textsPerSecond = scored / (wall / 1000.0), meanChars = texts.Average(t => t.Length) };
}

results["machine"] = new { cores = Environment.ProcessorCount, dotnet = Environment.Version.ToString(), smoke, loadAverage = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : null };
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outPath))!);
var json = JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true });
File.WriteAllText(outPath, json);
Console.WriteLine(json);

static (double WallMs, double CpuMs, T Result) Measure<T>(Func<T> work)
{
    var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
    var sw = Stopwatch.StartNew();
    var result = work();
    sw.Stop();
    return (sw.Elapsed.TotalMilliseconds, (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMilliseconds, result);
}

static string FindUp(string relative)
{
    for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
    {
        var candidate = Path.Combine(dir.FullName, relative);
        if (File.Exists(candidate)) return candidate;
    }
    throw new FileNotFoundException($"{relative} not found above {Environment.CurrentDirectory}");
}
