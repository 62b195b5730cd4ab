// Job engine benchmark: our PostgreSQL engine vs Quartz.NET 4.7.3 AdoJobStore on the same server,
// the same no-op work and the same worker count. Usage:
//   ConnectionStrings__platformdb="Host=…;Username=…;Password=…" dotnet run -c Release --project bench/jobs [-- --smoke]
// It creates a scratch database on that server (and drops it afterwards).
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Platform.Bench.Jobs;
using Platform.Core.Data;

var smoke = args.Contains("--smoke");
var outDir = ArgValue("--out") ?? Path.Combine(FindRepoRoot(), "bench", "results");
var workers = int.Parse(ArgValue("--workers") ?? "16");
var jobs = int.Parse(ArgValue("--jobs") ?? (smoke ? "300" : "10000"));
var latencyJobs = int.Parse(ArgValue("--latency-jobs") ?? (smoke ? "40" : "600"));
var rate = double.Parse(ArgValue("--rate") ?? (smoke ? "40" : "50"), System.Globalization.CultureInfo.InvariantCulture);

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
        await new MigrationRunner(ds, NullLogger<MigrationRunner>.Instance).ApplyAsync();
    }
    await QuartzRun.CreateSchemaAsync(cs);
    var serverInfo = await ServerInfo(cs);

    var loadBefore = LoadAverage();
    Console.WriteLine($"Job benchmark ({(smoke ? "smoke" : "full")}): {workers} workers, {jobs} jobs backlog, {latencyJobs} jobs at {rate}/s for latency");
    var ours = await PlatformEngineRun.RunAsync(cs, workers, jobs, latencyJobs, rate);
    var quartz = await QuartzRun.RunAsync(cs, workers, jobs, latencyJobs, rate);

    var report = new
    {
        benchmark = "jobs",
        mode = smoke ? "smoke" : "full",
        date = DateTimeOffset.UtcNow,
        machine = new { cores = Environment.ProcessorCount, loadAverageBefore = loadBefore, loadAverageAfter = LoadAverage(), os = System.Runtime.InteropServices.RuntimeInformation.OSDescription, dotnet = Environment.Version.ToString() },
        server = serverInfo,
        workers,
        work = "no-op handler; every job runs in the same process as its scheduler/engine",
        results = new[] { ours, quartz },
        speedup = new
        {
            throughput = ours.Throughput.JobsPerSecond / quartz.Throughput.JobsPerSecond,
            latencyP50 = quartz.Latency.P50Ms / ours.Latency.P50Ms,
        },
    };
    Directory.CreateDirectory(smoke ? Path.Combine(outDir, "raw") : outDir);
    var jsonPath = smoke ? Path.Combine(outDir, "raw", "jobs.smoke.json") : Path.Combine(outDir, "jobs.json");
    await File.WriteAllTextAsync(jsonPath, JsonSerializer.Serialize(report, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
    var md = $"""
        # Job engine benchmark ({report.mode})

        {report.date:yyyy-MM-dd HH:mm} UTC · {report.machine.cores} cores · PostgreSQL {serverInfo.Version} (fsync {serverInfo.Fsync}, synchronous_commit {serverInfo.SynchronousCommit}) on the same machine · {workers} workers each · no-op work

        | engine | backlog drained | jobs/s | enqueue→start p50 | p99 | max | enqueue call p50 |
        |---|---|---|---|---|---|---|
        | ours (Platform.Core.Jobs) | {ours.Throughput.Jobs:N0} in {ours.Throughput.Seconds:F2} s | **{ours.Throughput.JobsPerSecond:N0}** | {ours.Latency.P50Ms:F1} ms | {ours.Latency.P99Ms:F1} ms | {ours.Latency.MaxMs:F1} ms | {ours.Latency.EnqueueCallP50Ms:F1} ms |
        | Quartz.NET 4.7.3 AdoJobStore | {quartz.Throughput.Jobs:N0} in {quartz.Throughput.Seconds:F2} s | **{quartz.Throughput.JobsPerSecond:N0}** | {quartz.Latency.P50Ms:F1} ms | {quartz.Latency.P99Ms:F1} ms | {quartz.Latency.MaxMs:F1} ms | {quartz.Latency.EnqueueCallP50Ms:F1} ms |

        Load average before/after: {loadBefore} / {report.machine.loadAverageAfter} (the machine is shared; both engines ran back to back under it).

        Throughput: a backlog enqueued up front (ours: bulk enqueue; Quartz: `ScheduleJobs` with start-now triggers, scheduler in
        standby), then the engine starts and the clock runs until the last job has started. Latency: {latencyJobs} jobs enqueued one
        at a time at {rate}/s into the running engine (ours: `EnqueueAsync`, an INSERT plus NOTIFY; Quartz: `ScheduleJob`), measured
        from just before the enqueue call to the handler's first line on one monotonic clock.
        Settings: {ours.Setup} vs {quartz.Setup}; Quartz's misfire threshold is raised so the backlog is not treated as misfired.
        Enqueues are durable commits in both; our engine's own bookkeeping (claims, completions) commits with
        synchronous_commit off (a crash can only make a job run again), Quartz's with the server default.
        Command: `ConnectionStrings__platformdb=… dotnet run -c Release --project bench/jobs{(smoke ? " -- --smoke" : "")}`.
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
