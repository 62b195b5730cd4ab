using System.Diagnostics;

namespace Platform.Bench.Jobs;

/// <summary>Counts job starts and their enqueue→start latency (one process, one monotonic clock).</summary>
public sealed class Recorder
{
    private readonly List<double> _latenciesMs = [];
    private readonly Lock _lock = new();
    private TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _target;
    private int _count;

    public void Expect(int target)
    {
        lock (_lock)
        {
            _latenciesMs.Clear();
            _count = 0;
            _target = target;
            _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    public Task Done => _done.Task;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    public void Started(long enqueuedTimestamp)
    {
        var ms = Stopwatch.GetElapsedTime(enqueuedTimestamp).TotalMilliseconds;
        lock (_lock)
        {
            _latenciesMs.Add(ms);
            if (++_count == _target)
            {
                _done.TrySetResult();
            }
        }
    }

    public (double P50, double P99, double Max) Percentiles()
    {
        lock (_lock)
        {
            var sorted = _latenciesMs.Order().ToArray();
            if (sorted.Length == 0)
            {
                return (double.NaN, double.NaN, double.NaN);
            }
            double At(double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
            return (At(0.50), At(0.99), sorted[^1]);
        }
    }

    public static async Task WaitAsync(Task done, TimeSpan timeout, string what)
    {
        if (await Task.WhenAny(done, Task.Delay(timeout)) != done)
        {
            throw new TimeoutException($"{what} did not finish within {timeout}.");
        }
    }
}

/// <summary>CommitsPerJob and WalSyncsPerJob: the database's transactions and WAL flushes while the backlog drained, per job.</summary>
public sealed record ThroughputResult(int Jobs, double Seconds, double JobsPerSecond)
{
    public double CommitsPerJob { get; init; } = double.NaN;

    public double WalSyncsPerJob { get; init; } = double.NaN;
}

/// <summary>
/// What the database did while a backlog drained: committed transactions in the scratch database and WAL flushes on the
/// server (the benchmark's server has no other users). PostgreSQL publishes these counters from each backend when it
/// goes idle (at least a second apart, at the latest after ten idle seconds), so the closing read waits for that.
/// </summary>
public static class DbCost
{
    public static async Task<(long Commits, long WalSyncs)> SnapshotAsync(string connectionString)
    {
        await using var conn = new Npgsql.NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand(
            "SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()), (SELECT wal_sync FROM pg_stat_wal)", conn);
        await using var r = await cmd.ExecuteReaderAsync();
        await r.ReadAsync();
        return (r.GetInt64(0), r.GetInt64(1));
    }

    public static async Task<ThroughputResult> AddAsync(string connectionString, ThroughputResult result, (long Commits, long WalSyncs) before)
    {
        await Task.Delay(TimeSpan.FromSeconds(11));
        var after = await SnapshotAsync(connectionString);
        return result with
        {
            CommitsPerJob = (after.Commits - before.Commits) / (double)result.Jobs,
            WalSyncsPerJob = (after.WalSyncs - before.WalSyncs) / (double)result.Jobs,
        };
    }
}

/// <summary>EnqueueCallP50Ms: how long the enqueue call itself took (its commit included), part of every latency.</summary>
public sealed record LatencyResult(int Jobs, double RatePerSecond, double P50Ms, double P99Ms, double MaxMs, double EnqueueCallP50Ms);

public sealed record EngineResult(string Engine, string Setup, ThroughputResult Throughput, LatencyResult Latency);
