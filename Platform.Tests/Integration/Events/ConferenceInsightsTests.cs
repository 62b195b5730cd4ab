using System.Text.Json;
using Platform.Tests.Integration.Conversations;

namespace Platform.Tests.Integration.Events;

/// <summary>ROI, benchmarks, leads, conversation starters, networking notifications and the per-gathering live stream, through the API and Realtime.</summary>
public sealed class ConferenceInsightsTests(EventsFixture fx) : IClassFixture<EventsFixture>
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private static object Profile(string name, object? interests = null, string? company = null, string kind = "attendee", bool consent = true,
        string[]? offering = null, string[]? seeking = null, string? bio = null) => new
    {
        displayName = name, kind, company, bio, interests = interests ?? new { }, offering, seeking,
        availability = new[] { new { start = Now.AddDays(-2), end = Now.AddDays(2) } }, consentToMatch = consent, consentToInvites = consent,
    };

    private async Task<JsonElement> GetJsonAsync(string key, string url)
    {
        var response = await fx.Client(key).GetAsync(url);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await ConversationsFixture.Json(response);
    }

    private async Task FeedbackAsync(string key, Guid conf, string user, string match, string outcome) =>
        Assert.Equal(HttpStatusCode.Created, (await fx.Client(key).PostAsJsonAsync("/v1/matching/feedback",
            new { conferenceId = conf, userId = user, matchUserId = match, outcome })).StatusCode);

    private async Task<Guid> GatheringAsync(string key, Guid conf, string topic, DateTimeOffset startsAt)
    {
        var r = await fx.Client(key).PostAsJsonAsync("/v1/gatherings",
            new { conferenceId = conf, topic, tags = new[] { "rust" }, place = "Hall", startsAt, endsAt = startsAt.AddHours(1), capacity = 10 });
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        return (await ConversationsFixture.Json(r)).GetProperty("id").GetGuid();
    }

    private async Task RsvpAsync(string key, Guid gathering, string user) =>
        Assert.Equal(HttpStatusCode.OK, (await fx.Client(key).PostAsJsonAsync($"/v1/gatherings/{gathering}/rsvp", new { userId = user, response = "accepted" })).StatusCode);

    /// <summary>An exhibitor x (Xco) and attendees: a met x, a accepted b, b declined c, d does not consent to matching.</summary>
    private async Task<Guid> ExpoAsync(string key, string company = "Xco")
    {
        var conf = await fx.CreateConferenceAsync(key);
        await fx.PutAttendeeAsync(key, conf, "x", Profile("Xavier", new { rust = 2, wasm = 1 }, company, "exhibitor", offering: ["hiring"], bio: "rust tooling vendor"));
        await fx.PutAttendeeAsync(key, conf, "a", Profile("Ada", new { rust = 1 }, "Aco", seeking: ["hiring"], bio: "rust tooling"));
        await fx.PutAttendeeAsync(key, conf, "b", Profile("Bo", new { rust = 1, golang = 1 }, "Bco"));
        await fx.PutAttendeeAsync(key, conf, "c", Profile("Cy", new { golang = 1 }, "Cco"));
        await fx.PutAttendeeAsync(key, conf, "d", Profile("Di", new { rust = 1 }, "Dco", consent: false));
        await FeedbackAsync(key, conf, "x", "a", "met");
        await FeedbackAsync(key, conf, "a", "b", "accepted");
        await FeedbackAsync(key, conf, "b", "c", "declined");
        return conf;
    }

    [Fact]
    public async Task Roi_counts_meetings_accepted_matches_and_attended_sessions_and_its_lead_value_is_the_documented_formula_over_the_lead_list()
    {
        var tenant = await fx.CreateTenantAsync("roi");
        var conf = await ExpoAsync(tenant.ApiKey);
        var past = await GatheringAsync(tenant.ApiKey, conf, "Rust breakfast", Now.AddHours(-3));
        var future = await GatheringAsync(tenant.ApiKey, conf, "Rust dinner", Now.AddHours(5));
        await RsvpAsync(tenant.ApiKey, past, "a");
        await RsvpAsync(tenant.ApiKey, past, "b");
        await RsvpAsync(tenant.ApiKey, future, "c"); // not attended yet

        var leads = await GetJsonAsync(tenant.ApiKey, $"/v1/intelligence/leads/x?conferenceId={conf}");
        var list = Assert.Single(leads.GetProperty("conferences").EnumerateArray()).GetProperty("leads").EnumerateArray().ToList();
        Assert.DoesNotContain(list, l => l.GetProperty("userId").GetString() is "d" or "x"); // no consent; not one's own lead
        var ada = list.Single(l => l.GetProperty("userId").GetString() == "a");
        Assert.Equal("a", list[0].GetProperty("userId").GetString()); // met, and seeks what x offers
        Assert.Equal(1, ada.GetProperty("engagement").GetDouble());
        Assert.Equal(Math.Round(100 * (0.7 * ada.GetProperty("pairScore").GetDouble() + 0.3), 4), ada.GetProperty("score").GetDouble(), 3);
        Assert.Contains("You met Ada.", ada.GetProperty("reasons").EnumerateArray().Select(r => r.GetString()));
        Assert.Contains(ada.GetProperty("reasons").EnumerateArray(), r => r.GetString()!.Contains("hiring", StringComparison.Ordinal));

        var roi = await GetJsonAsync(tenant.ApiKey, $"/v1/intelligence/roi/{conf}?valuePerLead=250&qualificationScore=20");
        Assert.Equal(5, roi.GetProperty("attendees").GetInt32());
        Assert.Equal(1, roi.GetProperty("exhibitors").GetInt32());
        Assert.Equal(1, roi.GetProperty("meetingsBooked").GetInt32());   // x–a met
        Assert.Equal(2, roi.GetProperty("matchesAccepted").GetInt32());  // x–a (met), a–b (accepted)
        Assert.Equal(2, roi.GetProperty("sessionsAttended").GetInt32()); // a and b at the breakfast; the dinner has not started
        var value = roi.GetProperty("leadValue");
        var inputs = value.GetProperty("inputs");
        var qualified = list.Select(l => l.GetProperty("score").GetDouble()).Where(s => s >= 20).ToList();
        Assert.Equal(250, inputs.GetProperty("valuePerLead").GetDouble());
        Assert.Equal(list.Count, inputs.GetProperty("leads").GetInt32());
        Assert.Equal(qualified.Count, inputs.GetProperty("qualifiedLeads").GetInt32());
        Assert.Equal(Math.Round(250 * qualified.Sum() / 100, 2), value.GetProperty("value").GetDouble(), 2);
        Assert.Contains("valuePerLead", value.GetProperty("formula").GetString());

        foreach (var bad in new[] { $"/v1/intelligence/roi/{conf}?valuePerLead=-1", $"/v1/intelligence/roi/{conf}?qualificationScore=101",
                     $"/v1/intelligence/roi/{conf}?valuePerLead=lots", "/v1/intelligence/roi/not-an-id", $"/v1/intelligence/leads/x?conferenceId={conf}&limit=0" })
        {
            var r = await fx.Client(tenant.ApiKey).GetAsync(bad);
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await fx.Client(tenant.ApiKey).GetAsync($"/v1/intelligence/leads/a?conferenceId={conf}")).StatusCode); // not an exhibitor
        var other = await fx.CreateTenantAsync("roi-other");
        Assert.Equal(HttpStatusCode.NotFound, (await fx.Client(other.ApiKey).GetAsync($"/v1/intelligence/roi/{conf}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await fx.Client(other.ApiKey).GetAsync($"/v1/intelligence/leads/x?conferenceId={conf}")).StatusCode);
    }

    [Fact]
    public async Task Competitor_benchmarks_cover_the_tenants_own_conferences_and_never_another_tenants()
    {
        var a = await fx.CreateTenantAsync("bench-a");
        var b = await fx.CreateTenantAsync("bench-b");
        var first = await ExpoAsync(a.ApiKey);
        var second = await ExpoAsync(a.ApiKey);
        await fx.PutAttendeeAsync(a.ApiKey, second, "y", Profile("Yann", new { golang = 1 }, "Yco", "exhibitor"));
        var theirs = await ExpoAsync(b.ApiKey, "Zco");
        await fx.PutAttendeeAsync(b.ApiKey, theirs, "x2", Profile("Xena", new { rust = 1 }, "Xco", "exhibitor")); // same company name as A's

        var bench = await GetJsonAsync(a.ApiKey, $"/v1/intelligence/competitors/{a.Id}");
        Assert.Equal(a.Id, bench.GetProperty("tenantId").GetGuid());
        Assert.Equal([first, second], bench.GetProperty("conferences").EnumerateArray().Select(c => c.GetProperty("conferenceId").GetGuid()).OrderBy(g => g));
        var companies = bench.GetProperty("companies").EnumerateArray().ToDictionary(c => c.GetProperty("company").GetString()!);
        Assert.Equal(["Xco", "Yco"], companies.Keys.Order());
        Assert.Equal(2, companies["Xco"].GetProperty("conferences").GetInt32());
        Assert.Equal(2, companies["Xco"].GetProperty("exhibitors").GetInt32()); // x at both of A's conferences, not B's Xena
        Assert.Equal(2, companies["Xco"].GetProperty("meetingsBooked").GetInt32());
        var roiFirst = await GetJsonAsync(a.ApiKey, $"/v1/intelligence/leads/x?conferenceId={first}");
        var roiSecond = await GetJsonAsync(a.ApiKey, $"/v1/intelligence/leads/x?conferenceId={second}");
        double Sum(JsonElement l) => l.GetProperty("conferences")[0].GetProperty("leads").EnumerateArray().Sum(x => x.GetProperty("score").GetDouble());
        Assert.Equal(Sum(roiFirst) + Sum(roiSecond), companies["Xco"].GetProperty("leadScore").GetDouble(), 2);
        Assert.Equal(2, bench.GetProperty("benchmarks").GetProperty("companies").GetInt32());

        // B cannot ask for A's benchmarks, and B's own never include A's conferences or exhibitors.
        var refused = await fx.Client(b.ApiKey).GetAsync($"/v1/intelligence/competitors/{a.Id}");
        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var own = await GetJsonAsync(b.ApiKey, $"/v1/intelligence/competitors/{b.Id}");
        Assert.Equal([theirs], own.GetProperty("conferences").EnumerateArray().Select(c => c.GetProperty("conferenceId").GetGuid()));
        var theirCompanies = own.GetProperty("companies").EnumerateArray().ToDictionary(c => c.GetProperty("company").GetString()!);
        Assert.Equal(["Xco", "Zco"], theirCompanies.Keys.Order());
        Assert.Equal(1, theirCompanies["Xco"].GetProperty("exhibitors").GetInt32());
        Assert.Equal(HttpStatusCode.BadRequest, (await fx.Client(b.ApiKey).GetAsync("/v1/intelligence/competitors/me")).StatusCode);
    }

    [Fact]
    public async Task Conversation_starters_use_the_template_without_a_model_and_refuse_people_who_do_not_consent()
    {
        var tenant = await fx.CreateTenantAsync("starters");
        var conf = await ExpoAsync(tenant.ApiKey);
        var client = fx.Client(tenant.ApiKey);
        var response = await client.PostAsJsonAsync("/v1/matching/conversation-starters", new { conferenceId = conf, userId = "a", matchUserId = "x" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var set = await ConversationsFixture.Json(response);
        Assert.Equal("template", set.GetProperty("source").GetString());
        var recommended = (await GetJsonAsync(tenant.ApiKey, $"/v1/matching/recommendations/a?conferenceId={conf}")).GetProperty("matches").EnumerateArray()
            .Single(m => m.GetProperty("userId").GetString() == "x");
        Assert.Equal(recommended.GetProperty("conversationStarter").GetString(), set.GetProperty("starters")[0].GetString());
        Assert.Equal(recommended.GetProperty("reasons").EnumerateArray().Select(r => r.GetString()), set.GetProperty("reasons").EnumerateArray().Select(r => r.GetString()));

        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsJsonAsync("/v1/matching/conversation-starters",
            new { conferenceId = conf, userId = "a", matchUserId = "d" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsJsonAsync("/v1/matching/conversation-starters",
            new { conferenceId = conf, userId = "a", matchUserId = "nobody" })).StatusCode);
        foreach (var (body, field) in new (object, string)[]
        {
            (new { userId = "a", matchUserId = "x" }, "conferenceId"),
            (new { conferenceId = conf, matchUserId = "x" }, "userId"),
            (new { conferenceId = conf, userId = "a", matchUserId = "a" }, "matchUserId"),
        })
        {
            var r = await client.PostAsJsonAsync("/v1/matching/conversation-starters", body);
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.True((await ConversationsFixture.Json(r)).GetProperty("errors").TryGetProperty(field, out _), field);
        }
    }

    [Fact]
    public async Task Networking_notify_goes_through_the_outbox_once_per_key_and_refuses_non_attendees_before_storing_anything()
    {
        var tenant = await fx.CreateTenantAsync("notify");
        var conf = await ExpoAsync(tenant.ApiKey);
        var client = fx.Client(tenant.ApiKey);
        async Task<long> Outbox() => await fx.ScalarAsync(
            "SELECT count(*) FROM ops.notification_outbox WHERE tenant_id = $1 AND notification_type = 'events.networking'", tenant.Id);

        var first = await client.PostAsJsonAsync("/v1/networking/notify",
            new { conferenceId = conf, userIds = new[] { "a", "b" }, title = "Speed networking", message = "Hall B in 10 minutes", key = "speed-1" });
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var body = await ConversationsFixture.Json(first);
        Assert.Equal(2, body.GetProperty("notified").GetInt32());
        var again = await ConversationsFixture.Json(await client.PostAsJsonAsync("/v1/networking/notify",
            new { conferenceId = conf, userIds = new[] { "a", "b" }, title = "Speed networking", message = "Hall B in 10 minutes", key = "speed-1" }));
        Assert.Equal(0, again.GetProperty("notified").GetInt32());
        Assert.Equal(2, again.GetProperty("duplicates").GetInt32());
        Assert.Equal(2, await Outbox());
        Assert.Equal(1, await fx.ScalarAsync(
            "SELECT count(*) FROM ops.notification_outbox WHERE tenant_id = $1 AND user_id = 'a' AND payload->>'message' = 'Hall B in 10 minutes'", tenant.Id));

        // Everyone who accepts invitations (d does not), when no userIds are named.
        var all = await ConversationsFixture.Json(await client.PostAsJsonAsync("/v1/networking/notify",
            new { conferenceId = conf, title = "Closing party", message = "Rooftop at 7", channels = new[] { "in_app", "email" } }));
        Assert.Equal(4, all.GetProperty("recipients").GetInt32());
        Assert.Equal(6, await Outbox());

        foreach (var (payload, field) in new (object, string)[]
        {
            (new { conferenceId = conf, userIds = new[] { "a", "stranger" }, title = "t", message = "m" }, "userIds[1]"),
            (new { conferenceId = conf, title = "t", message = "m", channels = new[] { "carrier-pigeon" } }, "channels[0]"),
            (new { conferenceId = conf, message = "m" }, "title"),
            (new { conferenceId = conf, title = "t", message = "m", key = "no spaces" }, "key"),
            (new { title = "t", message = "m" }, "conferenceId"),
        })
        {
            var r = await client.PostAsJsonAsync("/v1/networking/notify", payload);
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.True((await ConversationsFixture.Json(r)).GetProperty("errors").TryGetProperty(field, out _), field);
        }
        Assert.Equal(6, await Outbox());
        var other = await fx.CreateTenantAsync("notify-other");
        Assert.Equal(HttpStatusCode.NotFound, (await fx.Client(other.ApiKey).PostAsJsonAsync("/v1/networking/notify",
            new { conferenceId = conf, title = "t", message = "m" })).StatusCode);
    }

    [Fact]
    public async Task The_live_stream_of_a_gathering_carries_its_snapshot_its_changes_and_its_invitees_presence_only_and_is_authorized_like_the_conference_stream()
    {
        var tenant = await fx.CreateTenantAsync("live");
        var conf = await ExpoAsync(tenant.ApiKey);
        var gathering = await GatheringAsync(tenant.ApiKey, conf, "Rust lunch", Now.AddHours(1));
        var elsewhere = await GatheringAsync(tenant.ApiKey, conf, "Go lunch", Now.AddHours(1));
        await RsvpAsync(tenant.ApiKey, gathering, "b");
        async Task<string> LiveUrl(string key, Guid g, string user)
        {
            var r = await fx.Client(key).PostAsJsonAsync($"/v1/gatherings/{g}/live-token", new { userId = user });
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
            return (await ConversationsFixture.Json(r)).GetProperty("streamUrl").GetString()!;
        }
        var url = await LiveUrl(tenant.ApiKey, gathering, "a");
        Assert.Contains($"/v1/gatherings/live/{gathering}?", url);
        await using var live = await ConferenceStreamClient.ConnectAsync(url);
        var snapshot = await Eventually.ReturnsAsync(() => Task.FromResult(live.Updates), u => u.Count > 0, because: "the snapshot frame");
        Assert.Equal("gathering.snapshot", snapshot[0].GetProperty("type").GetString());
        Assert.Equal(["b"], snapshot[0].GetProperty("gathering").GetProperty("invitations").EnumerateArray().Select(i => i.GetProperty("userId").GetString()));

        // c (not in this gathering) comes online and RSVPs elsewhere; then b (in it) comes online and a RSVPs here.
        async Task<string> ConferenceUrl(string user) => (await ConversationsFixture.Json(
            await fx.Client(tenant.ApiKey).PostAsync($"/v1/events/conferences/{conf}/attendees/{user}/token", null))).GetProperty("streamUrl").GetString()!;
        await using var c = await ConferenceStreamClient.ConnectAsync(await ConferenceUrl("c"));
        await RsvpAsync(tenant.ApiKey, elsewhere, "c");
        await using var b = await ConferenceStreamClient.ConnectAsync(await ConferenceUrl("b"));
        await Eventually.TrueAsync(() => Task.FromResult(live.Updates.Any(u => u.GetProperty("type").GetString() == "presence" && u.GetProperty("userId").GetString() == "b")),
            because: "b's presence reaches the gathering's stream");
        await RsvpAsync(tenant.ApiKey, gathering, "a");
        await Eventually.TrueAsync(() => Task.FromResult(live.Updates.Any(u => u.GetProperty("type").GetString() == "gathering.rsvp" && u.GetProperty("userId").GetString() == "a")),
            because: "a's RSVP reaches the gathering's stream");
        Assert.DoesNotContain(live.Updates, u => u.GetProperty("userId").ValueKind == JsonValueKind.String && u.GetProperty("userId").GetString() == "c");
        Assert.All(live.Updates.Where(u => u.GetProperty("gathering").ValueKind == JsonValueKind.Object),
            u => Assert.Equal(gathering, u.GetProperty("gathering").GetProperty("id").GetGuid()));

        // Refused like the conference stream: a bad token 4401; an attendee of another conference, or another tenant's attendee, 4403.
        var otherConf = await fx.CreateConferenceAsync(tenant.ApiKey);
        await fx.PutAttendeeAsync(tenant.ApiKey, otherConf, "z", Profile("Zed"));
        var otherGathering = await GatheringAsync(tenant.ApiKey, otherConf, "Elsewhere", Now.AddHours(1));
        var zUrl = (await LiveUrl(tenant.ApiKey, otherGathering, "z")).Replace(otherGathering.ToString(), gathering.ToString(), StringComparison.Ordinal);
        var intruder = await fx.CreateTenantAsync("live-other");
        var theirConf = await fx.CreateConferenceAsync(intruder.ApiKey);
        await fx.PutAttendeeAsync(intruder.ApiKey, theirConf, "a", Profile("Ada"));
        var theirGathering = await GatheringAsync(intruder.ApiKey, theirConf, "Theirs", Now.AddHours(1));
        var intruderUrl = (await LiveUrl(intruder.ApiKey, theirGathering, "a")).Replace(theirGathering.ToString(), gathering.ToString(), StringComparison.Ordinal);
        var badToken = url[..(url.IndexOf("token=", StringComparison.Ordinal) + 6)] + "not-a-token";
        foreach (var (target, code) in new[] { (zUrl, 4403), (intruderUrl, 4403), (badToken, 4401) })
        {
            await using var refused = await ConferenceStreamClient.ConnectAsync(target);
            await Eventually.TrueAsync(() => Task.FromResult(refused.Ended), because: $"{target} is refused");
            Assert.Equal(code, (int?)refused.CloseStatus);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await fx.Client(intruder.ApiKey).PostAsJsonAsync($"/v1/gatherings/{gathering}/live-token", new { userId = "a" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await fx.Client(tenant.ApiKey).PostAsJsonAsync($"/v1/gatherings/{gathering}/live-token", new { })).StatusCode);
    }

    [Fact]
    public async Task The_new_operations_are_in_the_openapi_document()
    {
        var doc = JsonDocument.Parse(await fx.Client().GetStringAsync("/openapi/v1.json")).RootElement;
        var operations = doc.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Select(o => o.Value.TryGetProperty("operationId", out var id) ? id.GetString() : null))
            .ToHashSet();
        foreach (var name in new[]
                 {
                     "GetConferenceRoi", "GetCompetitorBenchmarks", "GetExhibitorLeads", "GetConversationStarters", "NetworkingNotify", "IssueGatheringLiveToken",
                     "GetNudgeExecution", "GetCatalyst", "LinkCatalystOutcome", "GetLearningGoals", "PutLearningGoals", "RecommendLearning",
                 })
        {
            Assert.Contains(name, operations);
        }
        Assert.True(doc.GetProperty("paths").TryGetProperty("/v1/intelligence/roi/{conferenceId}", out _));
        Assert.True(doc.GetProperty("paths").TryGetProperty("/v1/networking/notify", out _));
    }
}
