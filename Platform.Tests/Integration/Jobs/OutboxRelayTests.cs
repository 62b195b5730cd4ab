using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Core.Jobs;

namespace Platform.Tests.Integration.Jobs;

/// <summary>The outbox keeps a committed job through a relay that dies before it hands the job to Hangfire.</summary>
public sealed class OutboxRelayTests
{
    [Fact]
    public async Task A_committed_job_whose_relay_died_before_hand_over_runs_after_a_restart()
    {
        var cs = await TestEnvironment.CreateDatabaseAsync(nameof(OutboxRelayTests));
        var redis = await TestEnvironment.RedisAsync();
        var ledger = new JobLedger();
        await using var db = NpgsqlDataSource.Create(cs);
        var n = Random.Shared.Next(1_000_000, int.MaxValue);

        // A worker whose relay is not running: the request is committed but never handed over.
        var stalled = FastJobSettings.For(cs, redis, "stalled");
        stalled["Platform:Jobs:RelayEnabled"] = "false";
        long id;
        await using (var first = new JobWorkerHost(stalled, JobsDb.Handlers(ledger, "first")).Start())
        {
            await using var conn = await db.OpenConnectionAsync();
            await using var tx = await conn.BeginTransactionAsync();
            id = (await first.Services.GetRequiredService<IJobQueue>().EnqueueAsync(tx, new CountArgs(n))).Id;
            await tx.CommitAsync();
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.Equal(JobStates.Pending, (await first.Services.GetRequiredService<JobAdmin>().GetAsync(id))!.State);
            Assert.Equal(0, ledger.TimesSeen(n));
        } // the process goes away with the request still in the outbox

        await using var second = new JobWorkerHost(FastJobSettings.For(cs, redis, "restarted"), JobsDb.Handlers(ledger, "second")).Start();
        var done = await JobsDb.WaitForStateAsync(second.Services.GetRequiredService<JobAdmin>(), id, JobStates.Succeeded);
        Assert.NotNull(done.HangfireJobId);
        Assert.Equal(1, ledger.TimesSeen(n));
        Assert.Equal("second", ledger.RanOn(id));
    }
}
