using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Core.Jobs;

namespace Platform.Tests.Integration.Jobs;

/// <summary>Recurring schedules fired by two worker hosts at once.</summary>
public sealed class RecurringJobTests : IAsyncLifetime
{
    private const string Schedule = "test.every-second";
    private readonly JobLedger _ledger = new();
    private NpgsqlDataSource _db = null!;
    private JobWorkerHost _a = null!;
    private JobWorkerHost _b = null!;

    public async Task InitializeAsync()
    {
        var cs = await TestEnvironment.CreateDatabaseAsync(nameof(RecurringJobTests));
        var redis = await TestEnvironment.RedisAsync();
        _db = NpgsqlDataSource.Create(cs);
        static void Every(IServiceCollection s) => s.AddRecurringJob(Schedule, "* * * * * ?", new TickArgs());
        _a = new JobWorkerHost(FastJobSettings.For(cs, redis, "sched-a"), JobsDb.Handlers(_ledger, "A", Every)).Start();
        _b = new JobWorkerHost(FastJobSettings.For(cs, redis, "sched-b"), JobsDb.Handlers(_ledger, "B", Every)).Start();
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task Two_workers_firing_a_schedule_every_second_enqueue_each_fire_time_exactly_once()
    {
        // Ten seconds' worth of fire times, both hosts ticking every 100 ms.
        await Eventually.TrueAsync(async () => await JobsDb.CountAsync(_db,
            "SELECT count(*) FROM ops.jobs WHERE kind = $1 AND state = 'completed'", TickArgs.Kind) >= 10,
            TimeSpan.FromSeconds(40), "ten fire times have run");

        var keys = new List<(string Key, long Count)>();
        await using (var cmd = _db.CreateCommand("SELECT unique_key, count(*) FROM ops.jobs WHERE kind = $1 GROUP BY unique_key"))
        {
            cmd.Parameters.Add(new() { Value = TickArgs.Kind });
            await using var reader = await cmd.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                keys.Add((reader.GetString(0), reader.GetInt64(1)));
            }
        }
        Assert.True(keys.Count >= 10);
        Assert.All(keys, k => Assert.Equal(1, k.Count));
        Assert.All(keys, k => Assert.Matches(@"^schedule:test\.every-second:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", k.Key));
        // Every job ran once, and the one declared schedule is one row however many workers declared it.
        Assert.All(_ledger.Runs.Values, n => Assert.Equal(1, n));
        // (The Worker declares the modules' own schedules too; this one is a single row.)
        Assert.Equal(1, await JobsDb.CountAsync(_db, "SELECT count(*) FROM ops.schedules WHERE name = 'test.every-second'"));
    }

    [Fact]
    public void Missed_fire_times_coalesce_to_the_latest_one()
    {
        var cron = RecurringSchedules.Parse("0 0/5 * * * ?"); // every five minutes
        var stored = new DateTimeOffset(2026, 1, 1, 10, 0, 0, TimeSpan.Zero);
        var now = new DateTimeOffset(2026, 1, 1, 10, 17, 30, TimeSpan.Zero);

        Assert.Equal(new DateTimeOffset(2026, 1, 1, 10, 15, 0, TimeSpan.Zero), RecurringSchedules.LatestFireTime(cron, stored, now));
        // After a day of downtime of an every-second schedule the walk stays short and still lands on the latest second.
        var dense = RecurringSchedules.Parse("* * * * * ?");
        Assert.Equal(now, RecurringSchedules.LatestFireTime(dense, now.AddDays(-1), now));
    }
}
