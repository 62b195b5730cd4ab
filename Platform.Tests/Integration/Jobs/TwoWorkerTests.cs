using Npgsql;
using Platform.Core.Jobs;

namespace Platform.Tests.Integration.Jobs;

/// <summary>Two worker hosts (two engines with their own worker ids) on one database.</summary>
public sealed class TwoWorkerTests : IAsyncLifetime
{
    private readonly JobLedger _ledger = new();
    private NpgsqlDataSource _db = null!;
    private JobWorkerHost _a = null!;
    private JobWorkerHost _b = null!;
    private JobQueue _queue = null!;
    private JobAdmin _admin = null!;

    public async Task InitializeAsync()
    {
        var cs = await TestEnvironment.CreateDatabaseAsync(nameof(TwoWorkerTests));
        var redis = await TestEnvironment.RedisAsync();
        _db = NpgsqlDataSource.Create(cs);
        _queue = new JobQueue(_db);
        _admin = new JobAdmin(_db);
        _a = new JobWorkerHost(FastJobSettings.For(cs, redis, "host-a"), JobsDb.Handlers(_ledger, "A")).Start();
        _b = new JobWorkerHost(FastJobSettings.For(cs, redis, "host-b"), JobsDb.Handlers(_ledger, "B")).Start();
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task Jobs_with_one_concurrency_key_never_overlap_across_two_workers()
    {
        var key = "meeting-" + Guid.NewGuid().ToString("N")[..8];
        var ids = new List<long>();
        for (var i = 0; i < 20; i++)
        {
            ids.Add((await _queue.EnqueueAsync(new KeyedArgs(key, HoldMilliseconds: 30), new JobOptions { ConcurrencyKey = key })).Id);
        }
        // Unkeyed work beside them keeps both workers' slots busy and must not be held back.
        await _queue.EnqueueManyAsync(Enumerable.Range(0, 200).Select(i => new CountArgs(i)));

        await Eventually.TrueAsync(async () => await JobsDb.CountAsync(_db,
            "SELECT count(*) FROM ops.jobs WHERE id = ANY($1) AND state = 'completed'", ids.ToArray()) == 20,
            TimeSpan.FromSeconds(30), "all 20 keyed jobs complete");

        Assert.Equal(1, _ledger.MaxRunningAtOnce(key));
        Assert.All(ids, id => Assert.Equal(1, _ledger.RunsOf(id)));
        // Both workers took part, so the guarantee held across processes, not just inside one.
        Assert.Equal(2, ids.Select(id => _ledger.RanOn(id)).Distinct().Count());
    }

    [Fact]
    public async Task Ten_thousand_jobs_across_two_workers_each_complete_exactly_once()
    {
        var marker = "fanout-" + Guid.NewGuid().ToString("N")[..8];
        var created = await _queue.EnqueueManyAsync(
            Enumerable.Range(0, 10_000).Select(i => (new CountArgs(i), new JobOptions { UniqueKey = $"{marker}-{i}" })));
        Assert.Equal(10_000, created);

        await Eventually.TrueAsync(async () => await JobsDb.CountAsync(_db,
            "SELECT count(*) FROM ops.jobs WHERE unique_key LIKE $1 AND state = 'completed'", marker + "-%") == 10_000,
            TimeSpan.FromSeconds(60), "all 10,000 jobs complete");

        var ids = new List<long>();
        await using (var cmd = _db.CreateCommand("SELECT id FROM ops.jobs WHERE unique_key LIKE $1"))
        {
            cmd.Parameters.Add(new() { Value = marker + "-%" });
            await using var reader = await cmd.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                ids.Add(reader.GetInt64(0));
            }
        }
        Assert.Equal(10_000, ids.Count);
        Assert.All(ids, id => Assert.Equal(1, _ledger.RunsOf(id)));
        Assert.Equal(0, await JobsDb.CountAsync(_db,
            "SELECT count(*) FROM ops.jobs WHERE unique_key LIKE $1 AND (attempt <> 1 OR errors <> '[]')", marker + "-%"));
        var perHost = ids.GroupBy(id => _ledger.RanOn(id)).ToDictionary(g => g.Key!, g => g.Count());
        Assert.Equal(["A", "B"], perHost.Keys.Order());
    }
}
