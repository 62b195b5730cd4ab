using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Platform.Core.Jobs;

namespace Platform.Tests.Integration.Jobs;

/// <summary>
/// Declaring a recurring schedule takes Hangfire's per-schedule lock. A lock another Worker holds (or a killed
/// Worker left behind) must delay the declaration, never stop a Worker from starting.
/// </summary>
public sealed class RecurringScheduleTests
{
    private const string Schedule = "test.locked-schedule";

    // Hangfire.PostgreSql names a lock row "<schema>:<resource>"; Hangfire's resource for a schedule is
    // "lock:recurring-job:<id>". (A row under another name does not hold anything: the schedule is then declared at once.)
    private static readonly string LockResource = $"{new JobWorkerOptions().Schema}:lock:recurring-job:{Schedule}";

    [Fact]
    public async Task Two_workers_start_while_a_schedules_lock_is_held_and_declare_it_once_the_lock_is_released()
    {
        var cs = await TestEnvironment.CreateDatabaseAsync(nameof(RecurringScheduleTests));
        var redis = await TestEnvironment.RedisAsync();
        await using var db = NpgsqlDataSource.Create(cs);
        // The row Hangfire.PostgreSql writes for a held lock: what a Worker killed while declaring leaves behind.
        await using (var hold = db.CreateCommand("INSERT INTO hangfire.lock (resource, acquired) VALUES ($1, now() AT TIME ZONE 'utc')"))
        {
            hold.Parameters.AddWithValue(LockResource);
            await hold.ExecuteNonQueryAsync();
        }

        var ledger = new JobLedger();
        JobWorkerHost Worker(string name) => new(FastJobSettings.For(cs, redis, name), JobsDb.Handlers(ledger, name,
            s => s.AddRecurringJob(Schedule, "* * * * * *", new TickArgs())));
        var starts = new[] { "A", "B" }.Select(name => Task.Run(() => Worker(name).Start())).ToArray();
        // Before, the declaration waited 15 s for the lock on the start path and then threw, so the host never started.
        var started = await Task.WhenAll(starts).WaitAsync(TimeSpan.FromSeconds(60));
        try
        {
            foreach (var worker in started)
            {
                Assert.False(worker.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested);
            }
            var admin = started[0].Services.GetRequiredService<JobAdmin>();
            // Every other schedule gets declared; this one waits for its lock (it would follow within milliseconds if
            // the lock did not hold it: the declarations run one after another).
            var others = started[0].Services.GetServices<RecurringJobDefinition>().Select(d => d.Name).Where(n => n != Schedule).ToHashSet();
            await Eventually.TrueAsync(async () => others.IsSubsetOf((await admin.SchedulesAsync()).Select(s => s.Name)),
                TimeSpan.FromSeconds(30), "the schedules without a held lock are declared");
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.DoesNotContain(await admin.SchedulesAsync(), s => s.Name == Schedule);

            await using (var release = db.CreateCommand("DELETE FROM hangfire.lock WHERE resource = $1"))
            {
                release.Parameters.AddWithValue(LockResource);
                await release.ExecuteNonQueryAsync();
            }
            await Eventually.TrueAsync(async () => (await admin.SchedulesAsync()).Any(s => s.Name == Schedule),
                TimeSpan.FromSeconds(45), "the schedule is declared once its lock is free");
            await Eventually.TrueAsync(() => Task.FromResult(ledger.RunsOf(-1) >= 2), TimeSpan.FromSeconds(20), "the schedule fires");
        }
        finally
        {
            foreach (var worker in started)
            {
                await worker.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_bad_cron_expression_stops_the_worker()
    {
        var cs = await TestEnvironment.CreateDatabaseAsync(nameof(RecurringScheduleTests));
        await using var worker = new JobWorkerHost(FastJobSettings.For(cs, await TestEnvironment.RedisAsync(), "bad-cron"),
            JobsDb.Handlers(new JobLedger(), "bad-cron", s => s.AddRecurringJob("test.bad-cron", "every tuesday", new TickArgs())));
        var stopping = worker.Start().Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        await Eventually.TrueAsync(() => Task.FromResult(stopping.IsCancellationRequested), TimeSpan.FromSeconds(20),
            "a schedule that can never be declared stops the Worker");
    }
}
