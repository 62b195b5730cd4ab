using Microsoft.Extensions.Logging;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Platform.Bench.Load;

public static class Scenarios
{
    private static void Log(string s) => Console.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {s}");

    // -----------------------------------------------------------------------------------------
    // limits: what this machine's PostgreSQL, Redis and a trivial Kestrel endpoint can do
    // -----------------------------------------------------------------------------------------
    public static async Task<int> LimitsAsync(Args a)
    {
        var smoke = a.Has("smoke");
        var rep = new Report("limits", smoke, a);
        var clients = a.Int("clients", smoke ? 4 : 32);
        var seconds = a.Int("seconds", smoke ? 2 : 10);
        rep.Parameters["clients"] = clients;
        rep.Parameters["seconds"] = seconds;

        // pgbench: single-row INSERT script at the scenarios' client count, in a scratch database.
        var db = new Uri(Environment.GetEnvironmentVariable("DATABASE_URL") ?? throw new InvalidOperationException("DATABASE_URL is not set"));
        string[] conn = ["-h", db.Host, "-p", db.Port.ToString(CultureInfo.InvariantCulture), "-U", Uri.UnescapeDataString(db.UserInfo.Split(':')[0])];
        // psql and pgbench take the password from the environment, not the command line.
        var pgPassword = db.UserInfo.Split(':') is [_, var pw] ? Uri.UnescapeDataString(pw) : null;
        if (pgPassword is not null)
        {
            Environment.SetEnvironmentVariable("PGPASSWORD", pgPassword);
        }
        var scratch = "bench_limits_" + Guid.NewGuid().ToString("N")[..8];
        var script = Path.Combine(Path.GetTempPath(), scratch + ".sql");
        await File.WriteAllTextAsync(script, "INSERT INTO activity_like (conversation_id, body) VALUES (gen_random_uuid(), 'bench message');\n");
        double tps = 0;
        try
        {
            await RunAsync("psql", [.. conn, "-d", db.AbsolutePath.Trim('/'), "-v", "ON_ERROR_STOP=1", "-qc", $"CREATE DATABASE {scratch}"]);
            await RunAsync("psql", [.. conn, "-d", scratch, "-v", "ON_ERROR_STOP=1", "-qc",
                "CREATE TABLE activity_like (id bigserial PRIMARY KEY, conversation_id uuid NOT NULL, body text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"]);
            Log($"pgbench: {clients} clients, {seconds}s, single-row INSERT");
            var pgCpu = CpuSnapshot.Take();
            var pg = await RunAsync("pgbench", [.. conn, "-n", "-c", clients.ToString(CultureInfo.InvariantCulture), "-j", "2", "-T", seconds.ToString(CultureInfo.InvariantCulture), "-f", script, scratch]);
            var m = Regex.Match(pg, @"tps = ([0-9.]+) \(without initial connection time\)");
            tps = m.Success ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
            var inserted = Regex.Match(pg, @"number of transactions actually processed: ([0-9]+)");
            rep.Cpu["pgbench single-row INSERT"] = CpuSnapshot.Take().Account(pgCpu, inserted.Success ? long.Parse(inserted.Groups[1].Value, CultureInfo.InvariantCulture) : 0);
            var lat = Regex.Match(pg, @"latency average = ([0-9.]+) ms");
            rep.Results["pgbenchInsertTps"] = Stats.R(tps, 1);
            rep.Results["pgbenchLatencyAvgMs"] = lat.Success ? Stats.R(double.Parse(lat.Groups[1].Value, CultureInfo.InvariantCulture)) : null;
            rep.Results["pgbenchClients"] = clients;
            rep.Results["postgresVersion"] = (await RunAsync("psql", [.. conn, "-d", scratch, "-tAc", "SHOW server_version"])).Trim();
            rep.Results["synchronousCommit"] = (await RunAsync("psql", [.. conn, "-d", scratch, "-tAc", "SHOW synchronous_commit"])).Trim();
        }
        finally
        {
            try { await RunAsync("psql", [.. conn, "-d", db.AbsolutePath.Trim('/'), "-qc", $"DROP DATABASE IF EXISTS {scratch}"]); } catch (Exception e) { Log(e.Message); }
            File.Delete(script);
        }

        // redis-benchmark: PUBLISH (the doorbell's command) with a doorbell-sized payload.
        var redis = new Uri(Environment.GetEnvironmentVariable("REDIS_URL") ?? throw new InvalidOperationException("REDIS_URL is not set"));
        var payload = new string('x', 600);
        string[] redisAuth = redis.UserInfo.Split(':') is [_, var redisPassword] && redisPassword.Length > 0
            ? ["-a", Uri.UnescapeDataString(redisPassword)]
            : [];
        var n = smoke ? 5000 : 200000;
        Log($"redis-benchmark PUBLISH: {n} requests, 50 clients");
        var rb = await RunAsync("redis-benchmark", ["-h", redis.Host, "-p", redis.Port.ToString(CultureInfo.InvariantCulture), .. redisAuth, "-n", n.ToString(CultureInfo.InvariantCulture), "-c", "50", "-q", "--csv", "PUBLISH", "bench:limits", payload]);
        var rbm = Regex.Match(rb, @"""PUBLISH[^""]*"",""([0-9.]+)""");
        var pps = rbm.Success ? double.Parse(rbm.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
        rep.Results["redisPublishPerSec"] = Stats.R(pps, 1);
        rep.Results["redisVersion"] = Regex.Match(await RunAsync("redis-cli", ["-h", redis.Host, "-p", redis.Port.ToString(CultureInfo.InvariantCulture), .. redisAuth, .. (redisAuth.Length > 0 ? new[] { "--no-auth-warning" } : []), "INFO", "server"]), @"redis_version:(\S+)").Groups[1].Value;

        // Trivial Kestrel endpoint (this program's `trivial` mode, its own process) under the same load generator.
        var port = a.Int("trivial-port", 5999);
        using var server = Process.Start(new ProcessStartInfo("dotnet", [typeof(Scenarios).Assembly.Location, "trivial", "--port", port.ToString(CultureInfo.InvariantCulture), "--parent-pid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture)])
        { RedirectStandardOutput = true, RedirectStandardError = true })!;
        try
        {
            using var http = PlatformApi.NewClient();
            var url = $"http://127.0.0.1:{port}/";
            for (var i = 0; ; i++)
            {
                try { (await http.GetAsync(url)).EnsureSuccessStatusCode(); break; }
                catch when (i < 100) { await Task.Delay(200); }
            }
            async Task<int> Get(long _) { using var res = await http.GetAsync(url); await res.Content.ReadAsByteArrayAsync(); return (int)res.StatusCode; }
            await LoadGen.SaturateAsync(Get, clients, TimeSpan.FromSeconds(1)); // warm-up
            Log($"trivial Kestrel GET: {clients} connections, {seconds}s");
            var k = await LoadGen.SaturateAsync(Get, clients, TimeSpan.FromSeconds(seconds));
            rep.Results["kestrelTrivialRps"] = Stats.R(k.Rps, 1);
            rep.Results["kestrelTrivial"] = k.ToJson();
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
        }

        rep.Table(["limit", "value"],
        [
            [$"pgbench single-row INSERT, {clients} clients (commits/s)", rep.Results["pgbenchInsertTps"]],
            ["redis-benchmark PUBLISH, 50 clients (publishes/s)", rep.Results["redisPublishPerSec"]],
            [$"trivial Kestrel GET, {clients} connections, same generator (req/s)", rep.Results["kestrelTrivialRps"]],
        ]);
        rep.Chart("bar", "Limits of this machine (same run)", "limit", "operations/s",
        [
            ("ops/s", [("pgbench INSERT", tps), ("Redis PUBLISH", pps), ("Kestrel trivial", (double)rep.Results["kestrelTrivialRps"]!)]),
        ]);
        rep.Write();
        return tps > 0 && pps > 0 ? 0 : 1;
    }

    public static async Task<string> RunAsync(string file, string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var x in args) psi.ArgumentList.Add(x);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        var o = await stdout + await stderr;
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} exited with {p.ExitCode}: {o}");
        return o;
    }

    public static Task<int> TrivialAsync(Args a)
    {
        var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var app = builder.Build();
        Microsoft.AspNetCore.Builder.EndpointRouteBuilderExtensions.MapGet(app, "/", () => "ok");
        app.Urls.Add($"http://127.0.0.1:{a.Int("port", 5999)}");
        // Exit with the load program even when it is killed (a timeout): never leave this process behind.
        var parent = a.Int("parent-pid", 0);
        if (parent > 0)
        {
            _ = Task.Run(async () =>
            {
                while (true)
                {
                    await Task.Delay(1000);
                    try { if (Process.GetProcessById(parent).HasExited) break; } catch (ArgumentException) { break; }
                }
                Environment.Exit(0);
            });
        }
        app.Run();
        return Task.FromResult(0);
    }

    // -----------------------------------------------------------------------------------------
    // api: POST and GET …/activities at fixed rates and at saturation
    // -----------------------------------------------------------------------------------------
    public static async Task<int> ApiAsync(Args a)
    {
        var smoke = a.Has("smoke");
        var rep = new Report("api", smoke, a);
        var rates = a.Ints("rates", smoke ? "50" : "100,500,1000,2000");
        var seconds = a.Int("seconds", smoke ? 1 : 10);
        var concurrency = a.Int("concurrency", smoke ? 4 : 32);
        var conversations = a.Int("conversations", smoke ? 4 : 100);
        rep.Parameters["rates"] = new JsonArray(rates.Select(r => (JsonNode)r).ToArray());
        rep.Parameters["secondsPerPhase"] = seconds;
        rep.Parameters["saturationConcurrency"] = concurrency;
        rep.Parameters["conversations"] = conversations;
        rep.Parameters["generator"] = "Platform.Bench.Load: open-loop constant rate (latency from each request's scheduled time) and closed-loop saturation; HttpClient, keep-alive";
        rep.Parameters["post"] = "tenant API key, {\"type\":\"message\",\"text\":\"bench message N\",\"from\":{\"id\":\"bench\"}}, round-robin over the conversations";
        rep.Parameters["get"] = "client token, GET …/activities?watermark=0&limit=100 (a full page of 100 activities)";
        var limits = rep.LoadLimits();

        var api = new PlatformApi();
        await api.SetupTenantAsync("bench-api");
        var convs = await api.ConversationsAsync(conversations);
        var single = (await api.ConversationsAsync(1))[0];
        var tokens = await api.TokensAsync(convs);
        var http = api.Http;

        Task<int> Post(long n) => PostStatus(api, convs[n % convs.Length], n);
        async Task<int> Get(long n)
        {
            var i = (int)(n % convs.Length);
            using var req = new HttpRequestMessage(HttpMethod.Get, $"{api.ApiUrl}/v1/conversations/{convs[i]}/activities?watermark=0&limit=100");
            req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens[i].Token);
            using var res = await http.SendAsync(req);
            await res.Content.ReadAsByteArrayAsync();
            return (int)res.StatusCode;
        }

        // Fill every conversation with a page first, so GET returns 100 activities from the start.
        await Parallel.ForAsync(0, convs.Length, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
        {
            for (var k = 0; k < (smoke ? 20 : 100); k++) await api.PostAsync(convs[i], k);
        });
        await LoadGen.SaturateAsync(Get, concurrency, TimeSpan.FromSeconds(1)); // warm-up

        var rows = new List<object?[]>();
        var phases = new JsonArray();
        var postSeries = new List<(object, double)>();
        var getSeries = new List<(object, double)>();
        var postP50 = new List<(object, double)>();
        var getP50 = new List<(object, double)>();
        void Add(string endpoint, string load, PhaseResult r)
        {
            var j = r.ToJson();
            j["endpoint"] = endpoint;
            j["load"] = load;
            phases.Add(j);
            rows.Add([endpoint, load, j["achievedRps"], j["p50Ms"], j["p95Ms"], j["p99Ms"], j["maxMs"], $"{r.Errors + r.Dropped}"]);
            Log($"{endpoint} {load}: {r.Rps:F0} req/s p50 {j["p50Ms"]} p95 {j["p95Ms"]} p99 {j["p99Ms"]} errors {r.Errors} dropped {r.Dropped}");
        }

        foreach (var rate in rates)
        {
            var p = await LoadGen.ConstantRateAsync(Post, rate, TimeSpan.FromSeconds(seconds));
            Add("POST", $"{rate}/s", p);
            postSeries.Add((rate, (double?)Stats.R(Stats.Pct(p.Latencies.OrderBy(x => x).ToList(), 99)) ?? 0));
            postP50.Add((rate, (double?)Stats.R(Stats.Pct(p.Latencies.OrderBy(x => x).ToList(), 50)) ?? 0));
            var g = await LoadGen.ConstantRateAsync(Get, rate, TimeSpan.FromSeconds(seconds));
            Add("GET", $"{rate}/s", g);
            getSeries.Add((rate, (double?)Stats.R(Stats.Pct(g.Latencies.OrderBy(x => x).ToList(), 99)) ?? 0));
            getP50.Add((rate, (double?)Stats.R(Stats.Pct(g.Latencies.OrderBy(x => x).ToList(), 50)) ?? 0));
        }
        var postCpu = CpuSnapshot.Take();
        var postSat = await LoadGen.SaturateAsync(Post, concurrency, TimeSpan.FromSeconds(seconds));
        rep.Cpu[$"POST saturation, {concurrency} connections"] = CpuSnapshot.Take().Account(postCpu, postSat.Ok);
        Add("POST", $"saturation, {concurrency} connections", postSat);
        var postOne = await LoadGen.SaturateAsync(n => PostStatus(api, single, n), concurrency, TimeSpan.FromSeconds(seconds));
        Add("POST", $"saturation, {concurrency} connections, one conversation", postOne);
        var getSat = await LoadGen.SaturateAsync(Get, concurrency, TimeSpan.FromSeconds(seconds));
        Add("GET", $"saturation, {concurrency} connections", getSat);

        rep.Results["phases"] = phases;
        rep.Results["postSaturationRps"] = Stats.R(postSat.Rps, 1);
        rep.Results["getSaturationRps"] = Stats.R(getSat.Rps, 1);
        rep.Limits["pgbenchInsertTps"] = limits["pgbenchInsertTps"]?.DeepClone();
        rep.Limits["kestrelTrivialRps"] = limits["kestrelTrivialRps"]?.DeepClone();
        rep.Ratios["postSaturationToPgbenchInsert"] = Stats.Ratio(postSat.Rps, (double?)limits["pgbenchInsertTps"] ?? 0);
        rep.Ratios["postSaturationToKestrelTrivial"] = Stats.Ratio(postSat.Rps, (double?)limits["kestrelTrivialRps"] ?? 0);
        rep.Ratios["getSaturationToKestrelTrivial"] = Stats.Ratio(getSat.Rps, (double?)limits["kestrelTrivialRps"] ?? 0);
        rep.Table(["endpoint", "load", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors+dropped"], rows);
        rep.Chart("line", "API latency at fixed rates (latency from scheduled send)", "target rate (req/s)", "latency (ms)",
            [("POST p99", postSeries), ("GET p99", getSeries), ("POST p50", postP50), ("GET p50", getP50)]);
        rep.Write();
        return 0;
    }

    private static async Task<int> PostStatus(PlatformApi api, string conv, long n) => (await api.PostAsync(conv, n)).Status;

    // -----------------------------------------------------------------------------------------
    // api-rls: the same requests through two Apis of one system, one connecting as the services' role (row-level
    // security applies) and one as the schema owner (a superuser here, which row-level security does not bind);
    // every measurement alternates between them (on, off, off, on per round) so drift of the shared machine hits both.
    // -----------------------------------------------------------------------------------------
    public static async Task<int> ApiRlsAsync(Args a)
    {
        var smoke = a.Has("smoke");
        var rep = new Report("api-rls", smoke, a);
        var ownerUrl = a.Get("owner-api-url") ?? throw new ArgumentException("--owner-api-url <Api connected as the owner> is required");
        var rounds = a.Int("rounds", smoke ? 1 : 3);
        var seconds = a.Int("seconds", smoke ? 1 : 10);
        var concurrency = a.Int("concurrency", smoke ? 4 : 32);
        var conversations = a.Int("conversations", smoke ? 4 : 100);
        var rate = a.Int("rate", smoke ? 50 : 100);
        rep.Parameters["rounds"] = rounds;
        rep.Parameters["order"] = "per round and measurement: RLS on, off, off, on (ABBA), so a trend in the machine's load cancels out";
        rep.Parameters["secondsPerPhase"] = seconds;
        rep.Parameters["saturationConcurrency"] = concurrency;
        rep.Parameters["conversations"] = conversations;
        rep.Parameters["fixedRate"] = rate;
        rep.Parameters["rlsOn"] = "API_URL: the Api as the system runs it (a login of platform_service: NOBYPASSRLS, policies apply)";
        rep.Parameters["rlsOff"] = "--owner-api-url: a second Api process of the same build and settings whose ConnectionStrings:platformdb is the owner's (superuser: policies skipped)";

        var on = new PlatformApi();
        await on.SetupTenantAsync("bench-api-rls");
        var convs = await on.ConversationsAsync(conversations);
        var single = (await on.ConversationsAsync(1))[0];
        var tokens = await on.TokensAsync(convs);
        var off = new PlatformApi(ownerUrl) { ApiKey = on.ApiKey, ChannelId = on.ChannelId };
        await Parallel.ForAsync(0, convs.Length, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
        {
            for (var k = 0; k < (smoke ? 20 : 100); k++) await on.PostAsync(convs[i], k);
        });

        Func<long, Task<int>> Get(PlatformApi api) => async n =>
        {
            var i = (int)(n % convs.Length);
            using var req = new HttpRequestMessage(HttpMethod.Get, $"{api.ApiUrl}/v1/conversations/{convs[i]}/activities?watermark=0&limit=100");
            req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens[i].Token);
            using var res = await api.Http.SendAsync(req);
            await res.Content.ReadAsByteArrayAsync();
            return (int)res.StatusCode;
        };
        var measurements = new (string Endpoint, string Load, Func<PlatformApi, Task<PhaseResult>> Run)[]
        {
            ("POST", $"{rate}/s", api => LoadGen.ConstantRateAsync(n => PostStatus(api, convs[n % convs.Length], n), rate, TimeSpan.FromSeconds(seconds))),
            ("POST", $"saturation, {concurrency} connections", api => LoadGen.SaturateAsync(n => PostStatus(api, convs[n % convs.Length], n), concurrency, TimeSpan.FromSeconds(seconds))),
            ("POST", $"saturation, {concurrency} connections, one conversation", api => LoadGen.SaturateAsync(n => PostStatus(api, single, n), concurrency, TimeSpan.FromSeconds(seconds))),
            ("GET", $"{rate}/s", api => LoadGen.ConstantRateAsync(Get(api), rate, TimeSpan.FromSeconds(seconds))),
            ("GET", $"saturation, {concurrency} connections", api => LoadGen.SaturateAsync(Get(api), concurrency, TimeSpan.FromSeconds(seconds))),
        };
        // Warm-up: the owner-connected Api is a process started for this scenario, so both get the same saturated run of
        // each request kind before anything is measured (JIT tiers and pools settle; a short warm-up left the newer one slower).
        var warmUp = TimeSpan.FromSeconds(a.Int("warm-up-seconds", smoke ? 1 : 20));
        rep.Parameters["warmUpSecondsPerKindAndApi"] = warmUp.TotalSeconds;
        foreach (var api in new[] { on, off })
        {
            await LoadGen.SaturateAsync(n => PostStatus(api, convs[n % convs.Length], n), concurrency, warmUp);
            await LoadGen.SaturateAsync(Get(api), concurrency, warmUp);
        }

        var phases = new JsonArray();
        var results = new Dictionary<(int M, bool Rls), List<PhaseResult>>();
        for (var round = 1; round <= rounds; round++)
        {
            for (var m = 0; m < measurements.Length; m++)
            {
                foreach (var rls in new[] { true, false, false, true })
                {
                    var r = await measurements[m].Run(rls ? on : off);
                    if (!results.TryGetValue((m, rls), out var list))
                    {
                        results[(m, rls)] = list = [];
                    }
                    list.Add(r);
                    var j = r.ToJson();
                    j["endpoint"] = measurements[m].Endpoint;
                    j["load"] = measurements[m].Load;
                    j["rls"] = rls;
                    j["round"] = round;
                    phases.Add(j);
                    Log($"round {round} RLS {(rls ? "on " : "off")} {measurements[m].Endpoint} {measurements[m].Load}: {r.Rps:F0} req/s p50 {j["p50Ms"]} p95 {j["p95Ms"]} errors {r.Errors} dropped {r.Dropped}");
                }
            }
        }

        // Per measurement: all samples of a side pooled (latency percentiles) and the mean of its req/s.
        var rows = new List<object?[]>();
        var summary = new JsonArray();
        var bars = new List<(object, double)>();
        var barsOff = new List<(object, double)>();
        for (var m = 0; m < measurements.Length; m++)
        {
            var row = new JsonObject { ["endpoint"] = measurements[m].Endpoint, ["load"] = measurements[m].Load };
            double[] rps = new double[2];
            foreach (var rls in new[] { true, false })
            {
                var runs = results[(m, rls)];
                var lat = runs.SelectMany(r => r.Latencies).OrderBy(x => x).ToList();
                var side = new JsonObject
                {
                    ["meanRps"] = Stats.R(runs.Average(r => r.Rps), 1),
                    ["rpsPerRun"] = new JsonArray(runs.Select(r => Stats.R(r.Rps, 1)).ToArray()),
                    ["p50Ms"] = Stats.R(Stats.Pct(lat, 50)),
                    ["p95Ms"] = Stats.R(Stats.Pct(lat, 95)),
                    ["p99Ms"] = Stats.R(Stats.Pct(lat, 99)),
                    ["errors"] = runs.Sum(r => r.Errors + r.Dropped),
                };
                row[rls ? "rlsOn" : "rlsOff"] = side;
                rps[rls ? 0 : 1] = runs.Average(r => r.Rps);
                rows.Add([measurements[m].Endpoint, measurements[m].Load, rls ? "on" : "off", side["meanRps"], $"{string.Join(" / ", runs.Select(r => r.Rps.ToString("F0", CultureInfo.InvariantCulture)))}",
                    side["p50Ms"], side["p95Ms"], side["p99Ms"], side["errors"]]);
            }
            row["rpsOnToOff"] = Stats.Ratio(rps[0], rps[1]);
            summary.Add(row);
            bars.Add(($"{measurements[m].Endpoint} {measurements[m].Load}", rps[0]));
            barsOff.Add(($"{measurements[m].Endpoint} {measurements[m].Load}", rps[1]));
        }
        rep.Results["phases"] = phases;
        rep.Results["summary"] = summary;
        rep.Table(["endpoint", "load", "RLS", "mean req/s", "req/s per run", "p50 ms", "p95 ms", "p99 ms", "errors+dropped"], rows);
        rep.Chart("bar", "API with row-level security on and off (mean req/s)", "measurement", "req/s", [("RLS on", bars), ("RLS off", barsOff)]);
        rep.Write();
        return 0;
    }

    // -----------------------------------------------------------------------------------------
    // throughput: 1,000 clients on two nodes; 200 activities/s, then saturation; end-to-end latency
    // -----------------------------------------------------------------------------------------
    public static async Task<int> ThroughputAsync(Args a)
    {
        var smoke = a.Has("smoke");
        var rep = new Report("throughput", smoke, a);
        var clients = a.Int("clients", smoke ? 40 : 1000);
        var conversations = a.Int("conversations", smoke ? 4 : 100);
        var rate = a.Dbl("rate", smoke ? 20 : 200);
        var rateSeconds = a.Int("rate-seconds", smoke ? 2 : 30);
        var satSeconds = a.Int("seconds", smoke ? 2 : 60);
        var posters = a.Int("posters", smoke ? 4 : 32);
        rep.Parameters["clients"] = clients;
        rep.Parameters["conversations"] = conversations;
        rep.Parameters["clientsPerConversation"] = clients / conversations;
        rep.Parameters["fixedRate"] = rate;
        rep.Parameters["fixedRateSeconds"] = rateSeconds;
        rep.Parameters["saturationSeconds"] = satSeconds;
        rep.Parameters["saturationPosters"] = posters;
        rep.Parameters["latency"] = "sent→frame: from the POST being sent to the frame arriving at a client; accepted→frame: from the 201 arriving at the poster (0 when the frame came first)";
        var limits = rep.LoadLimits();

        var api = new PlatformApi();
        await api.SetupTenantAsync("bench-throughput");
        var convs = await api.ConversationsAsync(conversations);
        var convOf = Enumerable.Range(0, clients).Select(i => i % conversations).ToArray();
        var tokens = await api.TokensAsync(convOf.Select(c => convs[c]).ToArray());
        var all = Enumerable.Range(0, clients).Select(i => new StreamClient(i, convOf[i], tokens[i].StreamUrl)).ToList();
        Log($"connecting {clients} clients");
        var t0 = Clock.Now;
        var failed = await StreamClient.ConnectAllAsync(all, 100, null, TimeSpan.FromSeconds(60));
        var connectSeconds = Clock.SecondsSince(t0);
        var perNode = all.Where(c => c.Error == null).GroupBy(c => c.Port).ToDictionary(g => g.Key.ToString(CultureInfo.InvariantCulture), g => g.Count());
        Log($"connected {clients - failed} in {connectSeconds:F1}s; per node: {string.Join(", ", perNode.Select(kv => $"{kv.Key}={kv.Value}"))}");
        rep.Results["connectFailures"] = failed;
        rep.Results["clientsPerNode"] = new JsonObject(perNode.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));

        // (conversation, seq) → (sent, accepted, phase)
        var sent = new ConcurrentDictionary<(int, long), (long Sent, long Accepted, int Phase)>();
        var phase = 0;
        async Task<int> Post(long n)
        {
            var c = (int)(n % conversations);
            var s = Clock.Now;
            var (status, seq) = await api.PostAsync(convs[c], n);
            if (seq > 0) sent[(c, seq)] = (s, Clock.Now, phase);
            return status;
        }

        Log($"fixed rate: {rate}/s for {rateSeconds}s");
        phase = 1;
        var fixedRun = await LoadGen.ConstantRateAsync(Post, rate, TimeSpan.FromSeconds(rateSeconds));
        await Task.Delay(smoke ? 500 : 2000);
        Log($"saturation: {posters} posters for {satSeconds}s");
        phase = 2;
        var satCpu = CpuSnapshot.Take();
        var satRun = await LoadGen.SaturateAsync(Post, posters, TimeSpan.FromSeconds(satSeconds));
        // Activities accepted in the window; their fan-out to the clients is in the same window (frames trail by ms).
        rep.Cpu[$"saturation ({posters} posters, {clients} clients)"] = CpuSnapshot.Take().Account(satCpu, satRun.Ok);
        // Let the fan-out drain: wait until no new frame arrived for 3 s (at most 30 s).
        var lastCount = -1L;
        for (var i = 0; i < 30; i++)
        {
            await Task.Delay(smoke ? 500 : 1000);
            var count = all.Sum(c => (long)c.Receipts.Count);
            if (count == lastCount && i >= (smoke ? 1 : 3)) break;
            lastCount = count;
        }
        var closedByServer = all.Count(c => c.CloseStatus != null);
        await Task.WhenAll(all.Select(c => c.CloseAsync()));

        var phaseNames = new[] { "", $"{rate}/s", $"saturation ({posters} posters)" };
        var rows = new List<object?[]>();
        var chart = new List<(string, IEnumerable<(object, double)>)>();
        foreach (var (ph, run) in new[] { (1, fixedRun), (2, satRun) })
        {
            var sentToFrame = new List<double>();
            var acceptedToFrame = new List<double>();
            long framesFirst = 0, received = 0, duplicates = 0;
            foreach (var c in all)
            {
                var seen = new HashSet<long>();
                foreach (var (seq, ticks) in c.Receipts)
                {
                    if (!sent.TryGetValue((c.Conversation, seq), out var s) || s.Phase != ph) continue;
                    if (!seen.Add(seq)) { duplicates++; continue; }
                    received++;
                    sentToFrame.Add(Clock.Ms(s.Sent, ticks));
                    var acc = Clock.Ms(s.Accepted, ticks);
                    if (acc < 0) { framesFirst++; acc = 0; }
                    acceptedToFrame.Add(acc);
                }
            }
            var posted = sent.Count(kv => kv.Value.Phase == ph);
            var connectedPerConv = all.Where(c => c.Error == null).GroupBy(c => c.Conversation).ToDictionary(g => g.Key, g => g.Count());
            var expected = sent.Where(kv => kv.Value.Phase == ph).Sum(kv => (long)connectedPerConv.GetValueOrDefault(kv.Key.Item1));
            var j = new JsonObject
            {
                ["load"] = phaseNames[ph],
                ["post"] = run.ToJson(),
                ["activitiesPersisted"] = posted,
                ["activitiesPerSecond"] = Stats.R(posted / run.Seconds, 1),
                ["framesExpected"] = expected,
                ["framesReceived"] = received,
                ["framesMissing"] = expected - received,
                ["duplicates"] = duplicates,
                ["deliveriesPerSecond"] = Stats.R(received / run.Seconds, 1),
                ["sentToFrame"] = Stats.Summary(sentToFrame),
                ["acceptedToFrame"] = Stats.Summary(acceptedToFrame),
                ["framesBeforeAccepted"] = framesFirst,
            };
            rep.Results[ph == 1 ? "fixedRate" : "saturation"] = j;
            var a2f = (JsonObject)j["acceptedToFrame"]!;
            var s2f = (JsonObject)j["sentToFrame"]!;
            rows.Add([phaseNames[ph], j["activitiesPerSecond"], j["deliveriesPerSecond"], $"{run.Errors + run.Dropped}", $"{expected - received}",
                a2f["p50Ms"], a2f["p95Ms"], a2f["p99Ms"], s2f["p50Ms"], s2f["p95Ms"], s2f["p99Ms"]]);
            chart.Add(($"{phaseNames[ph]} accepted→frame", [("p50", (double?)a2f["p50Ms"] ?? 0), ("p95", (double?)a2f["p95Ms"] ?? 0), ("p99", (double?)a2f["p99Ms"] ?? 0)]));
            chart.Add(($"{phaseNames[ph]} sent→frame", [("p50", (double?)s2f["p50Ms"] ?? 0), ("p95", (double?)s2f["p95Ms"] ?? 0), ("p99", (double?)s2f["p99Ms"] ?? 0)]));
            Log($"{phaseNames[ph]}: {j["activitiesPerSecond"]} activities/s, {j["deliveriesPerSecond"]} deliveries/s, missing {expected - received}, accepted→frame p50 {a2f["p50Ms"]} p95 {a2f["p95Ms"]} p99 {a2f["p99Ms"]}");
        }
        rep.Results["closedByServer"] = closedByServer;
        var satRate = (double?)rep.Results["saturation"]!["activitiesPerSecond"] ?? 0;
        var satDeliveries = (double?)rep.Results["saturation"]!["deliveriesPerSecond"] ?? 0;
        rep.Limits["pgbenchInsertTps"] = limits["pgbenchInsertTps"]?.DeepClone();
        rep.Limits["redisPublishPerSec"] = limits["redisPublishPerSec"]?.DeepClone();
        rep.Ratios["activitiesPerSecondToPgbenchInsert"] = Stats.Ratio(satRate, (double?)limits["pgbenchInsertTps"] ?? 0);
        rep.Ratios["activitiesPerSecondToRedisPublish"] = Stats.Ratio(satRate, (double?)limits["redisPublishPerSec"] ?? 0);
        rep.Ratios["deliveriesPerSecondToRedisPublish"] = Stats.Ratio(satDeliveries, (double?)limits["redisPublishPerSec"] ?? 0);
        rep.Table(["load", "activities/s", "frames delivered/s", "post errors", "frames missing", "accepted→frame p50", "p95", "p99", "sent→frame p50", "p95", "p99"], rows);
        rep.Chart("bar", $"End-to-end latency, {clients} clients on two nodes (ms)", "percentile", "latency (ms)", chart);
        rep.Write();
        return failed == clients ? 1 : 0;
    }

    // -----------------------------------------------------------------------------------------
    // connections: idle WebSockets in steps up to 10,000; memory per connection per node; connect rate
    // -----------------------------------------------------------------------------------------
    public static async Task<int> ConnectionsAsync(Args a)
    {
        var smoke = a.Has("smoke");
        var rep = new Report("connections", smoke, a);
        var steps = a.Ints("steps", smoke ? "20,50" : "1000,2500,5000,7500,10000");
        var conversations = a.Int("conversations", smoke ? 2 : 100);
        var parallel = a.Int("parallel", smoke ? 10 : 100);
        var settle = a.Int("settle-seconds", smoke ? 1 : 5);
        // --nodes 5090:pid,5091:pid
        var nodes = a.Str("nodes", "").Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(s => s.Split(':')).ToDictionary(p => int.Parse(p[0], CultureInfo.InvariantCulture), p => int.Parse(p[1], CultureInfo.InvariantCulture));
        rep.Parameters["steps"] = new JsonArray(steps.Select(s => (JsonNode)s).ToArray());
        rep.Parameters["conversations"] = conversations;
        rep.Parameters["parallelHandshakes"] = parallel;
        rep.Parameters["settleSeconds"] = settle;
        rep.Parameters["memory"] = "VmRSS of each Realtime node process (/proc/<pid>/status) after each step has settled; per connection = (RSS − RSS with 0 connections) / connections on that node";
        var limits = rep.LoadLimits();

        var api = new PlatformApi();
        await api.SetupTenantAsync("bench-connections");
        var convs = await api.ConversationsAsync(conversations);
        var max = steps.Max();
        Log($"minting {max} client tokens");
        var tokens = await api.TokensAsync(Enumerable.Range(0, max).Select(i => convs[i % conversations]).ToArray());
        var all = Enumerable.Range(0, max).Select(i => new StreamClient(i, i % conversations, tokens[i].StreamUrl) { KeepReceipts = false }).ToList();

        await Task.Delay(settle * 1000);
        var baseline = nodes.ToDictionary(n => n.Key, n => Machine.RssKb(n.Value));
        Log($"baseline RSS: {string.Join(", ", baseline.Select(b => $"{b.Key}={b.Value / 1024} MiB"))}");
        var rows = new List<object?[]>();
        var stepsJson = new JsonArray();
        var memSeries = nodes.Keys.ToDictionary(k => k, _ => new List<(object, double)>());
        var perConnSeries = nodes.Keys.ToDictionary(k => k, _ => new List<(object, double)>());
        var open = 0;
        var totalFailed = 0;
        foreach (var step in steps)
        {
            var batch = all.Skip(open).Take(step - open).ToList();
            var t0 = Clock.Now;
            var failed = await StreamClient.ConnectAllAsync(batch, parallel, null, TimeSpan.FromSeconds(60));
            var secs = Clock.SecondsSince(t0);
            totalFailed += failed;
            open = step;
            await Task.Delay(settle * 1000);
            var live = all.Take(open).Count(c => c.Error == null && c.CloseStatus == null);
            var step1 = new JsonObject
            {
                ["target"] = step, ["open"] = live, ["failed"] = failed,
                ["connectSeconds"] = Stats.R(secs), ["connectsPerSecond"] = Stats.R(batch.Count / secs, 1),
                ["loadAverage"] = Machine.LoadAverage(),
            };
            var nodeJson = new JsonObject();
            var cells = new List<string>();
            foreach (var (port, pid) in nodes)
            {
                var rss = Machine.RssKb(pid);
                var conns = all.Take(open).Count(c => c.Port == port && c.Error == null && c.CloseStatus == null);
                var perConn = conns > 0 ? (rss - baseline[port]) * 1024.0 / conns : double.NaN;
                nodeJson[port.ToString(CultureInfo.InvariantCulture)] = new JsonObject
                {
                    ["connections"] = conns, ["rssMb"] = Stats.R(rss / 1024.0, 1), ["bytesPerConnection"] = Stats.R(perConn, 0),
                };
                memSeries[port].Add((step, rss / 1024.0));
                perConnSeries[port].Add((step, perConn / 1024.0));
                cells.Add($"{port}: {conns} conns, {rss / 1024.0:F0} MiB, {perConn / 1024.0:F1} KiB/conn");
            }
            step1["nodes"] = nodeJson;
            stepsJson.Add(step1);
            rows.Add([step, live, failed, step1["connectsPerSecond"], string.Join("; ", cells)]);
            Log($"step {step}: {live} open, {failed} failed, {batch.Count / secs:F0} connects/s; {string.Join("; ", cells)}");
        }
        await Parallel.ForEachAsync(all, new ParallelOptions { MaxDegreeOfParallelism = 200 }, async (c, _) => await c.AbortAsync());

        var last = (JsonObject)stepsJson[^1]!;
        var perNodeLast = ((JsonObject)last["nodes"]!).Select(n => (double?)n.Value!["bytesPerConnection"] ?? double.NaN).Where(double.IsFinite).ToList();
        var connectRates = stepsJson.Select(s => (double?)s!["connectsPerSecond"] ?? 0).ToList();
        rep.Results["baselineRssMb"] = new JsonObject(baseline.Select(b => KeyValuePair.Create(b.Key.ToString(CultureInfo.InvariantCulture), Stats.R(b.Value / 1024.0, 1))));
        rep.Results["steps"] = stepsJson;
        rep.Results["maxOpen"] = (int)last["open"]!;
        rep.Results["failed"] = totalFailed;
        rep.Results["bytesPerIdleConnection"] = perNodeLast.Count > 0 ? Stats.R(perNodeLast.Average(), 0) : null;
        rep.Results["connectsPerSecondMean"] = Stats.R(connectRates.Average(), 1);
        rep.Limits["kestrelTrivialRps"] = limits["kestrelTrivialRps"]?.DeepClone();
        rep.Ratios["connectsPerSecondToKestrelTrivialRequests"] = Stats.Ratio(connectRates.Average(), (double?)limits["kestrelTrivialRps"] ?? 0);
        rep.Table(["step", "open", "failed", "connects/s", "per node (RSS, per connection)"], rows);
        rep.Chart("line", "Realtime node RSS with idle WebSockets", "open connections (both nodes)", "RSS (MiB)",
            memSeries.Select(kv => ($"node :{kv.Key} RSS MiB", (IEnumerable<(object, double)>)kv.Value)));
        rep.Write();
        return (int)last["open"]! > 0 ? 0 : 1;
    }

    // -----------------------------------------------------------------------------------------
    // resume: 1,000 clients drop, 10,000 activities are posted, all reconnect at once with their watermarks
    // -----------------------------------------------------------------------------------------
    public static async Task<int> ResumeAsync(Args a)
    {
        var smoke = a.Has("smoke");
        var rep = new Report("resume", smoke, a);
        var clients = a.Int("clients", smoke ? 20 : 1000);
        var conversations = a.Int("conversations", smoke ? 2 : 100);
        var activities = a.Int("activities", smoke ? 100 : 10000);
        var posters = a.Int("posters", smoke ? 4 : 32);
        rep.Parameters["clients"] = clients;
        rep.Parameters["conversations"] = conversations;
        rep.Parameters["activities"] = activities;
        rep.Parameters["activitiesPerConversation"] = activities / conversations;
        rep.Parameters["posters"] = posters;
        rep.Parameters["reconnect"] = "all clients at once (no handshake limit), each with ?watermark= the last watermark it saw";
        var limits = rep.LoadLimits();

        var api = new PlatformApi();
        await api.SetupTenantAsync("bench-resume");
        var convs = await api.ConversationsAsync(conversations);
        var convOf = Enumerable.Range(0, clients).Select(i => i % conversations).ToArray();
        var tokens = await api.TokensAsync(convOf.Select(c => convs[c]).ToArray());
        var all = Enumerable.Range(0, clients).Select(i => new StreamClient(i, convOf[i], tokens[i].StreamUrl)).ToList();
        Log($"connecting {clients} clients");
        var failed = await StreamClient.ConnectAllAsync(all, 100, null, TimeSpan.FromSeconds(60));
        Log($"{clients - failed} connected; dropping them all");
        await Parallel.ForEachAsync(all, async (c, _) => await c.AbortAsync());
        var watermarks = all.Select(c => c.LastWatermark).ToArray();

        Log($"posting {activities} activities ({posters} posters)");
        var perConv = activities / conversations;
        long next = -1;
        var postErrors = 0;
        var tPost = Clock.Now;
        await Task.WhenAll(Enumerable.Range(0, posters).Select(_ => Task.Run(async () =>
        {
            long n;
            while ((n = Interlocked.Increment(ref next)) < (long)perConv * conversations)
            {
                var (status, _) = await api.PostAsync(convs[n % conversations], n);
                if (status is not (200 or 201)) Interlocked.Increment(ref postErrors);
            }
        })));
        var postSeconds = Clock.SecondsSince(tPost);
        var lastSeq = new long[conversations];
        await Parallel.ForAsync(0, conversations, async (i, _) =>
            lastSeq[i] = (long)(await api.CallAsync(HttpMethod.Get, $"/v1/conversations/{convs[i]}", api.ApiKey))["lastSeq"]!);

        foreach (var c in all) { c.Receipts.Clear(); c.CatchUpTarget = lastSeq[c.Conversation]; }
        Log("all reconnect at once");
        var t0 = Clock.Now;
        var reconnectFailed = 0;
        await Task.WhenAll(all.Select(async c =>
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
                await c.ConnectAsync(watermarks[c.Index], cts.Token);
                await c.CaughtUp.WaitAsync(cts.Token);
            }
            catch (Exception e) { c.Error ??= e.GetBaseException().Message; Interlocked.Increment(ref reconnectFailed); }
        }));
        var allSeconds = Clock.SecondsSince(t0);
        await Task.WhenAll(all.Select(c => c.CloseAsync()));

        // Exactly 1..N (from watermark+1) in order, no gap, no duplicate.
        var exact = 0;
        var problems = new List<string>();
        foreach (var c in all)
        {
            var seqs = c.Receipts.Select(r => r.Seq).ToList();
            var want = Enumerable.Range((int)watermarks[c.Index] + 1, (int)(lastSeq[c.Conversation] - watermarks[c.Index])).Select(x => (long)x).ToList();
            if (seqs.SequenceEqual(want)) exact++;
            else if (problems.Count < 10) problems.Add($"client {c.Index}: got {seqs.Count} seqs (first {seqs.FirstOrDefault()}, last {seqs.LastOrDefault()}), want {want.Count}; {c.Error}");
        }
        var caughtTimes = all.Where(c => c.CaughtUpAt != 0).Select(c => Clock.Ms(t0, c.CaughtUpAt)).OrderBy(x => x).ToList();
        var delivered = all.Sum(c => (long)c.Receipts.Count);
        rep.Results["connectFailures"] = failed;
        rep.Results["reconnectFailures"] = reconnectFailed;
        rep.Results["postSeconds"] = Stats.R(postSeconds);
        rep.Results["postErrors"] = postErrors;
        rep.Results["secondsUntilAllCaughtUp"] = Stats.R(allSeconds, 3);
        rep.Results["caughtUp"] = Stats.Summary(caughtTimes);
        rep.Results["activitiesDelivered"] = delivered;
        rep.Results["deliveriesPerSecond"] = Stats.R(delivered / allSeconds, 1);
        rep.Results["clientsWithExactSequence"] = exact;
        rep.Results["allExact"] = exact == clients;
        rep.Results["problems"] = new JsonArray(problems.Select(p => (JsonNode)p).ToArray());
        rep.Limits["kestrelTrivialRps"] = limits["kestrelTrivialRps"]?.DeepClone();
        rep.Limits["pgbenchInsertTps"] = limits["pgbenchInsertTps"]?.DeepClone();
        rep.Ratios["reconnectsPerSecondToKestrelTrivialRequests"] = Stats.Ratio(clients / allSeconds, (double?)limits["kestrelTrivialRps"] ?? 0);
        rep.Ratios["postingActivitiesPerSecondToPgbenchInsert"] = Stats.Ratio(activities / postSeconds, (double?)limits["pgbenchInsertTps"] ?? 0);
        rep.Table(["clients", "activities posted", "reconnect failures", "all caught up after", "caught-up p50", "p95", "p99", "activities delivered", "exact 1..N"],
        [
            [clients, $"{perConv * conversations} ({activities / postSeconds:F0}/s)", reconnectFailed, $"{allSeconds:F2} s", rep.Results["caughtUp"]!["p50Ms"], rep.Results["caughtUp"]!["p95Ms"],
                rep.Results["caughtUp"]!["p99Ms"], delivered, $"{exact}/{clients}"],
        ]);
        var curve = new List<(object, double)>();
        for (var i = 0; i < caughtTimes.Count; i += Math.Max(1, caughtTimes.Count / 50)) curve.Add((Math.Round(caughtTimes[i]), i + 1));
        if (caughtTimes.Count > 0) curve.Add((Math.Round(caughtTimes[^1]), caughtTimes.Count));
        rep.Chart("line", "Clients caught up after all reconnect at once", "ms since reconnect", "clients caught up", [("caught up", curve)]);
        rep.Write();
        Log($"all caught up after {allSeconds:F2}s; exact 1..N: {exact}/{clients}");
        return 0;
    }
}
