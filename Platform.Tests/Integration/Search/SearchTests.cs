using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Core.Data;
using Platform.Core.Security;
using Platform.Tests.Integration.Conversations;
using static Platform.Tests.Integration.Conversations.ConversationsFixture;

namespace Platform.Tests.Integration.Search;

/// <summary>Full-text search through the API on a real PostgreSQL: ranking, highlights, paging, tenant isolation and access rules.</summary>
public sealed class SearchTests(ConversationsFixture f) : IClassFixture<ConversationsFixture>
{
    private string UserToken(Guid tenant, string user, params string[] roles) =>
        f.Api.Services.GetRequiredService<ClientTokens>().Issue(tenant, user, null, TimeSpan.FromHours(1), roles);

    private async Task<JsonElement> GetAsync(string credential, string url, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var response = await f.Client(credential).GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{url}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static string[] Ids(JsonElement page, string field = "id") =>
        [.. page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty(field).GetString()!)];

    [Fact]
    public async Task Meetings_rank_title_matches_first_page_by_cursor_and_stay_within_the_tenant()
    {
        var a = await f.CreateTenantAsync("search-civic-a");
        var b = await f.CreateTenantAsync("search-civic-b");
        await using var civic = new CivicSeed(f.Database);
        var cityA = await civic.CityAsync(a.Id, "springfield");
        var budget = await civic.MeetingAsync(a.Id, cityA, "Budget hearing for the library", "The council heard comments on the library budget and the new roof.",
            ["Motion to adopt the library budget as amended carried 5-0."]);
        var parks = await civic.MeetingAsync(a.Id, cityA, "Parks committee", "Item 4: the budget for park lighting was referred to staff.",
            ["Motion to refer park lighting to staff carried."]);
        var zoning = await civic.MeetingAsync(a.Id, cityA, "Zoning board", "Variance for a fence on Elm Street denied.", ["Motion to deny the fence variance carried 3-1."]);
        var cityB = await civic.CityAsync(b.Id, "shelbyville");
        var other = await civic.MeetingAsync(b.Id, cityB, "Budget workshop", "The budget of Shelbyville.", ["Motion to adopt the budget carried."]);

        var page = await GetAsync(a.ApiKey, "/v1/civic/meetings/search?q=budget");
        Assert.Equal([budget.ToString(), parks.ToString()], Ids(page));
        var top = page.GetProperty("items")[0];
        Assert.Contains("<mark>Budget</mark> hearing", top.GetProperty("highlight").GetString());
        Assert.True(top.GetProperty("rank").GetSingle() > page.GetProperty("items")[1].GetProperty("rank").GetSingle());
        Assert.Equal(JsonValueKind.Null, page.GetProperty("nextCursor").ValueKind);

        // One per page: the cursor walks the same order without repeats or gaps.
        var walked = new List<string>();
        string? cursor = null;
        do
        {
            var p = await GetAsync(a.ApiKey, $"/v1/civic/meetings/search?q=budget&limit=1{(cursor is null ? "" : "&cursor=" + cursor)}");
            walked.AddRange(Ids(p));
            cursor = p.GetProperty("nextCursor").ValueKind == JsonValueKind.String ? p.GetProperty("nextCursor").GetString() : null;
        }
        while (cursor is not null);
        Assert.Equal([budget.ToString(), parks.ToString()], walked);

        // websearch syntax: a phrase, and a word excluded.
        Assert.Equal([zoning.ToString()], Ids(await GetAsync(a.ApiKey, "/v1/civic/meetings/search?q=%22fence+on+elm%22")));
        Assert.Equal([budget.ToString()], Ids(await GetAsync(a.ApiKey, "/v1/civic/meetings/search?q=budget+-lighting")));

        // Decisions: the current summary's decision claims.
        var decisions = await GetAsync(UserToken(a.Id, "reader"), "/v1/civic/decisions/search?q=adopt+budget");
        var hit = Assert.Single(decisions.GetProperty("items").EnumerateArray());
        Assert.Equal(budget, hit.GetProperty("meetingId").GetGuid());
        Assert.Contains("<mark>budget</mark>", hit.GetProperty("highlight").GetString());

        // Tenant B sees only its own meeting; a city filter narrows to that city.
        Assert.Equal([other.ToString()], Ids(await GetAsync(b.ApiKey, "/v1/civic/meetings/search?q=budget")));
        Assert.Empty(Ids(await GetAsync(b.ApiKey, $"/v1/civic/meetings/search?q=budget&cityId={cityA}")));
        Assert.Equal(2, Ids(await GetAsync(a.ApiKey, $"/v1/civic/meetings/search?q=budget&cityId={cityA}")).Length);
    }

    [Fact]
    public async Task The_openapi_document_lists_the_search_and_impact_analytics_endpoints()
    {
        var doc = JsonDocument.Parse(await f.Client().GetStringAsync("/openapi/v1.json")).RootElement;
        var operations = doc.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Select(o => o.Value.TryGetProperty("operationId", out var id) ? id.GetString() : null))
            .ToHashSet();
        foreach (var name in new[]
                 {
                     "SearchMeetings", "SearchDecisions", "SearchMessages", "SearchMembers", "SearchAttendees", "GetSearchSettings", "PutSearchSettings",
                     "GetImpactAnalytics", "GetImpactReport",
                 })
        {
            Assert.Contains(name, operations);
        }
        Assert.True(doc.GetProperty("paths").TryGetProperty("/v1/events/conferences/{id}/attendees/search", out _));
    }

    [Fact]
    public async Task Bad_input_gets_problem_details()
    {
        var a = await f.CreateTenantAsync("search-bad");
        foreach (var url in new[]
                 {
                     "/v1/civic/meetings/search", "/v1/civic/meetings/search?q=", "/v1/civic/meetings/search?q=x&cursor=nope",
                     "/v1/civic/meetings/search?q=x&limit=0", "/v1/civic/meetings/search?q=x&limit=101", "/v1/civic/meetings/search?q=x&cityId=12",
                     $"/v1/civic/meetings/search?q={new string('a', 201)}", "/v1/conversations/search?q=x&conversationId=zz",
                 })
        {
            var response = await f.Client(a.ApiKey).GetAsync(url);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{url}: {(int)response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        var put = await f.Client(a.ApiKey).PutAsJsonAsync("/v1/search/settings", new { language = "klingon" });
        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        Assert.Equal("simple", (await GetAsync(a.ApiKey, "/v1/search/settings")).GetProperty("language").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await f.Client().GetAsync("/v1/civic/meetings/search?q=x")).StatusCode);
    }

    [Fact]
    public async Task Messages_are_found_only_where_the_caller_may_read_the_conversation()
    {
        var a = await f.CreateTenantAsync("search-msg-a");
        var web = await f.CreateChannelAsync(a.ApiKey, "web");
        var app = await f.CreateChannelAsync(a.ApiKey, "app");
        var c1 = await f.StartConversationAsync(a.ApiKey, web.Id);
        var c2 = await f.StartConversationAsync(a.ApiKey, web.Id);
        var c3 = await f.StartConversationAsync(a.ApiKey, app.Id);
        await PostAsync(a.ApiKey, c1, "Can we review the quarterly budget tomorrow?", "alice");
        await PostAsync(a.ApiKey, c1, "Sure, see you then.", "bob");
        await PostAsync(a.ApiKey, c2, "The party budget is tight <script>alert(1)</script>", "carol");
        await PostAsync(a.ApiKey, c3, "Budget approved.", "dave");
        var b = await f.CreateWorldAsync("search-msg-b");
        await PostAsync(b.Tenant.ApiKey, b.Conversation, "Budget numbers from tenant B", "erin");

        var all = await GetAsync(a.ApiKey, "/v1/conversations/search?q=budget");
        Assert.Equal(3, Ids(all).Length);
        Assert.Equal(3, Ids(await GetAsync(UserToken(a.Id, "olga", "ops"), "/v1/conversations/search?q=budget")).Length);
        var channel = await GetAsync(web.Secret, "/v1/conversations/search?q=budget");
        Assert.Equal(new[] { c1, c2 }.Order(), channel.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("conversationId").GetGuid()).Order());

        // A client token: its own conversation only, even when it asks for another.
        var bobsToken = await f.TokenAsync(a.ApiKey, c1, "bob");
        var own = await GetAsync(bobsToken, "/v1/conversations/search?q=budget");
        Assert.Equal(c1, Assert.Single(own.GetProperty("items").EnumerateArray()).GetProperty("conversationId").GetGuid());
        Assert.Empty(Ids(await GetAsync(bobsToken, $"/v1/conversations/search?q=budget&conversationId={c2}")));

        // A member (user token): the conversations they posted in.
        var bob = await GetAsync(UserToken(a.Id, "bob"), "/v1/conversations/search?q=budget");
        var hit = Assert.Single(bob.GetProperty("items").EnumerateArray());
        Assert.Equal(c1, hit.GetProperty("conversationId").GetGuid());
        Assert.Equal("alice", hit.GetProperty("fromId").GetString());
        Assert.Empty(Ids(await GetAsync(UserToken(a.Id, "mallory"), "/v1/conversations/search?q=budget")));

        // Highlights are safe HTML: the message's own markup is escaped.
        var carol = await GetAsync(a.ApiKey, $"/v1/conversations/search?q=budget&conversationId={c2}");
        var highlight = Assert.Single(carol.GetProperty("items").EnumerateArray()).GetProperty("highlight").GetString()!;
        Assert.Contains("<mark>budget</mark>", highlight);
        Assert.DoesNotContain("<script>", highlight);
        Assert.Contains("&lt;script&gt;", highlight);

        // Tenant B: its own message only.
        var other = await GetAsync(b.Tenant.ApiKey, "/v1/conversations/search?q=budget");
        Assert.Equal(b.Conversation, Assert.Single(other.GetProperty("items").EnumerateArray()).GetProperty("conversationId").GetGuid());
    }

    private async Task PostAsync(string key, Guid conversation, string text, string from)
    {
        var r = await f.Client(key).PostAsJsonAsync($"/v1/conversations/{conversation}/activities", Message(text, from));
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
    }

    [Fact]
    public async Task Members_by_skill_follow_the_directory_roles_and_the_tenant_language()
    {
        var a = await f.CreateTenantAsync("search-members");
        async Task Put(string id, string team, string[] skills, string[]? roles = null)
        {
            var r = await f.Client(a.ApiKey).PutAsJsonAsync($"/v1/community/members/{id}", new { displayName = $"Person {id}", team, skills, roles });
            Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
        }
        await Put("ana", "alpha", ["kubernetes", "terraform"]);
        await Put("ben", "beta", ["kubernetes operators", "go"]);
        await Put("cy", "alpha", ["accounting"], ["team_lead"]);
        await Put("dee", "beta", ["running workshops"]);
        var b = await f.CreateTenantAsync("search-members-b");
        var rb = await f.Client(b.ApiKey).PutAsJsonAsync("/v1/community/members/zed", new { displayName = "Zed", team = "alpha", skills = new[] { "kubernetes" } });
        Assert.True(rb.IsSuccessStatusCode);

        var all = await GetAsync(a.ApiKey, "/v1/community/members/search?q=kubernetes");
        Assert.Equal(["ana", "ben"], Ids(all, "userId").Order());
        Assert.Equal(["ana", "ben"], Ids(await GetAsync(UserToken(a.Id, "m", "community_manager"), "/v1/community/members/search?q=kubernetes"), "userId").Order());
        // A team lead sees their own team only; a plain member may not search the directory.
        Assert.Equal(["ana"], Ids(await GetAsync(UserToken(a.Id, "cy", "team_lead"), "/v1/community/members/search?q=kubernetes"), "userId"));
        await GetAsync(UserToken(a.Id, "cy", "team_lead"), "/v1/community/members/search?q=kubernetes&team=beta", HttpStatusCode.Forbidden);
        await GetAsync(UserToken(a.Id, "ana", "member"), "/v1/community/members/search?q=kubernetes", HttpStatusCode.Forbidden);
        Assert.Equal(["zed"], Ids(await GetAsync(b.ApiKey, "/v1/community/members/search?q=kubernetes"), "userId"));

        // 'simple' does not stem: "run" misses "running" until the tenant chooses English, which re-indexes members.
        Assert.Empty(Ids(await GetAsync(a.ApiKey, "/v1/community/members/search?q=run"), "userId"));
        var put = await f.Client(a.ApiKey).PutAsJsonAsync("/v1/search/settings", new { language = "english" });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(["dee"], Ids(await GetAsync(a.ApiKey, "/v1/community/members/search?q=run"), "userId"));
        await Put("eve", "beta", ["runs marathons"]);
        Assert.Equal(["dee", "eve"], Ids(await GetAsync(a.ApiKey, "/v1/community/members/search?q=running"), "userId").Order());
        // Tenant B still uses 'simple'.
        Assert.Equal("simple", (await GetAsync(b.ApiKey, "/v1/search/settings")).GetProperty("language").GetString());
    }

    [Fact]
    public async Task Attendees_by_interest_within_the_tenants_conference()
    {
        var a = await f.CreateTenantAsync("search-attendees");
        var b = await f.CreateTenantAsync("search-attendees-b");
        var conf = await ConferenceAsync(a.ApiKey);
        var confB = await ConferenceAsync(b.ApiKey);
        await AttendeeAsync(a.ApiKey, conf, "uma", new Dictionary<string, double> { ["rust"] = 1, ["webassembly"] = 0.5 }, "Compilers and type systems.");
        await AttendeeAsync(a.ApiKey, conf, "vic", new Dictionary<string, double> { ["gardening"] = 1 }, "I write Rust on weekends.");
        await AttendeeAsync(a.ApiKey, conf, "wes", new Dictionary<string, double> { ["sales"] = 1 }, "Enterprise deals.");
        await AttendeeAsync(b.ApiKey, confB, "xan", new Dictionary<string, double> { ["rust"] = 1 }, "Rust.");

        var page = await GetAsync(a.ApiKey, $"/v1/events/conferences/{conf}/attendees/search?q=rust");
        // An interest tag weighs more than a word in the bio.
        Assert.Equal(["uma", "vic"], Ids(page, "userId"));
        Assert.Contains("<mark>rust</mark>", page.GetProperty("items")[0].GetProperty("highlight").GetString());
        await GetAsync(a.ApiKey, $"/v1/events/conferences/{confB}/attendees/search?q=rust", HttpStatusCode.NotFound);
        Assert.Equal(["xan"], Ids(await GetAsync(b.ApiKey, $"/v1/events/conferences/{confB}/attendees/search?q=rust"), "userId"));
    }

    private async Task<Guid> ConferenceAsync(string key)
    {
        var r = await f.Client(key).PostAsJsonAsync("/v1/events/conferences", new { name = "DevConf" });
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        return (await Json(r)).GetProperty("id").GetGuid();
    }

    private async Task AttendeeAsync(string key, Guid conference, string user, Dictionary<string, double> interests, string bio)
    {
        var r = await f.Client(key).PutAsJsonAsync($"/v1/events/conferences/{conference}/attendees/{user}",
            new { displayName = user, kind = "attendee", bio, interests, consentToMatch = true, consentToInvites = true });
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
    }
}

/// <summary>
/// Civic rows as the pipeline leaves them (city, document, meeting, processing run, current summary with decision
/// claims), written in the tenant's scope so the search triggers see what they see in production.
/// </summary>
public sealed class CivicSeed(string database) : IAsyncDisposable
{
    public ValueTask DisposeAsync() => db.DisposeAsync();

    private readonly NpgsqlDataSource db = NpgsqlDataSource.Create(database);

    public async Task<Guid> CityAsync(Guid tenant, string slug)
    {
        var id = Guid.CreateVersion7();
        await ExecAsync(tenant, "INSERT INTO civic.cities (id, tenant_id, slug, name) VALUES ($1, $2, $3, $3)", id, tenant, slug);
        return id;
    }

    public async Task<Guid> MeetingAsync(Guid tenant, Guid city, string title, string text, string[] decisions, DateOnly? date = null)
    {
        var artifact = Guid.CreateVersion7();
        var meeting = Guid.CreateVersion7();
        var run = Guid.CreateVersion7();
        var version = Guid.CreateVersion7();
        await ExecAsync(tenant, "INSERT INTO civic.artifacts (id, tenant_id, sha256, media_type, storage_key, byte_size, text_content) VALUES ($1, $2, $3, 'text/plain', $3, 1, $4)",
            artifact, tenant, artifact.ToString("N"), text);
        await ExecAsync(tenant, "INSERT INTO civic.meetings (id, tenant_id, city_id, meeting_uid, title, meeting_date, artifact_id, status) VALUES ($1, $2, $3, $4, $5, $6, $7, 'processed')",
            meeting, tenant, city, meeting.ToString("N"), title, date ?? new DateOnly(2026, 3, 1), artifact);
        await ExecAsync(tenant, "INSERT INTO civic.processing_runs (id, tenant_id, city_id, meeting_id, artifact_id, trigger, status) VALUES ($1, $2, $3, $4, $5, 'scan', 'published')",
            run, tenant, city, meeting, artifact);
        await ExecAsync(tenant, """
            INSERT INTO civic.summary_versions (id, meeting_id, run_id, version, is_current, short_summary, key_decisions, notable_topics, confidence_label, evidence_coverage, summarizer)
            VALUES ($1, $2, $3, 1, true, $4, '[]', '[]', 'pass', 1, 'test')
            """, version, meeting, run, title);
        for (var i = 0; i < decisions.Length; i++)
        {
            await ExecAsync(tenant, "INSERT INTO civic.claims (id, summary_version_id, ordinal, kind, text) VALUES ($1, $2, $3, 'decision', $4)",
                Guid.CreateVersion7(), version, i, decisions[i]);
        }
        return meeting;
    }

    private async Task ExecAsync(Guid tenant, string sql, params object[] args)
    {
        await using var cmd = await db.CreateTenantCommandAsync(tenant, sql);
        foreach (var a in args)
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = a });
        }
        await cmd.ExecuteNonQueryAsync();
    }
}
