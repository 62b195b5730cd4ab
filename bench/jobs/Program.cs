// Job benchmark on one PostgreSQL server, the same no-op work and worker count: Hangfire.PostgreSql as the Worker
// configures it (through the transactional outbox, and direct), Hangfire with its defaults, and Quartz.NET 4.7.3
// AdoJobStore. Usage:
//   ConnectionStrings__platformdb="Host=…;Username=…;Password=…" dotnet run -c Release --project bench/jobs [-- --smoke]
// It creates a scratch database on that server (and drops it afterwards).
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Platform.Bench.Jobs;
using Platform.Core.Data;

var smoke = args.Contains("--smoke");
var outDir = ArgValue("--out") ?? Path.Combine(FindRepoRoot(), "bench", "results");
var workers = int.Parse(ArgValue("--workers") ?? "20");
var jobs = int.Parse(ArgValue("--jobs") ?? (smoke ? "300" : "5000"));
var latencyJobs = int.Parse(ArgValue("--latency-jobs") ?? (smoke ? "40" : "600"));
var rate = double.Parse(ArgValue("--rate") ?? (smoke ? "40" : "50"), System.Globalization.CultureInfo.InvariantCulture);
string[] allEngines = ["outbox", "outbox-longpoll", "direct", "defaults", "quartz"];
var engines = (ArgValue("--engines") ?? string.Join(',', allEngines)).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
if (args.Contains("--help") || engines.Except(allEngines).Any())
{
    Console.WriteLine($"""
        Options: --jobs N (backlog, default 5000) --latency-jobs N (default 600; 0 skips) --rate R (latency enqueues/s, default 50)
                 --workers N (default 20) --engines {string.Join(',', allEngines)} (default all) --drain-timeout SECONDS (default 900)
                 --out DIR --smoke
                 --fetch-probe N: only the long-polling fetch stress (N queue entries, --workers threads, --no-long-polling for
                   the control); exit 1 if a fetch strands
        """);
    return args.Contains("--help") ? 0 : 2;
}
if (ArgValue("--drain-timeout") is { } drainTimeout)
{
    HangfireRuns.DrainTimeout = TimeSpan.FromSeconds(int.Parse(drainTimeout));
}

var server = Environment.GetEnvironmentVariable("ConnectionStrings__platformdb");
if (string.IsNullOrWhiteSpace(server))
{
    Console.Error.WriteLine("Set ConnectionStrings__platformdb to a PostgreSQL server where this benchmark may create a scratch database.");
    return 2;
}

var admin = new NpgsqlConnectionStringBuilder(server) { Pooling = false }.ConnectionString;
var scratch = $"bench_jobs_{Guid.NewGuid():N}"[..24];
await Exec(admin, $"CREATE DATABASE \"{scratch}\"");
var cs = new NpgsqlConnectionStringBuilder(server) { Database = scratch, MaxPoolSize = 100 }.ConnectionString;
try
{
    await using (var ds = NpgsqlDataSource.Create(cs))
    {
        // What Api does at start-up as the owner: migrations and Hangfire's tables (the services do not create schema).
        await new DatabaseSetup(ds, NullLogger.Instance).RunAsync(cs, "hangfire", CancellationToken.None);
    }
    if (ArgValue("--fetch-probe") is { } probeEntries)
    {
        Console.WriteLine($"load average {LoadAverage()}");
        var stranded = await FetchProbe.RunAsync(cs, int.Parse(probeEntries), workers, TimeSpan.FromSeconds(20), longPolling: !args.Contains("--no-long-polling"));
        Console.WriteLine($"load average {LoadAverage()}");
        return stranded;
    }
    await QuartzRun.CreateSchemaAsync(cs);
    var serverInfo = await ServerInfo(cs);

    var loadBefore = LoadAverage();
    Console.WriteLine($"Job benchmark ({(smoke ? "smoke" : "full")}): {workers} workers, {jobs} jobs backlog, {latencyJobs} jobs at {rate}/s for latency");
    var all = new List<EngineResult>();
    foreach (var engine in engines)
    {
        all.Add(engine switch
        {
            "outbox" => await HangfireRuns.ConfiguredAsync(cs, workers, jobs, latencyJobs, rate, outbox: true, longPolling: false),
            "outbox-longpoll" => await HangfireRuns.ConfiguredAsync(cs, workers, jobs, latencyJobs, rate, outbox: true, longPolling: true,
                name: "hangfire-outbox-longpoll"),
            "direct" => await HangfireRuns.ConfiguredAsync(cs, workers, jobs, latencyJobs, rate, outbox: false, longPolling: false),
            "defaults" => await HangfireRuns.DefaultsAsync(cs, workers, jobs, latencyJobs, rate),
            _ => await QuartzRun.RunAsync(cs, workers, jobs, latencyJobs, rate),
        });
    }

    var report = new
    {
        benchmark = "jobs",
        mode = smoke ? "smoke" : "full",
        date = DateTimeOffset.UtcNow,
        machine = new { cores = Environment.ProcessorCount, loadAverageBefore = loadBefore, loadAverageAfter = LoadAverage(), os = System.Runtime.InteropServices.RuntimeInformation.OSDescription, dotnet = Environment.Version.ToString() },
        server = serverInfo,
        workers,
        work = "no-op handler; every job runs in the same process as its scheduler/engine",
        results = all,
    };
    Directory.CreateDirectory(smoke ? Path.Combine(outDir, "raw") : outDir);
    var jsonPath = smoke ? Path.Combine(outDir, "raw", "jobs.smoke.json") : Path.Combine(outDir, "jobs.json");
    await File.WriteAllTextAsync(jsonPath, JsonSerializer.Serialize(report, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
    var md = $"""
        # Job benchmark ({report.mode})

        {report.date:yyyy-MM-dd HH:mm} UTC · {report.machine.cores} cores · PostgreSQL {serverInfo.Version} (fsync {serverInfo.Fsync}, synchronous_commit {serverInfo.SynchronousCommit}) on the same machine · {workers} workers each · no-op work

        | engine | backlog drained | jobs/s | commits/job | WAL flushes/job | enqueue→start p50 | p99 | max | enqueue call p50 |
        |---|---|---|---|---|---|---|---|---|
        {string.Join(Environment.NewLine, all.Select(r => $"| {r.Engine} | {r.Throughput.Jobs:N0} in {r.Throughput.Seconds:F2} s | **{r.Throughput.JobsPerSecond:N0}** | {r.Throughput.CommitsPerJob:F1} | {r.Throughput.WalSyncsPerJob:F2} | {r.Latency.P50Ms:F1} ms | {r.Latency.P99Ms:F1} ms | {r.Latency.MaxMs:F1} ms | {r.Latency.EnqueueCallP50Ms:F1} ms |"))}

        Load average before/after: {loadBefore} / {report.machine.loadAverageAfter} (the machine is shared; every engine ran back to back under it).

        Throughput: a backlog enqueued up front (outbox: bulk insert of requests; direct and defaults: Hangfire's client, 8 at a
        time; Quartz: `ScheduleJobs` with start-now triggers, scheduler in standby), then the servers start and the clock runs
        until the last job has started (for the outbox path this includes the relay's hand-over). Commits and WAL flushes per
        job: the scratch database's committed transactions and the server's WAL syncs while the backlog drained, divided by
        the jobs (read from PostgreSQL's statistics; idle polling adds a little). Latency: {latencyJobs} jobs
        enqueued one at a time at {rate}/s into the running system, from just before the enqueue call to the handler's first
        line on one monotonic clock.
        Settings: {string.Join("; ", all.Select(r => $"{r.Engine}: {r.Setup}"))}.
        Command: `ConnectionStrings__platformdb=… dotnet run -c Release --project bench/jobs -- {string.Join(' ', args)}`.
        """;
    await File.WriteAllTextAsync(Path.ChangeExtension(jsonPath, ".md"), md + Environment.NewLine);
    Console.WriteLine(md);
    return 0;
}
finally
{
    NpgsqlConnection.ClearAllPools();
    await Exec(admin, $"DROP DATABASE IF EXISTS \"{scratch}\" WITH (FORCE)");
}

string? ArgValue(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

static string FindRepoRoot()
{
    for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "Platform.sln")))
        {
            return dir.FullName;
        }
    }
    return Directory.GetCurrentDirectory();
}

static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

static async Task Exec(string connectionString, string sql)
{
    await using var conn = new NpgsqlConnection(connectionString);
    await conn.OpenAsync();
    await using var cmd = new NpgsqlCommand(sql, conn);
    await cmd.ExecuteNonQueryAsync();
}

static async Task<ServerSettings> ServerInfo(string connectionString)
{
    await using var conn = new NpgsqlConnection(connectionString);
    await conn.OpenAsync();
    async Task<string> Show(string name)
    {
        await using var cmd = new NpgsqlCommand($"SHOW {name}", conn);
        return (string)(await cmd.ExecuteScalarAsync())!;
    }
    return new ServerSettings(await Show("server_version"), await Show("fsync"), await Show("synchronous_commit"), await Show("max_connections"));
}

internal sealed record ServerSettings(string Version, string Fsync, string SynchronousCommit, string MaxConnections);
