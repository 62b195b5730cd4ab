using System.Text.Json;
using Npgsql;
using static Platform.Tests.Integration.Community.CommunityFixture;
using static Platform.Tests.Integration.Conversations.ConversationsFixture;

namespace Platform.Tests.Integration.Community;

[Collection(CommunityCollection.Name)]
public sealed class ChampionConsentTests(CommunityFixture f)
{
    [Fact]
    public async Task A_person_without_recognition_consent_is_absent_from_rankings_counted_anonymously_and_the_exclusion_is_in_provenance()
    {
        var tenant = await f.CreateTenantAsync("consent");
        var now = DateTimeOffset.UtcNow;
        var people = Enumerable.Range(1, 12).Select(i => $"p{i}").ToList();
        foreach (var (p, i) in people.Select((p, i) => (p, i)))
        {
            await f.PutMemberAsync(tenant.ApiKey, p, i < 6 ? "alpha" : "beta");
        }
        // p1 is the hub everybody replies to and endorses; p2 is second.
        var signals = new List<object>();
        foreach (var p in people.Skip(1))
        {
            signals.Add(Signal("reply", p, "p1", now.AddDays(-1), $"r-{p}"));
            signals.Add(Signal("endorsement", p, "p1", now.AddDays(-2), $"e-{p}"));
            if (p != "p2") signals.Add(Signal("mention", p, "p2", now.AddDays(-3), $"m-{p}"));
        }
        await f.PostSignalsAsync(tenant.ApiKey, signals);
        foreach (var p in people.Skip(1)) await f.GrantAsync(tenant.Id, p, "recognition");

        var ranking = await f.RefreshAndDiscoverAsync(tenant.Id);
        var ids = ranking.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("userId").GetString()).ToList();
        Assert.DoesNotContain("p1", ids);
        Assert.Equal("p2", ids[0]);
        Assert.Equal(1, ranking.GetProperty("entries")[0].GetProperty("rank").GetInt32());
        Assert.Equal(12, ranking.GetProperty("counts").GetProperty("members").GetInt32()); // p1 still counted
        Assert.Equal(1, ranking.GetProperty("counts").GetProperty("excludedWithoutConsent").GetInt32());
        var first = ranking.GetProperty("entries")[0];
        Assert.NotEmpty(first.GetProperty("components").EnumerateObject());
        Assert.NotEmpty(first.GetProperty("why").EnumerateArray());
        // No "why" anywhere names p1.
        Assert.DoesNotContain("\"p1\"", ranking.GetProperty("entries").GetRawText());
        var provenance = ranking.GetProperty("provenance");
        Assert.Equal("champion-ranking", provenance.GetProperty("algorithm").GetString());
        Assert.StartsWith("champion-ranking/1", provenance.GetProperty("version").GetString());

        var officer = f.Client(f.UserToken(tenant.Id, "officer", "compliance_officer"));
        var events = await Json(await officer.GetAsync("/v1/provenance/events?action=ranking.computed"));
        var computed = events.GetProperty("items").EnumerateArray().Single(e => e.GetProperty("id").GetGuid() == provenance.GetProperty("eventId").GetGuid());
        using var details = JsonDocument.Parse(computed.GetProperty("details").GetString()!);
        var excluded = details.RootElement.GetProperty("excluded");
        Assert.Equal(1, excluded.GetProperty("count").GetInt32());
        Assert.Equal("p1", excluded.GetProperty("subjects")[0].GetString());
        Assert.Equal("no recognition consent", excluded.GetProperty("reason").GetString());

        // Granting consent puts p1 back on top at the next run; withdrawing removes them at once (checked on read).
        await f.GrantAsync(tenant.Id, "p1", "recognition");
        var again = await f.RefreshAndDiscoverAsync(tenant.Id);
        Assert.Equal("p1", again.GetProperty("entries")[0].GetProperty("userId").GetString());
        var withdraw = await f.Client(f.UserToken(tenant.Id, "p1", "member")).PutAsJsonAsync("/v1/me/consents/recognition", new { granted = false });
        Assert.Equal(HttpStatusCode.OK, withdraw.StatusCode);
        var manager = f.Client(f.UserToken(tenant.Id, "manager", "community_manager"));
        var afterWithdraw = await Json(await manager.GetAsync("/v1/champions/discover?kind=champion"));
        Assert.DoesNotContain("\"p1\"", afterWithdraw.GetProperty("entries").GetRawText());

        var connectors = await Json(await manager.GetAsync("/v1/champions/discover?kind=connector&team=beta&limit=3"));
        Assert.All(connectors.GetProperty("entries").EnumerateArray(), e => Assert.Equal("beta", e.GetProperty("team").GetString()));
        Assert.True(connectors.GetProperty("entries").GetArrayLength() <= 3);
    }
}

[Collection(CommunityCollection.Name)]
public sealed class ProvenanceChainTests(CommunityFixture f)
{
    [Fact]
    public async Task The_chain_verifies_and_a_row_tampered_with_by_a_privileged_connection_is_reported()
    {
        var tenant = await f.CreateTenantAsync("chain");
        await f.PutMemberAsync(tenant.ApiKey, "ann", "alpha");
        foreach (var purpose in new[] { "recognition", "pulse", "share_profile" }) await f.GrantAsync(tenant.Id, "ann", purpose);
        var ann = f.Client(f.UserToken(tenant.Id, "ann", "member"));
        var data = await Json(await ann.GetAsync("/v1/me/data"));
        Assert.Equal("ann", data.GetProperty("userId").GetString());
        Assert.NotEqual(Guid.Empty, data.GetProperty("provenance").GetProperty("eventId").GetGuid());

        var officer = f.Client(f.UserToken(tenant.Id, "officer", "compliance_officer"));
        var ok = await Json(await officer.GetAsync("/v1/provenance/verify"));
        Assert.True(ok.GetProperty("ok").GetBoolean());
        Assert.Equal(4, ok.GetProperty("checked").GetInt64());
        Assert.Equal(JsonValueKind.Null, ok.GetProperty("firstBrokenEventId").ValueKind);

        // The personal-data read is in the ledger, subject ann.
        var reads = await Json(await officer.GetAsync("/v1/provenance/events?subjectId=ann&action=personal_data.read"));
        Assert.Single(reads.GetProperty("items").EnumerateArray());

        await using var conn = new NpgsqlConnection(f.Database);
        await conn.OpenAsync();
        // An ordinary UPDATE is refused by the append-only trigger.
        await using (var update = new NpgsqlCommand("UPDATE governance.provenance_events SET actor = 'x' WHERE tenant_id = $1", conn))
        {
            update.Parameters.AddWithValue(tenant.Id);
            await Assert.ThrowsAsync<PostgresException>(() => update.ExecuteNonQueryAsync());
        }
        // A superuser disables the trigger and rewrites the second event.
        Guid tampered;
        await using (var disable = new NpgsqlCommand("ALTER TABLE governance.provenance_events DISABLE TRIGGER provenance_append_only", conn))
        {
            await disable.ExecuteNonQueryAsync();
        }
        await using (var cmd = new NpgsqlCommand(
            "UPDATE governance.provenance_events SET details = '{\"purpose\":\"pulse\",\"granted\":false}' WHERE tenant_id = $1 AND seq = 2 RETURNING id", conn))
        {
            cmd.Parameters.AddWithValue(tenant.Id);
            tampered = (Guid)(await cmd.ExecuteScalarAsync())!;
        }
        await using (var enable = new NpgsqlCommand("ALTER TABLE governance.provenance_events ENABLE TRIGGER provenance_append_only", conn))
        {
            await enable.ExecuteNonQueryAsync();
        }
        var broken = await Json(await officer.GetAsync("/v1/provenance/verify"));
        Assert.False(broken.GetProperty("ok").GetBoolean());
        Assert.Equal(tampered, broken.GetProperty("firstBrokenEventId").GetGuid());
        Assert.Equal(2, broken.GetProperty("checked").GetInt64());

        // Another tenant's chain is unaffected.
        var other = await f.CreateTenantAsync("chain-other");
        await f.GrantAsync(other.Id, "bob", "pulse");
        var otherOk = await Json(await f.Client(f.UserToken(other.Id, "officer", "compliance_officer")).GetAsync("/v1/provenance/verify"));
        Assert.True(otherOk.GetProperty("ok").GetBoolean());
    }
}

[Collection(CommunityCollection.Name)]
public sealed class PulseTests(CommunityFixture f)
{
    [Fact]
    public async Task Groups_below_five_people_are_pooled_and_components_that_cannot_be_computed_say_unavailable()
    {
        var tenant = await f.CreateTenantAsync("pulse");
        var now = DateTimeOffset.UtcNow;
        var big = Enumerable.Range(1, 6).Select(i => $"big{i}").ToList();
        var small = Enumerable.Range(1, 3).Select(i => $"small{i}").ToList();
        foreach (var p in big) await f.PutMemberAsync(tenant.ApiKey, p, "big");
        foreach (var p in small) await f.PutMemberAsync(tenant.ApiKey, p, "small");
        foreach (var p in big.Concat(small)) await f.GrantAsync(tenant.Id, p, "pulse");
        await f.PutMemberAsync(tenant.ApiKey, "lead", "big", ["team_lead"]);
        var signals = new List<object>();
        foreach (var p in big) signals.Add(Signal("message", p, null, now.AddDays(-2), $"msg-{p}", "This is great, thanks so much!"));
        foreach (var p in big.Skip(1)) signals.Add(Signal("reply", p, "big1", now.AddDays(-1), $"rep-{p}"));
        foreach (var p in small) signals.Add(Signal("message", p, null, now.AddDays(-2), $"msg-{p}"));
        await f.PostSignalsAsync(tenant.ApiKey, signals);

        var manager = f.Client(f.UserToken(tenant.Id, "manager", "community_manager"));
        var pulse = await Json(await manager.GetAsync("/v1/pulse/aggregate?groupBy=team&window=30d"));
        var groups = pulse.GetProperty("groups").EnumerateArray().ToList();
        var bigGroup = Assert.Single(groups);
        Assert.Equal("big", bigGroup.GetProperty("group").GetString());
        Assert.Equal(6, bigGroup.GetProperty("engagement").GetProperty("activeMembers").GetInt32());
        Assert.True(bigGroup.GetProperty("sentiment").GetProperty("mean").GetDouble() > 0.05);
        Assert.Equal("unavailable", bigGroup.GetProperty("psychologicalSafety").GetString());
        Assert.Equal("unavailable", bigGroup.GetProperty("trend").GetString());
        Assert.Equal(1, pulse.GetProperty("suppressed").GetProperty("groups").GetInt32());
        Assert.Equal(3, pulse.GetProperty("suppressed").GetProperty("members").GetInt32());
        Assert.DoesNotContain("small", pulse.GetProperty("groups").GetRawText());
        Assert.Equal("pulse", pulse.GetProperty("provenance").GetProperty("algorithm").GetString());

        // Psychological safety: four respondents stay below the floor, the fifth makes it reportable.
        var survey = await Json(await manager.PostAsJsonAsync("/v1/pulse/surveys", new { title = "Q1 safety", team = "big" }));
        var surveyId = survey.GetProperty("id").GetGuid();
        for (var i = 0; i < 5; i++)
        {
            if (i == 4)
            {
                var under = await Json(await manager.GetAsync("/v1/pulse/aggregate?groupBy=team"));
                Assert.Equal("unavailable", under.GetProperty("groups")[0].GetProperty("psychologicalSafety").GetString());
            }
            var r = await f.Client(f.UserToken(tenant.Id, big[i], "member"))
                .PostAsJsonAsync($"/v1/pulse/surveys/{surveyId}/responses", new { answers = new[] { 2, 6, 2, 6, 2, 6, 6 } });
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        }
        var full = await Json(await manager.GetAsync("/v1/pulse/aggregate?groupBy=team"));
        var safety = full.GetProperty("groups")[0].GetProperty("psychologicalSafety");
        Assert.Equal(5, safety.GetProperty("respondents").GetInt32());
        Assert.Equal(6.0, safety.GetProperty("mean").GetDouble(), 6); // items 1, 3, 5 reverse-scored: 8 − 2 = 6

        var bad = await f.Client(f.UserToken(tenant.Id, big[0], "member"))
            .PostAsJsonAsync($"/v1/pulse/surveys/{surveyId}/responses", new { answers = new[] { 1, 2, 3, 8, 1, 1, 1 } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("answers", (await Json(bad)).GetProperty("errors").EnumerateObject().Single().Name);
        Assert.Equal(HttpStatusCode.BadRequest, (await manager.GetAsync("/v1/pulse/aggregate?groupBy=planet")).StatusCode);

        // A team lead sees their own team only.
        var lead = f.Client(f.UserToken(tenant.Id, "lead", "team_lead"));
        Assert.Equal(HttpStatusCode.OK, (await lead.GetAsync("/v1/pulse/aggregate?groupBy=team")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await lead.GetAsync("/v1/pulse/aggregate?groupBy=team&team=small")).StatusCode);
    }
}

[Collection(CommunityCollection.Name)]
public sealed class SignalTests(CommunityFixture f)
{
    [Fact]
    public async Task Signals_are_idempotent_on_sourceRef_and_a_bad_batch_stores_nothing()
    {
        var tenant = await f.CreateTenantAsync("signals");
        var now = DateTimeOffset.UtcNow;
        var first = await f.PostSignalsAsync(tenant.ApiKey, [Signal("reply", "a", "b", now, "s-1"), Signal("mention", "a", "c", now, "s-2")]);
        Assert.Equal(2, first.GetProperty("stored").GetInt32());
        var again = await f.PostSignalsAsync(tenant.ApiKey, [Signal("reply", "a", "b", now, "s-1"), Signal("endorsement", "b", "a", now, "s-3")]);
        Assert.Equal(1, again.GetProperty("stored").GetInt32());
        Assert.Equal(1, again.GetProperty("duplicates").GetInt32());

        var bad = await f.Client(tenant.ApiKey).PostAsJsonAsync("/v1/community/signals",
            new { signals = new[] { Signal("reply", "a", "b", now, "s-9"), Signal("gossip", "a", "b", now, "s-10") } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("signals[1].kind", (await Json(bad)).GetProperty("errors").EnumerateObject().Select(e => e.Name));
        var tooMany = await f.Client(tenant.ApiKey).PostAsJsonAsync("/v1/community/signals",
            new { signals = Enumerable.Range(0, 1001).Select(i => Signal("message", "a", null, now, $"x-{i}")).ToArray() });
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        var malformed = await f.Client(tenant.ApiKey).PostAsync("/v1/community/signals", Body("{\"signals\": [ {\"kind\": 5} ]}"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal("application/problem+json", malformed.Content.Headers.ContentType!.MediaType);

        var a = await Json(await f.Client(f.UserToken(tenant.Id, "a", "member")).GetAsync("/v1/me/data"));
        var asActor = a.GetProperty("signals").EnumerateArray().Where(s => s.GetProperty("role").GetString() == "actor").Sum(s => s.GetProperty("count").GetInt64());
        Assert.Equal(2, asActor); // s-9 was not stored
    }

    [Fact]
    public async Task Conversation_replies_mentions_and_reactions_become_signals()
    {
        var world = await f.CreateWorldAsync("messaging-only");
        var client = f.Client(world.Tenant.ApiKey);
        var post = await Json(await client.PostAsJsonAsync($"/v1/conversations/{world.Conversation}/activities",
            new { type = "message", text = "Anyone tried the new build?", from = new { id = "ann" } }));
        var parentId = post.GetProperty("id").GetString();
        await client.PostAsJsonAsync($"/v1/conversations/{world.Conversation}/activities",
            new { type = "message", text = "Yes, works great @cat", from = new { id = "bob" }, replyToId = parentId,
                  entities = new object[] { new { type = "mention", mentioned = new { id = "cat" } } } });
        await client.PostAsJsonAsync($"/v1/conversations/{world.Conversation}/activities",
            new { type = "event", name = "reaction", value = new { emoji = "+1" }, from = new { id = "cat" }, replyToId = parentId });

        var ann = f.Client(f.UserToken(world.Tenant.Id, "ann", "member"));
        var data = await Eventually.ReturnsAsync(async () => await Json(await ann.GetAsync("/v1/me/data")),
            d => d.GetProperty("signals").EnumerateArray().Count(s => s.GetProperty("role").GetString() == "target") == 2,
            TimeSpan.FromSeconds(30), "the extraction job turns the reply and the reaction into signals targeting ann");
        var received = data.GetProperty("signals").EnumerateArray().Where(s => s.GetProperty("role").GetString() == "target")
            .Select(s => s.GetProperty("kind").GetString()).Order().ToList();
        Assert.Equal(["reaction", "reply"], received);
        var cat = await Json(await f.Client(f.UserToken(world.Tenant.Id, "cat", "member")).GetAsync("/v1/me/data"));
        Assert.Contains(cat.GetProperty("signals").EnumerateArray(), s => s.GetProperty("kind").GetString() == "mention" && s.GetProperty("role").GetString() == "target");
    }
}
