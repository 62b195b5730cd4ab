using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using System.Text.Json;
using Platform.Core.Civic;
using Platform.Tests.Unit.Civic;

namespace Platform.Tests.Integration.Civic;

/// <summary>The whole pipeline on real PostgreSQL with the real Api and Worker: scan → ingest → extract → summarize → publish → outbox.</summary>
public sealed class CivicPipelineTests(CivicFixture f) : IClassFixture<CivicFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Seed_cities_publish_every_meeting_with_evidence_equal_to_the_artifact_text_and_rescans_create_nothing()
    {
        var (tenant, key) = await f.CreateTenantAsync("seeds");
        var requests = new ConcurrentQueue<string>();
        await using var http = await CivicFixture.ServeFolderAsync(CivicSeeds.Lakeshore, requests.Enqueue);
        var riverton = await f.CreateCityAsync(key, "riverton", "file", CivicFixture.CopyToTemp(CivicSeeds.Riverton));
        var lakeshore = await f.CreateCityAsync(key, "lakeshore", "http", new Uri(http.BaseAddress, "feed.json").ToString());

        // Readers: one subscriber, one paused, one with notifications off (all of Riverton).
        var alice = f.Client(f.UserToken(tenant, "alice"));
        Assert.Equal(HttpStatusCode.OK, (await alice.PatchAsJsonAsync("/v1/civic/me", new { homeCityId = riverton, email = "alice@example.org" })).StatusCode);
        await f.Client(f.UserToken(tenant, "bob")).PatchAsJsonAsync("/v1/civic/me", new { homeCityId = riverton, pauseUntil = DateTimeOffset.UtcNow.AddDays(7) });
        await f.Client(f.UserToken(tenant, "carol")).PatchAsJsonAsync("/v1/civic/me", new { homeCityId = riverton, notificationsEnabled = false });

        await f.ScanAsync(riverton);
        await f.ScanAsync(lakeshore);
        await f.SettledAsync(riverton);
        await f.SettledAsync(lakeshore);

        // Every seed document is a published meeting whose evidence can be cut out of the document itself.
        var feed = JsonDocument.Parse(File.ReadAllText(Path.Combine(CivicSeeds.Lakeshore, "feed.json"))).RootElement.GetProperty("meetings")
            .EnumerateArray().ToDictionary(m => m.GetProperty("uid").GetString()!, m => Path.Combine(CivicSeeds.Lakeshore, m.GetProperty("url").GetString()!));
        var files = CivicSeeds.Documents(CivicSeeds.Riverton).ToDictionary(p => Path.GetFileNameWithoutExtension(p), p => p)
            .Concat(feed).ToDictionary();
        var published = 0;
        foreach (var city in new[] { riverton, lakeshore })
        {
            var page = await CivicFixture.Json(await alice.GetAsync($"/v1/civic/cities/{city}/meetings?limit=100"));
            foreach (var item in page.GetProperty("items").EnumerateArray())
            {
                var uid = item.GetProperty("meetingUid").GetString()!;
                Assert.Equal("processed", item.GetProperty("status").GetString());
                var path = files[uid];
                var text = DocumentText.Extract(File.ReadAllBytes(path), DocumentText.MediaTypeOf(path));
                var meeting = await CivicFixture.Json(await alice.GetAsync($"/v1/civic/meetings/{item.GetProperty("id").GetGuid()}"));
                var summary = meeting.GetProperty("summary");
                Assert.Equal(1, summary.GetProperty("version").GetInt32());
                Assert.Equal("pass", summary.GetProperty("confidenceLabel").GetString());
                Assert.Equal(CivicSeeds.VoteLines(text), summary.GetProperty("keyDecisions").GetArrayLength());
                Assert.All(summary.GetProperty("keyDecisions").EnumerateArray(), d => Assert.NotEqual("unknown", d.GetProperty("outcome").GetString()));
                var evidence = await CivicFixture.Json(await alice.GetAsync($"/v1/civic/meetings/{item.GetProperty("id").GetGuid()}/evidence"));
                var excerpts = evidence.GetProperty("claims").EnumerateArray().SelectMany(c => c.GetProperty("evidence").EnumerateArray()).ToList();
                Assert.NotEmpty(excerpts);
                Assert.All(excerpts, e => Assert.Equal(text[e.GetProperty("start").GetInt32()..e.GetProperty("end").GetInt32()], e.GetProperty("excerpt").GetString()));
                published++;
            }
        }
        Assert.Equal(files.Count, published);
        Assert.True(published >= 12);

        // Subscribers of Riverton get one notification per meeting; paused and disabled users get nothing.
        var rivertonMeetings = CivicSeeds.Documents(CivicSeeds.Riverton).Count();
        Assert.Equal(rivertonMeetings, await f.CountAsync("SELECT count(*) FROM ops.notification_outbox WHERE tenant_id = $1 AND user_id = 'alice'", tenant));
        Assert.Equal(0, await f.CountAsync("SELECT count(*) FROM ops.notification_outbox WHERE tenant_id = $1 AND user_id IN ('bob', 'carol')", tenant));
        // Each reads as a person sees it in an email or the app: the city and meeting, and the published short summary.
        Assert.Equal(rivertonMeetings, await f.CountAsync("""
            SELECT count(*) FROM ops.notification_outbox o
            JOIN civic.summary_versions v ON v.id = (o.payload->>'versionId')::uuid
            WHERE o.tenant_id = $1 AND o.user_id = 'alice' AND o.payload->>'title' LIKE 'riverton: %'
              AND left(v.short_summary, 40) = left(o.payload->>'summary', 40)
            """, tenant));

        // A re-scan of unchanged sources creates nothing; the feed answers 304 to the conditional request.
        var before = await SnapshotAsync(tenant);
        await f.ScanAsync(riverton);
        await f.ScanAsync(lakeshore);
        await f.SettledAsync(riverton);
        await f.SettledAsync(lakeshore);
        Assert.Equal(before, await SnapshotAsync(tenant));
        Assert.Contains("304 feed.json", requests);
    }

    [Fact]
    public async Task A_changed_document_and_a_rerun_publish_new_current_versions_and_notify_nobody_twice()
    {
        var (tenant, key) = await f.CreateTenantAsync("versions");
        var folder = CivicFixture.CopyToTemp(CivicSeeds.Riverton, take: 2);
        var city = await f.CreateCityAsync(key, "versions", "file", folder);
        await f.Client(f.UserToken(tenant, "dana")).PatchAsJsonAsync("/v1/civic/me", new { homeCityId = city });
        await f.ScanAsync(city);
        await f.SettledAsync(city);
        Assert.Equal(2, await f.CountAsync("SELECT count(*) FROM civic.meetings WHERE city_id = $1 AND status = 'processed'", city));

        // The clerk corrects one document: a new artifact, a new run, version 2 current, version 1 kept.
        var changed = Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal).First();
        File.AppendAllText(changed, "Correction: the minutes were amended on approval to fix a speaker's street name.\n");
        await f.ScanAsync(city);
        await f.SettledAsync(city);
        var meetingId = Guid.Parse((await f.ScalarAsync("SELECT id FROM civic.meetings WHERE city_id = $1 AND meeting_uid = $2",
            city, Path.GetFileNameWithoutExtension(changed)))!);
        Assert.Equal(2, await f.CountAsync("SELECT count(*) FROM civic.summary_versions WHERE meeting_id = $1", meetingId));
        Assert.Equal("2", await f.ScalarAsync("SELECT version FROM civic.summary_versions WHERE meeting_id = $1 AND is_current", meetingId));
        Assert.Equal(3, await f.CountAsync("SELECT count(*) FROM civic.artifacts WHERE tenant_id = $1", tenant));

        // An ops user reruns the other meeting: version 2 current, version 1 kept, one current, no second notification.
        var other = Guid.Parse((await f.ScalarAsync("SELECT id FROM civic.meetings WHERE city_id = $1 AND id <> $2", city, meetingId))!);
        Assert.Equal(HttpStatusCode.Forbidden, (await f.Client(f.UserToken(tenant, "reader")).PostAsync($"/v1/internal/meetings/{other}/rerun", null)).StatusCode);
        var ops = f.Client(f.UserToken(tenant, "oscar", "ops"));
        var rerun = await ops.PostAsync($"/v1/internal/meetings/{other}/rerun", null);
        Assert.Equal(HttpStatusCode.Accepted, rerun.StatusCode);
        var runId = (await CivicFixture.Json(rerun)).GetProperty("runId").GetGuid();
        var run = await Eventually.ReturnsAsync(async () => await CivicFixture.Json(await ops.GetAsync($"/v1/internal/runs/{runId}")),
            r => r.GetProperty("status").GetString() != "running", Patience, "rerun finishes");
        Assert.Equal("published", run.GetProperty("status").GetString());
        foreach (var stage in new[] { "extract", "summarize", "publish" })
        {
            Assert.Equal("done", run.GetProperty("stages").GetProperty(stage).GetProperty("status").GetString());
        }
        Assert.Equal(2, await f.CountAsync("SELECT count(*) FROM civic.summary_versions WHERE meeting_id = $1", other));
        Assert.Equal(1, await f.CountAsync("SELECT count(*) FROM civic.summary_versions WHERE meeting_id = $1 AND is_current", other));
        Assert.Equal(runId.ToString(), await f.ScalarAsync("SELECT run_id FROM civic.summary_versions WHERE meeting_id = $1 AND is_current", other));
        Assert.Equal(2, await f.CountAsync("SELECT count(*) FROM ops.notification_outbox WHERE tenant_id = $1 AND user_id = 'dana'", tenant));

        // Published provenance is append-only in the database itself.
        await Assert.ThrowsAsync<Npgsql.PostgresException>(() =>
            f.CountAsync("WITH d AS (DELETE FROM civic.claim_evidence RETURNING 1) SELECT count(*) FROM d"));
    }

    [Fact]
    public async Task Broken_sources_fail_their_own_runs_with_a_recorded_error_and_the_other_city_is_published()
    {
        var (tenant, key) = await f.CreateTenantAsync("broken");
        await using var failing = await StubServer.StartAsync(app => app.MapGet("/feed.json", () => Microsoft.AspNetCore.Http.Results.StatusCode(500)));
        await using var slow = await StubServer.StartAsync(app => app.MapGet("/feed.json", async (CancellationToken ct) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(30), ct); // the peer is slow; the source's 3 s timeout gives up first
            return Microsoft.AspNetCore.Http.Results.Ok();
        }));
        var garbageFolder = CivicFixture.CopyToTemp(CivicSeeds.Riverton, take: 1);
        File.WriteAllText(Path.Combine(garbageFolder, "2025-04-08-regular.pdf"), "%PDF-1.4\nthis is not really a pdf\n%%EOF\n");

        var down = await f.CreateCityAsync(key, "down", "http", new Uri(failing.BaseAddress, "feed.json").ToString());
        var timeout = await f.CreateCityAsync(key, "timeout", "http", new Uri(slow.BaseAddress, "feed.json").ToString());
        var garbage = await f.CreateCityAsync(key, "garbage", "file", garbageFolder);
        var good = await f.CreateCityAsync(key, "good", "file", CivicFixture.CopyToTemp(CivicSeeds.Riverton, take: 2));
        foreach (var c in new[] { down, timeout, garbage, good })
        {
            await f.ScanAsync(c);
        }
        foreach (var c in new[] { down, timeout, garbage, good })
        {
            await f.SettledAsync(c);
        }

        Assert.Equal(2, await f.CountAsync("SELECT count(*) FROM civic.meetings WHERE city_id = $1 AND status = 'processed'", good));
        Assert.Contains("500", (await f.ScalarAsync("SELECT error FROM civic.processing_runs WHERE city_id = $1 AND status = 'failed'", down))!);
        Assert.Contains("timed out", (await f.ScalarAsync("SELECT error FROM civic.processing_runs WHERE city_id = $1 AND status = 'failed'", timeout))!);
        Assert.Contains("500", (await f.ScalarAsync("SELECT last_error FROM civic.sources WHERE city_id = $1", down))!);

        // The garbage PDF fails its own meeting's run at extract; the good document of the same city is published.
        var failedRun = Guid.Parse((await f.ScalarAsync("""
            SELECT r.id FROM civic.processing_runs r JOIN civic.meetings m ON m.id = r.meeting_id
            WHERE m.city_id = $1 AND m.meeting_uid = '2025-04-08-regular'
            """, garbage))!);
        var run = await CivicFixture.Json(await f.Client(TestSettings.OperatorKey).GetAsync($"/v1/internal/runs/{failedRun}"));
        Assert.Equal("failed", run.GetProperty("status").GetString());
        Assert.Contains("unreadable application/pdf", run.GetProperty("error").GetString());
        Assert.Equal("failed", run.GetProperty("stages").GetProperty("extract").GetProperty("status").GetString());
        Assert.Equal("failed", await f.ScalarAsync("SELECT status FROM civic.meetings WHERE city_id = $1 AND meeting_uid = '2025-04-08-regular'", garbage));
        Assert.Equal(1, await f.CountAsync("SELECT count(*) FROM civic.meetings WHERE city_id = $1 AND status = 'processed'", garbage));
    }

    [Fact]
    public async Task The_profile_still_answers_at_its_old_address_marked_deprecated_with_a_link_to_the_new_one()
    {
        var (tenant, _) = await f.CreateTenantAsync("moved");
        var gina = f.Client(f.UserToken(tenant, "gina"));
        var patched = await gina.PatchAsJsonAsync("/v1/me", new { displayName = "Gina" });
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        Assert.Equal("@1796428800", Assert.Single(patched.Headers.GetValues("Deprecation")));
        Assert.Equal("</v1/civic/me>; rel=\"successor-version\"", Assert.Single(patched.Headers.GetValues("Link")));
        // Same profile at both addresses; the new one carries no deprecation.
        var current = await gina.GetAsync("/v1/civic/me");
        Assert.False(current.Headers.Contains("Deprecation"));
        Assert.Equal("Gina", (await CivicFixture.Json(current)).GetProperty("displayName").GetString());
        // Notification settings keep their /v1/me/... addresses, undeprecated.
        Assert.False((await gina.GetAsync("/v1/me/notification-preferences")).Headers.Contains("Deprecation"));

        var paths = JsonDocument.Parse(await f.Client().GetStringAsync("/openapi/v1.json")).RootElement.GetProperty("paths");
        Assert.True(paths.GetProperty("/v1/me").GetProperty("delete").GetProperty("deprecated").GetBoolean());
        Assert.False(paths.GetProperty("/v1/civic/me").GetProperty("delete").TryGetProperty("deprecated", out _));
    }

    [Fact]
    public async Task Deleting_a_profile_anonymizes_it()
    {
        var (tenant, key) = await f.CreateTenantAsync("privacy");
        var city = await f.CreateCityAsync(key, "privacy", "file", CivicFixture.CopyToTemp(CivicSeeds.Riverton, take: 1));
        var erin = f.Client(f.UserToken(tenant, "erin"));
        var patched = await CivicFixture.Json(await erin.PatchAsJsonAsync("/v1/civic/me",
            new { displayName = "Erin Example", email = "erin@example.org", homeCityId = city }));
        Assert.Equal("erin@example.org", patched.GetProperty("email").GetString());

        Assert.Equal(HttpStatusCode.Accepted, (await erin.DeleteAsync("/v1/civic/me")).StatusCode);
        await Eventually.TrueAsync(async () =>
            await f.CountAsync("SELECT count(*) FROM civic.profiles WHERE tenant_id = $1 AND user_id = 'erin'", tenant) == 0, Patience, "profile anonymised");
        Assert.Equal(1, await f.CountAsync("""
            SELECT count(*) FROM civic.profiles WHERE tenant_id = $1 AND user_id LIKE 'deleted:%' AND email IS NULL AND display_name IS NULL
              AND home_city_id IS NULL AND NOT notifications_enabled AND deleted_at IS NOT NULL
            """, tenant));
        Assert.Equal(0, await f.CountAsync("SELECT count(*) FROM civic.profiles WHERE email = 'erin@example.org'"));
    }

    [Fact]
    public async Task Minutes_in_clerk_prose_with_no_date_in_the_file_name_publish_a_title_date_and_decisions_from_the_text()
    {
        var (tenant, key) = await f.CreateTenantAsync("prose");
        var folder = Path.Combine(CivicFixture.FileRoot, "civic-prose-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var corpus = Platform.Eval.Civic.CivicEvaluation.FindCorpus(AppContext.BaseDirectory);
        File.Copy(Path.Combine(corpus, "dev", "hand-tillman-2026-05-12.txt"), Path.Combine(folder, "board-minutes.txt"));
        var city = await f.CreateCityAsync(key, "tillman", "file", folder);

        await f.ScanAsync(city);
        await f.SettledAsync(city);

        var reader = f.Client(f.UserToken(tenant, "reader"));
        var item = (await CivicFixture.Json(await reader.GetAsync($"/v1/civic/cities/{city}/meetings"))).GetProperty("items")[0];
        Assert.Equal("Village Board regular meeting, May 12, 2026", item.GetProperty("title").GetString());
        Assert.Equal("2026-05-12", item.GetProperty("meetingDate").GetString());
        var summary = (await CivicFixture.Json(await reader.GetAsync($"/v1/civic/meetings/{item.GetProperty("id").GetGuid()}"))).GetProperty("summary");
        Assert.Equal("pass", summary.GetProperty("confidenceLabel").GetString());
        Assert.Equal(ExtractiveSummarizer.Name, summary.GetProperty("summarizer").GetString());
        var decisions = summary.GetProperty("keyDecisions").EnumerateArray().Select(d => d.GetProperty("motion").GetString()).ToList();
        Assert.Equal(4, decisions.Count);
        Assert.Equal("Awarded the brush collection contract to Green Acres Tree Service, 4-1", decisions[0]);
        Assert.StartsWith("Village Board regular meeting, May 12, 2026: 4 decisions", summary.GetProperty("shortSummary").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_input_is_a_problem_and_writes_nothing()
    {
        var (tenant, key) = await f.CreateTenantAsync("validation");
        var api = f.Client(key);
        var bad = await api.PostAsJsonAsync("/v1/civic/cities",
            new { slug = "Bad Slug", name = "", cron = "every day", sources = new[] { new { kind = "ftp", location = "x" } } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
        var errors = (await CivicFixture.Json(bad)).GetProperty("errors");
        foreach (var field in new[] { "slug", "name", "cron", "sources[0]" })
        {
            Assert.True(errors.TryGetProperty(field, out _), field);
        }
        Assert.Equal(HttpStatusCode.BadRequest, (await api.PostAsync("/v1/civic/cities", new StringContent("{\"slug\":", System.Text.Encoding.UTF8, "application/json"))).StatusCode);
        Assert.Equal(0, await f.CountAsync("SELECT count(*) FROM civic.cities WHERE tenant_id = $1", tenant));

        var city = await f.CreateCityAsync(key, "valid", "file", CivicFixture.CopyToTemp(CivicSeeds.Riverton, take: 1));
        Assert.Equal(HttpStatusCode.Conflict, (await api.PostAsJsonAsync("/v1/civic/cities",
            new { slug = "valid", name = "again", sources = new[] { new { kind = "file", location = CivicFixture.FileRoot } } })).StatusCode);
        var reader = f.Client(f.UserToken(tenant, "frank"));
        Assert.Equal(HttpStatusCode.BadRequest, (await reader.GetAsync($"/v1/civic/cities/{city}/meetings?limit=0")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await reader.GetAsync($"/v1/civic/cities/{city}/meetings?cursor=nope")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync($"/v1/civic/meetings/{Guid.NewGuid()}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await reader.PatchAsJsonAsync("/v1/civic/me", new { homeCityId = Guid.NewGuid() })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsync($"/v1/internal/cities/{city}/scan", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await f.Client().GetAsync("/v1/civic/me")).StatusCode);

        // Another tenant's reader sees nothing of this city.
        var (other, _) = await f.CreateTenantAsync("other");
        Assert.Equal(HttpStatusCode.NotFound, (await f.Client(f.UserToken(other, "frank")).GetAsync($"/v1/civic/cities/{city}/meetings")).StatusCode);
    }

    private async Task<string> SnapshotAsync(Guid tenant) => string.Join(",",
        await f.CountAsync("SELECT count(*) FROM civic.meetings WHERE tenant_id = $1", tenant),
        await f.CountAsync("SELECT count(*) FROM civic.artifacts WHERE tenant_id = $1", tenant),
        await f.CountAsync("SELECT count(*) FROM civic.processing_runs WHERE tenant_id = $1", tenant),
        await f.CountAsync("SELECT count(*) FROM civic.summary_versions v JOIN civic.meetings m ON m.id = v.meeting_id WHERE m.tenant_id = $1", tenant),
        await f.CountAsync("SELECT count(*) FROM ops.notification_outbox WHERE tenant_id = $1", tenant));
}
