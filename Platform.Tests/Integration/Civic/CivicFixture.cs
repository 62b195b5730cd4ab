using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Core.Security;
using Platform.Tests.Integration.Jobs;

namespace Platform.Tests.Integration.Civic;

/// <summary>An Api and a Worker on a fresh database, sharing one artifact folder; helpers for tenants, cities and users.</summary>
public class CivicFixture : IAsyncLifetime
{
    /// <summary>The one folder under which tests' <c>file</c> sources live (the operator's file root).</summary>
    public static readonly string FileRoot = Path.Combine(Path.GetTempPath(), "civic-file-root");

    public string Storage { get; } = Path.Combine(Path.GetTempPath(), "civic-test-" + Guid.NewGuid().ToString("N"));
    public ApiFactory Api { get; private set; } = null!;
    public JobWorkerHost Worker { get; private set; } = null!;
    public NpgsqlDataSource Db { get; private set; } = null!;

    /// <summary>Extra settings of a fixture variant (a model endpoint, say), applied before the hosts start.</summary>
    protected virtual Task ConfigureAsync(Dictionary<string, string?> settings) => Task.CompletedTask;

    public virtual async Task InitializeAsync()
    {
        var database = await TestEnvironment.CreateDatabaseAsync("civic");
        var redis = await TestEnvironment.RedisAsync();
        var settings = FastJobSettings.For(database, redis, "civic-worker", concurrency: 8);
        settings["Platform:Civic:StoragePath"] = Storage;
        settings["Platform:Civic:HttpTimeout"] = "00:00:03";
        settings["Platform:Civic:HttpAttempts"] = "2";
        settings["Platform:Civic:HttpRetryDelay"] = "00:00:00.020";
        settings["Platform:RateLimits:RequestsPerWindow"] = "100000";
        settings["Platform:RateLimits:UserRequestsPerWindow"] = "100000";
        settings["Platform:RateLimits:UserActivitiesPerWindow"] = "100000";
        // The operator's settings a developer machine would have: file sources under one root, loopback feeds allowed by address.
        settings["Platform:Civic:Sources:FileRoots:0"] = FileRoot;
        settings["Platform:Outbound:AllowedHosts:0"] = "127.0.0.1";
        await ConfigureAsync(settings);
        Api = new ApiFactory(new Dictionary<string, string?>(settings));
        _ = Api.Server;
        Worker = new JobWorkerHost(settings).Start();
        Db = NpgsqlDataSource.Create(database);
    }

    public virtual async Task DisposeAsync()
    {
        await Worker.DisposeAsync();
        await Api.DisposeAsync();
        await Db.DisposeAsync();
        if (Directory.Exists(Storage))
        {
            Directory.Delete(Storage, recursive: true);
        }
    }

    public HttpClient Client(string? bearer = null)
    {
        var client = Api.CreateClient();
        if (bearer is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }
        return client;
    }

    public async Task<(Guid Id, string ApiKey)> CreateTenantAsync(string name)
    {
        var response = await Client(TestSettings.OperatorKey).PostAsJsonAsync("/v1/tenants", new { name });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await Json(response);
        return (body.GetProperty("id").GetGuid(), body.GetProperty("apiKey").GetString()!);
    }

    public async Task<Guid> CreateCityAsync(string apiKey, string slug, string kind, string location)
    {
        var response = await Client(apiKey).PostAsJsonAsync("/v1/civic/cities",
            new { slug, name = slug, cron = "0 0 6 * * ?", sources = new[] { new { kind, location } } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await Json(response)).GetProperty("id").GetGuid();
    }

    /// <summary>A user token (no conversation) as the notifications module's POST /v1/users/{id}/tokens issues them.</summary>
    public string UserToken(Guid tenantId, string userId, params string[] roles) =>
        Api.Services.GetRequiredService<ClientTokens>().Issue(tenantId, userId, null, TimeSpan.FromHours(1), roles);

    /// <summary>Asks for a scan and waits until that scan job has completed.</summary>
    public async Task ScanAsync(Guid cityId)
    {
        var response = await Client(TestSettings.OperatorKey).PostAsync($"/v1/internal/cities/{cityId}/scan", null);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var jobId = (await Json(response)).GetProperty("jobId").GetInt64();
        await Eventually.TrueAsync(async () =>
        {
            var job = await Json(await Client(TestSettings.OperatorKey).GetAsync($"/v1/admin/jobs/{jobId}"));
            return job.GetProperty("state").GetString() == "succeeded";
        }, TimeSpan.FromSeconds(60), $"scan job {jobId} completes");
    }

    /// <summary>Waits until no run of the city is running and no civic job is pending.</summary>
    public Task SettledAsync(Guid cityId) => Eventually.TrueAsync(async () =>
        await CountAsync("SELECT count(*) FROM civic.processing_runs WHERE city_id = $1 AND status = 'running'", cityId) == 0 &&
        await CountAsync("""
            SELECT count(*) FROM ops.job_requests r LEFT JOIN hangfire.job j ON j.id = r.hangfire_job_id::bigint
            WHERE (r.hangfire_job_id IS NULL OR j.statename NOT IN ('Succeeded', 'Failed', 'Deleted'))
            AND (kind LIKE 'meeting.%' OR kind = 'city.scan') AND (args->>'cityId' = $1::text OR args->>'meetingId' IN
                (SELECT id::text FROM civic.meetings WHERE city_id = $1))
            """, cityId) == 0, TimeSpan.FromSeconds(120), $"city {cityId} settles");

    public async Task<long> CountAsync(string sql, params object[] args)
    {
        await using var cmd = Db.CreateCommand(sql);
        foreach (var a in args)
        {
            cmd.Parameters.Add(new() { Value = a });
        }
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }

    public async Task<string?> ScalarAsync(string sql, params object[] args)
    {
        await using var cmd = Db.CreateCommand(sql);
        foreach (var a in args)
        {
            cmd.Parameters.Add(new() { Value = a });
        }
        return (await cmd.ExecuteScalarAsync())?.ToString();
    }

    public static async Task<JsonElement> Json(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    /// <summary>Copies seed documents into a fresh folder a test may change.</summary>
    public static string CopyToTemp(string folder, int? take = null)
    {
        var target = Path.Combine(FileRoot, "civic-src-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(target);
        foreach (var f in Platform.Tests.Unit.Civic.CivicSeeds.Documents(folder).Take(take ?? int.MaxValue))
        {
            File.Copy(f, Path.Combine(target, Path.GetFileName(f)));
        }
        return target;
    }

    /// <summary>Serves a folder like a static web server, with an ETag on every file and 304 for a matching If-None-Match.</summary>
    public static Task<StubServer> ServeFolderAsync(string folder, Action<string>? onRequest = null) => StubServer.StartAsync(app =>
        app.MapGet("/{file}", (string file, HttpContext ctx) =>
        {
            var path = Path.Combine(folder, Path.GetFileName(file));
            if (!File.Exists(path))
            {
                return Results.NotFound();
            }
            var bytes = File.ReadAllBytes(path);
            var etag = "\"" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes))[..16] + "\"";
            if (ctx.Request.Headers.IfNoneMatch.ToString() == etag)
            {
                onRequest?.Invoke("304 " + file);
                return Results.StatusCode(304);
            }
            onRequest?.Invoke("200 " + file);
            ctx.Response.Headers.ETag = etag;
            return Results.Bytes(bytes, file.EndsWith(".json", StringComparison.Ordinal) ? "application/json" : "application/octet-stream");
        }));
}
