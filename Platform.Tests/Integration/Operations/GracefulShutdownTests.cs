using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Core.Jobs;
using Platform.Tests.Integration.Conversations;
using Platform.Tests.Integration.Jobs;

namespace Platform.Tests.Integration.Operations;

/// <summary>
/// What a service does when it is told to stop (SIGTERM: the host's StopAsync) while work is in flight: the Api answers
/// the requests it has accepted, the Worker finishes a job that fits its shutdown window and gives back one that does
/// not, so another Worker runs it (once). A Realtime node's 1012 is shown in NodeShutdownTests.
/// </summary>
public sealed class GracefulShutdownTests
{
    [Fact]
    public async Task A_stopping_api_answers_the_post_it_is_processing_and_stores_it_once()
    {
        var db = await TestEnvironment.CreateDatabaseAsync("shutdownapi");
        var port = LocalServers.FreePort();
        var api = new ApiFactory(TestSettings.For(db, await TestEnvironment.RedisAsync()));
        api.UseKestrel(o => o.Listen(System.Net.IPAddress.Loopback, port));
        api.StartServer();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        var apiKey = (await Call(http, TestSettings.OperatorKey, "/v1/tenants", new { name = "drain" })).GetProperty("apiKey").GetString()!;
        var channel = (await Call(http, apiKey, "/v1/channels", new { name = "web" })).GetProperty("id").GetString()!;
        var conversation = (await Call(http, apiKey, "/v1/conversations", new { channelId = channel })).GetProperty("id").GetGuid();

        // Hold the conversation's row so the POST is inside the Api, waiting on PostgreSQL, when the stop begins.
        await using var holder = new NpgsqlConnection(db);
        await holder.OpenAsync();
        await using var hold = await holder.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand("SELECT 1 FROM core.conversations WHERE id = $1 FOR UPDATE", holder, hold))
        {
            lockRow.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conversation });
            await lockRow.ExecuteNonQueryAsync();
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/conversations/{conversation}/activities")
        {
            Content = JsonContent.Create(ConversationsFixture.Message("in flight at shutdown", clientActivityId: "drain-1")),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        var posting = http.SendAsync(request);
        await Eventually.TrueAsync(async () => await WaitingOnLocksAsync(db) > 0, because: "the POST waits on the conversation's row");

        var stopping = api.DisposeAsync().AsTask();
        // The host waits for the request instead of cutting it off.
        Assert.NotSame(stopping, await Task.WhenAny(stopping, Task.Delay(TimeSpan.FromSeconds(1))));
        await hold.RollbackAsync();

        using var response = await posting;
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        await stopping;
        await using var count = new NpgsqlCommand("SELECT count(*) FROM core.activities WHERE conversation_id = $1 AND client_activity_id = 'drain-1'", holder);
        count.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conversation });
        Assert.Equal(1L, (long)(await count.ExecuteScalarAsync())!);
        // Stopped means stopped: new connections are refused.
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync("/health"));
    }

    [Fact]
    public async Task A_stopping_worker_finishes_a_job_that_fits_its_shutdown_window()
    {
        var cs = await TestEnvironment.CreateDatabaseAsync("shutdownfinish");
        var redis = await TestEnvironment.RedisAsync();
        var ledger = new JobLedger();
        var settings = FastJobSettings.For(cs, redis, "finishing");
        settings["Platform:Jobs:ShutdownTimeout"] = "00:00:10";
        var worker = new JobWorkerHost(settings, JobsDb.Handlers(ledger, "A")).Start();
        var admin = worker.Services.GetRequiredService<JobAdmin>();
        var job = await worker.Services.GetRequiredService<IJobQueue>().EnqueueAsync(new KeyedArgs("finish", 1500), new JobOptions { MaxAttempts = 1 });
        await JobsDb.WaitForStateAsync(admin, job.Id, JobStates.Processing);

        await worker.DisposeAsync();

        Assert.Equal(1, ledger.RunsOf(job.Id));
        Assert.Equal("A", ledger.RanOn(job.Id));
        // Recorded as done: the next Worker does not run it again.
        await using var next = new JobWorkerHost(FastJobSettings.For(cs, redis, "next"), JobsDb.Handlers(ledger, "B")).Start();
        await JobsDb.WaitForStateAsync(next.Services.GetRequiredService<JobAdmin>(), job.Id, JobStates.Succeeded);
        Assert.Equal(1, ledger.RunsOf(job.Id));
    }

    [Fact]
    public async Task A_stopping_worker_gives_back_a_longer_job_and_the_next_worker_runs_it_once()
    {
        var cs = await TestEnvironment.CreateDatabaseAsync("shutdownrelease");
        var redis = await TestEnvironment.RedisAsync();
        var log = new ShutdownProbeLog();
        Action<IServiceCollection> probe = s => { s.AddSingleton(log); s.AddJobHandler<ShutdownProbeArgs, ShutdownProbeHandler>(); };
        var first = new JobWorkerHost(FastJobSettings.For(cs, redis, "first"), JobsDb.Handlers(new JobLedger(), "A", probe)).Start(); // 1 s shutdown window
        var job = await first.Services.GetRequiredService<IJobQueue>().EnqueueAsync(new ShutdownProbeArgs(4000), new JobOptions { MaxAttempts = 1 });
        var running = await JobsDb.WaitForStateAsync(first.Services.GetRequiredService<JobAdmin>(), job.Id, JobStates.Processing);

        await first.DisposeAsync();
        // Its token fired when the shutdown window closed (it would otherwise have finished after 4 s).
        await Eventually.TrueAsync(() => Task.FromResult(log.Events.Length == 2), because: "the stopped worker's run to end");
        Assert.Equal(["A started", "A cancelled"], log.Events);
        // Given back at once: its queue entry is no longer held by the stopped server (no wait for the invisibility timeout).
        await using (var db = Npgsql.NpgsqlDataSource.Create(cs))
        {
            Assert.Equal(1L, await JobsDb.CountAsync(db, "SELECT count(*) FROM hangfire.jobqueue WHERE jobid = $1 AND fetchedat IS NULL", long.Parse(running.HangfireJobId!, System.Globalization.CultureInfo.InvariantCulture)));
        }

        // One attempt only: had the stop counted as a failed attempt, the job would now be failed for good.
        await using var second = new JobWorkerHost(FastJobSettings.For(cs, redis, "second"), JobsDb.Handlers(new JobLedger(), "B", probe)).Start();
        await JobsDb.WaitForStateAsync(second.Services.GetRequiredService<JobAdmin>(), job.Id, JobStates.Succeeded, TimeSpan.FromSeconds(60));
        Assert.Equal(["A started", "A cancelled", "B started", "B finished"], log.Events);
    }

    private static async Task<long> WaitingOnLocksAsync(string db)
    {
        await using var conn = new NpgsqlConnection(db);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'", conn);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    private static async Task<System.Text.Json.JsonElement> Call(HttpClient http, string bearer, string path, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        using var response = await http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await ConversationsFixture.Json(response);
    }
}

public sealed record ShutdownProbeArgs(int HoldMilliseconds) : IJobArgs
{
    public static string Kind => "test.shutdown-probe";
}

/// <summary>What happened to each run of a <see cref="ShutdownProbeArgs"/> job, by host.</summary>
public sealed class ShutdownProbeLog
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _events = new();
    public void Add(string e) => _events.Enqueue(e);
    public string[] Events => [.. _events];
}

public sealed class ShutdownProbeHandler(ShutdownProbeLog log, HostName host) : IJobHandler<ShutdownProbeArgs>
{
    public async Task HandleAsync(ShutdownProbeArgs args, JobContext context)
    {
        log.Add($"{host.Value} started");
        try
        {
            await Task.Delay(args.HoldMilliseconds, context.CancellationToken);
        }
        catch (OperationCanceledException)
        {
            log.Add($"{host.Value} cancelled");
            throw;
        }
        log.Add($"{host.Value} finished");
    }
}
