// Conference intelligence through the public API of a running platform (./platform.sh up):
//   API_URL=http://localhost:5080 OPERATOR_KEY=op_… dotnet run -c Release --project bench/events -- [--smoke] [--attendees 10000] [--out bench/results/events.json]
//   … -- seed --attendees 2000        (what seeds/events/load.sh runs: one demo conference, no timings)
//   dotnet run -c Release --project bench/events -- planted [--attendees 2000]   (planted-pair recovery, offline)
//   dotnet run -c Release --project bench/events -- offline [--attendees 10000] [--samples 50] [--calculate N]   (matcher timings, no API)
// Creates a tenant and a conference, loads a deterministic synthetic crowd, then measures
//   1. recommendation latency of GET /v1/matching/recommendations/{userId} (one attendee, warm index, p50/p95/p99);
//   2. full recalculation: POST /v1/matching/calculate and the job's run time from GET /v1/admin/jobs/{id}.
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

if (args.Contains("planted"))
{
    // Offline: no API, the matcher over the seed crowd with and without embeddings (PlantedPairs.cs).
    PlantedPairs.Run(int.Parse(args.SkipWhile(a => a != "--attendees").Skip(1).FirstOrDefault() ?? "2000"));
    return;
}
if (args.Contains("offline"))
{
    // Offline: the matcher's own time over the seed crowd, without the API or the database (Offline.cs).
    string? Option(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
    Offline.Run(int.Parse(Option("--attendees") ?? "10000"), int.Parse(Option("--samples") ?? "50"),
        Option("--calculate") is { } c ? int.Parse(c) : null);
    return;
}
var seedMode = args.Contains("seed");
var smoke = args.Contains("--smoke");
string? Arg(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
var attendees = int.Parse(Arg("--attendees") ?? (seedMode ? "2000" : smoke ? "300" : "10000"));
var samples = int.Parse(Arg("--samples") ?? (smoke ? "30" : "200"));
var outPath = Arg("--out") ?? (smoke ? Path.Combine("bench", "results", "raw", "events.smoke.json") : Path.Combine("bench", "results", "events.json"));
var apiUrl = Environment.GetEnvironmentVariable("API_URL") ?? "http://localhost:5080";
var operatorKey = Environment.GetEnvironmentVariable("OPERATOR_KEY") ?? throw new InvalidOperationException("Set OPERATOR_KEY (and API_URL).");

using var http = new HttpClient { BaseAddress = new Uri(apiUrl), Timeout = TimeSpan.FromMinutes(10) };
async Task<JsonNode> Send(HttpMethod method, string path, string key, object? body = null)
{
    using var request = new HttpRequestMessage(method, path);
    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
    if (body is not null)
    {
        request.Content = JsonContent.Create(body);
    }
    using var response = await http.SendAsync(request);
    var text = await response.Content.ReadAsStringAsync();
    if (!response.IsSuccessStatusCode)
    {
        throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {text}");
    }
    return JsonNode.Parse(text)!;
}

var tenant = await Send(HttpMethod.Post, "/v1/tenants", operatorKey, new { name = seedMode ? "Events demo" : $"events-bench-{DateTime.UtcNow:yyyyMMddHHmmss}" });
var apiKey = tenant["apiKey"]!.GetValue<string>();
var conference = await Send(HttpMethod.Post, "/v1/events/conferences", apiKey, new
{
    name = "Platform Summit 2026",
    branding = new { displayName = "Platform Summit 2026", primaryColor = "#0b5394", accentColor = "#e69138" },
    limits = new { attendeeCap = Math.Max(attendees, 2000) },
});
var conferenceId = conference["id"]!.GetValue<string>();
Console.WriteLine($"tenant {tenant["id"]} (api key {apiKey}), conference {conferenceId}");

var loadWatch = Stopwatch.StartNew();
var next = -1;
await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
{
    int i;
    while ((i = Interlocked.Increment(ref next)) < attendees)
    {
        await Send(HttpMethod.Put, $"/v1/events/conferences/{conferenceId}/attendees/{Crowd.Id(i)}", apiKey, Crowd.Profile(i));
    }
}));
Console.WriteLine($"loaded {attendees} attendees in {loadWatch.Elapsed.TotalSeconds:0.0} s");
if (seedMode)
{
    return;
}

// 1. Recommendation latency for one attendee (the first call compiles the index and is reported apart).
var user = Crowd.Id(7);
var first = Stopwatch.StartNew();
await Send(HttpMethod.Get, $"/v1/matching/recommendations/{user}?conferenceId={conferenceId}&limit=10", apiKey);
var coldMs = first.Elapsed.TotalMilliseconds;
var latencies = new List<double>();
for (var s = 0; s < samples; s++)
{
    var sw = Stopwatch.StartNew();
    await Send(HttpMethod.Get, $"/v1/matching/recommendations/{user}?conferenceId={conferenceId}&limit=10", apiKey);
    latencies.Add(sw.Elapsed.TotalMilliseconds);
}
latencies.Sort();
double P(double q) => latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(q * latencies.Count) - 1)];

// 2. Full recalculation through the job engine (the Worker must be running).
var enqueued = Stopwatch.StartNew();
var job = await Send(HttpMethod.Post, "/v1/matching/calculate", apiKey, new { conferenceId });
var jobId = job["jobId"]!.GetValue<long>();
JsonNode state;
while (true)
{
    state = await Send(HttpMethod.Get, $"/v1/admin/jobs/{jobId}", operatorKey);
    var s = state["state"]!.GetValue<string>();
    if (s is "succeeded" or "failed" or "deleted")
    {
        break;
    }
    await Task.Delay(250);
}
var wallSeconds = enqueued.Elapsed.TotalSeconds;
// The run: from the last time a Worker started processing it to its final state (Hangfire's state history).
var history = state["history"]!.AsArray().Select(h => (State: h!["state"]!.GetValue<string>(), At: h["at"]!.GetValue<DateTimeOffset>())).OrderBy(h => h.At).ToList();
var runSeconds = (history[^1].At - history.Last(h => h.State == "processing").At).TotalSeconds;

var result = new
{
    benchmark = "events", smoke, attendees, samples, apiUrl, machine = $"{Environment.ProcessorCount} cores, load average {LoadAverage()}",
    recommendation = new { coldFirstCallMs = Math.Round(coldMs, 1), p50Ms = Math.Round(P(0.50), 2), p95Ms = Math.Round(P(0.95), 2), p99Ms = Math.Round(P(0.99), 2), maxMs = Math.Round(latencies[^1], 2) },
    recalculation = new { jobState = state["state"]!.GetValue<string>(), runSeconds = Math.Round(runSeconds, 2), enqueueToDoneSeconds = Math.Round(wallSeconds, 2), perAttendeeMs = Math.Round(runSeconds * 1000 / attendees, 2) },
    loadSeconds = Math.Round(loadWatch.Elapsed.TotalSeconds, 1),
    at = DateTimeOffset.UtcNow,
};
var json = JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true });
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outPath))!);
await File.WriteAllTextAsync(outPath, json);
Console.WriteLine(json);

static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";

/// <summary>The deterministic synthetic crowd: attendee i is always the same person (seeded per index).</summary>
internal static class Crowd
{
    private static readonly string[] Topics = [.. "ai,machine learning,llms,rust,golang,kubernetes,observability,security,privacy,fintech,payments,climate tech,energy,healthtech,biotech,edtech,open source,devrel,product management,design systems,accessibility,data engineering,analytics,postgres,distributed systems,edge computing,iot,robotics,web3,gaming,ar vr,mobile,frontend,typescript,dotnet,java,python,testing,sre,platform engineering,startups,venture capital,hiring,leadership,community,sustainability,supply chain,retail,media,music tech".Split(',')];
    private static readonly string[] Industries = ["software", "finance", "health", "energy", "education", "retail", "media", "public sector", "manufacturing", "consulting"];
    private static readonly string[] Roles = ["engineer", "founder", "investor", "product manager", "designer", "researcher", "cto", "student", "recruiter", "data scientist"];
    private static readonly string[] Words = [.. "scaling platform teams latency pipelines reliability customers growth research models training inference compliance audits migrations cloud costs onboarding mentoring hiring open source community partnerships funding seed series privacy encryption identity payments ledgers settlement batteries grid solar carbon accounting sensors factories logistics warehouses students curriculum clinicians diagnostics imaging genomics trials streaming video audio games engines shaders accessibility screen readers design tokens components monorepos build caches testing contracts observability tracing metrics incidents postmortems kubernetes operators databases replication sharding queues events".Split(' ')];

    public static string Id(int i) => $"att-{i:D5}";

    /// <summary>
    /// Planted pairs: attendee i with i % 50 == 10 and i + 1, its twin. The twin's interests are i's in other words
    /// (<see cref="Paraphrase"/>), it offers what i seeks and seeks what i offers, again in other words; its bio and
    /// company are its own. A matcher that compares tag strings cannot see that they belong together.
    /// </summary>
    public static bool IsPlanted(int i) => i % 50 == 10;

    public static object Profile(int i)
    {
        if (i % 50 == 11)
        {
            return Twin(i);
        }
        var rng = new Random(1000 + i);
        string Pick(string[] from) => from[rng.Next(from.Length)];
        var interests = new Dictionary<string, double>();
        while (interests.Count < 5)
        {
            interests[Pick(Topics)] = 1 + rng.Next(3);
        }
        var kind = i % 40 == 3 ? "exhibitor" : i % 25 == 1 ? "speaker" : "attendee";
        var day = DateTimeOffset.Parse("2026-06-02T08:00:00Z");
        var slots = Enumerable.Range(0, 2 + rng.Next(2)).Select(k =>
        {
            var start = day.AddDays(k % 2).AddHours(rng.Next(8));
            return new { start, end = start.AddHours(2 + rng.Next(3)) };
        }).ToArray();
        return new
        {
            displayName = $"Attendee {i}",
            kind,
            company = kind == "exhibitor" ? $"Vendor {i}" : $"Company {rng.Next(400)}",
            role = Pick(Roles),
            industry = Pick(Industries),
            bio = string.Join(' ', Enumerable.Range(0, 25).Select(_ => Pick(Words))),
            skills = Enumerable.Range(0, 3).Select(_ => Pick(Topics)).Distinct().ToArray(),
            interests,
            offering = Enumerable.Range(0, 2).Select(_ => Pick(Topics)).Distinct().ToArray(),
            seeking = Enumerable.Range(0, 2).Select(_ => Pick(Topics)).Distinct().ToArray(),
            availability = slots,
            consentToMatch = rng.NextDouble() < 0.95,
            consentToInvites = rng.NextDouble() < 0.9,
        };
    }

    /// <summary>The planted partner of attendee i − 1: same person in other words, complementary offer and need.</summary>
    private static object Twin(int i)
    {
        var p = Fields(i - 1);
        var rng = new Random(7000 + i);
        string Pick(string[] from) => from[rng.Next(from.Length)];
        var day = DateTimeOffset.Parse("2026-06-02T08:00:00Z");
        return new
        {
            displayName = $"Attendee {i}",
            kind = "attendee",
            company = $"Twin Company {i}",
            role = Pick(Roles),
            industry = Pick(Industries),
            bio = string.Join(' ', Enumerable.Range(0, 25).Select(_ => Pick(Words))),
            skills = Array.Empty<string>(),
            interests = p.Interests.ToDictionary(kv => Paraphrase[kv.Key], kv => kv.Value),
            offering = p.Seeking.Select(t => Paraphrase[t]).Distinct().ToArray(),
            seeking = p.Offering.Select(t => Paraphrase[t]).Distinct().ToArray(),
            availability = new[] { new { start = day, end = day.AddHours(3) } },
            consentToMatch = true,
            consentToInvites = true,
        };
    }

    /// <summary>The matcher-relevant fields of attendee i exactly as <see cref="Profile"/> draws them.</summary>
    public static (Dictionary<string, double> Interests, string[] Offering, string[] Seeking) Fields(int i)
    {
        var json = System.Text.Json.JsonSerializer.SerializeToElement(Profile(i));
        return (json.GetProperty("interests").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble()),
            [.. json.GetProperty("offering").EnumerateArray().Select(e => e.GetString()!)],
            [.. json.GetProperty("seeking").EnumerateArray().Select(e => e.GetString()!)]);
    }

    /// <summary>Each topic in other words that share no tag string with any topic.</summary>
    public static readonly Dictionary<string, string> Paraphrase = new(StringComparer.Ordinal)
    {
        ["ai"] = "artificial intelligence", ["machine learning"] = "ml models and training", ["llms"] = "large language models",
        ["rust"] = "rust programming language", ["golang"] = "go language services", ["kubernetes"] = "k8s container orchestration",
        ["observability"] = "monitoring and tracing", ["security"] = "infosec and threat modelling", ["privacy"] = "data protection and gdpr",
        ["fintech"] = "financial technology", ["payments"] = "card and bank transfers", ["climate tech"] = "decarbonisation startups",
        ["energy"] = "power grids and renewables", ["healthtech"] = "digital health", ["biotech"] = "life sciences research",
        ["edtech"] = "learning technology for schools", ["open source"] = "community-maintained software", ["devrel"] = "developer advocacy",
        ["product management"] = "product strategy and roadmaps", ["design systems"] = "ui component libraries", ["accessibility"] = "inclusive design for disabled users",
        ["data engineering"] = "etl pipelines and data warehouses", ["analytics"] = "business intelligence dashboards", ["postgres"] = "postgresql database",
        ["distributed systems"] = "consensus and replication", ["edge computing"] = "computing close to devices", ["iot"] = "connected sensors and devices",
        ["robotics"] = "autonomous robots", ["web3"] = "blockchain and crypto", ["gaming"] = "video game development",
        ["ar vr"] = "augmented and virtual reality", ["mobile"] = "ios and android apps", ["frontend"] = "browser ui engineering",
        ["typescript"] = "typed javascript", ["dotnet"] = "c# and .net", ["java"] = "jvm development",
        ["python"] = "python programming", ["testing"] = "quality assurance and test automation", ["sre"] = "site reliability engineering",
        ["platform engineering"] = "internal developer platforms", ["startups"] = "early-stage companies", ["venture capital"] = "vc investing",
        ["hiring"] = "recruiting engineers", ["leadership"] = "managing teams", ["community"] = "community building",
        ["sustainability"] = "environmental responsibility", ["supply chain"] = "logistics and procurement", ["retail"] = "shops and e-commerce",
        ["media"] = "publishing and journalism", ["music tech"] = "audio software for musicians",
    };
}
