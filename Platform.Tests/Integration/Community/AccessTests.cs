using System.Text.Json;
using static Platform.Tests.Integration.Community.CommunityFixture;
using static Platform.Tests.Integration.Conversations.ConversationsFixture;

namespace Platform.Tests.Integration.Community;

/// <summary>Every role rule of the module, and that no endpoint leaks across tenants.</summary>
[Collection(CommunityCollection.Name)]
public sealed class AccessTests(CommunityFixture f)
{
    private static readonly string[] Roles = ["member", "team_lead", "community_manager", "compliance_officer"];

    /// <summary>(method, path, body, who may call: "tenant" and/or roles; "any" = any user token).</summary>
    private static IEnumerable<(HttpMethod Method, string Path, object? Body, string[] Allowed)> Endpoints(Guid someId) =>
    [
        (HttpMethod.Put, "/v1/community/members/zed", new { displayName = "Zed", team = "alpha" }, ["tenant"]),
        (HttpMethod.Get, "/v1/community/members", null, ["tenant", "community_manager"]),
        (HttpMethod.Post, "/v1/community/signals", new { signals = new[] { Signal("message", "zed", null, DateTimeOffset.UtcNow) } }, ["tenant"]),
        (HttpMethod.Get, "/v1/community/collaborators/u-team_lead", null, ["tenant", "team_lead", "community_manager"]),
        (HttpMethod.Post, "/v1/community/collaborators/u-team_lead/feedback", new { candidateId = "zed", outcome = "accepted" }, ["tenant", "team_lead", "community_manager"]),
        (HttpMethod.Get, "/v1/champions/discover", null, ["community_manager", "team_lead"]),
        (HttpMethod.Post, "/v1/champions/refresh", null, ["community_manager"]),
        (HttpMethod.Get, "/v1/pulse/aggregate", null, ["community_manager", "team_lead"]),
        (HttpMethod.Post, "/v1/pulse/surveys", new { title = "t" }, ["community_manager", "team_lead"]),
        (HttpMethod.Post, $"/v1/pulse/surveys/{someId}/responses", new { answers = new[] { 1, 2, 3, 4, 5, 6, 7 } }, ["any"]),
        (HttpMethod.Post, "/v1/learning/catalysts", new { title = "t" }, ["community_manager"]),
        (HttpMethod.Get, "/v1/learning/catalysts", null, ["any"]),
        (HttpMethod.Post, "/v1/innovation/ideas", new { title = "t" }, ["any"]),
        (HttpMethod.Post, $"/v1/innovation/ideas/{someId}/adoptions", new { }, ["any"]),
        (HttpMethod.Get, $"/v1/innovation/spread?ideaId={someId}", null, ["community_manager", "team_lead"]),
        (HttpMethod.Get, "/v1/me/consents", null, ["any"]),
        (HttpMethod.Put, "/v1/me/consents/pulse", new { granted = true }, ["any"]),
        (HttpMethod.Get, "/v1/me/data", null, ["any"]),
        (HttpMethod.Get, "/v1/me/impact", null, ["any"]),
        (HttpMethod.Get, "/v1/me/approvals", null, ["any"]),
        (HttpMethod.Post, "/v1/approvals/request", new { kind = "nudge", subjectUserId = "zed", payload = new { message = "hi" } }, ["any"]),
        (HttpMethod.Post, $"/v1/approvals/{someId}/approve", null, ["any"]),
        (HttpMethod.Post, $"/v1/approvals/{someId}/deny", null, ["any"]),
        (HttpMethod.Get, "/v1/provenance/events", null, ["compliance_officer"]),
        (HttpMethod.Get, "/v1/provenance/verify", null, ["compliance_officer"]),
    ];

    [Fact]
    public async Task Every_endpoint_refuses_callers_its_rule_does_not_name_with_403_and_admits_the_others()
    {
        var tenant = await f.CreateTenantAsync("roles");
        await f.PutMemberAsync(tenant.ApiKey, "u-team_lead", "alpha", ["team_lead"]);
        var world = await f.CreateWorldAsync("roles-conv");
        var callers = new List<(string Name, string Credential)> { ("tenant", tenant.ApiKey) };
        callers.AddRange(Roles.Select(r => (r, f.UserToken(tenant.Id, $"u-{r}", r))));
        callers.Add(("no-role", f.UserToken(tenant.Id, "u-none")));
        callers.Add(("channel", world.Channel.Secret));
        callers.Add(("operator", TestSettings.OperatorKey));
        foreach (var (method, path, body, allowed) in Endpoints(Guid.NewGuid()))
        {
            foreach (var (name, credential) in callers)
            {
                var isUser = Roles.Contains(name) || name == "no-role";
                var expectAllowed = allowed.Contains(name) || (allowed.Contains("any") && isUser);
                var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
                var response = await f.Client(credential).SendAsync(request);
                var because = $"{name} on {method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
                if (expectAllowed)
                {
                    Assert.True(response.StatusCode is not (HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized), because);
                }
                else
                {
                    Assert.True(response.StatusCode == HttpStatusCode.Forbidden, because);
                    Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                }
            }
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await f.Client().GetAsync("/v1/me/data")).StatusCode);
    }

    [Fact]
    public async Task No_endpoint_shows_or_touches_another_tenants_data()
    {
        var now = DateTimeOffset.UtcNow;
        var a = await f.CreateTenantAsync("iso-a");
        var b = await f.CreateTenantAsync("iso-b");
        foreach (var p in new[] { "amy", "abe", "ace", "ada", "art", "ari" })
        {
            await f.PutMemberAsync(a.ApiKey, p, "alpha");
            await f.GrantAsync(a.Id, p, "recognition", "pulse", "share_profile");
        }
        await f.PostSignalsAsync(a.ApiKey, new[] { "abe", "ace", "ada", "art", "ari" }.Select(p => Signal("reply", p, "amy", now.AddHours(-1), $"iso-{p}")));
        await f.RefreshAndDiscoverAsync(a.Id);
        var aManager = f.Client(f.UserToken(a.Id, "manager", "community_manager"));
        var survey = (await Json(await aManager.PostAsJsonAsync("/v1/pulse/surveys", new { title = "A only" }))).GetProperty("id").GetGuid();
        var idea = (await Json(await f.Client(f.UserToken(a.Id, "amy", "member")).PostAsJsonAsync("/v1/innovation/ideas", new { title = "A idea" }))).GetProperty("id").GetGuid();
        var approval = (await Json(await aManager.PostAsJsonAsync("/v1/approvals/request", new { kind = "nudge", subjectUserId = "amy", payload = new { message = "hi" } }))).GetProperty("id").GetGuid();
        await aManager.PostAsJsonAsync("/v1/learning/catalysts", new { title = "A catalyst", contributors = new[] { "amy" } });

        // Tenant B, with every role and even the same user ids.
        var bManager = f.Client(f.UserToken(b.Id, "manager", "community_manager", "team_lead", "compliance_officer"));
        var bAmy = f.Client(f.UserToken(b.Id, "amy", "member"));
        Assert.Equal(HttpStatusCode.NotFound, (await f.Client(b.ApiKey).GetAsync("/v1/community/members/amy")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bManager.GetAsync("/v1/community/members/amy")).StatusCode);
        Assert.Empty((await Json(await f.Client(b.ApiKey).GetAsync("/v1/community/members"))).GetProperty("members").EnumerateArray());
        var discover = await Json(await bManager.GetAsync("/v1/champions/discover"));
        Assert.Empty(discover.GetProperty("entries").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, discover.GetProperty("rankingId").ValueKind);
        Assert.Empty((await Json(await bManager.GetAsync("/v1/pulse/aggregate"))).GetProperty("groups").EnumerateArray());
        Assert.Equal(HttpStatusCode.NotFound, (await bAmy.PostAsJsonAsync($"/v1/pulse/surveys/{survey}/responses", new { answers = new[] { 1, 2, 3, 4, 5, 6, 7 } })).StatusCode);
        Assert.Empty((await Json(await bManager.GetAsync("/v1/learning/catalysts"))).GetProperty("items").EnumerateArray());
        Assert.Equal(HttpStatusCode.NotFound, (await bAmy.PostAsJsonAsync($"/v1/innovation/ideas/{idea}/adoptions", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bManager.GetAsync($"/v1/innovation/spread?ideaId={idea}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bAmy.PostAsync($"/v1/approvals/{approval}/approve", null)).StatusCode);
        Assert.Empty((await Json(await bAmy.GetAsync("/v1/me/approvals"))).GetProperty("items").EnumerateArray());
        var bData = await Json(await bAmy.GetAsync("/v1/me/data"));
        Assert.Equal(JsonValueKind.Null, bData.GetProperty("profile").ValueKind);
        Assert.Empty(bData.GetProperty("signals").EnumerateArray());
        Assert.Empty(bData.GetProperty("rankings").EnumerateArray());
        Assert.All(bData.GetProperty("consents").EnumerateArray(), c => Assert.False(c.GetProperty("granted").GetBoolean()));
        var bImpact = await Json(await bAmy.GetAsync("/v1/me/impact"));
        Assert.Empty(bImpact.GetProperty("innovation").EnumerateArray());
        Assert.Empty(bImpact.GetProperty("learningCatalysts").EnumerateArray());
        var bEvents = await Json(await bManager.GetAsync("/v1/provenance/events?limit=1000"));
        var bLedger = bEvents.GetProperty("items").GetRawText();
        Assert.DoesNotContain(idea.ToString(), bLedger);
        Assert.DoesNotContain(approval.ToString(), bLedger);
        Assert.DoesNotContain("ranking.computed", bLedger);
        Assert.True((await Json(await bManager.GetAsync("/v1/provenance/verify"))).GetProperty("ok").GetBoolean());

        // Tenant A's data is untouched by B's attempts.
        var aApproval = await Json(await f.Client(f.UserToken(a.Id, "amy", "member")).GetAsync("/v1/me/approvals"));
        Assert.Equal("pending", aApproval.GetProperty("items")[0].GetProperty("status").GetString());
    }

    [Fact]
    public async Task Approvals_wait_for_the_subject_or_a_named_role_and_each_decision_is_provenance()
    {
        var tenant = await f.CreateTenantAsync("approvals");
        await f.PutMemberAsync(tenant.ApiKey, "sue", "alpha");
        var manager = f.Client(f.UserToken(tenant.Id, "manager", "community_manager"));
        var sue = f.Client(f.UserToken(tenant.Id, "sue", "member"));
        var rob = f.Client(f.UserToken(tenant.Id, "rob", "member"));

        // Rob may not read Sue's profile until she approves sharing it with him.
        Assert.Equal(HttpStatusCode.Forbidden, (await rob.GetAsync("/v1/community/members/sue")).StatusCode);
        var share = await Json(await rob.PostAsJsonAsync("/v1/approvals/request", new { kind = "profile_share", subjectUserId = "sue", payload = new { recipientId = "rob" } }));
        Assert.Equal("pending", share.GetProperty("status").GetString());
        var shareId = share.GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.Forbidden, (await rob.PostAsync($"/v1/approvals/{shareId}/approve", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await manager.PostAsync($"/v1/approvals/{shareId}/approve", null)).StatusCode); // profile shares: subject only
        var decided = await Json(await sue.PostAsync($"/v1/approvals/{shareId}/approve", null));
        Assert.Equal("approved", decided.GetProperty("approval").GetProperty("status").GetString());
        Assert.Equal("approval-policy", decided.GetProperty("provenance").GetProperty("algorithm").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await sue.PostAsync($"/v1/approvals/{shareId}/deny", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await rob.GetAsync("/v1/community/members/sue")).StatusCode);

        // A nudge may be decided by a community manager.
        var nudge = await Json(await rob.PostAsJsonAsync("/v1/approvals/request", new { kind = "nudge", subjectUserId = "sue", payload = new { text = "meet ann" } }));
        var denied = await Json(await manager.PostAsync($"/v1/approvals/{nudge.GetProperty("id").GetGuid()}/deny", null));
        Assert.Equal("denied", denied.GetProperty("approval").GetProperty("status").GetString());

        var officer = f.Client(f.UserToken(tenant.Id, "officer", "compliance_officer"));
        var events = await Json(await officer.GetAsync("/v1/provenance/events?action=approval.decided&subjectId=sue"));
        Assert.Equal(2, events.GetProperty("items").GetArrayLength());
        var data = await Json(await sue.GetAsync("/v1/me/data"));
        Assert.Single(data.GetProperty("shares").EnumerateArray());
        Assert.Equal(HttpStatusCode.BadRequest, (await rob.PostAsJsonAsync("/v1/approvals/request", new { kind = "gift", subjectUserId = "sue" })).StatusCode);
    }

    [Fact]
    public async Task Idea_spread_has_lineage_depth_and_virality_and_team_leads_hear_when_it_crosses_the_threshold()
    {
        var tenant = await f.CreateTenantAsync("innovation");
        await f.PutMemberAsync(tenant.ApiKey, "olga", "ops");
        await f.PutMemberAsync(tenant.ApiKey, "lena", "ops", ["team_lead"]);
        foreach (var p in new[] { "olga", "a1", "a2", "a3" }) await f.GrantAsync(tenant.Id, p, "recognition");
        var olga = f.Client(f.UserToken(tenant.Id, "olga", "member"));
        var idea = await Json(await olga.PostAsJsonAsync("/v1/innovation/ideas", new { title = "Standing retro" }));
        var id = idea.GetProperty("id").GetGuid();
        Assert.Equal("ops", idea.GetProperty("team").GetString());
        var first = await Json(await f.Client(f.UserToken(tenant.Id, "a1", "member")).PostAsJsonAsync($"/v1/innovation/ideas/{id}/adoptions", new { }));
        Assert.Equal(0, first.GetProperty("notifiedTeamLeads").GetInt32());
        await f.Client(f.UserToken(tenant.Id, "a2", "member")).PostAsJsonAsync($"/v1/innovation/ideas/{id}/adoptions", new { sourceAdopterId = "a1" });
        var third = await Json(await f.Client(f.UserToken(tenant.Id, "a3", "member")).PostAsJsonAsync($"/v1/innovation/ideas/{id}/adoptions", new { sourceAdopterId = "a2" }));
        Assert.Equal(1, third.GetProperty("notifiedTeamLeads").GetInt32()); // threshold 3 in this fixture
        var fourth = await Json(await f.Client(f.UserToken(tenant.Id, "a4", "member")).PostAsJsonAsync($"/v1/innovation/ideas/{id}/adoptions", new { sourceAdopterId = "a1" }));
        Assert.Equal(0, fourth.GetProperty("notifiedTeamLeads").GetInt32()); // once
        await using (var conn = new Npgsql.NpgsqlConnection(f.Database))
        {
            await conn.OpenAsync();
            await using var cmd = new Npgsql.NpgsqlCommand(
                "SELECT user_id FROM ops.notification_outbox WHERE tenant_id = $1 AND notification_type = 'community.idea_threshold'", conn);
            cmd.Parameters.AddWithValue(tenant.Id);
            Assert.Equal("lena", (string?)await cmd.ExecuteScalarAsync()); // the team lead, through the notification outbox
        }
        var unknown = await f.Client(f.UserToken(tenant.Id, "a5", "member")).PostAsJsonAsync($"/v1/innovation/ideas/{id}/adoptions", new { sourceAdopterId = "nobody" });
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);

        var spread = await Json(await f.Client(f.UserToken(tenant.Id, "lena", "team_lead")).GetAsync($"/v1/innovation/spread?ideaId={id}"));
        Assert.Equal(4, spread.GetProperty("reach").GetInt32());
        Assert.Equal(3, spread.GetProperty("depth").GetInt32()); // olga → a1 → a2 → a3
        // Tree olga–a1, a1–a2, a2–a3, a1–a4: Wiener index 18 over 5 nodes → ν = 2·18/(5·4) = 1.8
        Assert.Equal(1.8, spread.GetProperty("structuralVirality").GetDouble(), 9);
        var a4 = spread.GetProperty("lineage").EnumerateArray().Single(n => n.GetProperty("depth").GetInt32() == 2 && n.GetProperty("userId").ValueKind == JsonValueKind.Null);
        Assert.Equal("a1", a4.GetProperty("sourceId").GetString()); // a4 gave no recognition consent: not named
        Assert.Equal("structural-virality", spread.GetProperty("provenance").GetProperty("algorithm").GetString());

        var impact = await Json(await olga.GetAsync("/v1/me/impact"));
        var mine = impact.GetProperty("innovation")[0];
        Assert.True(mine.GetProperty("originated").GetBoolean());
        Assert.Equal(4, mine.GetProperty("totalAdoptions").GetInt64());
    }
}
