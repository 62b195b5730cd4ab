using System.Diagnostics;
using System.Text.Json;
using Hangfire;
using Hangfire.Common;
using Hangfire.PostgreSql;
using Hangfire.States;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Core.Jobs;

namespace Platform.Bench.Jobs;

public sealed record BenchArgs(long EnqueuedAt) : IJobArgs
{
    public static string Kind => "bench.noop";
}

public sealed class BenchHandler(Recorder recorder) : IJobHandler<BenchArgs>
{
    public Task HandleAsync(BenchArgs args, JobContext context)
    {
        recorder.Started(args.EnqueuedAt);
        return Task.CompletedTask;
    }
}

/// <summary>The job Hangfire-with-defaults runs: a static method, no activation, no filters of ours.</summary>
public static class DefaultsJob
{
    internal static Recorder Recorder { get; set; } = new();

    public static void Run(long enqueuedAt) => Recorder.Started(enqueuedAt);
}

/// <summary>
/// Hangfire.PostgreSql three ways on the same server: as the Worker configures it, through the outbox (what modules
/// use) and direct (Hangfire's client, no outbox); and with Hangfire's defaults.
/// </summary>
public static class HangfireRuns
{
    /// <summary>How long a backlog may take to drain before the run is reported as stuck.</summary>
    public static TimeSpan DrainTimeout { get; set; } = TimeSpan.FromMinutes(15);

    public static async Task<EngineResult> ConfiguredAsync(
        string connectionString, int workers, int jobs, int latencyJobs, double rate, bool outbox, bool? longPolling = null, string? name = null)
    {
        var recorder = new Recorder();
        var polling = longPolling ?? new JobWorkerOptions().LongPolling;
        using var host = BuildHost(connectionString, workers, recorder, relay: outbox, polling);
        var queue = host.Services.GetRequiredService<IJobQueue>();
        var client = host.Services.GetRequiredService<IBackgroundJobClient>();
        name ??= outbox ? "hangfire-outbox" : "hangfire-direct";

        // Throughput: the backlog is enqueued before the servers start, then drained.
        if (outbox)
        {
            for (var done = 0; done < jobs; done += 5000)
            {
                await queue.EnqueueManyAsync(Enumerable.Range(0, Math.Min(5000, jobs - done)).Select(_ => new BenchArgs(Stopwatch.GetTimestamp())));
            }
        }
        else
        {
            await Parallel.ForAsync(0, jobs, new ParallelOptions { MaxDegreeOfParallelism = 8 }, (_, _) =>
            {
                Direct(client);
                return ValueTask.CompletedTask;
            });
        }
        recorder.Expect(jobs);
        var cost = await DbCost.SnapshotAsync(connectionString);
        var started = Stopwatch.GetTimestamp();
        await host.StartAsync();
        try
        {
            await Recorder.WaitAsync(recorder.Done, DrainTimeout, $"Draining {name}");
        }
        catch (TimeoutException)
        {
            await ReportStuckAsync(connectionString, name, recorder);
            await host.StopAsync();
            throw;
        }
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var throughput = await DbCost.AddAsync(connectionString, new ThroughputResult(jobs, seconds, jobs / seconds), cost);
        Console.WriteLine($"  {name}: {jobs} jobs in {seconds:F2} s = {throughput.JobsPerSecond:F0} jobs/s");

        var latency = await MeasureLatencyAsync(recorder, latencyJobs, rate, outbox
            ? () => queue.EnqueueAsync(new BenchArgs(Stopwatch.GetTimestamp()))
            : () => Task.Run(() => Direct(client)));
        Console.WriteLine($"  {name}: enqueue→start p50 {latency.P50Ms:F1} ms, p99 {latency.P99Ms:F1} ms");
        await host.StopAsync();
        var setup = $"Platform.Core.Jobs on Hangfire.PostgreSql 1.21.1, {workers} workers, "
            + (polling ? "long polling (LISTEN/NOTIFY per fetch)" : "no long polling (in-process queue signal)") + ", 1 s queue poll"
            + (outbox ? ", outbox relay (NOTIFY-woken, batches of up to 500 in one transaction)" : ", Hangfire client directly");
        return new EngineResult(name, setup, throughput, latency);
    }

    public static async Task<EngineResult> DefaultsAsync(string connectionString, int workers, int jobs, int latencyJobs, double rate)
    {
        var recorder = new Recorder();
        DefaultsJob.Recorder = recorder;
        // The configured runs' hosts installed their activator and logger in Hangfire's process-wide defaults and are
        // disposed now: Hangfire's own defaults again, as an application that never configured them would have.
        JobActivator.Current = new JobActivator();
        Hangfire.Logging.LogProvider.SetCurrentLogProvider(null);
        var options = new PostgreSqlStorageOptions { SchemaName = "hangfire_defaults" };
        var storage = new PostgreSqlStorage(new Hangfire.PostgreSql.Factories.NpgsqlConnectionFactory(connectionString, options), options);
        var client = new BackgroundJobClient(storage);
        await Parallel.ForAsync(0, jobs, new ParallelOptions { MaxDegreeOfParallelism = 8 }, (_, _) =>
        {
            client.Enqueue(() => DefaultsJob.Run(Stopwatch.GetTimestamp()));
            return ValueTask.CompletedTask;
        });
        recorder.Expect(jobs);
        var cost = await DbCost.SnapshotAsync(connectionString);
        var started = Stopwatch.GetTimestamp();
        using (var server = new BackgroundJobServer(new BackgroundJobServerOptions { WorkerCount = workers }, storage))
        {
            await Recorder.WaitAsync(recorder.Done, DrainTimeout, "Draining hangfire-defaults");
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var throughput = await DbCost.AddAsync(connectionString, new ThroughputResult(jobs, seconds, jobs / seconds), cost);
            Console.WriteLine($"  hangfire-defaults: {jobs} jobs in {seconds:F2} s = {throughput.JobsPerSecond:F0} jobs/s");
            var latency = await MeasureLatencyAsync(recorder, latencyJobs, rate,
                () => Task.Run(() => client.Enqueue(() => DefaultsJob.Run(Stopwatch.GetTimestamp()))));
            Console.WriteLine($"  hangfire-defaults: enqueue→start p50 {latency.P50Ms:F1} ms, p99 {latency.P99Ms:F1} ms");
            server.SendStop();
            return new EngineResult("hangfire-defaults",
                $"Hangfire.PostgreSql 1.21.1 defaults (15 s queue poll, no long polling), {workers} workers, Enqueue(() => static method)", throughput, latency);
        }
    }

    private static void Direct(IBackgroundJobClient client)
    {
        var payload = new JobPayload(null, "default", JsonSerializer.Serialize(new BenchArgs(Stopwatch.GetTimestamp()), JsonSerializerOptions.Web),
            1, 1, null, null, null, DateTime.UtcNow, null);
        client.Create(Job.FromExpression<JobDispatcher>(d => d.RunAsync(BenchArgs.Kind, payload, null, CancellationToken.None)),
            new EnqueuedState("default"));
    }

    internal static async Task<LatencyResult> MeasureLatencyAsync(Recorder recorder, int count, double rate, Func<Task> enqueue)
    {
        if (count == 0)
        {
            return new LatencyResult(0, rate, double.NaN, double.NaN, double.NaN, double.NaN);
        }
        recorder.Expect(count);
        var interval = TimeSpan.FromSeconds(1 / rate);
        var clock = Stopwatch.StartNew();
        var enqueueMs = new List<double>();
        for (var i = 0; i < count; i++)
        {
            var due = interval * i;
            if (due > clock.Elapsed)
            {
                await Task.Delay(due - clock.Elapsed);
            }
            var t0 = Stopwatch.GetTimestamp();
            await enqueue();
            enqueueMs.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        await Recorder.WaitAsync(recorder.Done, TimeSpan.FromMinutes(5), "Latency run");
        var (p50, p99, max) = recorder.Percentiles();
        return new LatencyResult(count, rate, p50, p99, max, enqueueMs.Order().ElementAt(enqueueMs.Count / 2));
    }

    /// <summary>What a stuck drain left behind: Hangfire jobs still queued, and which of them a fetch holds.</summary>
    private static async Task ReportStuckAsync(string connectionString, string name, Recorder recorder)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("""
            SELECT q.jobid, q.queue, q.fetchedat, now() - q.fetchedat, j.statename
            FROM hangfire.jobqueue q JOIN hangfire.job j ON j.id = q.jobid ORDER BY q.jobid LIMIT 20
            """, conn);
        await using var r = await cmd.ExecuteReaderAsync();
        Console.WriteLine($"  {name}: STUCK after {DrainTimeout}: {recorder.Count} jobs started; queued Hangfire jobs:");
        while (await r.ReadAsync())
        {
            Console.WriteLine($"    job {r.GetInt64(0)} queue {r.GetString(1)} state {r.GetString(4)} fetchedat {(r.IsDBNull(2) ? "-" : r.GetDateTime(2).ToString("O"))} ({(r.IsDBNull(3) ? "-" : r.GetTimeSpan(3).ToString())} ago)");
        }
    }

    private static IHost BuildHost(string connectionString, int workers, Recorder recorder, bool relay, bool longPolling)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        var settings = new Dictionary<string, string?>
        {
            ["Platform:Jobs:RelayEnabled"] = relay.ToString(),
            ["Platform:Jobs:LongPolling"] = longPolling.ToString(),
            ["Platform:Jobs:Queues:default"] = workers.ToString(),
        };
        foreach (var other in new JobWorkerOptions().Queues.Keys.Where(q => q != "default"))
        {
            settings[$"Platform:Jobs:Queues:{other}"] = "0";
        }
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(NpgsqlDataSource.Create(connectionString));
        builder.Services.AddSingleton(recorder);
        builder.AddJobWorker();
        builder.Services.AddJobHandler<BenchArgs, BenchHandler>();
        return builder.Build();
    }
}
