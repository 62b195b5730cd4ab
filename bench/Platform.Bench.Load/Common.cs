using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Platform.Bench.Load;

/// <summary>--name value arguments.</summary>
public sealed class Args(string[] args)
{
    public string? Get(string name)
    {
        var i = Array.IndexOf(args, "--" + name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    public bool Has(string name) => args.Contains("--" + name);
    public string Str(string name, string fallback) => Get(name) ?? fallback;
    public int Int(string name, int fallback) => Get(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
    public double Dbl(string name, double fallback) => Get(name) is { } v ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public int[] Ints(string name, string fallback) =>
        Str(name, fallback).Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
}

public static class Clock
{
    public static long Now => Stopwatch.GetTimestamp();
    public static double Ms(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;
    public static double SecondsSince(long from) => Ms(from, Now) / 1000.0;
}

/// <summary>Percentiles over every sample (no histogram buckets: the counts here fit in memory).</summary>
public static class Stats
{
    public static double Pct(List<double> sorted, double p)
    {
        if (sorted.Count == 0) return double.NaN;
        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Count) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Count - 1)];
    }

    public static JsonObject Summary(IEnumerable<double> samples)
    {
        var s = samples.ToList();
        s.Sort();
        return new JsonObject
        {
            ["count"] = s.Count,
            ["p50Ms"] = R(Pct(s, 50)),
            ["p95Ms"] = R(Pct(s, 95)),
            ["p99Ms"] = R(Pct(s, 99)),
            ["maxMs"] = R(s.Count == 0 ? double.NaN : s[^1]),
            ["meanMs"] = R(s.Count == 0 ? double.NaN : s.Average()),
        };
    }

    /// <summary>NaN/∞ are not JSON: they become null.</summary>
    public static JsonNode? R(double v, int digits = 2) => double.IsFinite(v) ? JsonValue.Create(Math.Round(v, digits)) : null;

    public static JsonNode? Ratio(double value, double limit) => limit > 0 && double.IsFinite(value) ? R(value / limit, 4) : null;
}

public static class Machine
{
    public static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    public static JsonObject Describe()
    {
        long memKb = 0;
        if (File.Exists("/proc/meminfo"))
        {
            var line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
            if (line != null) memKb = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        }
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        return new JsonObject
        {
            ["cores"] = Environment.ProcessorCount,
            ["memoryMb"] = memKb / 1024,
            ["cpu"] = cpu,
            ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
            ["dotnet"] = Environment.Version.ToString(),
            ["loadAverage"] = LoadAverage(),
        };
    }

    /// <summary>VmRSS of a process in KiB (0 when it cannot be read).</summary>
    public static long RssKb(int pid)
    {
        var path = $"/proc/{pid}/status";
        if (!File.Exists(path)) return 0;
        var line = File.ReadLines(path).FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return line == null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }
}

/// <summary>One scenario's JSON document: what ran, how, the results, the limits and the ratios, a table and a chart.</summary>
public sealed class Report(string scenario, bool smoke, Args args)
{
    public readonly JsonObject Doc = new()
    {
        ["scenario"] = scenario,
        ["mode"] = smoke ? "smoke" : "full",
        ["startedAt"] = DateTimeOffset.UtcNow.ToString("O"),
        ["machine"] = Machine.Describe(),
        ["command"] = Environment.GetEnvironmentVariable("BENCH_COMMAND") ?? "",
        ["parameters"] = new JsonObject(),
        ["results"] = new JsonObject(),
        ["limits"] = new JsonObject(),
        ["ratios"] = new JsonObject(),
    };

    public JsonObject Parameters => (JsonObject)Doc["parameters"]!;
    public JsonObject Results => (JsonObject)Doc["results"]!;
    public JsonObject Limits => (JsonObject)Doc["limits"]!;
    public JsonObject Ratios => (JsonObject)Doc["ratios"]!;

    /// <summary>CPU accounts of measured phases (<see cref="CpuSnapshot.Account"/>), by phase name.</summary>
    public JsonObject Cpu => Doc["cpu"] as JsonObject ?? (JsonObject)(Doc["cpu"] = new JsonObject());

    /// <summary>The limits measured earlier in the same run (limits.json next to the output), or an empty object.</summary>
    public JsonObject LoadLimits()
    {
        var path = Path.Combine(Path.GetDirectoryName(Out)!, "limits.json");
        if (!File.Exists(path)) return new JsonObject();
        return (JsonNode.Parse(File.ReadAllText(path))?["results"] as JsonObject)?.DeepClone().AsObject() ?? new JsonObject();
    }

    public string Out => args.Get("out") ?? throw new ArgumentException("--out <file.json> is required");

    public void Table(string[] columns, IEnumerable<object?[]> rows)
    {
        var arr = new JsonArray();
        foreach (var r in rows) arr.Add(new JsonArray(r.Select(c => c is JsonNode n ? n.DeepClone() : JsonValue.Create(c?.ToString())).ToArray()));
        Doc["table"] = new JsonObject { ["columns"] = new JsonArray(columns.Select(c => (JsonNode)c).ToArray()), ["rows"] = arr };
    }

    /// <summary>kind: line (numeric x) or bar (category x). series: name → points (x, y).</summary>
    public void Chart(string kind, string title, string xLabel, string yLabel, IEnumerable<(string Name, IEnumerable<(object X, double Y)> Points)> series)
    {
        Doc["chart"] = new JsonObject
        {
            ["kind"] = kind, ["title"] = title, ["xLabel"] = xLabel, ["yLabel"] = yLabel,
            ["series"] = new JsonArray(series.Select(s => (JsonNode)new JsonObject
            {
                ["name"] = s.Name,
                ["points"] = new JsonArray(s.Points.Select(p => (JsonNode)new JsonArray(JsonValue.Create(p.X.ToString()), Stats.R(p.Y))).ToArray()),
            }).ToArray()),
        };
    }

    public void Write()
    {
        Doc["finishedAt"] = DateTimeOffset.UtcNow.ToString("O");
        ((JsonObject)Doc["machine"]!)["loadAverageAfter"] = Machine.LoadAverage();
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(Out))!);
        File.WriteAllText(Out, Doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        Console.WriteLine($"wrote {Out}");
    }
}

/// <summary>The Platform API as the benchmark needs it: a tenant, a channel, conversations, client tokens, posts.</summary>
public sealed class PlatformApi
{
    public readonly HttpClient Http;
    public readonly string ApiUrl;
    public string ApiKey = "";
    public string ChannelId = "";

    /// <param name="apiUrl">Another Api of the same system (same database and Redis); default: API_URL.</param>
    public PlatformApi(string? apiUrl = null)
    {
        ApiUrl = (apiUrl ?? Environment.GetEnvironmentVariable("API_URL") ?? throw new InvalidOperationException("API_URL is not set (source .platform/env)")).TrimEnd('/');
        Http = NewClient();
    }

    public static HttpClient NewClient() => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = 1024,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        UseCookies = false,
        AutomaticDecompression = DecompressionMethods.None,
    })
    { Timeout = TimeSpan.FromSeconds(60) };

    public async Task<JsonNode> CallAsync(HttpMethod method, string path, string bearer, string? body = null)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var req = new HttpRequestMessage(method, ApiUrl + path);
            req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
            if (body != null) req.Content = new StringContent(body, Encoding.UTF8, "application/json");
            using var res = await Http.SendAsync(req);
            var text = await res.Content.ReadAsStringAsync();
            if (res.StatusCode == HttpStatusCode.TooManyRequests && attempt < 20)
            {
                var wait = res.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1);
                Console.WriteLine($"  429 on {path}: tenant rate limit (start the platform with Platform__RateLimits__Enabled=false); waiting {wait.TotalSeconds:F0}s");
                await Task.Delay(wait);
                continue;
            }
            if (!res.IsSuccessStatusCode) throw new InvalidOperationException($"{method} {path} → {(int)res.StatusCode}: {text}");
            return JsonNode.Parse(text)!;
        }
    }

    public async Task SetupTenantAsync(string name)
    {
        var op = Environment.GetEnvironmentVariable("OPERATOR_KEY") ?? throw new InvalidOperationException("OPERATOR_KEY is not set");
        ApiKey = (string)(await CallAsync(HttpMethod.Post, "/v1/tenants", op, $"{{\"name\":\"{name}\"}}"))["apiKey"]!;
        ChannelId = (string)(await CallAsync(HttpMethod.Post, "/v1/channels", ApiKey, "{\"name\":\"bench\"}"))["id"]!;
    }

    public async Task<string[]> ConversationsAsync(int n)
    {
        var ids = new string[n];
        await Parallel.ForAsync(0, n, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
            ids[i] = (string)(await CallAsync(HttpMethod.Post, "/v1/conversations", ApiKey, $"{{\"channelId\":\"{ChannelId}\"}}"))["id"]!);
        return ids;
    }

    /// <summary>A client token for (conversation, user): its streamUrl names the Realtime node (round-robin by the Api).</summary>
    public async Task<(string Token, string StreamUrl)> TokenAsync(string conversationId, string user)
    {
        var t = await CallAsync(HttpMethod.Post, $"/v1/conversations/{conversationId}/tokens", ApiKey, $"{{\"userId\":\"{user}\",\"ttlSeconds\":7200}}");
        return ((string)t["token"]!, (string)t["streamUrl"]!);
    }

    public async Task<(string Token, string StreamUrl)[]> TokensAsync(string[] conversationOfClient)
    {
        var res = new (string, string)[conversationOfClient.Length];
        await Parallel.ForAsync(0, conversationOfClient.Length, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, _) =>
            res[i] = await TokenAsync(conversationOfClient[i], $"u{i}"));
        return res;
    }

    public static string MessageBody(long n) => $"{{\"type\":\"message\",\"text\":\"bench message {n}\",\"from\":{{\"id\":\"bench\"}}}}";

    /// <summary>POST an activity with the tenant key; returns (status, seq).</summary>
    public async Task<(int Status, long Seq)> PostAsync(string conversationId, long n)
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, $"{ApiUrl}/v1/conversations/{conversationId}/activities");
        req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        req.Content = new StringContent(MessageBody(n), Encoding.UTF8, "application/json");
        using var res = await Http.SendAsync(req);
        if ((int)res.StatusCode is not (200 or 201)) { await res.Content.ReadAsByteArrayAsync(); return ((int)res.StatusCode, -1); }
        using var doc = JsonDocument.Parse(await res.Content.ReadAsStreamAsync());
        return ((int)res.StatusCode, doc.RootElement.GetProperty("seq").GetInt64());
    }
}

/// <summary>
/// CPU time spent by each part of the system between two snapshots, read from /proc: every process's user + system
/// time (<c>/proc/&lt;pid&gt;/stat</c> fields 14–17), grouped by what it is — the system under test's PostgreSQL (the
/// postmaster and every backend), Redis, each .NET service by its assembly and the orchestration around them (DCP,
/// dashboard), this load generator (with pgbench), and everything else on the machine — plus the machine's busy
/// share from <c>/proc/stat</c>. Dividing a part's CPU milliseconds by the operations completed in between gives
/// what one operation costs it, so a saturated run shows which part uses up the cores.
/// </summary>
public sealed class CpuSnapshot
{
    private static readonly double TicksPerSecond = 100; // USER_HZ: 100 on every Linux ABI .NET runs on
    private readonly Dictionary<int, (string Part, int Parent, long Ticks)> _processes = [];
    private readonly long _machineBusy, _machineTotal;
    private readonly long _at = Stopwatch.GetTimestamp();

    private CpuSnapshot()
    {
        var self = Environment.ProcessId;
        var found = new Dictionary<int, (string Comm, int Parent, long Ticks)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var close = stat.LastIndexOf(')');
                var comm = stat[(stat.IndexOf('(') + 1)..close];
                var fields = stat[(close + 2)..].Split(' ');
                // fields[0] is field 3 (state), fields[1] the parent; utime is field 14, stime field 15; cutime and
                // cstime (16, 17) hold the time of children that ended and were waited for — PostgreSQL backends that
                // closed in the window (pgbench's connections end with its run) are counted there, in the postmaster.
                var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)
                    + long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture);
                found[pid] = (comm, int.Parse(fields[1], CultureInfo.InvariantCulture), ticks);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                // The process ended while it was being read.
            }
        }
        // The system under test is the AppHost (BENCH_APPHOST_PID, from bench/run.sh) and everything its orchestrator
        // started — DCP runs daemonised and names the AppHost it serves (--monitor <pid>). Other systems on the same
        // machine (another checkout's PostgreSQL, a test run's Redis) are then "other", not the system's.
        var roots = new HashSet<int>();
        if (int.TryParse(Environment.GetEnvironmentVariable("BENCH_APPHOST_PID"), out var appHost) && found.ContainsKey(appHost))
        {
            roots.Add(appHost);
            foreach (var pid in found.Keys.Where(p => found[p].Comm.StartsWith("dcp", StringComparison.Ordinal)))
                if (CommandLine(pid).Contains($"--monitor {appHost} ", StringComparison.Ordinal) || CommandLine(pid).EndsWith($"--monitor {appHost}", StringComparison.Ordinal))
                    roots.Add(pid);
        }
        bool Under(int pid, int ancestor)
        {
            for (var p = pid; p > 1 && found.ContainsKey(p); p = found[p].Parent)
                if (p == ancestor) return true;
            return false;
        }
        foreach (var (pid, (comm, parent, ticks)) in found)
        {
            var part = Under(pid, self) ? (pid == self ? "load generator" : comm.StartsWith("pgbench", StringComparison.Ordinal) ? "pgbench" : "load generator")
                : roots.Count == 0 || roots.Any(r => Under(pid, r)) ? Classify(pid, comm) : "other";
            _processes[pid] = (part, parent, ticks);
        }
        var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        // user nice system idle iowait irq softirq steal: idle and iowait are not busy.
        _machineTotal = cpu.Take(8).Sum();
        _machineBusy = _machineTotal - cpu[3] - cpu[4];
    }

    private static string CommandLine(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').TrimEnd(); }
        catch (IOException) { return ""; }
    }

    public static CpuSnapshot Take() => File.Exists("/proc/stat") ? new CpuSnapshot() : throw new PlatformNotSupportedException("needs /proc");

    private static string Classify(int pid, string comm)
    {
        if (comm.StartsWith("postgres", StringComparison.Ordinal)) return "postgresql";
        if (comm.StartsWith("redis", StringComparison.Ordinal)) return "redis";
        var cmdline = CommandLine(pid);
        foreach (var service in (string[])["Platform.Api", "Platform.Realtime", "Platform.Worker", "Platform.Admin", "Platform.AppHost"])
            if (cmdline.Contains(service, StringComparison.Ordinal)) return service["Platform.".Length..].ToLowerInvariant();
        // Postgres backends renamed by update_process_title show as "postgres: …" in cmdline, not comm.
        if (cmdline.StartsWith("postgres", StringComparison.Ordinal)) return "postgresql";
        // DCP, the dashboard, `dotnet run` wrappers: the orchestration around the services.
        return "orchestration";
    }

    /// <summary>CPU milliseconds per part since <paramref name="before"/> (processes that started in between count from 0).</summary>
    public Dictionary<string, double> MillisecondsSince(CpuSnapshot before)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (pid, (part, _, ticks)) in _processes)
        {
            var start = before._processes.TryGetValue(pid, out var b) && b.Part == part ? b.Ticks : 0;
            result[part] = result.GetValueOrDefault(part) + (ticks - start) * 1000.0 / TicksPerSecond;
        }
        // A process that ended in the window moved all its time into its parent's cutime, which the loop above
        // counted whole; what it had used before the window is taken off again, from its parent's part, when that
        // parent is still there to have counted it.
        foreach (var (pid, (_, parent, ticks)) in before._processes)
            if (!_processes.ContainsKey(pid) && _processes.TryGetValue(parent, out var p) && before._processes.ContainsKey(parent))
                result[p.Part] = result.GetValueOrDefault(p.Part) - ticks * 1000.0 / TicksPerSecond;
        return result;
    }

    /// <summary>The machine's busy share (all cores) since <paramref name="before"/>, 0–1.</summary>
    public double BusySince(CpuSnapshot before) =>
        _machineTotal == before._machineTotal ? 0 : (double)(_machineBusy - before._machineBusy) / (_machineTotal - before._machineTotal);

    /// <summary>
    /// The part-by-part account of <paramref name="operations"/> operations between the two snapshots: CPU ms per
    /// operation for each part, the machine's busy share, and the rate the system under test (every part but this
    /// load generator) could reach if it had every core to itself: cores × 1000 ÷ its CPU ms per operation.
    /// </summary>
    public JsonObject Account(CpuSnapshot before, long operations)
    {
        var ms = MillisecondsSince(before);
        var seconds = Stopwatch.GetElapsedTime(before._at, _at).TotalSeconds;
        var perOp = new JsonObject();
        foreach (var (part, v) in ms.Where(kv => kv.Value > 0).OrderByDescending(kv => kv.Value))
            perOp[part] = Stats.R(operations > 0 ? v / operations : double.NaN, 3);
        var system = ms.Where(kv => kv.Key is not ("load generator" or "other" or "pgbench" or "orchestration")).Sum(kv => kv.Value);
        return new JsonObject
        {
            ["seconds"] = Stats.R(seconds, 1),
            ["operations"] = operations,
            ["machineBusyShare"] = Stats.R(BusySince(before), 3),
            ["cpuMsPerOperation"] = perOp,
            ["systemCpuMsPerOperation"] = Stats.R(operations > 0 ? system / operations : double.NaN, 3),
            ["systemBoundPerSecond"] = Stats.R(system > 0 ? Environment.ProcessorCount * 1000.0 * operations / system : double.NaN, 0),
        };
    }
}
