using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Platform.Tests.Integration.Impact;

/// <summary>CSV import, signed webhooks with domain events, scoring jobs and safety review through the public API and the real worker.</summary>
public sealed class ImpactIngestionTests(ImpactFixture fx) : IClassFixture<ImpactFixture>
{
    [Fact]
    public async Task Csv_import_reports_errors_by_line_commits_valid_rows_and_reimport_is_idempotent()
    {
        var tenant = await fx.CreateTenantAsync("csv");
        var company = await fx.CreateCompanyAsync(tenant.ApiKey, "Csv AS");
        const string file = """
            source,external_id,role,name,email,program,enrolled_at
            buddy,a1,participant,Ana,ana@example.org,buddy,2026-01-05
            buddy,a2,mentor,Bo,bo@example.org,buddy,2026-01-05
            buddy,a3,participant,"Lee, Chris",lee@example.org,cooking,2026-01-05
            buddy,,participant,Nameless,,buddy,
            buddy,a5,volunteer,Dee,dee@example.org,mentorship,2026-13-01
            buddy,a6,volunteer,"Eve ""E"" Stone",eve@example.org,mentorship,2026-02-01
            """;
        var report = await fx.ImportAsync(tenant.ApiKey, company, "participants", file);
        Assert.Equal(6, report.GetProperty("rows").GetInt32());
        Assert.Equal(2, report.GetProperty("imported").GetInt32());
        var errors = report.GetProperty("errors").EnumerateArray().Select(e => (e.GetProperty("line").GetInt32(), e.GetProperty("column").GetString())).ToList();
        Assert.Equal([(3, "role"), (4, "program"), (5, "external_id"), (7 - 1, "enrolled_at")], errors);
        Assert.Equal(2, await fx.CountAsync("SELECT count(*) FROM impact.people WHERE tenant_id = $1", tenant.Id));

        var again = await fx.ImportAsync(tenant.ApiKey, company, "participants", file);
        Assert.True(again.GetProperty("duplicate").GetBoolean());
        Assert.Equal(report.GetProperty("importId").GetGuid(), again.GetProperty("importId").GetGuid());
        Assert.Equal(2, await fx.CountAsync("SELECT count(*) FROM impact.people WHERE tenant_id = $1", tenant.Id));

        // A different file overlapping the same rows: the connector ids make it a no-op for them.
        var overlap = await fx.ImportAsync(tenant.ApiKey, company, "participants", file + "\nbuddy,a7,participant,Fay,fay@example.org,buddy,2026-03-01\n");
        Assert.Equal(1, overlap.GetProperty("imported").GetInt32());
        Assert.Equal(3, await fx.CountAsync("SELECT count(*) FROM impact.people WHERE tenant_id = $1", tenant.Id));

        // Another connector's id with the same e-mail joins the same person (unified profile).
        var kintell = await fx.ImportAsync(tenant.ApiKey, company, "participants", """
            source,external_id,role,name,email,program,enrolled_at
            kintell,k-77,participant,Ana,ANA@example.org,language,2026-02-01
            """);
        Assert.Equal(1, kintell.GetProperty("imported").GetInt32());
        Assert.Equal(await fx.PersonAsync(tenant.Id, "buddy", "a1"), await fx.PersonAsync(tenant.Id, "kintell", "k-77"));

        // Rows referring to unknown people are line errors; names and e-mails are never stored in clear.
        var sessions = await fx.ImportAsync(tenant.ApiKey, company, "sessions", """
            source,session_id,program,participant_id,volunteer_id,date,minutes
            buddy,s1,buddy,a1,a6,2026-02-02,60
            buddy,s2,buddy,nobody,a6,2026-02-02,60
            buddy,s3,buddy,a1,a6,2026-02-02,lots
            """);
        Assert.Equal([(3, "participant_id"), (4, "minutes")],
            sessions.GetProperty("errors").EnumerateArray().Select(e => (e.GetProperty("line").GetInt32(), e.GetProperty("column").GetString())).ToList());
        Assert.Equal(0, await fx.CountAsync("SELECT count(*) FROM impact.people WHERE position('ana@example.org' in encode(email_enc, 'escape')) > 0"));

        // Whole-file problems are 400 problem details and store nothing.
        var bad = await fx.Client(tenant.ApiKey).PostAsync($"/v1/impact/imports?companyId={company}&kind=sessions",
            new StringContent("source,session_id\nbuddy,x\n", Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
        Assert.Equal("header", (await ImpactFixture.Json(bad)).GetProperty("errors").EnumerateObject().Single().Name);
    }

    [Fact]
    public async Task Webhook_rejects_bad_signatures_and_replays_and_domain_events_update_journey_flags()
    {
        var s = await fx.SeedAsync("hooks");
        var issued = await fx.Client(s.Tenant.ApiKey).PostAsJsonAsync("/v1/impact/webhooks/buddy/secret", new { companyId = s.Company });
        Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
        var secret = (await ImpactFixture.Json(issued)).GetProperty("secret").GetString()!;
        var client = fx.Client();

        string Envelope(string id, string type, object data) => JsonSerializer.Serialize(new
        {
            type, data, metadata = new { id, version = "v1", timestamp = "2026-03-01T10:00:00Z", correlationId = "corr-1", causationId = (string?)null },
        });
        var match = Envelope("evt-1", "buddy.match.created", new { matchId = "m1", participantId = "p2", buddyId = "v1" });

        var forged = await client.SendAsync(fx.SignedWebhook(s.Tenant.Id, "buddy", "whs_wrong", match));
        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        var stale = await client.SendAsync(fx.SignedWebhook(s.Tenant.Id, "buddy", secret, match, DateTimeOffset.UtcNow.AddMinutes(-10).ToUnixTimeSeconds()));
        Assert.Equal(HttpStatusCode.Unauthorized, stale.StatusCode);
        var tampered = fx.SignedWebhook(s.Tenant.Id, "buddy", secret, match);
        tampered.Content = new StringContent(match.Replace("p2", "p1"), Encoding.UTF8, "application/json");
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(tampered)).StatusCode);
        // Counted per (source, reason, address, hour): the two signature mismatches share a row.
        Assert.Equal(3, await fx.CountAsync("SELECT coalesce(sum(attempts), 0) FROM impact.webhook_rejections WHERE tenant_id = $1", s.Tenant.Id));
        Assert.Equal(2, await fx.CountAsync("SELECT count(*) FROM impact.webhook_rejections WHERE tenant_id = $1", s.Tenant.Id));
        Assert.Equal(0, await fx.CountAsync("SELECT count(*) FROM impact.domain_events WHERE tenant_id = $1", s.Tenant.Id));

        Assert.Equal(HttpStatusCode.Accepted, (await client.SendAsync(fx.SignedWebhook(s.Tenant.Id, "buddy", secret, match))).StatusCode);
        var replay = await client.SendAsync(fx.SignedWebhook(s.Tenant.Id, "buddy", secret, match));
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.True((await ImpactFixture.Json(replay)).GetProperty("duplicate").GetBoolean());

        var unsupported = Envelope("evt-x", "buddy.match.created", new { matchId = "m1", participantId = "p2", buddyId = "v1" }).Replace("\"version\":\"v1\"", "\"version\":\"v9\"");
        var v9 = await client.SendAsync(fx.SignedWebhook(s.Tenant.Id, "buddy", secret, unsupported));
        Assert.Equal(HttpStatusCode.BadRequest, v9.StatusCode);

        var session = Envelope("evt-2", "kintell.session.completed", new { sessionId = "k-s1", participantId = "p2", volunteerId = "v1", durationMinutes = 50, program = "language", at = "2026-03-02T09:00:00Z" });
        Assert.Equal(HttpStatusCode.Accepted, (await client.SendAsync(fx.SignedWebhook(s.Tenant.Id, "buddy", secret, session))).StatusCode);
        var course = Envelope("evt-3", "upskilling.course.completed", new { recordId = "u1", participantId = "p2", course = "Excel basics", credential = "cert-1" });
        Assert.Equal(HttpStatusCode.Accepted, (await client.SendAsync(fx.SignedWebhook(s.Tenant.Id, "buddy", secret, course))).StatusCode);

        var p2 = await fx.PersonAsync(s.Tenant.Id, "buddy", "p2");
        var profile = await Eventually.ReturnsAsync(async () => await ImpactFixture.Json(await fx.Client(s.Tenant.ApiKey).GetAsync($"/v1/impact/people/{p2}")),
            p => p.GetProperty("journey").TryGetProperty("courseCompleted", out _) && p.GetProperty("journey").TryGetProperty("buddyMatched", out _)
                 && p.GetProperty("journey").TryGetProperty("languageSessionCompleted", out _),
            TimeSpan.FromSeconds(30), "journey flags from the three events");
        Assert.Equal("Jonas Berg", profile.GetProperty("name").GetString());
        Assert.Contains("upskilling", profile.GetProperty("programs").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal(1, await fx.CountAsync("SELECT count(*) FROM impact.sessions WHERE tenant_id = $1 AND external_id = 'k-s1'", s.Tenant.Id));
        Assert.True(await fx.CountAsync("SELECT count(*) FROM governance.pii_access_log WHERE tenant_id = $1 AND subject_id = $2 AND purpose = 'profile-view'", s.Tenant.Id, p2) >= 2);
    }

    [Fact]
    public async Task Texts_are_scored_by_jobs_with_model_version_and_evidence_hashes_and_flagged_text_waits_for_review()
    {
        var s = await fx.SeedAsync("scoring");
        await fx.WaitForScoringAsync(s.Tenant.Id);
        var api = fx.Client(s.Tenant.ApiKey);

        // c2 is positive on belonging, confidence and language; job readiness abstains (no evidence → null, never a guess).
        var c2 = await TextIdAsync(s.Tenant.Id, "c2");
        var scores = await ImpactFixture.Json(await api.GetAsync($"/v1/impact/texts/{c2}/scores"));
        Assert.Equal("scored", scores.GetProperty("status").GetString());
        var dims = scores.GetProperty("dimensions").EnumerateArray().ToDictionary(d => d.GetProperty("dimension").GetString()!);
        Assert.Equal(5, dims.Count);
        Assert.True(dims["belonging"].GetProperty("score").GetDecimal() > 0.55m);
        Assert.True(dims["job_readiness"].GetProperty("abstained").GetBoolean());
        Assert.Equal(JsonValueKind.Null, dims["job_readiness"].GetProperty("score").ValueKind);
        Assert.All(dims.Values, d => Assert.Equal("outcome-rubric/1.0.0", d.GetProperty("modelVersion").GetString()));
        var evidence = dims["belonging"].GetProperty("evidence")[0];
        var sentence = evidence.GetProperty("sentence").GetString()!;
        Assert.Contains("made friends", sentence);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sentence))), evidence.GetProperty("sha256").GetString());

        // c3 leaked contact data: flagged, not scored until reviewed; the reviewer sees the text.
        var c3 = await TextIdAsync(s.Tenant.Id, "c3");
        Assert.Equal(0, await fx.CountAsync("SELECT count(*) FROM impact.outcome_scores WHERE text_id = $1", c3));
        var flags = await ImpactFixture.Json(await api.GetAsync("/v1/safety/flags?status=open"));
        var flag = flags.GetProperty("flags").EnumerateArray().Single();
        Assert.Equal(c3, flag.GetProperty("textId").GetGuid());
        Assert.Contains("contact_data", flag.GetProperty("categories").EnumerateArray().Select(c => c.GetString()));
        Assert.Contains("+47", flag.GetProperty("text").GetString());

        var badDecision = await api.PostAsJsonAsync($"/v1/safety/flags/{flag.GetProperty("id").GetGuid()}/review", new { decision = "maybe" });
        Assert.Equal(HttpStatusCode.BadRequest, badDecision.StatusCode);
        var review = await api.PostAsJsonAsync($"/v1/safety/flags/{flag.GetProperty("id").GetGuid()}/review", new { decision = "clear", note = "number of the program office" });
        Assert.Equal(HttpStatusCode.OK, review.StatusCode);
        await Eventually.TrueAsync(async () => await fx.CountAsync("SELECT count(*) FROM impact.outcome_scores WHERE text_id = $1", c3) == 5,
            TimeSpan.FromSeconds(30), "the cleared text is scored");
        var twice = await api.PostAsJsonAsync($"/v1/safety/flags/{flag.GetProperty("id").GetGuid()}/review", new { decision = "confirm" });
        Assert.Equal(HttpStatusCode.Conflict, twice.StatusCode);

        // Self-harm signals are flagged and a confirmed flag keeps the text out of scoring for good.
        var hurt = await fx.ImportAsync(s.Tenant.ApiKey, s.Company, "checkins", """
            source,checkin_id,participant_id,date,mood,note
            buddy,c9,p1,2026-03-01,1,"Some days I want to die. I feel so alone."
            """);
        Assert.Equal(0, hurt.GetProperty("textsQueuedForScoring").GetInt32());
        var open = await ImpactFixture.Json(await api.GetAsync("/v1/safety/flags?status=open"));
        var selfHarm = open.GetProperty("flags").EnumerateArray().Single();
        Assert.Contains("self_harm", selfHarm.GetProperty("categories").EnumerateArray().Select(c => c.GetString()));
        await api.PostAsJsonAsync($"/v1/safety/flags/{selfHarm.GetProperty("id").GetGuid()}/review", new { decision = "confirm" });
        Assert.Equal("excluded", (await ImpactFixture.Json(await api.GetAsync($"/v1/impact/texts/{selfHarm.GetProperty("textId").GetGuid()}/scores"))).GetProperty("status").GetString());
    }

    private async Task<Guid> TextIdAsync(Guid tenantId, string externalId)
    {
        await using var cmd = fx.Db.CreateCommand("SELECT id FROM impact.texts WHERE tenant_id = $1 AND external_id = $2");
        cmd.Parameters.Add(new Npgsql.NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new Npgsql.NpgsqlParameter<string> { TypedValue = externalId });
        return (Guid)(await cmd.ExecuteScalarAsync())!;
    }
}
