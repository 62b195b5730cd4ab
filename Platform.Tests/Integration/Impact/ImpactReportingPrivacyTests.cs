using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Npgsql;
using Platform.Core.Impact.Privacy;

namespace Platform.Tests.Integration.Impact;

/// <summary>SROI/VIS/report through the API, GDPR export and erasure, and tenant isolation on every impact endpoint.</summary>
public sealed class ImpactReportingPrivacyTests(ImpactFixture fx) : IClassFixture<ImpactFixture>
{
    private static object WorkedExample(decimal investment = 120_000m) => new
    {
        investment, discountRate = 0.035m, volunteerHourValue = 29.95m,
        outcomes = new object[]
        {
            new { name = "Participants enter employment", quantity = 12m, financialProxy = 18_000m, deadweight = 0.25m, displacement = 0.10m, attribution = 0.30m, dropOff = 0.20m, durationYears = 3 },
            new { name = "Reduced isolation (well-being)", quantity = 60m, financialProxy = 1_600m, deadweight = 0.15m, displacement = 0m, attribution = 0.40m, dropOff = 0.50m, durationYears = 2 },
            new { name = "Language progression (one CEFR level)", quantity = 40m, financialProxy = 900m, deadweight = 0.20m, displacement = 0m, attribution = 0.25m, dropOff = 0m, durationYears = 1 },
        },
    };

    [Fact]
    public async Task Sroi_worked_example_from_docs_is_reproduced_through_the_api_and_vis_has_components()
    {
        var s = await fx.SeedAsync("sroi");
        var api = fx.Client(s.Tenant.ApiKey);
        var missing = await api.GetAsync($"/v1/impact/companies/{s.Company}/sroi?period=2026");
        Assert.Equal(HttpStatusCode.Conflict, missing.StatusCode);
        var invalid = await api.PutAsJsonAsync($"/v1/impact/companies/{s.Company}/sroi-inputs", new { investment = 0, discountRate = 2, outcomes = Array.Empty<object>() });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var errors = (await ImpactFixture.Json(invalid)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("investment", out _) && errors.TryGetProperty("discountRate", out _) && errors.TryGetProperty("outcomes", out _));

        Assert.Equal(HttpStatusCode.OK, (await api.PutAsJsonAsync($"/v1/impact/companies/{s.Company}/sroi-inputs", WorkedExample())).StatusCode);
        var sroi = await ImpactFixture.Json(await api.GetAsync($"/v1/impact/companies/{s.Company}/sroi?from=2026-01-01&to=2027-01-01"));
        var calc = sroi.GetProperty("calculation");
        Assert.Equal(324_767.69m, calc.GetProperty("totalPresentValue").GetDecimal());
        Assert.Equal(204_767.69m, calc.GetProperty("netPresentValue").GetDecimal());
        Assert.Equal(2.71m, calc.GetProperty("ratio").GetDecimal());
        var employment = calc.GetProperty("outcomes")[0];
        Assert.Equal(102_060.00m, employment.GetProperty("impactYear1").GetDecimal());
        Assert.Equal(233_741.43m, employment.GetProperty("presentValue").GetDecimal());
        Assert.Equal(70_156.69m, calc.GetProperty("outcomes")[1].GetProperty("presentValue").GetDecimal());
        Assert.NotEmpty(calc.GetProperty("steps").EnumerateArray());

        // Quantities can come from the data: 2 participants had sessions or texts in 2026.
        var measured = await api.PutAsJsonAsync($"/v1/impact/companies/{s.Company}/sroi-inputs", new
        {
            investment = 1000m, discountRate = 0m,
            outcomes = new[] { new { name = "Participants supported", measure = "participants", financialProxy = 1000m, deadweight = 0m, displacement = 0m, attribution = 0m, dropOff = 0m, durationYears = 1 } },
        });
        Assert.Equal(HttpStatusCode.OK, measured.StatusCode);
        var fromData = await ImpactFixture.Json(await api.GetAsync($"/v1/impact/companies/{s.Company}/sroi?period=2026"));
        Assert.Equal(2m, fromData.GetProperty("quantities")[0].GetProperty("quantity").GetDecimal());
        Assert.Equal(2.00m, fromData.GetProperty("calculation").GetProperty("ratio").GetDecimal());

        // The volunteer's outcome change comes from the scored texts, so read VIS once scoring has finished.
        await fx.WaitForScoringAsync(s.Tenant.Id);
        var visResponse = await api.GetAsync($"/v1/impact/companies/{s.Company}/vis?period=2026");
        Assert.True(visResponse.IsSuccessStatusCode, await visResponse.Content.ReadAsStringAsync());
        var vis = await ImpactFixture.Json(visResponse);
        var volunteer = vis.GetProperty("scores").EnumerateArray().Single();
        Assert.Equal(3.25m, volunteer.GetProperty("inputs").GetProperty("hours").GetDecimal()); // 60 + 90 + 45 minutes
        Assert.Equal(2, volunteer.GetProperty("inputs").GetProperty("participantsReached").GetInt32());
        Assert.Equal(0.9, volunteer.GetProperty("inputs").GetProperty("meanParticipantRating").GetDouble(), 3);
        Assert.Equal(5, volunteer.GetProperty("vis").GetProperty("components").GetArrayLength());
        Assert.Equal(Math.Round(3.25m * 29.95m, 2), Math.Round(volunteer.GetProperty("vis").GetProperty("hoursValue").GetDecimal(), 2));
    }

    [Fact]
    public async Task Report_is_served_as_json_csv_and_html_and_the_metrics_job_stores_company_periods()
    {
        var s = await fx.SeedAsync("report");
        await fx.WaitForScoringAsync(s.Tenant.Id);
        var api = fx.Client(s.Tenant.ApiKey);
        var report = await ImpactFixture.Json(await api.GetAsync($"/v1/impact/companies/{s.Company}/report?period=2026-Q1"));
        Assert.Equal(3, report.GetProperty("months").GetArrayLength());
        Assert.Equal(2, report.GetProperty("totals").GetProperty("participants").GetInt32());
        Assert.Equal(3, report.GetProperty("totals").GetProperty("sessions").GetInt32());
        var feb = report.GetProperty("months")[1];
        Assert.Equal(2, feb.GetProperty("sessions").GetInt32());
        Assert.Equal(3, report.GetProperty("trends").GetProperty("belonging").GetArrayLength());
        // Belonging goes from lonely (January) to made friends (February).
        var belonging = report.GetProperty("trends").GetProperty("belonging");
        Assert.True(belonging[1].GetProperty("value").GetDouble() > belonging[0].GetProperty("value").GetDouble());

        var csv = await api.GetAsync($"/v1/impact/companies/{s.Company}/report?period=2026-Q1&format=csv");
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        var lines = (await csv.Content.ReadAsStringAsync()).TrimEnd('\n').Split('\n');
        Assert.StartsWith("month,participants,volunteers,sessions", lines[0]);
        Assert.Equal(5, lines.Length); // header, 3 months, total
        var html = await api.GetAsync($"/v1/impact/companies/{s.Company}/report?period=2026-Q1&format=html");
        var page = await html.Content.ReadAsStringAsync();
        Assert.Equal("text/html", html.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<svg", page);
        Assert.Contains("report corp", page);
        Assert.Equal(HttpStatusCode.BadRequest, (await api.GetAsync($"/v1/impact/companies/{s.Company}/report?period=last-year")).StatusCode);

        var queued = await api.PostAsync($"/v1/impact/companies/{s.Company}/metrics?period=2026-Q1", null);
        Assert.Equal(HttpStatusCode.Accepted, queued.StatusCode);
        await Eventually.TrueAsync(async () => await fx.CountAsync("SELECT count(*) FROM impact.metrics_company_period WHERE company_id = $1", s.Company) == 3,
            TimeSpan.FromSeconds(30), "three months computed");
        Assert.Equal(2, await fx.CountAsync("SELECT sessions_count FROM impact.metrics_company_period WHERE company_id = $1 AND period_start = '2026-02-01'", s.Company));
    }

    [Fact]
    public async Task Export_bundle_is_complete_and_erasure_shreds_the_key_while_reports_still_add_up()
    {
        var s = await fx.SeedAsync("gdpr");
        await fx.WaitForScoringAsync(s.Tenant.Id);
        var api = fx.Client(s.Tenant.ApiKey);
        var amira = await fx.PersonAsync(s.Tenant.Id, "buddy", "p1");

        var export = await api.PostAsJsonAsync("/v1/privacy/export", new { subjectId = amira });
        Assert.Equal(HttpStatusCode.Accepted, export.StatusCode);
        var requestId = (await ImpactFixture.Json(export)).GetProperty("id").GetGuid();
        var done = await Eventually.ReturnsAsync(async () => await ImpactFixture.Json(await api.GetAsync($"/v1/privacy/requests/{requestId}")),
            r => r.GetProperty("status").GetString() == "completed", TimeSpan.FromSeconds(30), "export completes");
        var bundle = done.GetProperty("result").GetProperty("bundle");
        Assert.Equal("Amira Haddad", bundle.GetProperty("person").GetProperty("name").GetString());
        Assert.Equal("amira@example.org", bundle.GetProperty("person").GetProperty("email").GetString());
        Assert.Equal("p1", bundle.GetProperty("externalIds")[0].GetProperty("externalId").GetString());
        Assert.Equal(await fx.CountAsync("SELECT count(*) FROM impact.sessions WHERE participant_id = $1", amira), bundle.GetProperty("sessions").GetArrayLength());
        Assert.Equal(await fx.CountAsync("SELECT count(*) FROM impact.texts WHERE person_id = $1", amira), bundle.GetProperty("texts").GetArrayLength());
        Assert.Equal(await fx.CountAsync("SELECT count(*) FROM impact.outcome_scores WHERE person_id = $1", amira), bundle.GetProperty("outcomeScores").GetArrayLength());
        Assert.Contains(bundle.GetProperty("texts").EnumerateArray(), t => t.GetProperty("text").GetString()!.Contains("made friends"));
        Assert.Contains(bundle.GetProperty("outcomeScores").EnumerateArray().SelectMany(o => o.GetProperty("evidence").EnumerateArray()),
            e => e.GetProperty("sentence").GetString()!.Contains("lonely"));
        foreach (var section in new[] { "enrollments", "feedbackReceived", "courses", "safetyFlags", "privacyRequests", "personalDataAccess" })
        {
            Assert.True(bundle.TryGetProperty(section, out _), section);
        }
        Assert.True(await fx.CountAsync("SELECT count(*) FROM governance.pii_access_log WHERE subject_id = $1 AND purpose = 'gdpr-export'", amira) > 0);

        var before = await ImpactFixture.Json(await api.GetAsync($"/v1/impact/companies/{s.Company}/report?period=2026"));
        var erase = await api.PostAsJsonAsync("/v1/privacy/delete", new { subjectId = amira });
        Assert.Equal(HttpStatusCode.Accepted, erase.StatusCode);
        var eraseId = (await ImpactFixture.Json(erase)).GetProperty("id").GetGuid();
        var erased = await Eventually.ReturnsAsync(async () => await ImpactFixture.Json(await api.GetAsync($"/v1/privacy/requests/{eraseId}")),
            r => r.GetProperty("status").GetString() == "completed", TimeSpan.FromSeconds(30), "erasure completes");
        Assert.True(erased.GetProperty("result").GetProperty("keyDestroyed").GetBoolean());

        // The ciphertext is still there, but nothing can decrypt it: the wrapped key is gone.
        Assert.Equal(1, await fx.CountAsync("SELECT count(*) FROM impact.person_keys WHERE person_id = $1 AND wrapped_key IS NULL AND destroyed_at IS NOT NULL", amira));
        await using (var cmd = fx.Db.CreateCommand("SELECT body_enc FROM impact.texts WHERE person_id = $1 AND body_enc IS NOT NULL LIMIT 1"))
        {
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = amira });
            var ciphertext = (byte[])(await cmd.ExecuteScalarAsync())!;
            Assert.DoesNotContain("lonely", Encoding.UTF8.GetString(ciphertext));
            // The master key alone is not enough, and no other person's key opens it.
            Assert.ThrowsAny<CryptographicException>(() => PiiVault.Decrypt(Convert.FromBase64String(ImpactFixture.MasterKey), ciphertext, amira));
        }
        var profile = await ImpactFixture.Json(await api.GetAsync($"/v1/impact/people/{amira}"));
        Assert.Equal(JsonValueKind.Null, profile.GetProperty("name").ValueKind);
        Assert.Equal(0, profile.GetProperty("externalIds").GetArrayLength());
        Assert.Equal(0, await fx.CountAsync("SELECT count(*) FROM impact.evidence_snippets e JOIN impact.outcome_scores s ON s.id = e.outcome_score_id WHERE s.person_id = $1 AND e.snippet_sha256 IS NOT NULL", amira));
        var oldExport = await ImpactFixture.Json(await api.GetAsync($"/v1/privacy/requests/{requestId}"));
        Assert.Equal(JsonValueKind.Null, oldExport.GetProperty("result").GetProperty("bundle").ValueKind);

        // Aggregates are kept: the report adds up exactly as before.
        var after = await ImpactFixture.Json(await api.GetAsync($"/v1/impact/companies/{s.Company}/report?period=2026"));
        Assert.Equal(before.GetProperty("totals").GetRawText(), after.GetProperty("totals").GetRawText());
        Assert.Equal(before.GetProperty("months").GetRawText(), after.GetProperty("months").GetRawText());
        Assert.Equal(before.GetProperty("vis").GetProperty("scores").GetRawText(), after.GetProperty("vis").GetProperty("scores").GetRawText());
        Assert.True(await fx.CountAsync("SELECT count(*) FROM governance.pii_access_log WHERE subject_id = $1 AND outcome = 'erased'", amira) >= 5);
    }

    [Fact]
    public async Task Every_impact_endpoint_answers_404_for_another_tenants_ids()
    {
        var a = await fx.SeedAsync("iso-a");
        await fx.WaitForScoringAsync(a.Tenant.Id);
        var b = await fx.CreateTenantAsync("iso-b");
        var other = fx.Client(b.ApiKey);
        var person = await fx.PersonAsync(a.Tenant.Id, "buddy", "p1");
        Guid text, flag;
        await using (var cmd = fx.Db.CreateCommand("SELECT id FROM impact.texts WHERE tenant_id = $1 AND status = 'scored' LIMIT 1"))
        {
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = a.Tenant.Id });
            text = (Guid)(await cmd.ExecuteScalarAsync())!;
        }
        await using (var cmd = fx.Db.CreateCommand("SELECT id FROM impact.safety_flags WHERE tenant_id = $1 LIMIT 1"))
        {
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = a.Tenant.Id });
            flag = (Guid)(await cmd.ExecuteScalarAsync())!;
        }
        var export = await fx.Client(a.Tenant.ApiKey).PostAsJsonAsync("/v1/privacy/export", new { subjectId = person });
        var request = (await ImpactFixture.Json(export)).GetProperty("id").GetGuid();
        var c = a.Company;

        var calls = new (HttpMethod Method, string Url, object? Body)[]
        {
            (HttpMethod.Get, $"/v1/impact/companies/{c}", null),
            (HttpMethod.Put, $"/v1/impact/companies/{c}/sroi-inputs", WorkedExample()),
            (HttpMethod.Get, $"/v1/impact/companies/{c}/sroi?period=2026", null),
            (HttpMethod.Get, $"/v1/impact/companies/{c}/vis?period=2026", null),
            (HttpMethod.Get, $"/v1/impact/companies/{c}/report?period=2026", null),
            (HttpMethod.Post, $"/v1/impact/companies/{c}/metrics?period=2026-01", null),
            (HttpMethod.Post, $"/v1/impact/webhooks/buddy/secret", new { companyId = c }),
            (HttpMethod.Get, $"/v1/impact/people/{person}", null),
            (HttpMethod.Get, $"/v1/impact/texts/{text}/scores", null),
            (HttpMethod.Post, "/v1/privacy/export", new { subjectId = person }),
            (HttpMethod.Post, "/v1/privacy/delete", new { subjectId = person }),
            (HttpMethod.Get, $"/v1/privacy/requests/{request}", null),
            (HttpMethod.Post, $"/v1/safety/flags/{flag}/review", new { decision = "confirm" }),
        };
        foreach (var (method, url, body) in calls)
        {
            var message = new HttpRequestMessage(method, url) { Content = body is null ? null : JsonContent.Create(body) };
            var response = await other.SendAsync(message);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{method} {url}: {response.StatusCode}");
        }
        var import = await other.PostAsync($"/v1/impact/imports?companyId={c}&kind=participants",
            new StringContent("source,external_id,role,name,email,program,enrolled_at\nbuddy,x,participant,,,,\n", Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.NotFound, import.StatusCode);
        Assert.Empty((await ImpactFixture.Json(await other.GetAsync("/v1/impact/companies"))).GetProperty("companies").EnumerateArray());
        Assert.Empty((await ImpactFixture.Json(await other.GetAsync("/v1/safety/flags"))).GetProperty("flags").EnumerateArray());
        // Nothing of tenant A changed: its flag is still open and it has no erasure request.
        Assert.Equal(1, await fx.CountAsync("SELECT count(*) FROM impact.safety_flags WHERE id = $1 AND status = 'open'", flag));
        Assert.Equal(0, await fx.CountAsync("SELECT count(*) FROM impact.privacy_requests WHERE subject_id = $1 AND kind = 'delete'", person));
        // Without a credential: 401.
        Assert.Equal(HttpStatusCode.Unauthorized, (await fx.Client().GetAsync($"/v1/impact/companies/{c}")).StatusCode);
    }
}
