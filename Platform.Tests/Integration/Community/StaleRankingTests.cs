using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Platform.Core.Community;
using Platform.Core.Security;
using Platform.Tests.Integration.Conversations;

namespace Platform.Tests.Integration.Community;

/// <summary>The last good ranking is served from Redis, marked stale, while PostgreSQL is down.</summary>
public sealed class StaleRankingTests : IAsyncLifetime
{
    private LocalPostgres _pg = null!;
    private LocalRedis _redis = null!;
    private ApiFactory _api = null!;

    public async Task InitializeAsync()
    {
        // Own servers: this test stops PostgreSQL, which must not disturb other test classes.
        _pg = await LocalPostgres.StartAsync();
        _redis = await LocalRedis.StartAsync();
        _api = new ApiFactory(TestSettings.For(_pg.ConnectionString("postgres"), _redis.ConnectionString));
        _ = _api.Server;
    }

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        await _pg.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task Discover_serves_the_cached_ranking_with_stale_true_when_postgres_is_down()
    {
        var tenant = await ConversationsFixture.Json(await ConversationsFixture.ClientOf(_api, TestSettings.OperatorKey)
            .PostAsJsonAsync("/v1/tenants", new { name = "stale" }));
        var tenantId = tenant.GetProperty("id").GetGuid();
        var apiKey = tenant.GetProperty("apiKey").GetString()!;
        var tokens = _api.Services.GetRequiredService<ClientTokens>();
        string Token(string user, params string[] roles) => tokens.Issue(tenantId, user, null, TimeSpan.FromHours(1), roles);
        var server = ConversationsFixture.ClientOf(_api, apiKey);
        var now = DateTimeOffset.UtcNow;
        var people = new[] { "hub", "x1", "x2", "x3", "x4", "x5" };
        foreach (var p in people)
        {
            Assert.True((await server.PutAsJsonAsync($"/v1/community/members/{p}", new { displayName = p, team = "t" })).IsSuccessStatusCode);
            Assert.Equal(HttpStatusCode.OK, (await ConversationsFixture.ClientOf(_api, Token(p, "member"))
                .PutAsJsonAsync("/v1/me/consents/recognition", new { granted = true })).StatusCode);
        }
        Assert.Equal(HttpStatusCode.OK, (await server.PostAsJsonAsync("/v1/community/signals",
            new { signals = people.Skip(1).Select(p => CommunityFixture.Signal("reply", p, "hub", now.AddHours(-2), $"s-{p}")).ToArray() })).StatusCode);
        // The scoring run itself (the job's body) stores the ranking in PostgreSQL and caches it in Redis.
        await _api.Services.GetRequiredService<ChampionScoring>().ScoreAsync(tenantId, "test");

        var manager = ConversationsFixture.ClientOf(_api, Token("manager", "community_manager"));
        var fresh = await ConversationsFixture.Json(await manager.GetAsync("/v1/champions/discover"));
        Assert.False(fresh.GetProperty("stale").GetBoolean());
        Assert.Equal("hub", fresh.GetProperty("entries")[0].GetProperty("userId").GetString());

        await _pg.StopAsync();
        var stale = await Eventually.ReturnsAsync(async () => await manager.GetAsync("/v1/champions/discover"),
            r => r.StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "discover answers from Redis while PostgreSQL is down");
        var body = await ConversationsFixture.Json(stale);
        Assert.True(body.GetProperty("stale").GetBoolean());
        Assert.Equal(fresh.GetProperty("rankingId").GetGuid(), body.GetProperty("rankingId").GetGuid());
        Assert.Equal("hub", body.GetProperty("entries")[0].GetProperty("userId").GetString());
        Assert.Equal(fresh.GetProperty("provenance").GetProperty("eventId").GetGuid(), body.GetProperty("provenance").GetProperty("eventId").GetGuid());
        Assert.Equal(JsonValueKind.Null, body.GetProperty("readEventId").ValueKind); // no ledger to append to

        await _pg.StartAgainAsync();
        var back = await Eventually.ReturnsAsync(async () =>
            {
                var r = await manager.GetAsync("/v1/champions/discover");
                return r.StatusCode == HttpStatusCode.OK && !(await ConversationsFixture.Json(r)).GetProperty("stale").GetBoolean();
            },
            fresh => fresh, TimeSpan.FromSeconds(60), "fresh again once PostgreSQL is back");
        Assert.True(back);
    }
}
