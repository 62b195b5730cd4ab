using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Platform.Core.Security;
using Platform.Tests.Integration.Conversations;
using Platform.Tests.Integration.Jobs;

namespace Platform.Tests.Integration.Community;

/// <summary>An Api and a Worker (community queue, extraction every second) on a fresh database, with helpers for a community.</summary>
public sealed class CommunityFixture : ConversationsFixture
{
    public JobWorkerHost Worker { get; private set; } = null!;

    protected override void Configure(Dictionary<string, string?> settings)
    {
        base.Configure(settings);
        settings["Platform:Community:AdoptionNotifyThreshold"] = "3";
    }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var settings = FastJobSettings.For(Database, Redis, "community-worker");
        settings["Platform:Jobs:Queues:community"] = "2";
        settings["Platform:Community:ExtractionCron"] = "* * * * * ?";
        settings["Platform:Community:ScoringCron"] = "0 0 0 1 1 ?"; // tests refresh explicitly
        Worker = new JobWorkerHost(settings).Start();
    }

    public override async Task DisposeAsync()
    {
        await Worker.DisposeAsync();
        await base.DisposeAsync();
    }

    /// <summary>A user-scoped token as the tenant's app would mint it (POST /v1/users/{id}/tokens).</summary>
    public string UserToken(Guid tenantId, string userId, params string[] roles) =>
        Api.Services.GetRequiredService<ClientTokens>().Issue(tenantId, userId, null, TimeSpan.FromHours(1), roles);

    public async Task PutMemberAsync(string apiKey, string userId, string team, string[]? roles = null)
    {
        var r = await Client(apiKey).PutAsJsonAsync($"/v1/community/members/{userId}",
            new { displayName = $"Person {userId}", team, org = "org-" + team[..1], cohort = "2026", skills = new[] { "c#" }, roles });
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
    }

    public async Task GrantAsync(Guid tenantId, string userId, params string[] purposes)
    {
        foreach (var purpose in purposes)
        {
            var r = await Client(UserToken(tenantId, userId, "member")).PutAsJsonAsync($"/v1/me/consents/{purpose}", new { granted = true });
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }
    }

    public async Task<JsonElement> PostSignalsAsync(string apiKey, IEnumerable<object> signals)
    {
        var r = await Client(apiKey).PostAsJsonAsync("/v1/community/signals", new { signals = signals.ToArray() });
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        return await Json(r);
    }

    /// <summary>Refreshes through the API (a job the Worker runs) and waits until discover serves a ranking newer than before.</summary>
    public async Task<JsonElement> RefreshAndDiscoverAsync(Guid tenantId, string query = "kind=champion&limit=100")
    {
        var manager = Client(UserToken(tenantId, "manager", "community_manager"));
        var before = await Json(await manager.GetAsync($"/v1/champions/discover?{query}"));
        var previous = before.GetProperty("rankingId").ValueKind == JsonValueKind.Null ? null : before.GetProperty("rankingId").GetString();
        var refresh = await manager.PostAsync("/v1/champions/refresh", null);
        Assert.Equal(HttpStatusCode.Accepted, refresh.StatusCode);
        return await Eventually.ReturnsAsync(async () => await Json(await manager.GetAsync($"/v1/champions/discover?{query}")),
            j => j.GetProperty("rankingId").ValueKind == JsonValueKind.String && j.GetProperty("rankingId").GetString() != previous,
            TimeSpan.FromSeconds(60), "the refresh job stores a new ranking");
    }

    /// <summary>One number from the database as the owner (row-level security does not apply): for asserting what was stored.</summary>
    public async Task<long> ScalarAsync(string sql, params object[] args)
    {
        await using var conn = new Npgsql.NpgsqlConnection(Database);
        await conn.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand(sql, conn);
        foreach (var a in args)
        {
            cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = a });
        }
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }

    public static object Signal(string kind, string actor, string? target, DateTimeOffset at, string? sourceRef = null, string? text = null) =>
        new { kind, actorId = actor, targetId = target, occurredAt = at, sourceRef, text };
}

[CollectionDefinition(Name)]
public sealed class CommunityCollection : ICollectionFixture<CommunityFixture>
{
    public const string Name = "community";
}
