using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Core.Data;
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

/// <summary>Our engine with its production defaults, one process, <c>workers</c> concurrent handlers.</summary>
public static class PlatformEngineRun
{
    public static async Task<EngineResult> RunAsync(string connectionString, int workers, int jobs, int latencyJobs, double rate)
    {
        await using var db = NpgsqlDataSource.Create(connectionString);
        var recorder = new Recorder();
        var queue = new JobQueue(db);
        // Built (not started) before the backlog exists, as Quartz's scheduler is created before its jobs are scheduled.
        using var host = BuildHost(db, connectionString, workers, recorder);

        // Throughput: the backlog is enqueued first (bulk, as fan-out does), then a worker starts and drains it.
        for (var done = 0; done < jobs; done += 5000)
        {
            var n = Math.Min(5000, jobs - done);
            await queue.EnqueueManyAsync(Enumerable.Range(0, n).Select(_ => new BenchArgs(Stopwatch.GetTimestamp())));
        }
        recorder.Expect(jobs);
        var started = Stopwatch.GetTimestamp();
        await host.StartAsync();
        await Recorder.WaitAsync(recorder.Done, TimeSpan.FromMinutes(10), "Draining our queue");
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var throughput = new ThroughputResult(jobs, seconds, jobs / seconds);
        Console.WriteLine($"  ours: {jobs} jobs in {seconds:F2} s = {throughput.JobsPerSecond:F0} jobs/s");

        // Latency: one job at a time at a steady rate into the running worker (single insert + NOTIFY).
        var latency = await MeasureLatencyAsync(recorder, latencyJobs, rate,
            () => queue.EnqueueAsync(new BenchArgs(Stopwatch.GetTimestamp())));
        Console.WriteLine($"  ours: enqueue→start p50 {latency.P50Ms:F1} ms, p99 {latency.P99Ms:F1} ms");
        await host.StopAsync();
        return new EngineResult("platform", $"Platform.Core.Jobs, {workers} concurrent handlers, default settings (NOTIFY + 1 s poll)", throughput, latency);
    }

    internal static async Task<LatencyResult> MeasureLatencyAsync(Recorder recorder, int count, double rate, Func<Task> enqueue)
    {
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

    private static IHost BuildHost(NpgsqlDataSource db, string connectionString, int workers, Recorder recorder)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:platformdb"] = connectionString,
            ["Platform:Jobs:WorkerId"] = "bench",
            ["Platform:Jobs:Queues:default"] = workers.ToString(),
        });
        builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(db);
        builder.Services.AddSingleton<SchemaGate>();
        builder.Services.AddSingleton(recorder);
        builder.AddJobWorker();
        builder.Services.AddJobHandler<BenchArgs, BenchHandler>();
        return builder.Build();
    }
}
