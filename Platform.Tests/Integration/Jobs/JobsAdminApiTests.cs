using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using System.Text.RegularExpressions;
using Platform.Core.Jobs;

namespace Platform.Tests.Integration.Jobs;

/// <summary>
/// The operator API and the Hangfire Dashboard over real HTTP: Api (operator endpoints, dashboard), the real Worker
/// running the jobs, and the Admin panel forwarding /hangfire behind its allowlist and sign-in.
/// </summary>
public sealed partial class JobsAdminApiTests : IAsyncLifetime
{
    private const string Yearly = "test.new-year";
    private readonly JobLedger _ledger = new();
    private ApiFactory _api = null!;
    private AdminFactory _admin = null!;
    private JobWorkerHost _worker = null!;
    private HttpClient _client = null!;
    private Uri _apiAddress = null!;
    private Uri _adminAddress = null!;

    public async Task InitializeAsync()
    {
        var cs = await TestEnvironment.CreateDatabaseAsync(nameof(JobsAdminApiTests));
        var redis = await TestEnvironment.RedisAsync();
        var apiPort = LocalServers.FreePort();
        _api = new ApiFactory(TestSettings.For(cs, redis));
        _api.UseKestrel(o => o.Listen(IPAddress.Loopback, apiPort));
        _api.StartServer();
        _apiAddress = new Uri($"http://127.0.0.1:{apiPort}");
        _client = new HttpClient { BaseAddress = _apiAddress };
        _client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestSettings.OperatorKey);
        _worker = new JobWorkerHost(FastJobSettings.For(cs, redis, "admin-worker"),
            JobsDb.Handlers(_ledger, "W", s => s.AddRecurringJob(Yearly, "0 0 0 1 1 ?", new TickArgs()))).Start();

        var adminPort = LocalServers.FreePort();
        var adminSettings = TestSettings.For(cs, redis);
        adminSettings["services:api:http:0"] = _apiAddress.ToString();
        adminSettings["Admin:Password"] = "the-password";
        _admin = new AdminFactory(adminSettings);
        _admin.UseKestrel(o => o.Listen(IPAddress.Loopback, adminPort));
        _admin.StartServer();
        _adminAddress = new Uri($"http://127.0.0.1:{adminPort}");
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _admin.DisposeAsync();
        await _worker.DisposeAsync();
        await _api.DisposeAsync();
    }

    private async Task<JobDetails> GetJob(long id) => (await _client.GetFromJsonAsync<JobDetails>($"/v1/admin/jobs/{id}"))!;

    private Task<JobDetails> WaitFor(long id, string state) =>
        Eventually.ReturnsAsync(() => GetJob(id), j => j.State == state, TimeSpan.FromSeconds(30), $"job {id} reaches {state}");

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
    public async Task A_failed_canary_retried_from_the_admin_api_runs_again_and_succeeds()
    {
        var id = await Canary(failTimes: 2, maxAttempts: 2);

        var failed = await WaitFor(id, JobStates.Failed);
        Assert.Equal(2, failed.Attempt);
        Assert.Equal(2, failed.History.Count(h => h.State == JobStates.Failed));
        Assert.Equal("ops.canary", failed.Kind);
        Assert.NotNull(failed.HangfireJobId);
        Assert.Equal(HttpStatusCode.Conflict, (await _client.PostAsync($"/v1/admin/jobs/{id}/cancel", null)).StatusCode);

        var retry = await _client.PostAsync($"/v1/admin/jobs/{id}/retry", null);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);

        var succeeded = await WaitFor(id, JobStates.Succeeded);
        Assert.Equal(3, succeeded.Attempt);
        Assert.Equal(2, succeeded.History.Count(h => h.State == JobStates.Failed)); // the failed runs stay in the history
        Assert.Equal(HttpStatusCode.Conflict, (await _client.PostAsync($"/v1/admin/jobs/{id}/cancel", null)).StatusCode);
    }

    [Fact]
    public async Task Bad_input_and_unknown_ids_get_problem_details()
    {
        var bad = await _client.PostAsJsonAsync("/v1/admin/jobs/canary", new { failTimes = -1, maxAttempts = 0 });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType!.MediaType);
        var missing = await _client.GetAsync("/v1/admin/jobs/987654321");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.PostAsync("/v1/admin/jobs/987654321/retry", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.PostAsync("/v1/admin/schedules/no-such/pause", null)).StatusCode);
    }

    [Fact]
    public async Task Stats_come_from_hangfire_and_schedules_can_be_paused_resumed_and_triggered()
    {
        var id = await Canary(0, 1);
        await WaitFor(id, JobStates.Succeeded);
        var stats = (await _client.GetFromJsonAsync<JobStats>("/v1/admin/jobs/stats"))!;
        Assert.True(stats.Succeeded >= 1);
        Assert.True(stats.Servers >= 1);

        var schedules = (await _client.GetFromJsonAsync<List<ScheduleDetails>>("/v1/admin/schedules"))!;
        var yearly = schedules.Single(s => s.Name == Yearly);
        Assert.Equal(TickArgs.Kind, yearly.Kind);
        Assert.False(yearly.Paused);
        Assert.Equal(new DateTimeOffset(DateTime.UtcNow.Year + 1, 1, 1, 0, 0, 0, TimeSpan.Zero), yearly.NextFireAt);

        var paused = (await (await _client.PostAsync($"/v1/admin/schedules/{Yearly}/pause", null)).Content.ReadFromJsonAsync<ScheduleDetails>())!;
        Assert.True(paused.Paused);
        var triggered = await _client.PostAsync($"/v1/admin/schedules/{Yearly}/trigger", null);
        Assert.Equal(HttpStatusCode.Accepted, triggered.StatusCode);
        var tick = (await triggered.Content.ReadFromJsonAsync<Accepted>())!.JobId;
        await WaitFor(tick, JobStates.Succeeded);
        Assert.Equal(1, _ledger.RunsOf(tick));
        var resumed = (await (await _client.PostAsync($"/v1/admin/schedules/{Yearly}/resume", null)).Content.ReadFromJsonAsync<ScheduleDetails>())!;
        Assert.False(resumed.Paused);
    }

    [Fact]
    public async Task The_admin_api_and_the_dashboard_on_api_need_the_operator_key()
    {
        using var anonymous = new HttpClient { BaseAddress = _apiAddress };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/v1/admin/jobs/stats")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/hangfire/")).StatusCode);
        anonymous.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "op_wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync("/v1/admin/jobs/canary", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/hangfire/")).StatusCode);
    }

    [Fact]
    public async Task A_signed_in_operator_uses_the_hangfire_dashboard_through_the_panel_to_retry_a_failed_job()
    {
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new CookieContainer() })
        {
            BaseAddress = _adminAddress,
        };
        var signedOut = await browser.GetAsync("/hangfire/");
        Assert.Equal(HttpStatusCode.Redirect, signedOut.StatusCode);
        Assert.Contains("/signin", signedOut.Headers.Location!.OriginalString);

        var form = await browser.GetStringAsync("/signin");
        var signIn = await browser.PostAsync("/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "signin", ["__RequestVerificationToken"] = Token().Match(form).Groups[1].Value, ["Input.Password"] = "the-password",
        }));
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);

        var home = await browser.GetAsync("/hangfire/");
        Assert.Equal(HttpStatusCode.OK, home.StatusCode);
        Assert.Contains("Platform jobs", await home.Content.ReadAsStringAsync());

        var id = await Canary(failTimes: 1, maxAttempts: 1);
        var failed = await WaitFor(id, JobStates.Failed);
        var failedPage = await browser.GetStringAsync("/hangfire/jobs/failed");
        Assert.Contains($"/hangfire/jobs/details/{failed.HangfireJobId}", failedPage);

        // The dashboard's own "Requeue" button posts this form.
        var requeue = await browser.PostAsync("/hangfire/jobs/failed/requeue",
            new FormUrlEncodedContent([new("jobs[]", failed.HangfireJobId!)]));
        Assert.True(requeue.IsSuccessStatusCode, $"requeue answered {requeue.StatusCode}");
        await WaitFor(id, JobStates.Succeeded);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex Token();
}
