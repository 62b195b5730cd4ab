// Impact benchmark: outcome-scoring throughput through the real job path (texts ingested → impact.score-texts jobs →
// worker decrypts, scores, stores scores + encrypted evidence + access log) and the company report time for a
// company with 10,000 participants. Usage:
//   ConnectionStrings__platformdb="Host=…;Username=…" dotnet run -c Release --project bench/impact [-- --smoke] [--workers 8]
//     [--model rubric|embedding]   the outcome model the jobs run (default rubric; embedding = classifier over MiniLM)
// It creates a scratch database on that server and drops it afterwards.
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Platform.Core.Data;
using Platform.Core.Impact;
using Platform.Core.Impact.Privacy;
using Platform.Core.Impact.Programs;
using Platform.Core.Impact.Reporting;
using Platform.Core.Jobs;

var smoke = args.Contains("--smoke");
var participants = int.Parse(ArgValue("--participants") ?? (smoke ? "1000" : "10000"));
var workers = int.Parse(ArgValue("--workers") ?? "8");
var textsPerParticipant = int.Parse(ArgValue("--texts") ?? "2");
var outcomeModel = ArgValue("--model") ?? "rubric";
var sessionsPerParticipant = 6;
var outDir = ArgValue("--out") ?? Path.Combine(FindRepoRoot(), "bench", "results");
var server = Environment.GetEnvironmentVariable("ConnectionStrings__platformdb");
if (string.IsNullOrWhiteSpace(server))
{
    Console.Error.WriteLine("Set ConnectionStrings__platformdb to a PostgreSQL server where this benchmark may create a scratch database.");
    return 2;
}
var admin = new NpgsqlConnectionStringBuilder(server) { Pooling = false }.ConnectionString;
var scratch = $"bench_impact_{Guid.NewGuid():N}"[..26];
await Exec(admin, $"CREATE DATABASE \"{scratch}\"");
var cs = new NpgsqlConnectionStringBuilder(server) { Database = scratch, MaxPoolSize = 50 }.ConnectionString;
try
{
    await using var db = NpgsqlDataSource.Create(cs);
    await new MigrationRunner(db, NullLogger<MigrationRunner>.Instance).ApplyAsync();
    await using (var install = await db.OpenConnectionAsync())
    {
        // The job storage's tables, as DatabaseSetup installs them for the services.
        Hangfire.PostgreSql.PostgreSqlObjectsInstaller.Install(install, new JobWorkerOptions().Schema);
    }
    var settings = new Dictionary<string, string?>
    {
        ["ConnectionStrings:platformdb"] = cs,
        ["Platform:Jobs:WorkerId"] = "bench-impact",
        ["Platform:Jobs:Queues:default"] = workers.ToString(),
        [PiiVault.ConfigKey] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
        [Platform.Core.Impact.Scoring.OutcomeModels.ConfigKey] = outcomeModel,
    };
    var vault = new PiiVault(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
    var queue = new JobQueue(db);
    var tenant = Guid.CreateVersion7();
    await Exec(cs, $"INSERT INTO core.tenants (id, name) VALUES ('{tenant}', 'bench')");
    var companies = new Companies(db);
    var company = (await companies.CreateAsync(tenant, "Bench ASA", null, CancellationToken.None)).Company!.Id;

    // Program data through the same ingest path as CSV imports: people with encrypted PII, a year of sessions, check-ins.
    var bank = File.ReadLines(Path.Combine(FindRepoRoot(), "seeds", "impact", "evaluation.jsonl"))
        .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("text").GetString()!).ToArray();
    var rng = new Random(7);
    var volunteers = Math.Max(1, participants / 20);
    var ingestWatch = Stopwatch.StartNew();
    var texts = 0;
    for (var batch = 0; batch < participants; batch += 500)
    {
        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        var ingest = new ProgramIngest(conn, tx, vault, tenant, company);
        if (batch == 0)
        {
            for (var v = 0; v < volunteers; v++)
            {
                await ingest.PersonAsync(new PersonRecord("bench", $"v{v}", PersonRoles.Volunteer, $"Volunteer {v}", $"v{v}@example.org", "buddy", null), default);
            }
        }
        for (var p = batch; p < Math.Min(participants, batch + 500); p++)
        {
            await ingest.PersonAsync(new PersonRecord("bench", $"p{p}", PersonRoles.Participant, $"Participant {p}", $"p{p}@example.org", "buddy", null), default);
            for (var s = 0; s < sessionsPerParticipant; s++)
            {
                await ingest.SessionAsync(new SessionRecord("bench", $"s{p}-{s}", "buddy", $"p{p}", $"v{p % volunteers}",
                    new DateTimeOffset(2026, 1 + s * 2, 1 + rng.Next(27), 12, 0, 0, TimeSpan.Zero), 60), default);
            }
            for (var t = 0; t < textsPerParticipant; t++)
            {
                await ingest.TextAsync(new TextRecord("bench", $"t{p}-{t}", "checkin", $"p{p}", null,
                    new DateTimeOffset(2026, 1 + t * 11 / Math.Max(1, textsPerParticipant - 1), 15, 12, 0, 0, TimeSpan.Zero), 3, null, bank[rng.Next(bank.Length)]), default);
                texts++;
            }
        }
        await ingest.QueueScoringAsync(queue, default);
        await tx.CommitAsync();
    }
    var queued = await Scalar(db, "SELECT count(*) FROM impact.texts WHERE status = 'pending'");
    Console.WriteLine($"Ingested {participants} participants, {volunteers} volunteers, {participants * sessionsPerParticipant} sessions, {texts} texts ({queued} queued for scoring, the rest flagged) in {ingestWatch.Elapsed.TotalSeconds:F1} s");

    // Scoring throughput: the worker starts on the backlog and drains it.
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
    builder.Configuration.AddInMemoryCollection(settings);
    builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Warning);
    builder.Services.AddSingleton(db);
    builder.Services.AddSingleton<SchemaGate>();
    builder.AddJobWorker();
    builder.AddImpact();
    using var host = builder.Build();
    // The model is loaded once per process, before the clock starts (as a Worker does at its first job).
    var modelVersion = host.Services.GetRequiredService<Platform.Core.Impact.Scoring.IOutcomeModel>().ModelVersion;
    await host.Services.GetRequiredService<Platform.Core.Impact.Scoring.IOutcomeModel>().ScoreManyAsync(["warm-up"], default);
    var started = Stopwatch.GetTimestamp();
    await host.StartAsync();
    var deadline = DateTime.UtcNow.AddMinutes(30);
    while (await Scalar(db, "SELECT count(*) FROM impact.texts WHERE status = 'pending'") > 0)
    {
        if (DateTime.UtcNow > deadline)
        {
            throw new TimeoutException("Scoring did not finish within 30 minutes.");
        }
        await Task.Delay(100); // polling the database for completion: this is the measurement loop, not a test wait
    }
    var scoringSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
    await host.StopAsync();
    var scored = await Scalar(db, "SELECT count(*) FROM impact.texts WHERE status = 'scored' AND body_enc IS NOT NULL");
    Console.WriteLine($"Scored {scored} texts through impact.score-texts jobs (batches of {Platform.Core.Impact.Programs.ScoreTextsArgs.BatchSize}) in {scoringSeconds:F2} s = {scored / scoringSeconds:F0} texts/s ({workers} handlers, {modelVersion})");

    // The model alone, without the job path: the same texts in one ScoreManyAsync call (batched model passes).
    var sample = Enumerable.Range(0, texts).Select(i => bank[i % bank.Length]).ToList();
    var modelWatch = Stopwatch.StartNew();
    await host.Services.GetRequiredService<Platform.Core.Impact.Scoring.IOutcomeModel>().ScoreManyAsync(sample, default);
    var modelSeconds = modelWatch.Elapsed.TotalSeconds;
    Console.WriteLine($"Model alone: {sample.Count} texts in {modelSeconds:F2} s = {sample.Count / modelSeconds:F0} texts/s (one ScoreManyAsync call)");

    // Report time: the full company report (12 months, totals, trends, VIS of every volunteer) for the year.
    var reports = new ImpactReports(db, companies);
    var timings = new List<double>();
    CompanyReport? report = null;
    for (var i = 0; i < 5; i++)
    {
        var watch = Stopwatch.StartNew();
        report = await reports.ReportAsync(tenant, company, "2026", new DateOnly(2026, 1, 1), new DateOnly(2027, 1, 1), default);
        timings.Add(watch.Elapsed.TotalMilliseconds);
    }
    var html = Stopwatch.StartNew();
    var page = ImpactReports.Html(report!);
    var htmlMs = html.Elapsed.TotalMilliseconds;
    timings.Sort();
    Console.WriteLine($"Report for {report!.Totals.Participants} participants: median {timings[2]:F0} ms (min {timings[0]:F0}, max {timings[4]:F0}); HTML rendering {htmlMs:F1} ms, {page.Length / 1024} KiB");

    var result = new
    {
        benchmark = "impact",
        mode = smoke ? "smoke" : "full",
        date = DateTimeOffset.UtcNow,
        machine = new { cores = Environment.ProcessorCount, loadAverage = LoadAverage(), os = System.Runtime.InteropServices.RuntimeInformation.OSDescription },
        data = new { participants, volunteers, sessions = participants * sessionsPerParticipant, texts, queuedForScoring = queued },
        scoring = new
        {
            path = $"impact.score-texts jobs ({Platform.Core.Impact.Programs.ScoreTextsArgs.BatchSize} texts each) on Platform.Core.Jobs: one query claims and reads the batch with its keys → decrypt (AES-GCM) → one model pass → scores + encrypted evidence + status + pii_access_log in one round trip, one transaction",
            model = modelVersion, workers, texts = scored, seconds = Math.Round(scoringSeconds, 2), textsPerSecond = Math.Round(scored / scoringSeconds, 1),
            modelAloneTextsPerSecond = Math.Round(sample.Count / modelSeconds, 1),
        },
        report = new
        {
            participants = report.Totals.Participants, period = "2026", runs = timings.Count,
            medianMs = Math.Round(timings[2], 1), minMs = Math.Round(timings[0], 1), maxMs = Math.Round(timings[4], 1), htmlRenderMs = Math.Round(htmlMs, 1),
        },
    };
    Directory.CreateDirectory(smoke ? Path.Combine(outDir, "raw") : outDir);
    var name = outcomeModel == "rubric" ? "impact" : $"impact-{outcomeModel}";
    var path = smoke ? Path.Combine(outDir, "raw", $"{name}.smoke.json") : Path.Combine(outDir, $"{name}.json");
    await File.WriteAllTextAsync(path, JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));
    Console.WriteLine($"Wrote {path}");
    return 0;
}
finally
{
    NpgsqlConnection.ClearAllPools();
    await Exec(admin, $"DROP DATABASE IF EXISTS \"{scratch}\" WITH (FORCE)");
}

static async Task Exec(string connectionString, string sql)
{
    await using var conn = new NpgsqlConnection(connectionString);
    await conn.OpenAsync();
    await using var cmd = new NpgsqlCommand(sql, conn);
    await cmd.ExecuteNonQueryAsync();
}

static async Task<long> Scalar(NpgsqlDataSource db, string sql)
{
    await using var cmd = db.CreateCommand(sql);
    return Convert.ToInt64(await cmd.ExecuteScalarAsync());
}

static string? LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : null;

string? ArgValue(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

static string FindRepoRoot()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Platform.sln")))
    {
        dir = dir.Parent;
    }
    return dir?.FullName ?? Directory.GetCurrentDirectory();
}
