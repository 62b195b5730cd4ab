extern alias WorkerHost;

using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Core.Jobs;

namespace Platform.Tests.Integration.Jobs;

/// <summary>Short intervals so retries, cancellation and schedules happen within a test's patience.</summary>
public static class FastJobSettings
{
    public static Dictionary<string, string?> For(string database, string redis, string workerId, int concurrency = 20)
    {
        var s = TestSettings.For(database, redis);
        // Few workers per queue: test classes run in parallel against one PostgreSQL server.
        foreach (var queue in new[] { "civic", "notifications", "impact", "scoring", "events" })
        {
            s[$"Platform:Jobs:Queues:{queue}"] = "1";
        }
        s["Platform:Jobs:Queues:default"] = Math.Min(concurrency, 4).ToString();
        s["Platform:Jobs:QueuePollInterval"] = "00:00:00.200";
        s["Platform:Jobs:InvisibilityTimeout"] = "00:00:05";
        s["Platform:Jobs:SchedulePollingInterval"] = "00:00:00.200";
        s["Platform:Jobs:CancellationCheckInterval"] = "00:00:00.200";
        s["Platform:Jobs:RetryDelayUnit"] = "00:00:00.010"; // attempt^4 × 10 ms: 10 ms, 160 ms, 810 ms …
        s["Platform:Jobs:RelayPollInterval"] = "00:00:00.200";
        s["Platform:Jobs:StatsInterval"] = "00:00:01";
        s["Platform:Jobs:ShutdownTimeout"] = "00:00:01";
        s["Logging:LogLevel:Default"] = "Warning";
        return s;
    }
}

/// <summary>The real Worker service in-process, with extra handlers or schedules a test declares.</summary>
public sealed class JobWorkerHost(IDictionary<string, string?> settings, Action<IServiceCollection>? services = null)
    : ServiceFactory<WorkerHost::Program>(settings)
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        if (services is not null)
        {
            builder.ConfigureServices(services);
        }
    }

    public JobWorkerHost Start()
    {
        _ = Services; // builds and starts the host, hosted services included
        return this;
    }
}

/// <summary>What test handlers saw: runs per job and the most jobs of one concurrency key running at once.</summary>
public sealed class JobLedger
{
    private readonly ConcurrentDictionary<long, int> _runs = new();
    private readonly ConcurrentDictionary<string, int> _runningPerKey = new();
    private readonly ConcurrentDictionary<string, int> _maxRunningPerKey = new();
    private readonly ConcurrentDictionary<long, string> _ranOn = new();

    public void Ran(long jobId, string workerName)
    {
        _runs.AddOrUpdate(jobId, 1, (_, n) => n + 1);
        _ranOn[jobId] = workerName;
    }

    public int RunsOf(long jobId) => _runs.TryGetValue(jobId, out var n) ? n : 0;

    private readonly ConcurrentDictionary<int, int> _numbers = new();
    private readonly ConcurrentDictionary<int, System.Diagnostics.ActivityTraceId> _traces = new();

    /// <summary>A <see cref="CountArgs"/> number a handler saw, with the trace its run belonged to.</summary>
    public void Saw(int n, System.Diagnostics.Activity? activity)
    {
        _numbers.AddOrUpdate(n, 1, (_, c) => c + 1);
        if (activity is not null)
        {
            _traces[n] = activity.TraceId;
        }
    }

    public int TimesSeen(int n) => _numbers.TryGetValue(n, out var c) ? c : 0;

    public System.Diagnostics.ActivityTraceId? TraceOf(int n) => _traces.TryGetValue(n, out var t) ? t : null;

    public IReadOnlyDictionary<long, int> Runs => _runs;

    public string? RanOn(long jobId) => _ranOn.TryGetValue(jobId, out var w) ? w : null;

    public void Enter(string key)
    {
        var now = _runningPerKey.AddOrUpdate(key, 1, (_, n) => n + 1);
        _maxRunningPerKey.AddOrUpdate(key, now, (_, max) => Math.Max(max, now));
    }

    public void Leave(string key) => _runningPerKey.AddOrUpdate(key, 0, (_, n) => n - 1);

    public int MaxRunningAtOnce(string key) => _maxRunningPerKey.TryGetValue(key, out var n) ? n : 0;
}

/// <summary>Tells handlers which host they run on.</summary>
public sealed record HostName(string Value);

public sealed record CountArgs(int N) : IJobArgs
{
    public static string Kind => "test.count";
}

public sealed class CountHandler(JobLedger ledger, HostName host) : IJobHandler<CountArgs>
{
    public Task HandleAsync(CountArgs args, JobContext context)
    {
        ledger.Saw(args.N, context.Activity);
        ledger.Ran(context.RequestId ?? -1, host.Value);
        return Task.CompletedTask;
    }
}

public sealed record KeyedArgs(string Key, int HoldMilliseconds) : IJobArgs
{
    public static string Kind => "test.keyed";
}

public sealed class KeyedHandler(JobLedger ledger, HostName host) : IJobHandler<KeyedArgs>
{
    public async Task HandleAsync(KeyedArgs args, JobContext context)
    {
        ledger.Enter(args.Key);
        try
        {
            await Task.Delay(args.HoldMilliseconds, context.CancellationToken);
            ledger.Ran(context.RequestId ?? -1, host.Value);
        }
        finally
        {
            ledger.Leave(args.Key);
        }
    }
}

/// <summary>Records a canary run and succeeds at once (a survivor host's stand-in for the Worker's canary handler).</summary>
public sealed class RecordingCanaryHandler(JobLedger ledger, HostName host) : IJobHandler<CanaryArgs>
{
    public Task HandleAsync(CanaryArgs args, JobContext context)
    {
        ledger.Ran(context.RequestId ?? -1, host.Value);
        return Task.CompletedTask;
    }
}

/// <summary>Runs on the <c>scoring</c> queue (to show one queue's backlog does not hold another's jobs).</summary>
public sealed record OtherQueueArgs(int N) : IJobArgs
{
    public static string Kind => "test.other-queue";
    public static string Queue => "scoring";
}

public sealed class OtherQueueHandler(JobLedger ledger) : IJobHandler<OtherQueueArgs>
{
    public Task HandleAsync(OtherQueueArgs args, JobContext context)
    {
        ledger.Saw(args.N, context.Activity);
        return Task.CompletedTask;
    }
}

/// <summary>Never returns and ignores its token: only the kind's timeout frees its worker.</summary>
public sealed record HangArgs : IJobArgs
{
    public static string Kind => "test.hang";
}

public sealed class HangHandler : IJobHandler<HangArgs>
{
    public Task HandleAsync(HangArgs args, JobContext context) => Task.Delay(Timeout.Infinite, CancellationToken.None);
}

/// <summary>Gives up at once.</summary>
public sealed record DiscardArgs : IJobArgs
{
    public static string Kind => "test.discard";
}

public sealed class DiscardHandler(JobLedger ledger) : IJobHandler<DiscardArgs>
{
    public Task HandleAsync(DiscardArgs args, JobContext context)
    {
        ledger.Ran(context.RequestId ?? -1, "discard");
        throw new JobDiscardException("nothing to do");
    }
}

public sealed record TickArgs : IJobArgs
{
    public static string Kind => "test.tick";
}

public sealed class TickHandler(JobLedger ledger, HostName host) : IJobHandler<TickArgs>
{
    public Task HandleAsync(TickArgs args, JobContext context)
    {
        ledger.Ran(context.RequestId ?? -1, host.Value);
        return Task.CompletedTask;
    }
}

public static class JobsDb
{
    public static async Task<long> CountAsync(NpgsqlDataSource db, string sql, params object[] args)
    {
        await using var cmd = db.CreateCommand(sql);
        foreach (var a in args)
        {
            cmd.Parameters.Add(new() { Value = a });
        }
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }

    public static Task<JobDetails> WaitForStateAsync(JobAdmin admin, long id, string state, TimeSpan? timeout = null) =>
        Eventually.ReturnsAsync(async () => (await admin.GetAsync(id))!, j => j.State == state, timeout ?? TimeSpan.FromSeconds(20),
            $"job {id} reaches {state}");

    /// <summary>Registers the test handlers on a worker host, telling them which host they run on.</summary>
    public static Action<IServiceCollection> Handlers(JobLedger ledger, string hostName, Action<IServiceCollection>? more = null) => s =>
    {
        s.AddSingleton(ledger);
        s.AddSingleton(new HostName(hostName));
        s.AddJobHandler<CountArgs, CountHandler>();
        s.AddJobHandler<KeyedArgs, KeyedHandler>();
        s.AddJobHandler<TickArgs, TickHandler>();
        s.AddJobHandler<OtherQueueArgs, OtherQueueHandler>();
        s.AddJobHandler<HangArgs, HangHandler>();
        s.AddJobHandler<DiscardArgs, DiscardHandler>();
        more?.Invoke(s);
    };
}
