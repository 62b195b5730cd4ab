// Champion scoring through the real job/DB path: 10,000 members and 200,000 signals in PostgreSQL, one
// community.score-champions job enqueued, claimed by the job engine, run (load from PostgreSQL → rank → store the
// ranking + provenance → cache in Redis). bench/algorithms times the pure ranking alone. Usage:
//   ConnectionStrings__platformdb="Host=…;Username=…" [ConnectionStrings__redis=127.0.0.1:6379] \
//     dotnet run -c Release --project bench/community [-- --smoke] [--members N --signals M]
//   dotnet run -c Release --project bench/community -- collaborators   (collaborator recommendations on the planted seed, offline)
// It creates a scratch database on that server and drops it afterwards.
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Platform.Core.Community;
using Platform.Core.Data;
using Platform.Core.Jobs;
using StackExchange.Redis;

if (args.Contains("collaborators"))
{
    // Offline evaluation of collaborator recommendations on the planted seed (CollaboratorEvaluation.cs); no database.
    return CollaboratorEvaluation.Run(Path.Combine("seeds", "community", "collaborators-planted.json"));
}
var smoke = args.Contains("--smoke");
var memberCount = int.Parse(ArgValue("--members") ?? (smoke ? "1000" : "10000"));
var signalCount = int.Parse(ArgValue("--signals") ?? (smoke ? "20000" : "200000"));
const int Teams = 40;
var server = Environment.GetEnvironmentVariable("ConnectionStrings__platformdb");
if (string.IsNullOrWhiteSpace(server))
{
    Console.Error.WriteLine("Set ConnectionStrings__platformdb to a PostgreSQL server where this benchmark may create a scratch database.");
    return 2;
}
var redisConfig = ConfigurationOptions.Parse(Environment.GetEnvironmentVariable("ConnectionStrings__redis") ?? "127.0.0.1:6379");
redisConfig.AbortOnConnectFail = false; // without Redis the run still scores; only the cache write is skipped

var admin = new NpgsqlConnectionStringBuilder(server) { Pooling = false }.ConnectionString;
var scratch = $"bench_community_{Guid.NewGuid():N}"[..29];
await Exec(admin, $"CREATE DATABASE \"{scratch}\"");
var cs = new NpgsqlConnectionStringBuilder(server) { Database = scratch, MaxPoolSize = 20 }.ConnectionString;
try
{
    await using var db = NpgsqlDataSource.Create(cs);
    await new MigrationRunner(db, NullLogger<MigrationRunner>.Instance).ApplyAsync();
    await using (var install = await db.OpenConnectionAsync())
    {
        // The job storage's tables, as DatabaseSetup installs them for the services.
        Hangfire.PostgreSql.PostgreSqlObjectsInstaller.Install(install, new JobWorkerOptions().Schema);
    }
    var tenantId = Guid.CreateVersion7();
    var now = DateTimeOffset.UtcNow;
    var seed = Stopwatch.StartNew();
    await using (var cmd = db.CreateCommand("INSERT INTO core.tenants (id, name) VALUES ($1, 'bench')"))
    {
        cmd.Parameters.AddWithValue(tenantId);
        await cmd.ExecuteNonQueryAsync();
    }
    // Same generator as bench/algorithms: 80 % of ties within the team, kinds reply/mention/reaction/endorsement, 30 days.
    var rng = new Random(11);
    var ids = Enumerable.Range(0, memberCount).Select(i => $"m{i:D5}").ToArray();
    await using (var conn = await db.OpenConnectionAsync())
    {
        await using (var importer = await conn.BeginBinaryImportAsync("COPY community.members (tenant_id, user_id, display_name, team) FROM STDIN (FORMAT BINARY)"))
        {
            for (var i = 0; i < memberCount; i++)
            {
                await importer.WriteRowAsync(default, tenantId, ids[i], $"Member {i}", $"team-{i % Teams}");
            }
            await importer.CompleteAsync();
        }
        await using (var importer = await conn.BeginBinaryImportAsync("COPY governance.consents (tenant_id, user_id, purpose, granted) FROM STDIN (FORMAT BINARY)"))
        {
            for (var i = 0; i < memberCount; i++)
            {
                if (i % 10 != 7) await importer.WriteRowAsync(default, tenantId, ids[i], "recognition", true); // 90 % consent
            }
            await importer.CompleteAsync();
        }
        var kinds = new[] { "reply", "mention", "reaction", "endorsement" };
        await using (var importer = await conn.BeginBinaryImportAsync(
            "COPY community.signals (tenant_id, kind, actor_id, target_id, occurred_at, source_ref) FROM STDIN (FORMAT BINARY)"))
        {
            for (var s = 0; s < signalCount; s++)
            {
                var a = rng.Next(memberCount);
                int b;
                if (rng.NextDouble() < 0.8)
                {
                    b = (rng.Next(memberCount / Teams) * Teams + a % Teams) % memberCount;
                }
                else
                {
                    b = rng.Next(memberCount);
                }
                if (b == a) b = (a + Teams) % memberCount;
                await importer.WriteRowAsync(default, tenantId, kinds[rng.Next(kinds.Length)], ids[a], ids[b],
                    now - TimeSpan.FromMinutes(rng.NextDouble() * 29 * 24 * 60), $"bench-{s}");
            }
            await importer.CompleteAsync();
        }
    }
    await Exec(cs, "ANALYZE");
    var seedTime = seed.Elapsed;
    Console.WriteLine($"Seeded {memberCount} members and {signalCount} signals in {seedTime.TotalSeconds:F1} s");

    var recorder = new BenchRecorder();
    using var host = BuildHost(db, cs, redisConfig, recorder);
    await host.StartAsync();
    var loadBefore = LoadAverage();
    var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
    var wall = Stopwatch.StartNew();
    var job = await host.Services.GetRequiredService<IJobQueue>().EnqueueAsync(new ScoreChampionsArgs(tenantId, "bench"));
    var summary = await recorder.Done.Task.WaitAsync(TimeSpan.FromMinutes(30));
    // Completion is recorded by Hangfire after the handler returns: wait for its state to say so.
    var jobAdmin = host.Services.GetRequiredService<JobAdmin>();
    while ((await jobAdmin.GetAsync(job.Id))?.State != JobStates.Succeeded)
    {
        await Task.Delay(20);
    }
    var total = wall.Elapsed;
    var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
    await host.StopAsync();

    var report = new
    {
        benchmark = "community",
        mode = smoke ? "smoke" : "full",
        date = DateTimeOffset.UtcNow,
        machine = new { cores = Environment.ProcessorCount, loadAverageBefore = loadBefore, loadAverageAfter = LoadAverage(), dotnet = Environment.Version.ToString() },
        input = new { members = memberCount, signals = signalCount, teams = Teams, windowDays = 30, consentShare = 0.9 },
        path = "IJobQueue.EnqueueAsync → JobWorker claim → handler → ChampionScoring.ScoreAsync (PostgreSQL read, ChampionRanking.Rank, ranking + provenance insert, Redis cache) → job completed",
        results = new
        {
            enqueueToCompletedSeconds = Math.Round(total.TotalSeconds, 2),
            processCpuSeconds = Math.Round(cpu.TotalSeconds, 2),
            loadSeconds = Math.Round(summary.Load.TotalSeconds, 2),
            rankSeconds = Math.Round(summary.Rank.TotalSeconds, 2),
            storeSeconds = Math.Round(summary.Store.TotalSeconds, 2),
            membersRanked = summary.Members,
            signalsUsed = summary.Signals,
            excludedWithoutConsent = summary.Excluded,
        },
        seedSeconds = Math.Round(seedTime.TotalSeconds, 1),
    };
    var outDir = ArgValue("--out") ?? Path.Combine(FindRepoRoot(), "bench", "results");
    var path = smoke ? Path.Combine(outDir, "raw", "community.smoke.json") : Path.Combine(outDir, "community.json");
    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
    var json = JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true });
    await File.WriteAllTextAsync(path, json);
    Console.WriteLine(json);
    Console.WriteLine($"Written to {path}");
    return 0;
}
finally
{
    NpgsqlConnection.ClearAllPools();
    await Exec(admin, $"DROP DATABASE IF EXISTS \"{scratch}\" WITH (FORCE)");
}

static IHost BuildHost(NpgsqlDataSource db, string cs, ConfigurationOptions redis, BenchRecorder recorder)
{
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
    builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["ConnectionStrings:platformdb"] = cs,
        ["Platform:Jobs:WorkerId"] = "bench-community",
        ["Platform:Jobs:Queues:community"] = "1",
    });
    builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Warning);
    builder.Services.AddSingleton(db);
    builder.Services.AddSingleton<SchemaGate>();
    builder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(redis));
    builder.Services.AddSingleton(recorder);
    builder.AddCommunity();
    // The benchmark starts scoring itself and measures it alone: none of the module's schedules run.
    builder.Services.RemoveAll<RecurringJobDefinition>();
    builder.AddJobWorker();
    builder.Services.AddJobHandler<ScoreChampionsArgs, BenchScoringHandler>();
    return builder.Build();
}

static async Task Exec(string cs, string sql)
{
    await using var conn = new NpgsqlConnection(cs);
    await conn.OpenAsync();
    await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 600 };
    await cmd.ExecuteNonQueryAsync();
}

static double[] LoadAverage()
{
    try
    {
        return [.. File.ReadAllText("/proc/loadavg").Split(' ').Take(3).Select(x => double.Parse(x, System.Globalization.CultureInfo.InvariantCulture))];
    }
    catch (IOException)
    {
        return [];
    }
}

static string FindRepoRoot()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Platform.sln"))) dir = dir.Parent;
    return dir?.FullName ?? Directory.GetCurrentDirectory();
}

string? ArgValue(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();

/// <summary>Hands the scoring summary of the one job back to the benchmark.</summary>
internal sealed class BenchRecorder
{
    public TaskCompletionSource<ScoringSummary> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>The Worker's scoring handler body (ScoreChampionsHandler), reporting its summary to the benchmark.</summary>
internal sealed class BenchScoringHandler(ChampionScoring scoring, BenchRecorder recorder) : IJobHandler<ScoreChampionsArgs>
{
    public async Task HandleAsync(ScoreChampionsArgs args, JobContext context) =>
        recorder.Done.TrySetResult(await scoring.ScoreAsync(args.TenantId!.Value, args.Actor, null, context.CancellationToken));
}
