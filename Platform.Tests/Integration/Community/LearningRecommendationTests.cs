using System.Text.Json;
using Npgsql;
using static Platform.Tests.Integration.Conversations.ConversationsFixture;

namespace Platform.Tests.Integration.Community;

/// <summary>Catalysts linked to outcomes, and recommended to members whose goals they match, with reasons and consent.</summary>
[Collection(CommunityCollection.Name)]
public sealed class LearningRecommendationTests(CommunityFixture f)
{
    private async Task<long> CountAsync(string sql, Guid tenantId)
    {
        await using var conn = new NpgsqlConnection(f.Database);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = tenantId });
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }

    private static async Task<Guid> CatalystAsync(HttpClient manager, string title, string[] tags, string[] contributors, int daysAgo)
    {
        var r = await manager.PostAsJsonAsync("/v1/learning/catalysts",
            new { title, tags, contributors, occurredAt = DateTimeOffset.UtcNow.AddDays(-daysAgo) });
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        return (await Json(r)).GetProperty("id").GetGuid();
    }

    [Fact]
    public async Task Catalysts_matching_a_members_goals_are_recommended_with_their_outcomes_as_reasons_and_only_with_consent()
    {
        var tenant = await f.CreateTenantAsync("learning");
        var manager = f.Client(f.UserToken(tenant.Id, "mia", "community_manager"));
        var kim = f.Client(f.UserToken(tenant.Id, "kim", "member"));
        await f.GrantAsync(tenant.Id, "ann", "recognition");

        var workshop = await CatalystAsync(manager, "Async Rust workshop", ["Rust", "async"], ["ann", "bob"], 10);
        var reading = await CatalystAsync(manager, "Rust book club", ["rust"], [], 5);
        await CatalystAsync(manager, "Design critique", ["design"], [], 1);
        await CatalystAsync(manager, "Kim's own Rust talk", ["rust"], ["kim"], 1);

        // The workshop led to an idea two people adopted, and to a metric.
        var idea = (await Json(await f.Client(f.UserToken(tenant.Id, "ann", "member")).PostAsJsonAsync("/v1/innovation/ideas", new { title = "Tokio job runner" })))
            .GetProperty("id").GetGuid();
        await manager.PostAsJsonAsync($"/v1/innovation/ideas/{idea}/adoptions", new { adopterId = "bob" });
        await manager.PostAsJsonAsync($"/v1/innovation/ideas/{idea}/adoptions", new { adopterId = "cy" });
        var linked = await manager.PostAsJsonAsync($"/v1/learning/catalysts/{workshop}/outcomes", new { kind = "idea", description = "The job runner prototype", ideaId = idea });
        Assert.Equal(HttpStatusCode.Created, linked.StatusCode);
        Assert.Equal(2, (await Json(linked)).GetProperty("ideaAdoptions").GetInt32());
        Assert.Equal(HttpStatusCode.Created, (await manager.PostAsJsonAsync($"/v1/learning/catalysts/{workshop}/outcomes",
            new { kind = "metric", description = "Build times", metric = "p50 build minutes", value = 4.5 })).StatusCode);
        var detail = await Json(await kim.GetAsync($"/v1/learning/catalysts/{workshop}"));
        Assert.Equal(2, detail.GetProperty("linkedOutcomes").GetArrayLength());
        Assert.Equal(["ann"], detail.GetProperty("catalyst").GetProperty("contributors").EnumerateArray().Select(c => c.GetString())); // bob: no recognition consent
        Assert.Equal(1, detail.GetProperty("catalyst").GetProperty("otherContributors").GetInt32());

        Assert.Equal(HttpStatusCode.OK, (await kim.PutAsJsonAsync("/v1/learning/goals", new { goals = new[] { " RUST ", "Async" } })).StatusCode);
        // No recommendations consent: nothing is computed, nothing is logged as recommended.
        var refused = await kim.GetAsync("/v1/learning/recommendations");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("urn:platform:problem:consent-required", (await Json(refused)).GetProperty("type").GetString());
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM governance.provenance_events WHERE tenant_id = $1 AND action = 'recommendation'", tenant.Id));

        await f.GrantAsync(tenant.Id, "kim", "recommendations");
        var page = await Json(await kim.GetAsync("/v1/learning/recommendations"));
        var items = page.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal([workshop, reading], items.Select(i => i.GetProperty("catalyst").GetProperty("id").GetGuid()));
        // Workshop: both goals (0.6) + two of three outcomes (0.2) + recency; the book club: one goal (0.3) + recency.
        Assert.InRange(items[0].GetProperty("score").GetDouble(), 0.8 + 0.1 * Math.Exp(-10.5 / 180), 0.8 + 0.1 * Math.Exp(-9.5 / 180));
        Assert.InRange(items[1].GetProperty("score").GetDouble(), 0.3 + 0.1 * Math.Exp(-5.5 / 180), 0.3 + 0.1 * Math.Exp(-4.5 / 180));
        var reasons = items[0].GetProperty("reasons").EnumerateArray().Select(r => r.GetString()!).ToList();
        Assert.Contains("Matches your learning goals rust, async.", reasons);
        Assert.Contains("Led to the idea \"Tokio job runner\", adopted by 2 people.", reasons);
        Assert.Contains(reasons, r => r.Contains("p50 build minutes 4.5", StringComparison.Ordinal));
        Assert.Contains("No outcome linked yet.", items[1].GetProperty("reasons").EnumerateArray().Select(r => r.GetString()));
        var officer = f.Client(f.UserToken(tenant.Id, "olga", "compliance_officer"));
        var e = Assert.Single((await Json(await officer.GetAsync("/v1/provenance/events?action=recommendation&subjectId=kim"))).GetProperty("items").EnumerateArray());
        Assert.Equal(page.GetProperty("provenance").GetProperty("eventId").GetGuid(), e.GetProperty("id").GetGuid());

        // Someone else's recommendations: a community manager only.
        Assert.Equal(HttpStatusCode.Forbidden, (await f.Client(f.UserToken(tenant.Id, "ann", "member")).GetAsync("/v1/learning/recommendations?userId=kim")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await manager.GetAsync("/v1/learning/recommendations?userId=kim")).StatusCode);
    }

    [Fact]
    public async Task Bad_outcomes_and_goals_are_refused_before_anything_is_stored_and_other_tenants_catalysts_are_not_found()
    {
        var tenant = await f.CreateTenantAsync("learning-bad");
        var manager = f.Client(f.UserToken(tenant.Id, "mia", "community_manager"));
        var catalyst = await CatalystAsync(manager, "Talk", ["x"], [], 1);
        foreach (var (body, field) in new (object, string)[]
        {
            (new { kind = "vibes", description = "d" }, "kind"),
            (new { kind = "skill" }, "description"),
            (new { kind = "idea", description = "d" }, "ideaId"),
            (new { kind = "skill", description = "d", ideaId = Guid.NewGuid() }, "ideaId"),
            (new { kind = "idea", description = "d", ideaId = Guid.NewGuid() }, "ideaId"),
            (new { kind = "metric", description = "d", occurredAt = DateTimeOffset.UtcNow.AddDays(2) }, "occurredAt"),
        })
        {
            var r = await manager.PostAsJsonAsync($"/v1/learning/catalysts/{catalyst}/outcomes", body);
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.True((await Json(r)).GetProperty("errors").TryGetProperty(field, out _), $"{field} named for {JsonSerializer.Serialize(body)}");
        }
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM community.catalyst_outcomes WHERE tenant_id = $1", tenant.Id));
        var goals = await manager.PutAsJsonAsync("/v1/learning/goals", new { goals = Enumerable.Range(0, 21).Select(i => $"g{i}").ToArray() });
        Assert.Equal(HttpStatusCode.BadRequest, goals.StatusCode);
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM community.learning_goals WHERE tenant_id = $1", tenant.Id));

        var other = await f.CreateTenantAsync("learning-other");
        var otherManager = f.Client(f.UserToken(other.Id, "mia", "community_manager"));
        Assert.Equal(HttpStatusCode.NotFound, (await otherManager.GetAsync($"/v1/learning/catalysts/{catalyst}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await otherManager.PostAsJsonAsync($"/v1/learning/catalysts/{catalyst}/outcomes",
            new { kind = "skill", description = "d" })).StatusCode);
    }
}
