using System.Collections.Specialized;
using System.Diagnostics;
using Quartz;

namespace Platform.Bench.Jobs;

/// <summary>A no-op Quartz job: records when it started.</summary>
public sealed class QuartzNoopJob : IJob
{
    internal static Recorder Recorder { get; set; } = new();

    public ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        Recorder.Started(long.Parse(context.MergedJobDataMap.GetString("t")!, System.Globalization.CultureInfo.InvariantCulture));
        return ValueTask.CompletedTask;
    }
}

/// <summary>Quartz.NET 4.7.3 with its PostgreSQL AdoJobStore (JobStoreTX), the same worker count and no-op work.</summary>
public static class QuartzRun
{
    public static NameValueCollection Properties(string connectionString, int workers) => new()
    {
        ["quartz.scheduler.instanceName"] = "bench",
        ["quartz.scheduler.instanceId"] = "bench",
        ["quartz.threadPool.maxConcurrency"] = workers.ToString(),
        ["quartz.jobStore.type"] = "Quartz.Impl.AdoJobStore.JobStoreTX, Quartz",
        ["quartz.jobStore.driverDelegateType"] = "Quartz.Impl.AdoJobStore.PostgreSQLDelegate, Quartz",
        ["quartz.jobStore.dataSource"] = "default",
        ["quartz.jobStore.tablePrefix"] = "qrtz_",
        // String-only JobDataMap: no binary serialization of job data.
        ["quartz.jobStore.useProperties"] = "true",
        ["quartz.serializer.type"] = "stj",
        ["quartz.dataSource.default.provider"] = "Npgsql",
        ["quartz.dataSource.default.connectionString"] = connectionString,
        // Fair tuning: acquire as many triggers per round trip as there are workers (the default is 1) …
        ["quartz.scheduler.batchTriggerAcquisitionMaxCount"] = workers.ToString(),
        ["quartz.jobStore.acquireTriggersWithinLock"] = "true",
        // … and a pre-loaded backlog is fired normally rather than through misfire handling.
        ["quartz.jobStore.misfireThreshold"] = "3600000",
    };

    public static async Task<EngineResult> RunAsync(string connectionString, int workers, int jobs, int latencyJobs, double rate)
    {
        var recorder = new Recorder();
        QuartzNoopJob.Recorder = recorder;
        await using var factory = QuartzSchedulerBuilder.Create().UseProperties(Properties(connectionString, workers)).Build();
        var scheduler = await factory.GetScheduler();

        // Throughput: schedule the backlog in one call while the scheduler is in standby, then start it.
        var backlog = new Dictionary<IJobDetail, IReadOnlyCollection<ITrigger>>();
        for (var i = 0; i < jobs; i++)
        {
            var (job, trigger) = OneOff($"t{i}");
            backlog[job] = [trigger];
        }
        await scheduler.ScheduleJobs(backlog);
        recorder.Expect(jobs);
        var cost = await DbCost.SnapshotAsync(connectionString);
        var started = Stopwatch.GetTimestamp();
        await scheduler.Start();
        await Recorder.WaitAsync(recorder.Done, TimeSpan.FromMinutes(20), "Draining Quartz's backlog");
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var throughput = await DbCost.AddAsync(connectionString, new ThroughputResult(jobs, seconds, jobs / seconds), cost);
        Console.WriteLine($"  quartz: {jobs} jobs in {seconds:F2} s = {throughput.JobsPerSecond:F0} jobs/s");

        // Latency: one ScheduleJob (a job with a start-now trigger) at a time at the same steady rate.
        var n = 0;
        var latency = await HangfireRuns.MeasureLatencyAsync(recorder, latencyJobs, rate, async () =>
        {
            var (job, trigger) = OneOff($"l{n++}");
            await scheduler.ScheduleJob(job, trigger);
        });
        Console.WriteLine($"  quartz: enqueue→start p50 {latency.P50Ms:F1} ms, p99 {latency.P99Ms:F1} ms");
        await scheduler.Shutdown(waitForJobsToComplete: true);
        return new EngineResult("quartz", $"Quartz.NET 4.7.3 AdoJobStore (JobStoreTX, PostgreSQLDelegate, Npgsql), maxConcurrency {workers}, batchTriggerAcquisitionMaxCount {workers}", throughput, latency);
    }

    /// <summary>
    /// Creates Quartz's tables from the official PostgreSQL schema script of the Quartz build in use (4.7.3 embeds it as
    /// <c>Quartz.Impl.AdoJobStore.Schema.create_postgres.sql</c>; statements separated by <c>--;;</c> lines, <c>{0}</c>/<c>{1}</c> = table prefix).
    /// </summary>
    public static async Task CreateSchemaAsync(string connectionString)
    {
        const string resource = "Quartz.Impl.AdoJobStore.Schema.create_postgres.sql";
        await using var stream = typeof(IScheduler).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Quartz no longer embeds {resource}.");
        var script = (await new StreamReader(stream).ReadToEndAsync()).Replace("{0}", "qrtz_").Replace("{1}", "qrtz_");
        await using var conn = new Npgsql.NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        foreach (var statement in script.Split("\n--;;", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (statement.Split('\n').All(line => line.TrimStart().StartsWith("--", StringComparison.Ordinal) || line.Trim().Length == 0))
            {
                continue; // the header
            }
            await using var cmd = new Npgsql.NpgsqlCommand(statement, conn);
            await cmd.ExecuteNonQueryAsync();
        }
    }

    private static (IJobDetail, ITrigger) OneOff(string name)
    {
        var job = JobBuilder.Create<QuartzNoopJob>()
            .WithIdentity(name, "bench")
            .UsingJobData("t", Stopwatch.GetTimestamp().ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Build();
        var trigger = TriggerBuilder.Create().WithIdentity(name, "bench").StartNow().Build();
        return (job, trigger);
    }
}
