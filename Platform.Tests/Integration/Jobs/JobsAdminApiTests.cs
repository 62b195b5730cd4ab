using System.Net.Http.Headers;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Core.Jobs;

namespace Platform.Tests.Integration.Jobs;

/// <summary>The operator API on Api, with the real Worker running the jobs it enqueues.</summary>
public sealed class JobsAdminApiTests : IAsyncLifetime
{
    private const string Yearly = "test.new-year";
    private readonly JobLedger _ledger = new();
    private NpgsqlDataSource _db = null!;
    private ApiFactory _api = null!;
    private JobWorkerHost _worker = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        var cs = await TestEnvironment.CreateDatabaseAsync(nameof(JobsAdminApiTests));
        var redis = await TestEnvironment.RedisAsync();
        _db = NpgsqlDataSource.Create(cs);
        _api = new ApiFactory(TestSettings.For(cs, redis));
        _client = _api.CreateClient();
        _client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestSettings.OperatorKey);
        _worker = new JobWorkerHost(FastJobSettings.For(cs, redis, "admin-worker"),
            JobsDb.Handlers(_ledger, "W", s => s.AddRecurringJob(Yearly, "0 0 0 1 1 ?", TickArgs.Kind, new { }))).Start();
    }

    public async Task DisposeAsync()
    {
        await _worker.DisposeAsync();
        await _api.DisposeAsync();
        await _db.DisposeAsync();
    }

    private async Task<JobDetails> GetJob(long id) => (await _client.GetFromJsonAsync<JobDetails>($"/v1/admin/jobs/{id}"))!;

    private Task<JobDetails> WaitFor(long id, string state) =>
        Eventually.ReturnsAsync(() => GetJob(id), j => j.State == state, TimeSpan.FromSeconds(20), $"job {id} reaches {state}");

    private async Task<long> Canary(int failTimes, int maxAttempts)
    {
        var response = await _client.PostAsJsonAsync("/v1/admin/jobs/canary", new { failTimes, maxAttempts });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<Accepted>();
        Assert.Equal($"/v1/admin/jobs/{body!.JobId}", response.Headers.Location!.OriginalString);
        return body.JobId;
    }

    private sealed record Accepted(long JobId);

    [Fact]
    public async Task A_discarded_canary_retried_from_the_admin_api_runs_again_and_completes()
    {
        var id = await Canary(failTimes: 2, maxAttempts: 2);

        var discarded = await WaitFor(id, JobStates.Discarded);
        Assert.Equal(2, discarded.Attempt);
        Assert.Equal(2, discarded.Errors.Count);
        Assert.Equal("ops.canary", discarded.Kind);
        Assert.NotNull(discarded.FinalizedAt);

        var retry = await _client.PostAsync($"/v1/admin/jobs/{id}/retry", null);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);

        var completed = await WaitFor(id, JobStates.Completed);
        Assert.Equal(3, completed.Attempt);
        Assert.Equal(2, completed.Errors.Count); // the history of the failed runs is kept
    }

    [Fact]
    public async Task The_admin_api_needs_the_operator_key()
    {
        using var anonymous = _api.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/v1/admin/jobs")).StatusCode);
        anonymous.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "op_wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync("/v1/admin/jobs/canary", new { })).StatusCode);
    }

    [Fact]
    public async Task Jobs_are_listed_newest_first_with_filters_and_a_cursor()
    {
        var ids = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await Canary(0, 1));
        }
        foreach (var id in ids)
        {
            await WaitFor(id, JobStates.Completed);
        }

        var seen = new List<long>();
        string? cursor = null;
        do
        {
            var url = "/v1/admin/jobs?kind=ops.canary&state=completed&limit=2" + (cursor is null ? "" : "&cursor=" + cursor);
            var page = await _client.GetFromJsonAsync<JobPage>(url);
            Assert.True(page!.Items.Count <= 2);
            Assert.All(page.Items, j => Assert.Equal(JobStates.Completed, j.State));
            seen.AddRange(page.Items.Select(j => j.Id));
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        Assert.Equal(seen.OrderDescending(), seen);
        Assert.Superset(ids.ToHashSet(), seen.ToHashSet());

        var bad = await _client.GetAsync("/v1/admin/jobs?state=exploded");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var problem = await bad.Content.ReadFromJsonAsync<ValidationProblemDetails>();
        Assert.Contains("state", problem!.Errors.Keys);
    }

    [Fact]
    public async Task Stats_count_jobs_per_queue_and_state()
    {
        var id = await Canary(0, 1);
        await WaitFor(id, JobStates.Completed);

        var stats = await _client.GetFromJsonAsync<JobStats>("/v1/admin/jobs/stats");

        Assert.Contains(stats!.Counts, c => c.Queue == "default" && c.State == JobStates.Completed && c.Count >= 1);
    }

    [Fact]
    public async Task A_waiting_job_can_be_cancelled_once_and_unknown_jobs_are_not_found()
    {
        var queue = new JobQueue(_db);
        var later = await queue.EnqueueAsync(new CanaryArgs(), new JobOptions { RunAt = DateTimeOffset.UtcNow.AddHours(1) });

        var cancel = await _client.PostAsync($"/v1/admin/jobs/{later.Id}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal(JobStates.Cancelled, (await GetJob(later.Id)).State);

        var again = await _client.PostAsync($"/v1/admin/jobs/{later.Id}/cancel", null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal("application/problem+json", again.Content.Headers.ContentType?.MediaType);

        var missing = await _client.GetAsync("/v1/admin/jobs/999999999");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("No job with id 999999999", (await missing.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail);
    }

    [Fact]
    public async Task A_running_job_cancelled_by_the_operator_stops_and_stays_cancelled()
    {
        var queue = new JobQueue(_db);
        var job = await queue.EnqueueAsync(new CanaryArgs(HoldMilliseconds: 600_000));
        await WaitFor(job.Id, JobStates.Running);

        Assert.Equal(HttpStatusCode.OK, (await _client.PostAsync($"/v1/admin/jobs/{job.Id}/cancel", null)).StatusCode);

        // The worker notices at its next heartbeat and cancels the handler; nothing overwrites the operator's decision.
        await Eventually.TrueAsync(async () => await JobsDb.CountAsync(_db,
            "SELECT count(*) FROM ops.jobs WHERE id = $1 AND state = 'cancelled'", job.Id) == 1, because: "stays cancelled");
        await Eventually.TrueAsync(() => Task.FromResult(!_worker.Engine.IsRunning(job.Id)), because: "the handler was cancelled");
        Assert.Equal(JobStates.Cancelled, (await GetJob(job.Id)).State);
    }

    [Fact]
    public async Task Schedules_can_be_listed_paused_triggered_and_resumed()
    {
        var schedules = await Eventually.ReturnsAsync(
            () => _client.GetFromJsonAsync<List<ScheduleDetails>>("/v1/admin/schedules")!,
            l => l!.Any(s => s.Name == Yearly), because: "the worker declares its schedule");
        var yearly = schedules!.Single(s => s.Name == Yearly);
        Assert.Equal(TickArgs.Kind, yearly.Kind);
        Assert.False(yearly.Paused);
        Assert.Equal(1, yearly.NextFireAt.Month);
        Assert.Equal(1, yearly.NextFireAt.Day);

        var paused = await (await _client.PostAsync($"/v1/admin/schedules/{Yearly}/pause", null)).Content.ReadFromJsonAsync<ScheduleDetails>();
        Assert.True(paused!.Paused);

        var trigger = await _client.PostAsync($"/v1/admin/schedules/{Yearly}/trigger", null);
        Assert.Equal(HttpStatusCode.Accepted, trigger.StatusCode);
        var jobId = (await trigger.Content.ReadFromJsonAsync<Accepted>())!.JobId;
        await WaitFor(jobId, JobStates.Completed);
        Assert.Equal(1, _ledger.RunsOf(jobId));

        var resumed = await (await _client.PostAsync($"/v1/admin/schedules/{Yearly}/resume", null)).Content.ReadFromJsonAsync<ScheduleDetails>();
        Assert.False(resumed!.Paused);
        Assert.Equal(jobId, resumed.LastJobId);

        Assert.Equal(HttpStatusCode.NotFound, (await _client.PostAsync("/v1/admin/schedules/no-such/pause", null)).StatusCode);
    }
}
