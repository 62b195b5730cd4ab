using System.Diagnostics;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Hangfire.Storage;
using Npgsql;

namespace Platform.Bench.Jobs;

/// <summary>
/// Stress of Hangfire.PostgreSql's fetch with long polling on, as the Worker used it before: worker threads fetch
/// and remove queue entries as fast as they can (no job runs), so nearly every fetch finds an entry at once and cancels
/// the LISTEN task it has just started. It reports every fetch that held an entry but did not return (the entry's
/// <c>fetchedat</c> is kept fresh by the sliding-invisibility heartbeat, so no other worker takes it), then sends one
/// <c>NOTIFY new_job</c> and reports whether that releases them.
/// </summary>
public static class FetchProbe
{
    public static async Task<int> RunAsync(string connectionString, int entries, int threads, TimeSpan patience, bool longPolling = true)
    {
        var options = new PostgreSqlStorageOptions
        {
            SchemaName = "hangfire",
            PrepareSchemaIfNecessary = false,
            EnableLongPolling = longPolling,
            UseSlidingInvisibilityTimeout = true,
            InvisibilityTimeout = TimeSpan.FromMinutes(1),
            QueuePollInterval = TimeSpan.FromSeconds(1),
        };
        var storage = new PostgreSqlStorage(new NpgsqlConnectionFactory(connectionString, options), options);
        await ExecAsync(connectionString, $"INSERT INTO hangfire.jobqueue (jobid, queue) SELECT g, 'probe' FROM generate_series(1, {entries}) g");
        // A Hangfire server (on a queue nobody fills) runs the storage's heartbeat, which keeps a fetched entry's
        // fetchedat fresh as long as its fetch has not been disposed, as in the Worker.
        using var server = new Hangfire.BackgroundJobServer(new Hangfire.BackgroundJobServerOptions { WorkerCount = 1, Queues = ["probe-idle"] }, storage);

        var removed = 0;
        using var stop = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, threads).Select(_ => Task.Factory.StartNew(() =>
        {
            using var connection = storage.GetConnection();
            while (!stop.IsCancellationRequested)
            {
                IFetchedJob fetched;
                try
                {
                    fetched = connection.FetchNextJob(["probe"], stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                using (fetched)
                {
                    fetched.RemoveFromQueue();
                }
                Interlocked.Increment(ref removed);
            }
        }, TaskCreationOptions.LongRunning)).ToArray();

        // Wait until the queue is drained, or has made no progress for the patience.
        var last = -1;
        var lastChange = Stopwatch.StartNew();
        while (Volatile.Read(ref removed) < entries && lastChange.Elapsed < patience)
        {
            await Task.Delay(200);
            var now = Volatile.Read(ref removed);
            if (now != last)
            {
                last = now;
                lastChange.Restart();
            }
        }
        var done = Volatile.Read(ref removed);
        Console.WriteLine($"fetch probe (long polling {(longPolling ? "on" : "off")}): {done} of {entries} entries fetched and removed by {threads} threads in {clock.Elapsed.TotalSeconds:F1} s");
        if (done > entries)
        {
            Console.WriteLine($"fetch probe: {done - entries} entries were fetched twice (a fetch held one past the invisibility timeout)");
        }
        stop.Cancel();
        var result = done == entries ? 0 : 1;
        if (done < entries)
        {
            var held = await ScalarAsync(connectionString, "SELECT count(*) FROM hangfire.jobqueue WHERE queue = 'probe' AND fetchedat IS NOT NULL");
            var fresh = await ScalarAsync(connectionString, "SELECT count(*) FROM hangfire.jobqueue WHERE queue = 'probe' AND fetchedat > now() - interval '15 seconds'");
            Console.WriteLine($"fetch probe: STRANDED: {entries - done} entries left, {held} held by a fetch ({fresh} with fetchedat refreshed in the last 15 s) while the other threads idle");
        }
        // Stopped threads leave at once; a fetch stuck waiting for its LISTEN task to end needs a notification.
        await Task.Delay(2000);
        var stuck = workers.Count(w => !w.IsCompleted);
        if (stuck > 0)
        {
            result = 1;
        }
        Console.WriteLine($"fetch probe: {stuck} thread(s) still inside FetchNextJob after stop");
        if (stuck > 0)
        {
            await ExecAsync(connectionString, "NOTIFY new_job");
            await Task.WhenAny(Task.WhenAll(workers), Task.Delay(TimeSpan.FromSeconds(10)));
            Console.WriteLine($"fetch probe: after one NOTIFY new_job, {workers.Count(w => !w.IsCompleted)} still inside; entries removed {Volatile.Read(ref removed)} of {entries}");
        }
        return result;
    }

    private static async Task ExecAsync(string connectionString, string sql)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    private static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }
}
