using System.Text.Json;
using Platform.Core.Events.Matching;
using Platform.Tests.Integration.Conversations;

namespace Platform.Tests.Integration.Events;

/// <summary>Conference intelligence through the public API, Realtime and the Worker. Each test has its own tenant.</summary>
public sealed class EventsTests(EventsFixture fx) : IClassFixture<EventsFixture>
{
    private static readonly DateTimeOffset Day = DateTimeOffset.Parse("2026-06-02T00:00:00Z");

    private static object Profile(string name, object? interests = null, string? company = null, string? bio = null, bool consent = true,
        string kind = "attendee", object? availability = null, bool? invites = null, string[]? offering = null, string[]? seeking = null) => new
    {
        displayName = name, kind, company, bio, interests = interests ?? new { }, offering, seeking,
        availability, consentToMatch = consent, consentToInvites = invites ?? consent,
    };

    private static object Slot(int fromHour, int toHour) => new { start = Day.AddHours(fromHour), end = Day.AddHours(toHour) };

    private async Task<JsonElement> GetJsonAsync(string key, string url)
    {
        var response = await fx.Client(key).GetAsync(url);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await ConversationsFixture.Json(response);
    }

    private static double[] Weights(JsonElement w) =>
        [w.GetProperty("interests").GetDouble(), w.GetProperty("complementarity").GetDouble(), w.GetProperty("bio").GetDouble(), w.GetProperty("semantic").GetDouble()];

    [Fact]
    public async Task Api_ranks_the_planted_pair_first_honours_exclusions_and_stores_matches_through_the_job()
    {
        var tenant = await fx.CreateTenantAsync("rank");
        var conf = await fx.CreateConferenceAsync(tenant.ApiKey);
        await fx.PutAttendeeAsync(tenant.ApiKey, conf, "u", Profile("Uma", new { rust = 1, wasm = 1 }, "Acme", "compilers and type systems",
            seeking: ["funding"], offering: ["mentoring"]));
        // The ideal partner: same interests, offers what u seeks and seeks what u offers, similar bio.
        await fx.PutAttendeeAsync(tenant.ApiKey, conf, "ideal", Profile("Ida", new { rust = 1, wasm = 1 }, "Zeta", "compilers and type systems research",
            seeking: ["mentoring"], offering: ["funding"]));
        await fx.PutAttendeeAsync(tenant.ApiKey, conf, "partial", Profile("Pat", new { rust = 1, golang = 1 }, "Beta", "databases"));
        await fx.PutAttendeeAsync(tenant.ApiKey, conf, "colleague", Profile("Col", new { rust = 1, wasm = 1 }, "ACME ", "compilers and type systems"));
        await fx.PutAttendeeAsync(tenant.ApiKey, conf, "private", Profile("Pri", new { rust = 1, wasm = 1 }, "Gamma", "compilers", consent: false));

        var body = await GetJsonAsync(tenant.ApiKey, $"/v1/matching/recommendations/u?conferenceId={conf}&limit=10");
        var ids = body.GetProperty("matches").EnumerateArray().Select(m => m.GetProperty("userId").GetString()).ToList();
        Assert.Equal(["ideal", "partial"], ids); // same company and no consent are never recommended
        var first = body.GetProperty("matches")[0];
        Assert.Contains(first.GetProperty("reasons").EnumerateArray(), r => r.GetString()!.Contains("offers funding"));
        Assert.Equal("Ask Ida about funding — it's what you came to find.", first.GetProperty("conversationStarter").GetString());
        // Symmetric pair score through the API.
        var back = await GetJsonAsync(tenant.ApiKey, $"/v1/matching/recommendations/ideal?conferenceId={conf}");
        Assert.Equal(first.GetProperty("score").GetDouble(), back.GetProperty("matches")[0].GetProperty("score").GetDouble(), 9);

        var calc = await fx.Client(tenant.ApiKey).PostAsJsonAsync("/v1/matching/calculate", new { conferenceId = conf });
        Assert.Equal(HttpStatusCode.Accepted, calc.StatusCode);
        await Eventually.TrueAsync(async () =>
            await fx.ScalarAsync("SELECT count(*) FROM events.matches WHERE conference_id = $1 AND user_id = 'u' AND rank = 1 AND match_user_id = 'ideal'", conf) == 1,
            TimeSpan.FromSeconds(30), "the batch job to store u's matches");
        Assert.Equal(0, await fx.ScalarAsync("SELECT count(*) FROM events.matches WHERE conference_id = $1 AND user_id = 'u' AND match_user_id IN ('colleague', 'private')", conf));
    }

    [Fact]
    public async Task Feedback_moves_the_weights_as_documented_and_changes_later_rankings()
    {
        var tenant = await fx.CreateTenantAsync("feedback");
        var conf = await fx.CreateConferenceAsync(tenant.ApiKey);
        const string bio = "quantum cryptography lattice";
        await fx.PutAttendeeAsync(tenant.ApiKey, conf, "u", Profile("U", new { a = 1, b = 1, c = 1 }, "Acme", bio));
        await fx.PutAttendeeAsync(tenant.ApiKey, conf, "v", Profile("V", new { a = 1, b = 1, c = 1 }, "Acme", bio));
        await fx.PutAttendeeAsync(tenant.ApiKey, conf, "interest-twin", Profile("I", new { a = 1, b = 1, c = 1 }, "Iota", "gardening"));
        await fx.PutAttendeeAsync(tenant.ApiKey, conf, "bio-twin", Profile("B", null, "Beta", bio));

        var before = await GetJsonAsync(tenant.ApiKey, $"/v1/matching/recommendations/u?conferenceId={conf}");
        Assert.Equal(["interest-twin", "bio-twin"], before.GetProperty("matches").EnumerateArray().Select(m => m.GetProperty("userId").GetString()));
        // Identical interest lists embed identically (semantic 1); bio-twin has no interests to embed (semantic 0).
        var w0 = MatchWeights.Default;
        Assert.Equal(w0.Interests + w0.Semantic, before.GetProperty("matches")[0].GetProperty("score").GetDouble(), 5);
        Assert.Equal(w0.Bio, before.GetProperty("matches")[1].GetProperty("score").GetDouble(), 5);
        Assert.StartsWith("local-minilm:", before.GetProperty("embeddingModel").GetString());

        // v (u's colleague, same tastes) declines the interest-driven match and meets the bio-driven one.
        var declined = await fx.Client(tenant.ApiKey).PostAsJsonAsync("/v1/matching/feedback",
            new { conferenceId = conf, userId = "v", matchUserId = "interest-twin", outcome = "declined" });
        Assert.Equal(HttpStatusCode.Created, declined.StatusCode);
        var d = await ConversationsFixture.Json(declined);
        // p = w_I + w_S = 0.52; w_I ← 0.32 − 0.5·0.52 = 0.06, w_S ← max(0.05, 0.2 − 0.26) = 0.05; renormalised (0.06, 0.32, 0.16, 0.05)/0.59.
        var declinedWeights = ReciprocalMatcher.UpdateWeights(w0, new MatchFeatures(1, 0, 0, 1), MatchOutcome.Declined);
        Assert.Equal(0.06 / 0.59, declinedWeights.Interests, 9);
        Assert.Equal(Weights(d.GetProperty("weightsAfter")), [declinedWeights.Interests, declinedWeights.Complementarity, declinedWeights.Bio, declinedWeights.Semantic],
            new ToleranceComparer(1e-9));
        var met = await ConversationsFixture.Json(await fx.Client(tenant.ApiKey).PostAsJsonAsync("/v1/matching/feedback",
            new { conferenceId = conf, userId = "v", matchUserId = "bio-twin", outcome = "met" }));
        var expected = ReciprocalMatcher.UpdateWeights(declinedWeights, new MatchFeatures(0, 0, 1, 0), MatchOutcome.Met);
        Assert.Equal([expected.Interests, expected.Complementarity, expected.Bio, expected.Semantic], Weights(met.GetProperty("weightsAfter")),
            new ToleranceComparer(1e-9));

        var after = await GetJsonAsync(tenant.ApiKey, $"/v1/matching/recommendations/u?conferenceId={conf}");
        Assert.Equal(["bio-twin", "interest-twin"], after.GetProperty("matches").EnumerateArray().Select(m => m.GetProperty("userId").GetString()));
        Assert.Equal(expected.Bio, after.GetProperty("matches")[0].GetProperty("score").GetDouble(), tolerance: 1e-5);
        Assert.Equal(expected.Interests + expected.Semantic, after.GetProperty("matches")[1].GetProperty("score").GetDouble(), tolerance: 1e-5);
        // v's declined match is gone from v's list for good; the log holds both steps.
        var vList = await GetJsonAsync(tenant.ApiKey, $"/v1/matching/recommendations/v?conferenceId={conf}");
        Assert.DoesNotContain(vList.GetProperty("matches").EnumerateArray(), m => m.GetProperty("userId").GetString() == "interest-twin");
        Assert.Equal(2, await fx.ScalarAsync("SELECT count(*) FROM events.match_feedback WHERE conference_id = $1", conf));
        // Both steps are in the tenant's provenance chain too.
        Assert.Equal(2, await fx.ScalarAsync(
            "SELECT count(*) FROM governance.provenance_events WHERE action = 'match.feedback' AND details->>'conferenceId' = $1::text", conf));

        var bad = await fx.Client(tenant.ApiKey).PostAsJsonAsync("/v1/matching/feedback", new { conferenceId = conf, userId = "u", matchUserId = "v", outcome = "maybe" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(2, await fx.ScalarAsync("SELECT count(*) FROM events.match_feedback WHERE conference_id = $1", conf));
    }

    [Fact]
    public async Task Gathering_invitations_respect_availability_and_capacity_and_go_live_to_connected_attendees()
    {
        var tenant = await fx.CreateTenantAsync("gather");
        var conf = await fx.CreateConferenceAsync(tenant.ApiKey);
        foreach (var i in Enumerable.Range(1, 5))
        {
            await fx.PutAttendeeAsync(tenant.ApiKey, conf, $"free{i}", Profile($"Free {i}", new { rust = 1 }, $"C{i}", availability: new[] { Slot(10, 12) }));
        }
        await fx.PutAttendeeAsync(tenant.ApiKey, conf, "busy", Profile("Busy", new { rust = 1 }, "CB", availability: new[] { Slot(13, 14) }));
        await fx.PutAttendeeAsync(tenant.ApiKey, conf, "shy", Profile("Shy", new { rust = 1 }, "CS", availability: new[] { Slot(10, 12) }, invites: false));
        await fx.PutAttendeeAsync(tenant.ApiKey, conf, "gopher", Profile("Gopher", new { golang = 1 }, "CG", availability: new[] { Slot(10, 12) }));
        await fx.PutAttendeeAsync(tenant.ApiKey, conf, "late", Profile("Late", new { rust = 1 }, "CL", availability: new[] { Slot(11, 12) }));

        var tokenResponse = await fx.Client(tenant.ApiKey).PostAsync($"/v1/events/conferences/{conf}/attendees/free1/token", null);
        Assert.Equal(HttpStatusCode.Created, tokenResponse.StatusCode);
        await using var live = await ConferenceStreamClient.ConnectAsync((await ConversationsFixture.Json(tokenResponse)).GetProperty("streamUrl").GetString()!);
        await Eventually.TrueAsync(async () => (await GetJsonAsync(tenant.ApiKey, "/v1/events/presence/free1")).GetProperty("status").GetString() == "online",
            because: "the stream to register presence (and its subscription)");

        var created = await fx.Client(tenant.ApiKey).PostAsJsonAsync("/v1/gatherings", new
        {
            conferenceId = conf, topic = "Rust meetup", tags = new[] { "rust" }, place = "Room 4", startsAt = Day.AddHours(10.5), endsAt = Day.AddHours(11.5),
            capacity = 3,
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await ConversationsFixture.Json(created)).GetProperty("id").GetGuid();

        var suggested = await GetJsonAsync(tenant.ApiKey, $"/v1/gatherings/{id}/invite-suggestions");
        var names = suggested.GetProperty("invitees").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Equal(["free1", "free2", "free3"], names); // free for 10:30–11:30, consenting, rust; capped at 3 seats

        var named = await ConversationsFixture.Json(await fx.Client(tenant.ApiKey).PostAsJsonAsync($"/v1/gatherings/{id}/invitations",
            new { userIds = new[] { "busy", "shy", "late", "free5" } }));
        Assert.Equal(["free5"], named.GetProperty("invited").EnumerateArray().Select(e => e.GetString())); // busy, shy and late are not free/consenting
        var auto = await ConversationsFixture.Json(await fx.Client(tenant.ApiKey).PostAsync($"/v1/gatherings/{id}/invitations", null));
        Assert.Equal(["free1", "free2"], auto.GetProperty("invited").EnumerateArray().Select(e => e.GetString())); // two seats were left
        var again = await ConversationsFixture.Json(await fx.Client(tenant.ApiKey).PostAsync($"/v1/gatherings/{id}/invitations", null));
        Assert.Empty(again.GetProperty("invited").EnumerateArray());
        // Each invitation went into the notifications outbox, exactly once per invitee.
        Assert.Equal(3, await fx.ScalarAsync(
            "SELECT count(*) FROM ops.notification_outbox WHERE tenant_id = $1 AND notification_type = 'events.gathering-invite' AND subject_id = $2",
            tenant.Id, $"gathering:{id}"));

        foreach (var u in new[] { "free1", "free2", "free5" })
        {
            var ok = await fx.Client(tenant.ApiKey).PostAsJsonAsync($"/v1/gatherings/{id}/rsvp", new { userId = u, response = "accepted" });
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        var full = await fx.Client(tenant.ApiKey).PostAsJsonAsync($"/v1/gatherings/{id}/rsvp", new { userId = "free3", response = "accepted" });
        Assert.Equal(HttpStatusCode.Conflict, full.StatusCode);
        var g = await GetJsonAsync(tenant.ApiKey, $"/v1/gatherings/{id}");
        Assert.Equal(3, g.GetProperty("accepted").GetInt32());
        Assert.Equal(3, g.GetProperty("invitations").GetArrayLength());

        await Eventually.TrueAsync(() => Task.FromResult(live.Updates.Count(u => u.GetProperty("type").GetString() == "gathering.rsvp") >= 3),
            because: "the RSVPs to reach the connected attendee");
        Assert.Contains(live.Updates, u => u.GetProperty("type").GetString() == "gathering.created" && u.GetProperty("gathering").GetProperty("id").GetGuid() == id);
    }

    [Fact]
    public async Task Presence_is_online_while_connected_and_expires_when_the_connection_drops()
    {
        var tenant = await fx.CreateTenantAsync("presence");
        var conf = await fx.CreateConferenceAsync(tenant.ApiKey);
        await fx.PutAttendeeAsync(tenant.ApiKey, conf, "ann", Profile("Ann"));
        await fx.PutAttendeeAsync(tenant.ApiKey, conf, "bob", Profile("Bob"));
        async Task<string> Status(string user) => (await GetJsonAsync(tenant.ApiKey, $"/v1/events/presence/{user}")).GetProperty("status").GetString()!;
        Assert.Equal("offline", await Status("ann"));

        async Task<string> Url(string user) => (await ConversationsFixture.Json(
            await fx.Client(tenant.ApiKey).PostAsync($"/v1/events/conferences/{conf}/attendees/{user}/token", null))).GetProperty("streamUrl").GetString()!;
        await using var bob = await ConferenceStreamClient.ConnectAsync(await Url("bob"));
        await Eventually.TrueAsync(async () => await Status("bob") == "online", because: "bob online");
        var ann = await ConferenceStreamClient.ConnectAsync(await Url("ann"));
        await Eventually.TrueAsync(async () => await Status("ann") == "online", because: "ann online");
        // Stays online across several TTLs (2 s) because the node refreshes it.
        await Eventually.TrueAsync(() => Task.FromResult(bob.Updates.Any(u => u.GetProperty("userId").GetString() == "ann" && u.GetProperty("status").GetString() == "online")),
            because: "bob to see ann come online");

        ann.Abort();
        await Eventually.TrueAsync(async () => await Status("ann") == "away", TimeSpan.FromSeconds(20), "ann's presence to lapse");
        await Eventually.TrueAsync(() => Task.FromResult(bob.Updates.Any(u => u.GetProperty("userId").GetString() == "ann" && u.GetProperty("status").GetString() == "away")),
            because: "bob to see ann go away");
        await ann.DisposeAsync();

        // A node that dies without cleaning up: the entry lapses by itself after the TTL.
        var store = (Platform.Core.Events.PresenceStore)fx.Node(0).Services.GetService(typeof(Platform.Core.Events.PresenceStore))!;
        Assert.True(await store.TouchAsync(tenant.Id, "ghost", "conn-1", TimeSpan.FromSeconds(1)));
        Assert.Equal("online", await Status("ghost"));
        await Eventually.TrueAsync(async () => await Status("ghost") == "away", TimeSpan.FromSeconds(10), "the unrefreshed entry to expire");
    }

    [Fact]
    public async Task Report_numbers_equal_a_hand_computed_small_conference()
    {
        var tenant = await fx.CreateTenantAsync("report");
        var conf = await fx.CreateConferenceAsync(tenant.ApiKey, new { name = "Tiny", branding = new { displayName = "Tiny Conf", primaryColor = "#112233" } });
        // Registration order matters for emerging topics: early half {A, B}, late half {C, D, X}.
        await fx.PutAttendeeAsync(tenant.ApiKey, conf, "A", Profile("Alice", new { ai = 1 }, "a"));
        await fx.PutAttendeeAsync(tenant.ApiKey, conf, "B", Profile("Bea", new { ai = 1 }, "b", kind: "speaker"));
        await fx.PutAttendeeAsync(tenant.ApiKey, conf, "C", Profile("Cem", new { climate = 1 }, "c"));
        await fx.PutAttendeeAsync(tenant.ApiKey, conf, "D", Profile("Dev", new { climate = 1 }, "d"));
        await fx.PutAttendeeAsync(tenant.ApiKey, conf, "X", Profile("Xpo", new { ai = 1 }, "x", kind: "exhibitor"));
        foreach (var (u, m, o) in new[] { ("A", "B", "met"), ("C", "D", "accepted"), ("X", "C", "declined") })
        {
            var r = await fx.Client(tenant.ApiKey).PostAsJsonAsync("/v1/matching/feedback", new { conferenceId = conf, userId = u, matchUserId = m, outcome = o });
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        }
        // Weights by hand: met on features (1,0,0) then accepted on (1,0,0); the decline has all-zero features and moves nothing.
        // Each of those pairs has the same one interest, so identical profile texts: semantic similarity 1.
        var w = ReciprocalMatcher.UpdateWeights(MatchWeights.Default, new MatchFeatures(1, 0, 0, 1), MatchOutcome.Met);
        w = ReciprocalMatcher.UpdateWeights(w, new MatchFeatures(1, 0, 0, 1), MatchOutcome.Accepted);
        // Every positive pair (A-B, A-X, B-X, C-D) shares exactly one interest and nothing else: pair score = w_I + w_S.

        var requested = await fx.Client(tenant.ApiKey).PostAsJsonAsync("/v1/intelligence/reports", new { conferenceId = conf });
        Assert.Equal(HttpStatusCode.Accepted, requested.StatusCode);
        var id = (await ConversationsFixture.Json(requested)).GetProperty("id").GetGuid();
        var done = await Eventually.ReturnsAsync(() => GetJsonAsync(tenant.ApiKey, $"/v1/intelligence/reports/{id}"),
            j => j.GetProperty("status").GetString() == "completed", TimeSpan.FromSeconds(60), "the report job");
        var report = done.GetProperty("report");
        Assert.Equal(5, report.GetProperty("attendees").GetInt32());
        Assert.Equal(3, report.GetProperty("attendeesByKind").GetProperty("attendee").GetInt32());
        Assert.Equal(2, report.GetProperty("connectionsMade").GetInt32());
        Assert.Equal(3, report.GetProperty("feedbackCount").GetInt32());
        Assert.Equal(2.0 / 3, report.GetProperty("acceptedMatchRate").GetDouble(), 5);
        // A: B, X; B: A, X; C: D; D: C; X: A, B — eight recommendations, all w_I + w_S ("ai" and "climate" stay below the semantic floor).
        Assert.Equal(w.Interests + w.Semantic, report.GetProperty("averageMatchScore").GetDouble(), 5);
        var top = report.GetProperty("topNetworkers").EnumerateArray().Select(n => n.GetProperty("userId").GetString()).ToList();
        Assert.Equal(["A", "B"], top.Take(2).Order()); // the reciprocal met pair (weight 3 both ways) leads
        Assert.Equal("D", top[2]); // then the one who received an acceptance
        var topic = Assert.Single(report.GetProperty("emergingTopics").EnumerateArray());
        Assert.Equal("climate", topic.GetProperty("topic").GetString());
        Assert.Equal(2.0 / 3, topic.GetProperty("growth").GetDouble(), 5);
        var x = Assert.Single(report.GetProperty("exhibitorLeads").EnumerateArray());
        Assert.Equal(2, x.GetProperty("leads").GetInt32()); // A and B; C declined X
        Assert.Equal(2 * 100 * 0.7 * (w.Interests + w.Semantic), x.GetProperty("leadScore").GetDouble(), 3);

        var html = await fx.Client(tenant.ApiKey).GetAsync($"/v1/intelligence/reports/{id}?format=html");
        Assert.Equal("text/html", html.Content.Headers.ContentType!.MediaType);
        var page = await html.Content.ReadAsStringAsync();
        Assert.Contains("<svg", page);
        Assert.Contains("Tiny Conf", page);
        var shared = await fx.Client().GetAsync(done.GetProperty("shareUrl").GetString());
        Assert.Equal(HttpStatusCode.OK, shared.StatusCode);
        Assert.Equal(page, await shared.Content.ReadAsStringAsync());

        // The share link expires 30 days after the report was requested unless the request asked otherwise; then 410.
        var expiresIn = done.GetProperty("shareExpiresAt").GetDateTimeOffset() - done.GetProperty("createdAt").GetDateTimeOffset();
        Assert.InRange(expiresIn, TimeSpan.FromDays(30) - TimeSpan.FromMinutes(1), TimeSpan.FromDays(30) + TimeSpan.FromMinutes(1));
        Assert.Equal(1, await fx.ScalarAsync("WITH u AS (UPDATE events.reports SET share_expires_at = now() - interval '1 second' WHERE id = $1 RETURNING 1) SELECT count(*) FROM u", id));
        var gone = await fx.Client().GetAsync(done.GetProperty("shareUrl").GetString());
        Assert.Equal(HttpStatusCode.Gone, gone.StatusCode);
        Assert.Equal("application/problem+json", gone.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("Tiny Conf", await gone.Content.ReadAsStringAsync());
        // A token that never existed is still 404, so an expired link is told apart from a mistyped one.
        Assert.Equal(HttpStatusCode.NotFound, (await fx.Client().GetAsync($"/v1/intelligence/reports/shared/{new string('0', 32)}")).StatusCode);
    }

    [Fact]
    public async Task A_share_link_lives_as_long_as_asked_within_the_maximum_and_a_bad_lifetime_stores_no_report()
    {
        var tenant = await fx.CreateTenantAsync("share-expiry");
        var conf = await fx.CreateConferenceAsync(tenant.ApiKey, new { name = "Share Conf", features = new { reports = true } });
        foreach (var bad in new object[] { 0, 91, "soon" })
        {
            var refused = await fx.Client(tenant.ApiKey).PostAsJsonAsync("/v1/intelligence/reports", new { conferenceId = conf, shareDays = bad });
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.True((await ConversationsFixture.Json(refused)).GetProperty("errors").TryGetProperty("shareDays", out _));
        }
        Assert.Equal(0, await fx.ScalarAsync("SELECT count(*) FROM events.reports WHERE conference_id = $1", conf));

        var week = await ConversationsFixture.Json(await fx.Client(tenant.ApiKey).PostAsJsonAsync("/v1/intelligence/reports", new { conferenceId = conf, shareDays = 7 }));
        var lifetime = week.GetProperty("shareExpiresAt").GetDateTimeOffset() - week.GetProperty("createdAt").GetDateTimeOffset();
        Assert.InRange(lifetime, TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1), TimeSpan.FromDays(7) + TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task Another_tenant_reaches_nothing_on_any_endpoint_and_bad_input_writes_nothing()
    {
        var a = await fx.CreateTenantAsync("owner");
        var b = await fx.CreateTenantAsync("intruder");
        var conf = await fx.CreateConferenceAsync(a.ApiKey, new { name = "Private", features = new { reports = true }, limits = new { attendeeCap = 2 } });
        await fx.PutAttendeeAsync(a.ApiKey, conf, "ann", Profile("Ann", new { rust = 1 }, "A", availability: new[] { Slot(9, 17) }));
        await fx.PutAttendeeAsync(a.ApiKey, conf, "bob", Profile("Bob", new { rust = 1 }, "B", availability: new[] { Slot(9, 17) }));
        var gathering = (await ConversationsFixture.Json(await fx.Client(a.ApiKey).PostAsJsonAsync("/v1/gatherings", new
        {
            conferenceId = conf, topic = "rust", place = "Hall", startsAt = Day.AddHours(10), endsAt = Day.AddHours(11), capacity = 5,
        }))).GetProperty("id").GetGuid();
        var report = (await ConversationsFixture.Json(await fx.Client(a.ApiKey).PostAsJsonAsync("/v1/intelligence/reports", new { conferenceId = conf })))
            .GetProperty("id").GetGuid();

        var intruder = fx.Client(b.ApiKey);
        var attempts = new (string Name, Func<Task<HttpResponseMessage>> Call)[]
        {
            ("get conference", () => intruder.GetAsync($"/v1/events/conferences/{conf}")),
            ("put attendee", () => intruder.PutAsJsonAsync($"/v1/events/conferences/{conf}/attendees/eve", Profile("Eve"))),
            ("get attendee", () => intruder.GetAsync($"/v1/events/conferences/{conf}/attendees/ann")),
            ("token", () => intruder.PostAsync($"/v1/events/conferences/{conf}/attendees/ann/token", null)),
            ("recommendations", () => intruder.GetAsync($"/v1/matching/recommendations/ann?conferenceId={conf}")),
            ("feedback", () => intruder.PostAsJsonAsync("/v1/matching/feedback", new { conferenceId = conf, userId = "ann", matchUserId = "bob", outcome = "declined" })),
            ("calculate", () => intruder.PostAsJsonAsync("/v1/matching/calculate", new { conferenceId = conf })),
            ("create gathering", () => intruder.PostAsJsonAsync("/v1/gatherings", new
            {
                conferenceId = conf, topic = "x", place = "y", startsAt = Day.AddHours(10), endsAt = Day.AddHours(11), capacity = 5,
            })),
            ("suggest gatherings", () => intruder.GetAsync($"/v1/gatherings/suggestions?conferenceId={conf}")),
            ("get gathering", () => intruder.GetAsync($"/v1/gatherings/{gathering}")),
            ("invite suggestions", () => intruder.GetAsync($"/v1/gatherings/{gathering}/invite-suggestions")),
            ("invite", () => intruder.PostAsJsonAsync($"/v1/gatherings/{gathering}/invitations", new { userIds = new[] { "ann" } })),
            ("rsvp", () => intruder.PostAsJsonAsync($"/v1/gatherings/{gathering}/rsvp", new { userId = "ann", response = "accepted" })),
            ("request report", () => intruder.PostAsJsonAsync("/v1/intelligence/reports", new { conferenceId = conf })),
            ("get report", () => intruder.GetAsync($"/v1/intelligence/reports/{report}")),
        };
        foreach (var (name, call) in attempts)
        {
            var response = await call();
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        var list = await GetJsonAsync(b.ApiKey, "/v1/events/conferences");
        Assert.Empty(list.GetProperty("conferences").EnumerateArray());
        // Presence is namespaced by tenant: the intruder's "ann" is someone else entirely.
        Assert.Equal("offline", (await GetJsonAsync(b.ApiKey, "/v1/events/presence/ann")).GetProperty("status").GetString());
        Assert.Equal(1, await fx.ScalarAsync("SELECT count(*) FROM events.gatherings WHERE conference_id = $1", conf));
        Assert.Equal(0, await fx.ScalarAsync("SELECT count(*) FROM events.match_feedback WHERE conference_id = $1", conf));

        // The other tenant's attendee token cannot open this conference's stream.
        var own = await fx.CreateConferenceAsync(b.ApiKey);
        await fx.PutAttendeeAsync(b.ApiKey, own, "ann", Profile("Other Ann"));
        var url = (await ConversationsFixture.Json(await intruder.PostAsync($"/v1/events/conferences/{own}/attendees/ann/token", null)))
            .GetProperty("streamUrl").GetString()!.Replace(own.ToString(), conf.ToString());
        await using var stream = await ConferenceStreamClient.ConnectAsync(url);
        await Eventually.TrueAsync(() => Task.FromResult(stream.Ended), because: "the refusal");
        Assert.Equal(4403, (int?)stream.CloseStatus);

        // Bad input: problem details naming the field, nothing written.
        var invalid = await fx.Client(a.ApiKey).PutAsJsonAsync($"/v1/events/conferences/{conf}/attendees/bob",
            new { displayName = "", interests = new { rust = -1 }, availability = new[] { new { start = Day.AddHours(2), end = Day.AddHours(1) } } });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var problem = await ConversationsFixture.Json(invalid);
        Assert.True(problem.GetProperty("errors").TryGetProperty("displayName", out _));
        Assert.True(problem.GetProperty("errors").TryGetProperty("availability", out _));
        Assert.Equal("Bob", (await GetJsonAsync(a.ApiKey, $"/v1/events/conferences/{conf}/attendees/bob")).GetProperty("displayName").GetString());
        // The cap (2) is applied by Api.
        var over = await fx.Client(a.ApiKey).PutAsJsonAsync($"/v1/events/conferences/{conf}/attendees/carl", Profile("Carl"));
        Assert.Equal(HttpStatusCode.Conflict, over.StatusCode);
        var malformed = await fx.Client(a.ApiKey).PostAsync("/v1/gatherings", ConversationsFixture.Body("{\"conferenceId\":"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
    }

    [Fact]
    public async Task Switched_off_features_and_the_per_conference_rate_limit_are_applied_by_Api()
    {
        var tenant = await fx.CreateTenantAsync("config");
        var conf = await fx.CreateConferenceAsync(tenant.ApiKey, new { name = "Lean", features = new { matchmaking = false }, limits = new { requestsPerMinute = 3 } });
        await fx.PutAttendeeAsync(tenant.ApiKey, conf, "u", Profile("U"));
        var off = await fx.Client(tenant.ApiKey).GetAsync($"/v1/matching/recommendations/u?conferenceId={conf}");
        Assert.Equal(HttpStatusCode.Forbidden, off.StatusCode);
        HttpResponseMessage last;
        var calls = 0;
        do
        {
            last = await fx.Client(tenant.ApiKey).GetAsync($"/v1/events/conferences/{conf}/attendees/u");
            calls++;
        }
        while (last.StatusCode == HttpStatusCode.OK && calls < 10);
        Assert.Equal(HttpStatusCode.TooManyRequests, last.StatusCode);
        // Call 1 was the PUT; the refused 403 spends nothing. A minute boundary in between may grant one fresh window.
        Assert.True(calls <= 6, $"limit 3 per minute, but call {calls} was the first refused");
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(double obj) => 0;
    }
}
