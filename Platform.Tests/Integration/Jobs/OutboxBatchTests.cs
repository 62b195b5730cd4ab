using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Core.Jobs;

namespace Platform.Tests.Integration.Jobs;

/// <summary>
/// Hangfire.PostgreSql wakes idle workers through a process-wide signal per queue name, and a signal wakes one waiting
/// worker of ANY host in the process: this class runs alone so other test hosts' idle workers cannot take its signals
/// (a Worker process has one host, so in production every signal reaches its own workers).
/// </summary>
[CollectionDefinition("Hangfire queue signal", DisableParallelization = true)]
public class HangfireQueueSignalCollection;

/// <summary>The relay hands batches over in one transaction each: once per request, and idle workers start them at once.</summary>
[Collection("Hangfire queue signal")]
public sealed class OutboxBatchTests
{
    [Fact]
    public async Task Batches_of_requests_are_handed_over_once_each_and_wake_idle_workers_without_the_queue_poll()
    {
        var cs = await TestEnvironment.CreateDatabaseAsync("OutboxRelayBatches");
        var ledger = new JobLedger();
        await using var db = NpgsqlDataSource.Create(cs);
        var settings = FastJobSettings.For(cs, await TestEnvironment.RedisAsync(), "batches");
        // An idle worker looks at its queue on its own only once a minute: within the test's patience a job runs only
        // if its hand-over wakes a worker.
        settings["Platform:Jobs:QueuePollInterval"] = "00:01:00";
        settings["Platform:Jobs:RelayBatchSize"] = "50";
        await using var worker = new JobWorkerHost(settings, JobsDb.Handlers(ledger, "batches")).Start();
        var queue = worker.Services.GetRequiredService<IJobQueue>();
        var admin = worker.Services.GetRequiredService<JobAdmin>();

        // Once a first job has run, the workers are idle, waiting for a signal or their next poll.
        var first = Random.Shared.Next(1_000_000, int.MaxValue - 1000);
        var firstId = (await queue.EnqueueAsync(new CountArgs(first))).Id;
        await JobsDb.WaitForStateAsync(admin, firstId, JobStates.Succeeded, TimeSpan.FromSeconds(70));

        var numbers = Enumerable.Range(first + 1, 120).ToArray();
        Assert.Equal(120, await queue.EnqueueManyAsync(numbers.Select(n => new CountArgs(n))));
        try
        {
            await Eventually.ReturnsAsync(() => Task.FromResult(numbers.Count(n => ledger.TimesSeen(n) > 0)), seen => seen == numbers.Length,
                TimeSpan.FromSeconds(30), "every job of the batches has run");
        }
        catch (TimeoutException ex)
        {
            await using var cmd = db.CreateCommand("""
                SELECT string_agg(j.id || ' ' || j.statename || ' fetched ' || coalesce(q.fetchedat::text, '-'), '; ')
                FROM hangfire.job j LEFT JOIN hangfire.jobqueue q ON q.jobid = j.id
                WHERE j.statename <> 'Succeeded' AND j.arguments::text LIKE '%test.count%'
                """);
            throw new TimeoutException($"{ex.Message}; jobs not done: {await cmd.ExecuteScalarAsync()}", ex);
        }

        Assert.All(numbers, n => Assert.Equal(1, ledger.TimesSeen(n)));
        Assert.Equal(0, await JobsDb.CountAsync(db, "SELECT count(*) FROM ops.job_requests WHERE hangfire_job_id IS NULL"));
        Assert.Equal(121, await JobsDb.CountAsync(db, "SELECT count(DISTINCT hangfire_job_id) FROM ops.job_requests"));
        Assert.Equal(121, await JobsDb.CountAsync(db, "SELECT count(*) FROM hangfire.job WHERE arguments::text LIKE '%test.count%'"));
    }
}
