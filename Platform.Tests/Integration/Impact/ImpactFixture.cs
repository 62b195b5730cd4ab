using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Npgsql;
using Platform.Core.Impact.Programs;
using Platform.Tests.Integration.Conversations;
using Platform.Tests.Integration.Jobs;

namespace Platform.Tests.Integration.Impact;

/// <summary>An Api and the real Worker (impact job handlers) on a fresh database, plus helpers to set up companies and data.</summary>
public sealed class ImpactFixture : ApiFixture
{
    public static readonly string MasterKey = Convert.ToBase64String(SHA256.HashData("impact-tests-master-key"u8));

    public JobWorkerHost Worker { get; private set; } = null!;
    public NpgsqlDataSource Db { get; private set; } = null!;

    protected override void Configure(Dictionary<string, string?> settings)
    {
        settings["Platform:Impact:MasterKey"] = MasterKey;
        settings["Platform:RateLimits:RequestsPerWindow"] = "100000";
        settings["Platform:RateLimits:UserRequestsPerWindow"] = "100000";
        settings["Platform:RateLimits:UserActivitiesPerWindow"] = "100000";
    }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var worker = FastJobSettings.For(Database, Redis, "impact-worker", concurrency: 4);
        worker["Platform:Impact:MasterKey"] = MasterKey;
        Worker = new JobWorkerHost(worker).Start();
        Db = NpgsqlDataSource.Create(Database);
    }

    public override async Task DisposeAsync()
    {
        await Worker.DisposeAsync();
        await Db.DisposeAsync();
        await base.DisposeAsync();
    }

    public HttpClient Client(string? bearer = null) => ConversationsFixture.ClientOf(Api, bearer);

    public async Task<TenantKeys> CreateTenantAsync(string name)
    {
        var response = await Client(TestSettings.OperatorKey).PostAsJsonAsync("/v1/tenants", new { name });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await Json(response);
        return new TenantKeys(body.GetProperty("id").GetGuid(), body.GetProperty("apiKey").GetString()!);
    }

    public async Task<Guid> CreateCompanyAsync(string apiKey, string name)
    {
        var response = await Client(apiKey).PostAsJsonAsync("/v1/impact/companies", new { name });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await Json(response)).GetProperty("id").GetGuid();
    }

    public async Task<JsonElement> ImportAsync(string apiKey, Guid companyId, string kind, string csv, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var response = await Client(apiKey).PostAsync($"/v1/impact/imports?companyId={companyId}&kind={kind}", new StringContent(csv, Encoding.UTF8, "text/csv"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Tenant + company with two participants, one volunteer, sessions and texts (one of them flagged).</summary>
    public async Task<Seeded> SeedAsync(string name)
    {
        var tenant = await CreateTenantAsync(name);
        var company = await CreateCompanyAsync(tenant.ApiKey, $"{name} corp");
        var people = await ImportAsync(tenant.ApiKey, company, "participants", """
            source,external_id,role,name,email,program,enrolled_at
            buddy,p1,participant,Amira Haddad,amira@example.org,buddy,2026-01-05
            buddy,p2,participant,Jonas Berg,jonas@example.org,language,2026-01-06
            buddy,v1,volunteer,Vera Lind,vera@example.org,buddy,2026-01-02
            """);
        Assert.Equal(3, people.GetProperty("imported").GetInt32());
        await ImportAsync(tenant.ApiKey, company, "sessions", """
            source,session_id,program,participant_id,volunteer_id,date,minutes
            buddy,s1,buddy,p1,v1,2026-01-10,60
            buddy,s2,buddy,p1,v1,2026-02-10,90
            buddy,s3,language,p2,v1,2026-02-12,45
            """);
        var checkins = await ImportAsync(tenant.ApiKey, company, "checkins", """
            source,checkin_id,participant_id,date,mood,note
            buddy,c1,p1,2026-01-11,2,"I feel lonely most evenings, and I am nervous about speaking."
            buddy,c2,p1,2026-02-11,4,"I made friends at the language cafe. I feel confident now when I speak Norwegian."
            buddy,c3,p2,2026-02-13,3,"Call me on +47 912 34 567 or write to jonas@example.org"
            """);
        Assert.Equal(3, checkins.GetProperty("imported").GetInt32());
        await ImportAsync(tenant.ApiKey, company, "feedback", """
            source,feedback_id,from_id,about_id,date,rating,text
            buddy,f1,p1,v1,2026-02-11,0.9,"Vera helped me prepare for my job interview. I feel ready to apply for jobs."
            """);
        return new Seeded(tenant, company);
    }

    public Task<long> CountAsync(string sql, params object[] args) => JobsDb.CountAsync(Db, sql, args);

    public async Task WaitForScoringAsync(Guid tenantId) =>
        await Eventually.TrueAsync(async () => await CountAsync("SELECT count(*) FROM impact.texts WHERE tenant_id = $1 AND status = 'pending'", tenantId) == 0,
            TimeSpan.FromSeconds(30), "every pending text is scored");

    public async Task<Guid> PersonAsync(Guid tenantId, string source, string externalId)
    {
        await using var cmd = Db.CreateCommand("SELECT person_id FROM impact.external_ids WHERE tenant_id = $1 AND source = $2 AND external_id = $3");
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = source });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = externalId });
        return (Guid)(await cmd.ExecuteScalarAsync())!;
    }

    public static async Task<JsonElement> Json(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    public HttpRequestMessage SignedWebhook(Guid tenantId, string source, string secret, string body, long? timestamp = null, string? signature = null)
    {
        var ts = timestamp ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/impact/webhooks/{source}") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Platform-Tenant", tenantId.ToString());
        request.Headers.Add("X-Impact-Timestamp", ts.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("X-Impact-Signature", signature ?? WebhookSignature.Sign(secret, ts, Encoding.UTF8.GetBytes(body)));
        return request;
    }
}

public sealed record Seeded(TenantKeys Tenant, Guid Company);
