using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Platform.Bench.Load;

/// <summary>README.md (tables, parameters, ratios) and one SVG chart per scenario from bench/results/*.json.</summary>
public static class ReportWriter
{
    private static readonly System.Text.Json.JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly string[] Order = ["limits", "api", "api-rls", "throughput", "connections", "resume", "jobs", "notify", "algorithms", "community", "events", "impact", "civic", "faults"];

    /// <summary>
    /// The targets the project holds itself to, each read from a scenario's own file: an absolute figure only where a
    /// product document gives one, otherwise a ratio to a limit measured in the same run. Alternative paths cover the
    /// shapes older result files have.
    /// </summary>
    private static readonly Goal[] Goals =
    [
        new("activities persisted and fanned out ÷ pgbench single-row INSERT", "throughput", ["ratios.activitiesPerSecondToPgbenchInsert"], 0.5, AtLeast: true),
        new("idle WebSocket, bytes per connection at 10,000", "connections", ["results.bytesPerIdleConnection"], 8 * 1024, AtLeast: false),
        new("in-app notification within 100 ms (share)", "notify", ["results.shareWithin100ms", "shareWithin100ms"], 0.999, AtLeast: true),
        new("recommendations p95 at 10,000 attendees, ms", "events", ["recommendation.p95Ms", "results.recommendation.p95Ms"], 100, AtLeast: false),
        new("full match recalculation of 10,000 attendees, s", "events", ["recalculation.runSeconds", "results.recalculation.runSeconds"], 30, AtLeast: false),
        new("champion scoring 10,000 members / 200,000 signals, s", "community", ["results.enqueueToCompletedSeconds"], 5, AtLeast: false),
        new("outcome scoring through jobs, texts/s", "impact", ["scoring.textsPerSecond", "results.textsPerSecond"], 2000, AtLeast: true),
    ];

    private sealed record Goal(string Label, string Scenario, string[] Paths, double Target, bool AtLeast);
    private static readonly string[] Colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];

    /// <summary>The machine block, or null where a scenario's file describes the machine as text.</summary>
    private static JsonObject? Machine(JsonObject? doc) => doc?["machine"] as JsonObject;

    public static int Write(Args a)
    {
        var dir = a.Str("dir", "bench/results");
        var docs = Directory.GetFiles(dir, "*.json")
            .Select(f => (Name: Path.GetFileNameWithoutExtension(f), Doc: JsonNode.Parse(File.ReadAllText(f)) as JsonObject))
            .Where(x => x.Doc != null && !x.Name.Contains('.'))
            .OrderBy(x => Array.IndexOf(Order, x.Name) is var i && i < 0 ? 99 : i).ToList();
        var sb = new StringBuilder();
        var machine = docs.Select(d => d.Doc!["machine"] as JsonObject).FirstOrDefault(m => m != null);
        sb.AppendLine("# Benchmark results").AppendLine();
        sb.AppendLine($"Generated {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC by `bench/run.sh` (`Platform.Bench.Load report`). Raw data: the `*.json` files next to this one.").AppendLine();
        if (machine != null)
        {
            sb.AppendLine($"**Machine:** {machine["cores"]} cores ({machine["cpu"]}), {machine["memoryMb"]} MiB RAM, {machine["os"]}, .NET {machine["dotnet"]}.");
            sb.AppendLine($"**Command:** `{docs.Select(d => (string?)d.Doc!["command"]).FirstOrDefault(c => !string.IsNullOrEmpty(c))}`").AppendLine();
        }
        if (a.Get("note") is { } note) sb.AppendLine(note).AppendLine();
        if (File.Exists(Path.Combine(dir, "versions.txt"))) sb.AppendLine("**Versions:** " + File.ReadAllText(Path.Combine(dir, "versions.txt")).Trim()).AppendLine();

        var headlines = Headlines(docs.ToDictionary(d => d.Name, d => d.Doc!));
        if (headlines.Count > 0)
        {
            sb.AppendLine("## Headline").AppendLine();
            foreach (var h in headlines) sb.AppendLine("- " + h);
            sb.AppendLine();
        }
        sb.AppendLine("| scenario | mode | started (UTC) | load average before → after |").AppendLine("|---|---|---|---|");
        foreach (var (name, doc) in docs)
            sb.AppendLine($"| [{name}](#{name}) | {Mode(doc!)} | {Short(When(doc!))} | {Load(Machine(doc)?["loadAverage"] ?? Machine(doc)?["loadAverageBefore"] ?? doc!["machine"] as JsonValue)} → {Load(Machine(doc)?["loadAverageAfter"] ?? Machine(doc)?["loadAverageAfterEmail"])} |");
        sb.AppendLine();
        WriteGoals(sb, docs.ToDictionary(d => d.Name, d => d.Doc!));

        foreach (var (name, doc) in docs)
        {
            sb.AppendLine($"## {name}").AppendLine();
            var d = name == "jobs" ? FromJobs(doc!, docs.FirstOrDefault(x => x.Name == "limits").Doc) : doc!;
            if (d["parameters"] is JsonObject p && p.Count > 0)
            {
                sb.AppendLine("Parameters: " + string.Join("; ", p.Select(kv => $"`{kv.Key}` = {Inline(kv.Value)}")) + ".").AppendLine();
            }
            if (d["table"] is JsonObject t)
            {
                var cols = t["columns"]!.AsArray().Select(c => (string?)c ?? "").ToList();
                sb.AppendLine("| " + string.Join(" | ", cols) + " |");
                sb.AppendLine("|" + string.Concat(cols.Select(_ => "---|")));
                foreach (var row in t["rows"]!.AsArray())
                    sb.AppendLine("| " + string.Join(" | ", row!.AsArray().Select(Inline)) + " |");
                sb.AppendLine();
            }
            if (d["table"] is null && d["parameters"] is null)
            {
                // A module benchmark's own shape: every measured value, by its path in the file.
                sb.AppendLine("| measure | value |").AppendLine("|---|---|");
                foreach (var (path, value) in Leaves(d, ""))
                    sb.AppendLine($"| `{path}` | {value} |");
                sb.AppendLine();
            }
            if (d["ratios"] is JsonObject r && r.Count > 0)
            {
                var lim = d["limits"] as JsonObject;
                sb.AppendLine("Ratios to the limits measured in the same run (" + string.Join(", ", (lim ?? new JsonObject()).Select(kv => $"{kv.Key} = {Inline(kv.Value)}")) + "): " +
                    string.Join("; ", r.Select(kv => $"**{kv.Key}** = {Inline(kv.Value)}")) + ".").AppendLine();
            }
            if (d["cpu"] is JsonObject cpu && cpu.Count > 0)
            {
                WriteCpu(sb, cpu);
            }
            if (d["chart"] is JsonObject chart)
            {
                var svg = Path.Combine(dir, name + ".svg");
                File.WriteAllText(svg, Svg(chart));
                sb.AppendLine($"![{name}]({name}.svg)").AppendLine();
            }
        }
        File.WriteAllText(Path.Combine(dir, "README.md"), sb.ToString());
        Console.WriteLine($"wrote {Path.Combine(dir, "README.md")}");
        return 0;
    }

    /// <summary>
    /// Where the CPU went in each measured phase: milliseconds of CPU per operation by part of the system, the
    /// machine's busy share, and the rate the system under test could reach with every core to itself.
    /// </summary>
    private static void WriteCpu(StringBuilder sb, JsonObject cpu)
    {
        var parts = cpu.Select(kv => kv.Value?["cpuMsPerOperation"] as JsonObject).Where(o => o != null).SelectMany(o => o!.Select(kv => kv.Key))
            .Distinct().ToList();
        sb.AppendLine("CPU per operation (ms of CPU time, from /proc, all processes of each part; the system under test is PostgreSQL, Redis and the five services; `orchestration` is DCP and the dashboard, `other` everything else on the machine):").AppendLine();
        sb.AppendLine("| phase | operations | machine busy | " + string.Join(" | ", parts) + " | system under test | its bound with all cores (ops/s) |");
        sb.AppendLine("|---|---|---|" + string.Concat(parts.Select(_ => "---|")) + "---|---|");
        foreach (var (phase, node) in cpu)
        {
            if (node is not JsonObject a) continue;
            var per = a["cpuMsPerOperation"] as JsonObject;
            sb.AppendLine($"| {phase} | {Inline(a["operations"])} | {Inline(a["machineBusyShare"])} | " +
                string.Join(" | ", parts.Select(p => Inline(per?[p]))) + $" | {Inline(a["systemCpuMsPerOperation"])} | {Inline(a["systemBoundPerSecond"])} |");
        }
        sb.AppendLine();
    }

    /// <summary>One line per scenario from the fields it is known to write (missing fields: the line is left out).</summary>
    private static List<string> Headlines(Dictionary<string, JsonObject> d)
    {
        var lines = new List<string>();
        void Try(Func<string> f) { try { lines.Add(f()); } catch (Exception e) when (e is NullReferenceException or InvalidOperationException or KeyNotFoundException or FormatException) { } }
        string N(JsonNode? n) => Inline(n);
        Try(() =>
        {
            var r = d["api"]["results"]!;
            var ph = r["phases"]!.AsArray();
            JsonNode P(string e, string load) => ph.First(p => (string?)p!["endpoint"] == e && ((string?)p["load"])!.StartsWith(load, StringComparison.Ordinal))!;
            var pr = P("POST", "100/s"); var gr = P("GET", "100/s");
            return $"**api**: at 100 req/s POST p50/p95/p99 {N(pr["p50Ms"])}/{N(pr["p95Ms"])}/{N(pr["p99Ms"])} ms, GET {N(gr["p50Ms"])}/{N(gr["p95Ms"])}/{N(gr["p99Ms"])} ms; saturation POST {N(r["postSaturationRps"])} req/s " +
                   $"(× {N(d["api"]["ratios"]!["postSaturationToPgbenchInsert"])} of pgbench INSERT), GET {N(r["getSaturationRps"])} req/s (× {N(d["api"]["ratios"]!["getSaturationToKestrelTrivial"])} of trivial Kestrel).";
        });
        Try(() =>
        {
            var r = d["throughput"]["results"]!;
            var f = r["fixedRate"]!; var s = r["saturation"]!;
            return $"**throughput** ({N(d["throughput"]["parameters"]!["clients"])} clients, two nodes): at {N(f["load"])} accepted→frame p50/p95/p99 {N(f["acceptedToFrame"]!["p50Ms"])}/{N(f["acceptedToFrame"]!["p95Ms"])}/{N(f["acceptedToFrame"]!["p99Ms"])} ms " +
                   $"(sent→frame {N(f["sentToFrame"]!["p50Ms"])}/{N(f["sentToFrame"]!["p95Ms"])}/{N(f["sentToFrame"]!["p99Ms"])} ms), {N(f["framesMissing"])} frames missing; saturation {N(s["activitiesPerSecond"])} activities/s persisted and {N(s["deliveriesPerSecond"])} frames/s delivered " +
                   $"(× {N(d["throughput"]["ratios"]!["activitiesPerSecondToPgbenchInsert"])} of pgbench INSERT), {N(s["post"]!["errors"])} errors.";
        });
        Try(() =>
        {
            var r = d["connections"]["results"]!;
            return $"**connections**: {N(r["maxOpen"])} idle WebSockets open on two nodes, {N(r["failed"])} failed; ≈ {N(r["bytesPerIdleConnection"])} bytes RSS per idle connection at the last step; {N(r["connectsPerSecondMean"])} connects/s (× {N(d["connections"]["ratios"]!["connectsPerSecondToKestrelTrivialRequests"])} of trivial Kestrel requests/s).";
        });
        Try(() =>
        {
            var r = d["resume"]["results"]!;
            return $"**resume**: {N(d["resume"]["parameters"]!["clients"])} clients reconnecting at once after {N(d["resume"]["parameters"]!["activities"])} activities were all caught up after {N(r["secondsUntilAllCaughtUp"])} s; exact seq 1..N for {N(r["clientsWithExactSequence"])}/{N(d["resume"]["parameters"]!["clients"])} clients.";
        });
        Try(() =>
        {
            var j = FromJobs(d["jobs"], d.GetValueOrDefault("limits"));
            var rows = j["table"]!["rows"]!.AsArray();
            return $"**jobs**: ours {N(rows[0]![1])} jobs/s vs Quartz {N(rows[1]![1])} jobs/s (× {N(j["ratios"]!["speedupOverQuartzThroughput"])}); ours × {N(j["ratios"]!["oursJobsPerSecondToPgbenchInsert"])} of pgbench INSERT.";
        });
        Try(() =>
        {
            var r = d["faults"]["results"]!;
            var act = r["activities"]!; var n = r["notifications"]!;
            return $"**faults** ({N(d["faults"]["parameters"]!["clients"])} clients, {N(d["faults"]["parameters"]!["activitiesPerSecond"])} activities/s, each part killed or restarted in turn): " +
                   $"{N(act["acknowledged"])} activities acknowledged, {N(act["stored"])} stored, {N(act["lost"])} lost, {N(act["duplicated"])} duplicated, {N(act["undeliveredToClients"])} deliveries missing, exact seq 1..N for {N(act["clientsWithExactSequence"])}/{N(act["clients"])} clients; " +
                   $"notifications {N(n["sent"])}/{N(n["expected"])} sent, {N(n["sentMoreThanOnce"])} twice.";
        });
        return lines;
    }

    private static void WriteGoals(StringBuilder sb, Dictionary<string, JsonObject> docs)
    {
        sb.AppendLine("## Goals").AppendLine();
        sb.AppendLine("| goal | scenario | measured | target | measured ÷ target | met |").AppendLine("|---|---|---|---|---|---|");
        foreach (var g in Goals)
        {
            var value = docs.GetValueOrDefault(g.Scenario) is { } doc
                ? g.Paths.Select(p => Number(At(doc, p))).FirstOrDefault(v => v is not null)
                : null;
            static string Fig(double x) => x >= 100 ? x.ToString("N0", CultureInfo.InvariantCulture) : x.ToString("0.####", CultureInfo.InvariantCulture);
            var target = Fig(g.Target);
            if (value is not { } v)
            {
                sb.AppendLine($"| {g.Label} | [{g.Scenario}](#{g.Scenario}) | not measured | {(g.AtLeast ? "≥ " : "≤ ")}{target} | – | – |");
                continue;
            }
            if (Mode(docs[g.Scenario]) == "smoke")
            {
                // A smoke run measures a fraction of the size the target is stated for: shown, never judged.
                sb.AppendLine($"| {g.Label} | [{g.Scenario}](#{g.Scenario}) | {Fig(v)} (smoke size) | {(g.AtLeast ? "≥ " : "≤ ")}{target} | – | – |");
                continue;
            }
            var met = g.AtLeast ? v >= g.Target : v <= g.Target;
            sb.AppendLine($"| {g.Label} | [{g.Scenario}](#{g.Scenario}) | {Fig(v)} | {(g.AtLeast ? "≥ " : "≤ ")}{target} | {(v / g.Target).ToString("0.###", CultureInfo.InvariantCulture)} | {(met ? "yes" : "**no**")} |");
        }
        sb.AppendLine();
    }

    private static JsonNode? At(JsonNode? node, string path)
    {
        foreach (var part in path.Split('.'))
        {
            node = node is JsonObject o ? o[part] : null;
        }
        return node;
    }

    private static double? Number(JsonNode? n) => n is JsonValue v && v.TryGetValue<double>(out var d) ? d : null;

    /// <summary>Leaf values of a result file (the machine block aside), arrays of scalars inline.</summary>
    private static IEnumerable<(string Path, string Value)> Leaves(JsonNode? node, string prefix)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (k, v) in o)
                {
                    if (prefix.Length == 0 && k is "machine" or "benchmark" or "scenario")
                        continue;
                    foreach (var leaf in Leaves(v, prefix.Length == 0 ? k : prefix + "." + k))
                        yield return leaf;
                }
                break;
            case JsonArray a when a.All(x => x is JsonValue):
                yield return (prefix, string.Join(", ", a.Select(Inline)));
                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                    foreach (var leaf in Leaves(a[i], $"{prefix}[{i}]"))
                        yield return leaf;
                break;
            default:
                yield return (prefix, Inline(node).Replace("|", "\\|", StringComparison.Ordinal));
                break;
        }
    }

    private static string Mode(JsonObject doc) => (string?)doc["mode"] ?? (doc["smoke"] is JsonValue s && s.TryGetValue<bool>(out var smoke) ? (smoke ? "smoke" : "full") : "");

    private static string? When(JsonObject doc) => new[] { "startedAt", "date", "at", "measuredAt" }.Select(k => doc[k] is JsonValue v && v.TryGetValue<string>(out var t) ? t : null).FirstOrDefault(t => t != null);

    /// <summary>Load averages are written as a string, an array or a machine description; the first three numbers.</summary>
    private static string Load(JsonNode? n) => n switch
    {
        JsonArray a => string.Join(' ', a.Take(3).Select(Inline)),
        JsonValue v when v.TryGetValue<string>(out var s) => string.Join(' ', System.Text.RegularExpressions.Regex.Matches(s, @"\d+\.\d+").Take(3).Select(m => m.Value)),
        _ => "",
    };

    private static string Short(string? iso) => iso != null && DateTimeOffset.TryParse(iso, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) : "";

    private static string Inline(JsonNode? n) => n switch
    {
        null => "–",
        JsonValue v => v.ToString(),
        _ => n.ToJsonString(Relaxed),
    };

    /// <summary>bench/jobs writes its own shape; this maps it onto table + chart + ratio.</summary>
    private static JsonObject FromJobs(JsonObject doc, JsonObject? limits)
    {
        var res = doc["results"]!.AsArray();
        var rows = new JsonArray();
        var points = new JsonArray();
        foreach (var e in res)
        {
            rows.Add(new JsonArray((JsonNode?)(string?)e!["engine"], e["throughput"]?["jobsPerSecond"]?.DeepClone() is JsonNode j ? Stats.R((double)j, 1) : null,
                Stats.R((double?)e["latency"]?["p50Ms"] ?? double.NaN), Stats.R((double?)e["latency"]?["p99Ms"] ?? double.NaN)));
            points.Add(new JsonArray((JsonNode?)(string?)e["engine"], Stats.R((double?)e["throughput"]?["jobsPerSecond"] ?? 0, 1)));
        }
        var outDoc = new JsonObject
        {
            ["parameters"] = new JsonObject { ["workers"] = doc["workers"]?.DeepClone(), ["work"] = doc["work"]?.DeepClone(), ["server"] = doc["server"]?.DeepClone() },
            ["table"] = new JsonObject { ["columns"] = new JsonArray("engine", "jobs/s (backlog)", "enqueue→start p50 ms", "p99 ms"), ["rows"] = rows },
            ["chart"] = new JsonObject { ["kind"] = "bar", ["title"] = "Job engine throughput (backlog drain)", ["xLabel"] = "engine", ["yLabel"] = "jobs/s", ["series"] = new JsonArray(new JsonObject { ["name"] = "jobs/s", ["points"] = points }) },
        };
        var tps = (double?)limits?["results"]?["pgbenchInsertTps"] ?? 0;
        var ours = (double?)res.FirstOrDefault()?["throughput"]?["jobsPerSecond"] ?? 0;
        outDoc["limits"] = new JsonObject { ["pgbenchInsertTps"] = tps > 0 ? Stats.R(tps, 1) : null };
        outDoc["ratios"] = new JsonObject
        {
            ["oursJobsPerSecondToPgbenchInsert"] = Stats.Ratio(ours, tps),
            ["speedupOverQuartzThroughput"] = Stats.R((double?)doc["speedup"]?["throughput"] ?? double.NaN),
            ["speedupOverQuartzLatencyP50"] = Stats.R((double?)doc["speedup"]?["latencyP50"] ?? double.NaN),
        };
        return outDoc;
    }

    public static string Svg(JsonObject chart)
    {
        const int W = 800, H = 380, L = 70, R = 260, T = 40, B = 50;
        var kind = (string?)chart["kind"] ?? "line";
        var series = chart["series"]!.AsArray().Select(s => (Name: (string?)s!["name"] ?? "", Points: s["points"]!.AsArray()
            .Select(p => (X: (string?)p![0] ?? "", Y: (double?)p[1] ?? 0)).ToList())).ToList();
        var step = NiceStep(Math.Max(1e-9, series.SelectMany(s => s.Points).Select(p => p.Y).DefaultIfEmpty(1).Max()) / 5);
        var maxY = step * Math.Ceiling(Math.Max(1e-9, series.SelectMany(s => s.Points).Select(p => p.Y).DefaultIfEmpty(1).Max()) * 1.05 / step);
        var sb = new StringBuilder();
        var I = CultureInfo.InvariantCulture;
        sb.Append(I, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" font-family=\"sans-serif\" font-size=\"11\">\n");
        sb.Append(I, $"<rect width=\"{W}\" height=\"{H}\" fill=\"white\"/>\n");
        sb.Append(I, $"<text x=\"{W / 2}\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">{E(chart["title"])}</text>\n");
        var pw = W - L - R; var ph = H - T - B;
        double Y(double v) => T + ph - v / maxY * ph;
        for (var v = 0.0; v <= maxY + step / 2; v += step)
        {
            sb.Append(I, $"<line x1=\"{L}\" x2=\"{L + pw}\" y1=\"{Y(v):F1}\" y2=\"{Y(v):F1}\" stroke=\"#ddd\"/><text x=\"{L - 5}\" y=\"{Y(v) + 4:F1}\" text-anchor=\"end\">{Num(v)}</text>\n");
        }
        sb.Append(I, $"<line x1=\"{L}\" x2=\"{L}\" y1=\"{T}\" y2=\"{T + ph}\" stroke=\"black\"/><line x1=\"{L}\" x2=\"{L + pw}\" y1=\"{T + ph}\" y2=\"{T + ph}\" stroke=\"black\"/>\n");
        sb.Append(I, $"<text x=\"{L + pw / 2}\" y=\"{H - 10}\" text-anchor=\"middle\">{E(chart["xLabel"])}</text>\n");
        sb.Append(I, $"<text transform=\"translate(15,{T + ph / 2}) rotate(-90)\" text-anchor=\"middle\">{E(chart["yLabel"])}</text>\n");
        var cats = series.SelectMany(s => s.Points.Select(p => p.X)).Distinct().ToList();
        if (kind == "line" && cats.All(c => double.TryParse(c, NumberStyles.Float, I, out _)))
        {
            var xs = cats.Select(c => double.Parse(c, I)).ToList();
            double minX = xs.DefaultIfEmpty(0).Min(), maxX = Math.Max(minX + 1e-9, xs.DefaultIfEmpty(1).Max());
            double X(double v) => L + (v - minX) / (maxX - minX) * pw;
            var ticks = xs.Distinct().Count() <= 8 ? xs.Distinct().OrderBy(v => v).ToList() : NiceTicks(minX, maxX);
            foreach (var x in ticks)
                sb.Append(I, $"<text x=\"{X(x):F1}\" y=\"{T + ph + 15}\" text-anchor=\"middle\">{Num(x)}</text>\n");
            for (var si = 0; si < series.Count; si++)
            {
                var c = Colors[si % Colors.Length];
                var pts = string.Join(' ', series[si].Points.Select(p => $"{X(double.Parse(p.X, I)).ToString("F1", I)},{Y(p.Y).ToString("F1", I)}"));
                sb.Append(I, $"<polyline fill=\"none\" stroke=\"{c}\" stroke-width=\"2\" points=\"{pts}\"/>\n");
                foreach (var p in series[si].Points) sb.Append(I, $"<circle cx=\"{X(double.Parse(p.X, I)):F1}\" cy=\"{Y(p.Y):F1}\" r=\"2.5\" fill=\"{c}\"/>\n");
            }
        }
        else
        {
            var group = pw / (double)Math.Max(1, cats.Count);
            var bw = group * 0.8 / Math.Max(1, series.Count);
            for (var ci = 0; ci < cats.Count; ci++)
            {
                sb.Append(I, $"<text x=\"{L + group * (ci + 0.5):F1}\" y=\"{T + ph + 15}\" text-anchor=\"middle\">{E(cats[ci])}</text>\n");
                for (var si = 0; si < series.Count; si++)
                {
                    var p = series[si].Points.FirstOrDefault(q => q.X == cats[ci]);
                    if (p.X == null) continue;
                    var x = L + group * ci + group * 0.1 + bw * si;
                    sb.Append(I, $"<rect x=\"{x:F1}\" y=\"{Y(p.Y):F1}\" width=\"{bw:F1}\" height=\"{T + ph - Y(p.Y):F1}\" fill=\"{Colors[si % Colors.Length]}\"/>");
                    sb.Append(I, $"<text x=\"{x + bw / 2:F1}\" y=\"{Y(p.Y) - 3:F1}\" text-anchor=\"middle\" font-size=\"9\">{Num(p.Y)}</text>\n");
                }
            }
        }
        for (var si = 0; si < series.Count; si++)
        {
            var y = T + 10 + si * 16;
            sb.Append(I, $"<rect x=\"{L + pw + 10}\" y=\"{y - 8}\" width=\"10\" height=\"10\" fill=\"{Colors[si % Colors.Length]}\"/><text x=\"{L + pw + 25}\" y=\"{y + 1}\">{E(series[si].Name)}</text>\n");
        }
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    private static List<double> NiceTicks(double min, double max)
    {
        var step = NiceStep((max - min) / 6);
        var ticks = new List<double>();
        for (var v = Math.Ceiling(min / step) * step; v <= max + 1e-9; v += step) ticks.Add(v);
        return ticks;
    }

    /// <summary>1, 2 or 5 × 10^k, the smallest not below raw.</summary>
    private static double NiceStep(double raw)
    {
        var mag = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        return raw / mag <= 1 ? mag : raw / mag <= 2 ? 2 * mag : raw / mag <= 5 ? 5 * mag : 10 * mag;
    }

    private static string E(JsonNode? n) => WebUtility.HtmlEncode((string?)n ?? "");
    private static string E(string s) => WebUtility.HtmlEncode(s);
    private static string Num(double v) => v >= 100 ? v.ToString("N0", CultureInfo.InvariantCulture) : v.ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>The smoke check: the file exists, is JSON, and has the fields every scenario writes.</summary>
    public static int Validate(Args a)
    {
        var file = a.Get("file") ?? throw new ArgumentException("--file");
        try
        {
            var doc = JsonNode.Parse(File.ReadAllText(file)) as JsonObject ?? throw new FormatException("not a JSON object");
            if (a.Has("module"))
            {
                // A module benchmark writes its own shape: it must at least hold measured numbers.
                if (!Leaves(doc, "").Any(l => double.TryParse(l.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
                    throw new FormatException("no measured value");
                Console.WriteLine($"ok: {file} (module)");
                return 0;
            }
            var scenario = (string?)doc["scenario"] ?? (string?)doc["benchmark"] ?? throw new FormatException("no scenario/benchmark field");
            if (doc["results"] is null) throw new FormatException("no results");
            if (doc["benchmark"] is null && doc["table"] is null) throw new FormatException("no table");
            Console.WriteLine($"ok: {file} ({scenario})");
            return 0;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"invalid: {file}: {e.Message}");
            return 1;
        }
    }
}
