using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Core.Jobs;

namespace Platform.Tests.Integration.Jobs;

/// <summary>What the modules rely on from jobs, on the real Worker (Hangfire servers, outbox relay) over a fresh database.</summary>
public sealed class JobGuaranteeTests : IAsyncLifetime
{
    private const string EverySecond = "test.every-second";
    private readonly JobLedger _ledger = new();
    private NpgsqlDataSource _db = null!;
    private JobWorkerHost _worker = null!;
    private IJobQueue _queue = null!;
    private JobAdmin _admin = null!;

    public async Task InitializeAsync()
    {
        var cs = await TestEnvironment.CreateDatabaseAsync(nameof(JobGuaranteeTests));
        _db = NpgsqlDataSource.Create(cs);
        var settings = FastJobSettings.For(cs, await TestEnvironment.RedisAsync(), "guarantees", concurrency: 8);
        settings["Platform:Jobs:Timeouts:test.hang"] = "00:00:00.500";
        _worker = new JobWorkerHost(settings, JobsDb.Handlers(_ledger, "A", s =>
        {
            s.AddRecurringJob(EverySecond, "* * * * * *", new TickArgs());
        })).Start();
        _queue = _worker.Services.GetRequiredService<IJobQueue>();
        _admin = _worker.Services.GetRequiredService<JobAdmin>();
    }

    public async Task DisposeAsync()
    {
        await _worker.DisposeAsync();
        await _db.DisposeAsync();
    }

    private Task<JobDetails> WaitFor(long id, string state, TimeSpan? timeout = null) => JobsDb.WaitForStateAsync(_admin, id, state, timeout);

    [Fact]
    public async Task A_job_enqueued_in_a_rolled_back_transaction_never_runs_and_one_in_a_committed_transaction_does()
    {
        var rolledBack = Random.Shared.Next(1_000_000, int.MaxValue);
        var committed = rolledBack - 1;
        await using (var conn = await _db.OpenConnectionAsync())
        {
            await using (var tx = await conn.BeginTransactionAsync())
            {
                await _queue.EnqueueAsync(tx, new CountArgs(rolledBack));
                await tx.RollbackAsync();
            }
            await using (var tx = await conn.BeginTransactionAsync())
            {
                var job = await _queue.EnqueueAsync(tx, new CountArgs(committed));
                Assert.Null(await _admin.GetAsync(job.Id)); // invisible to others until the commit
                await tx.CommitAsync();
                await WaitFor(job.Id, JobStates.Succeeded);
            }
        }
        // The committed job was enqueued after the rolled-back one and has run: the relay had every chance.
        Assert.Equal(1, _ledger.TimesSeen(committed));
        Assert.Equal(0, _ledger.TimesSeen(rolledBack));
        Assert.Equal(0, await JobsDb.CountAsync(_db, "SELECT count(*) FROM ops.job_requests WHERE args->>'n' = $1", rolledBack.ToString()));
    }

    [Fact]
    public async Task Concurrent_enqueues_with_one_unique_key_create_one_job_and_the_key_is_free_once_it_ends()
    {
        var key = "unique-" + Guid.NewGuid();
        var n = Random.Shared.Next(1_000_000, int.MaxValue);
        // The job is due a few seconds later, so it is certainly still live while the 30 enqueues race: a job that had
        // already ended would rightly free its key for a second one.
        var due = DateTimeOffset.UtcNow.AddSeconds(8);
        var results = await Task.WhenAll(Enumerable.Range(0, 30).Select(_ =>
            _queue.EnqueueAsync(new CountArgs(n), new JobOptions { UniqueKey = key, RunAt = due })));
        Assert.True(DateTimeOffset.UtcNow < due, "the enqueues finished before the job was due");
        Assert.Single(results.Select(r => r.Id).Distinct());
        Assert.Single(results, r => !r.Duplicate);
        await WaitFor(results[0].Id, JobStates.Succeeded);
        Assert.Equal(1, _ledger.TimesSeen(n));

        var again = await Eventually.ReturnsAsync(() => _queue.EnqueueAsync(new CountArgs(n), new JobOptions { UniqueKey = key }),
            j => !j.Duplicate, TimeSpan.FromSeconds(10), "the key is released when the job ends");
        Assert.NotEqual(results[0].Id, again.Id);
    }

    [Fact]
    public async Task Jobs_sharing_a_concurrency_key_never_run_at_the_same_time()
    {
        var key = "meeting-" + Guid.NewGuid();
        var ids = new List<long>();
        for (var i = 0; i < 8; i++)
        {
            ids.Add((await _queue.EnqueueAsync(new KeyedArgs(key, HoldMilliseconds: 100), new JobOptions { ConcurrencyKey = key })).Id);
        }
        foreach (var id in ids)
        {
            await WaitFor(id, JobStates.Succeeded, TimeSpan.FromSeconds(60));
        }
        Assert.Equal(1, _ledger.MaxRunningAtOnce(key));
        // Waiting for the key is not an attempt.
        Assert.All(await Task.WhenAll(ids.Select(id => _admin.GetAsync(id))), j => Assert.Equal(1, j!.Attempt));
    }

    [Fact]
    public async Task A_failing_job_is_retried_with_backoff_until_it_succeeds_or_its_attempts_run_out()
    {
        var recovers = await _queue.EnqueueAsync(new CanaryArgs(FailTimes: 2), new JobOptions { MaxAttempts = 3 });
        var gives_up = await _queue.EnqueueAsync(new CanaryArgs(FailTimes: 5), new JobOptions { MaxAttempts = 2 });
        var discards = await _queue.EnqueueAsync(new DiscardArgs(), new JobOptions { MaxAttempts = 10 });

        var succeeded = await WaitFor(recovers.Id, JobStates.Succeeded);
        Assert.Equal(3, succeeded.Attempt);
        Assert.Equal(2, succeeded.History.Count(h => h.State == JobStates.Failed));
        Assert.Contains(succeeded.History, h => h.State == JobStates.Scheduled && h.Reason!.StartsWith("Retry 1 of 2"));

        var failed = await WaitFor(gives_up.Id, JobStates.Failed);
        Assert.Equal(2, failed.Attempt);
        Assert.Contains("CanaryFailure", failed.History[0].Error ?? "");

        var discarded = await WaitFor(discards.Id, JobStates.Failed);
        Assert.Equal(1, discarded.Attempt);
        Assert.Equal(1, _ledger.RunsOf(discards.Id));
    }

    [Fact]
    public async Task A_failed_job_retried_by_an_operator_gets_one_more_attempt()
    {
        var job = await _queue.EnqueueAsync(new DiscardArgs(), new JobOptions { MaxAttempts = 1 });
        await WaitFor(job.Id, JobStates.Failed);
        Assert.Equal(JobChange.Done, await _admin.RetryAsync(job.Id));
        await Eventually.TrueAsync(() => Task.FromResult(_ledger.RunsOf(job.Id) == 2), TimeSpan.FromSeconds(20), "the job ran again");
        var after = await WaitFor(job.Id, JobStates.Failed);
        Assert.Equal(2, after.Attempt);
    }

    [Fact]
    public async Task A_running_job_cancelled_by_an_operator_stops_and_stays_deleted()
    {
        var job = await _queue.EnqueueAsync(new CanaryArgs(HoldMilliseconds: 60_000), new JobOptions { MaxAttempts = 1 });
        await WaitFor(job.Id, JobStates.Processing);
        Assert.Equal(JobChange.Done, await _admin.CancelAsync(job.Id));
        Assert.Equal(JobStates.Deleted, (await _admin.GetAsync(job.Id))!.State);
        Assert.Equal(JobChange.Conflict, await _admin.CancelAsync(job.Id));
        // The handler's token fired (the canary's hold ends with it) and nothing overwrote the deletion.
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(JobStates.Deleted, (await _admin.GetAsync(job.Id))!.State);
    }

    [Fact]
    public async Task A_delayed_job_waits_for_its_time()
    {
        var runAt = DateTimeOffset.UtcNow.AddSeconds(3);
        var n = Random.Shared.Next(1_000_000, int.MaxValue);
        var job = await _queue.EnqueueAsync(new CountArgs(n), new JobOptions { RunAt = runAt });
        var done = await WaitFor(job.Id, JobStates.Succeeded);
        Assert.Contains(done.History, h => h.State == JobStates.Scheduled);
        var started = done.History.Single(h => h.State == JobStates.Processing).At;
        // Hangfire keeps due times in whole seconds, so a delayed job may start up to a second early.
        Assert.True(started >= runAt.AddSeconds(-1), $"started {started:O}, due {runAt:O}");
        Assert.Equal(1, _ledger.TimesSeen(n));
    }

    [Fact]
    public async Task A_hung_handler_fails_at_its_kinds_timeout_and_frees_its_worker()
    {
        var job = await _queue.EnqueueAsync(new HangArgs(), new JobOptions { MaxAttempts = 1 });
        var failed = await WaitFor(job.Id, JobStates.Failed, TimeSpan.FromSeconds(20));
        Assert.Contains("TimeoutException", failed.History[0].Error ?? "");
    }

    [Fact]
    public async Task A_busy_queue_does_not_hold_back_another_queues_jobs()
    {
        // Fill every default-queue worker (four in tests) with a job that holds it, and queue one more behind them.
        var holders = new List<long>();
        for (var i = 0; i < 4; i++)
        {
            holders.Add((await _queue.EnqueueAsync(new KeyedArgs("hold-" + Guid.NewGuid(), HoldMilliseconds: 5000))).Id);
        }
        foreach (var id in holders)
        {
            await WaitFor(id, JobStates.Processing);
        }
        holders.Add((await _queue.EnqueueAsync(new KeyedArgs("hold-" + Guid.NewGuid(), HoldMilliseconds: 10))).Id);
        var n = Random.Shared.Next(1_000_000, int.MaxValue);
        var other = await _queue.EnqueueAsync(new OtherQueueArgs(n));
        var done = await WaitFor(other.Id, JobStates.Succeeded, TimeSpan.FromSeconds(3));
        Assert.Equal("scoring", done.Queue);
        Assert.Contains(holders, id => _ledger.RunsOf(id) == 0); // the default queue was still busy
    }

    [Fact]
    public async Task The_enqueuing_trace_continues_in_the_jobs_run()
    {
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name is JobTelemetry.Name or "test",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        using var source = new ActivitySource("test");
        var n = Random.Shared.Next(1_000_000, int.MaxValue);
        ActivityTraceId trace;
        long id;
        using (var request = source.StartActivity("request")!)
        {
            trace = request.TraceId;
            id = (await _queue.EnqueueAsync(new CountArgs(n))).Id;
        }
        await WaitFor(id, JobStates.Succeeded);
        Assert.Equal(trace, _ledger.TraceOf(n));
    }

    [Fact]
    public async Task A_recurring_schedule_fires_stops_while_paused_and_fires_again_after_resume()
    {
        await Eventually.TrueAsync(() => Task.FromResult(Ticks() >= 2),
            TimeSpan.FromSeconds(20), "the schedule fires");
        var schedule = (await _admin.SchedulesAsync()).Single(s => s.Name == EverySecond);
        Assert.Equal("* * * * * *", schedule.Cron);
        Assert.Equal(TickArgs.Kind, schedule.Kind);

        Assert.True((await _admin.PauseAsync(EverySecond))!.Paused);
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // a fire already created may still run
        var whilePaused = Ticks();
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.Equal(whilePaused, Ticks());

        var triggered = (await _admin.TriggerAsync(EverySecond))!.Value;
        await WaitFor(triggered.Id, JobStates.Succeeded);
        Assert.Equal(1, _ledger.RunsOf(triggered.Id));

        Assert.False((await _admin.ResumeAsync(EverySecond))!.Paused);
        var resumedFrom = Ticks();
        await Eventually.TrueAsync(() => Task.FromResult(Ticks() >= resumedFrom + 2), TimeSpan.FromSeconds(20), "fires again");
        Assert.Null(await _admin.PauseAsync("no-such-schedule"));
    }

    /// <summary>Runs of the every-second schedule (its fires have no outbox request: request id -1 in the ledger).</summary>
    private int Ticks() => _ledger.RunsOf(-1);
}
