using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Platform.Core.Data;
using Platform.Core.Jobs;

namespace Platform.Tests.Integration.Jobs;

/// <summary>Enqueue semantics and retries on one worker host over a fresh database.</summary>
public sealed class JobQueueTests : IAsyncLifetime
{
    private readonly JobLedger _ledger = new();
    private NpgsqlDataSource _db = null!;
    private JobWorkerHost _worker = null!;
    private JobQueue _queue = null!;
    private JobAdmin _admin = null!;
    private string _connectionString = "";

    public async Task InitializeAsync()
    {
        _connectionString = await TestEnvironment.CreateDatabaseAsync(nameof(JobQueueTests));
        _db = NpgsqlDataSource.Create(_connectionString);
        _queue = new JobQueue(_db);
        _admin = new JobAdmin(_db);
        _worker = new JobWorkerHost(
            FastJobSettings.For(_connectionString, await TestEnvironment.RedisAsync(), "queue-tests"),
            JobsDb.Handlers(_ledger, "A")).Start();
    }

    public async Task DisposeAsync()
    {
        await _worker.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task Enqueue_in_a_rolled_back_transaction_leaves_no_job_and_in_a_committed_one_it_runs()
    {
        var marker = Random.Shared.Next(1_000_000, int.MaxValue);
        await using (var conn = await _db.OpenConnectionAsync())
        {
            await using var tx = await conn.BeginTransactionAsync();
            var doomed = await _queue.EnqueueAsync(tx, new CountArgs(marker));
            Assert.True(doomed.Id > 0);
            await tx.RollbackAsync();
        }

        // The same through EF Core: the business write and the job share the context's transaction.
        var options = new DbContextOptionsBuilder<PlatformDb>().UseNpgsql(_db).Options;
        await using (var ef = new PlatformDb(options))
        {
            await using var tx = await ef.Database.BeginTransactionAsync();
            await _queue.EnqueueAsync(ef, new CountArgs(marker));
            await tx.RollbackAsync();
        }
        Assert.Equal(0, await JobsDb.CountAsync(_db, "SELECT count(*) FROM ops.jobs WHERE args->>'n' = $1", marker.ToString()));

        long committedId;
        await using (var ef = new PlatformDb(options))
        {
            await using var tx = await ef.Database.BeginTransactionAsync();
            committedId = (await _queue.EnqueueAsync(ef, new CountArgs(marker))).Id;
            // Not visible, and not run, before the commit.
            Assert.Null(await _admin.GetAsync(committedId));
            await tx.CommitAsync();
        }

        var done = await JobsDb.WaitForStateAsync(_admin, committedId, JobStates.Completed);
        Assert.Equal(1, done.Attempt);
        Assert.Equal(1, _ledger.RunsOf(committedId));
        Assert.Equal(1, await JobsDb.CountAsync(_db, "SELECT count(*) FROM ops.jobs WHERE args->>'n' = $1", marker.ToString()));
    }

    [Fact]
    public async Task Hundred_concurrent_enqueues_with_one_unique_key_create_one_job()
    {
        var key = "invite-" + Guid.NewGuid();
        // Scheduled an hour ahead so the job stays pending (uniqueness covers pending and running jobs).
        var options = new JobOptions { UniqueKey = key, RunAt = DateTimeOffset.UtcNow.AddHours(1) };
        using var start = new ManualResetEventSlim();
        var tasks = Enumerable.Range(0, 100).Select(i => Task.Run(async () =>
        {
            start.Wait();
            return await _queue.EnqueueAsync(new CountArgs(i), options);
        })).ToList();
        start.Set();
        var results = await Task.WhenAll(tasks);

        Assert.Single(results.Select(r => r.Id).Distinct());
        Assert.Single(results, r => !r.Duplicate);
        Assert.Equal(1, await JobsDb.CountAsync(_db, "SELECT count(*) FROM ops.jobs WHERE unique_key = $1", key));
        var job = await _admin.GetAsync(results[0].Id);
        Assert.Equal(JobStates.Scheduled, job!.State);
    }

    [Fact]
    public async Task Bulk_enqueue_in_one_call_skips_duplicate_keys_and_runs_every_job()
    {
        var batch = "bulk-" + Guid.NewGuid().ToString("N")[..8];
        var jobs = Enumerable.Range(0, 3000)
            .Select(i => (new CountArgs(i), new JobOptions { UniqueKey = $"{batch}-{i % 2500}" })).ToList();

        var created = await _queue.EnqueueManyAsync(jobs);

        Assert.Equal(2500, created);
        await Eventually.TrueAsync(async () => await JobsDb.CountAsync(_db,
            "SELECT count(*) FROM ops.jobs WHERE unique_key LIKE $1 AND state = 'completed'", batch + "-%") == 2500,
            TimeSpan.FromSeconds(30), "all bulk jobs complete");
    }

    [Fact]
    public async Task A_handler_failing_twice_then_succeeding_completes_on_attempt_3_with_both_errors()
    {
        var job = await _queue.EnqueueAsync(new CanaryArgs(FailTimes: 2), new JobOptions { MaxAttempts = 5 });

        var done = await JobsDb.WaitForStateAsync(_admin, job.Id, JobStates.Completed);

        Assert.Equal(3, done.Attempt);
        Assert.Equal(2, done.Errors.Count);
        Assert.Equal([1, 2], done.Errors.Select(e => e.Attempt));
        Assert.All(done.Errors, e => Assert.Contains("Canary failing on purpose", e.Error));
        Assert.NotNull(done.FinalizedAt);
    }

    [Fact]
    public async Task A_handler_that_always_fails_is_discarded_after_max_attempts()
    {
        var job = await _queue.EnqueueAsync(new CanaryArgs(FailTimes: 1000), new JobOptions { MaxAttempts = 3 });

        var discarded = await JobsDb.WaitForStateAsync(_admin, job.Id, JobStates.Discarded);

        Assert.Equal(3, discarded.Attempt);
        Assert.Equal(3, discarded.Errors.Count);
        Assert.NotNull(discarded.FinalizedAt);
    }

    [Fact]
    public async Task A_job_runs_in_the_trace_of_the_request_that_enqueued_it()
    {
        var runs = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == JobTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                lock (runs)
                {
                    runs.Add(a);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        using var source = new ActivitySource("Platform.Tests.Jobs");
        long id;
        ActivityTraceId traceId;
        using (var request = source.StartActivity("POST /v1/something", ActivityKind.Server))
        {
            Assert.NotNull(request);
            traceId = request.TraceId;
            id = (await _queue.EnqueueAsync(new CountArgs(7))).Id;
        }

        await JobsDb.WaitForStateAsync(_admin, id, JobStates.Completed);
        var run = await Eventually.ReturnsAsync(() =>
        {
            lock (runs)
            {
                return Task.FromResult(runs.FirstOrDefault(a => a.OperationName == "job run " + CountArgs.Kind && Equals(a.GetTagItem("job.id"), id)));
            }
        }, a => a is not null, because: "the run span is recorded");
        Assert.Equal(traceId, run!.TraceId);
    }
}
