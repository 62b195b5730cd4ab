using System.Text.Json;
using Npgsql;
using Platform.Tests.Integration.Conversations;
using Platform.Tests.Integration.Impact;

namespace Platform.Tests.Integration.Retention;

/// <summary>
/// Export and erasure of a person known by a user id in the community, events and civic modules, through the API and
/// the real Worker: the bundle holds their data, and after erasure no column of any table of the tenant holds their
/// id, name, e-mail or words except the places docs/retention.md names; another person's rows are untouched.
/// </summary>
public sealed class SubjectPrivacyTests(ImpactFixture fx) : IClassFixture<ImpactFixture>
{
    private const string Subject = "subj-7f3a9c";
    private const string Name = "Zelda Quixote";
    private const string Email = "zelda.quixote@example.org";
    private const string Words = "my secret plan for the garden";
    private const string Other = "other-2b8e1d";
    private const string Lone = "subj-lone-51c0";

    [Fact]
    public async Task A_member_attendee_and_resident_is_exported_then_erased_leaving_only_what_the_docs_keep()
    {
        var tenant = await fx.CreateTenantAsync("subject-privacy");
        var api = fx.Client(tenant.ApiKey);
        await SeedAsync(tenant);
        var conference = await ConferenceWithReportAsync(tenant);
        var otherBefore = await OtherFootprintAsync(tenant.Id);

        // Export from each module: the bundle carries the person's data and the shared records.
        var community = await CompletedAsync(api, await RequestAsync(api, "community", "export"));
        var bundle = community.GetProperty("result").GetProperty("bundle");
        Assert.Equal(Name, bundle.GetProperty("member")[0].GetProperty("display_name").GetString());
        Assert.Contains(bundle.GetProperty("messages").EnumerateArray(), m => m.GetProperty("text").GetString() == Words);
        Assert.Equal(2, bundle.GetProperty("signals").EnumerateArray().Count(x => x.GetProperty("kind").GetString() is "reply" or "mention"));
        Assert.Equal(Email, bundle.GetProperty("notificationSettings").GetProperty("profile")[0].GetProperty("email").GetString());
        Assert.Single(bundle.GetProperty("notifications").EnumerateArray());
        Assert.Single(bundle.GetProperty("consents").EnumerateArray());
        var events = (await CompletedAsync(api, await RequestAsync(api, "events", "export"))).GetProperty("result").GetProperty("bundle");
        Assert.Equal(conference, events.GetProperty("attendances")[0].GetProperty("conference_id").GetGuid());
        Assert.Equal("given", events.GetProperty("matchFeedback")[0].GetProperty("direction").GetString());
        var civic = (await CompletedAsync(api, await RequestAsync(api, "civic", "export"))).GetProperty("result").GetProperty("bundle");
        Assert.Equal(Email, civic.GetProperty("profile")[0].GetProperty("email").GetString());

        // Erase from each module.
        foreach (var module in new[] { "community", "events", "civic" })
        {
            var done = await CompletedAsync(api, await RequestAsync(api, module, "delete"));
            Assert.Equal("delete", done.GetProperty("kind").GetString());
        }

        // Nothing of the person is left anywhere in the database but the documented places.
        var leftovers = await FootprintAsync([Subject, Name, Email, Words, System.Net.WebUtility.HtmlEncode(Name)]);
        Assert.True(leftovers.All(Kept), "left behind: " + string.Join(", ", leftovers.Where(l => !Kept(l))));
        // The earlier exports' bundles went with the erasure; the request rows (the audit trail) stay.
        var old = await CompletedAsync(api, community.GetProperty("id").GetGuid());
        Assert.Equal(JsonValueKind.Null, old.GetProperty("result").GetProperty("bundle").ValueKind);
        // Aggregates still add up: signals, survey answers, feedback and invitations are kept under a pseudonym.
        // (The Worker's extraction may add message signals from the seeded activities meanwhile: only the seeded kinds are counted.)
        Assert.Equal(2, await fx.CountAsync("SELECT count(*) FROM community.signals WHERE tenant_id = $1 AND kind IN ('reply', 'mention') AND (actor_id LIKE 'erased:%' OR target_id LIKE 'erased:%')", tenant.Id));
        Assert.Equal(2, await fx.CountAsync("SELECT count(*) FROM community.survey_responses WHERE tenant_id = $1", tenant.Id));
        Assert.Equal(1, await fx.CountAsync("SELECT count(*) FROM events.match_feedback WHERE tenant_id = $1", tenant.Id));
        Assert.Equal(2, await fx.CountAsync("SELECT count(*) FROM core.activities WHERE tenant_id = $1", tenant.Id));
        var report = await fx.Client().GetAsync(await ShareUrlAsync(tenant.Id, conference));
        Assert.Equal(HttpStatusCode.OK, report.StatusCode);
        Assert.DoesNotContain(Name, await report.Content.ReadAsStringAsync());

        // The other person is untouched.
        Assert.Equal(otherBefore, await OtherFootprintAsync(tenant.Id));
    }

    [Fact]
    public async Task Bad_requests_get_problem_details_and_store_nothing_and_another_tenant_sees_no_request()
    {
        var tenant = await fx.CreateTenantAsync("subject-privacy-bad");
        var stranger = await fx.CreateTenantAsync("subject-privacy-stranger");
        var api = fx.Client(tenant.ApiKey);
        Assert.Equal(HttpStatusCode.NotFound, (await api.PostAsJsonAsync("/v1/privacy/payroll/export", new { subjectId = Lone })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.PostAsJsonAsync("/v1/privacy/community/export", new { subjectId = "nobody-here" })).StatusCode);
        foreach (var body in new object[] { new { }, new { subjectId = "" }, new { subjectId = new string('x', 201) }, new { subjectId = 5 } })
        {
            var response = await api.PostAsJsonAsync("/v1/privacy/civic/delete", body);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        Assert.Equal(0, await fx.CountAsync("SELECT count(*) FROM governance.subject_requests WHERE tenant_id = $1", tenant.Id));

        await using (var conn = new NpgsqlConnection(fx.Database))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("INSERT INTO civic.profiles (tenant_id, user_id, email) VALUES ($1, $2, $3)", conn);
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenant.Id });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Lone });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = "lone@example.org" });
            await cmd.ExecuteNonQueryAsync();
        }
        var id = await RequestAsync(api, "civic", "export", Lone);
        Assert.Equal(HttpStatusCode.NotFound, (await fx.Client(stranger.ApiKey).GetAsync($"/v1/privacy/requests/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await fx.Client(stranger.ApiKey).PostAsJsonAsync("/v1/privacy/civic/delete", new { subjectId = Lone })).StatusCode);
        await CompletedAsync(api, id);
        Assert.Equal(1, await fx.CountAsync("SELECT count(*) FROM civic.profiles WHERE tenant_id = $1 AND email = $2", tenant.Id, "lone@example.org"));
    }

    /// <summary>
    /// Where docs/retention.md says the user id stays, and why: the request rows are the proof of what the person asked
    /// and when; the provenance ledger is hash-chained evidence whose rows cannot change without breaking every later hash;
    /// job arguments (a recalculation for one attendee names them) expire with the job queue (1 day, the outbox 7 days).
    /// </summary>
    private static bool Kept(string place) => place is "governance.subject_requests.subject_id" or "governance.provenance_events.subject_id"
        or "governance.provenance_events.actor" or "ops.job_requests.args" || place.StartsWith("hangfire.", StringComparison.Ordinal);

    private static async Task<Guid> RequestAsync(HttpClient api, string module, string kind, string subject = Subject)
    {
        var response = await api.PostAsJsonAsync($"/v1/privacy/{module}/{kind}", new { subjectId = subject });
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{module} {kind}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await ImpactFixture.Json(response)).GetProperty("id").GetGuid();
    }

    private static Task<JsonElement> CompletedAsync(HttpClient api, Guid id) =>
        Eventually.ReturnsAsync(async () => await ImpactFixture.Json(await api.GetAsync($"/v1/privacy/requests/{id}")),
            j => j.GetProperty("status").GetString() == "completed", TimeSpan.FromSeconds(60), "the subject request job");

    /// <summary>Every text-like column of every table (schema.table.column) holding one of the values.</summary>
    private async Task<List<string>> FootprintAsync(string[] values)
    {
        await using var conn = new NpgsqlConnection(fx.Database);
        await conn.OpenAsync();
        var columns = new List<(string Schema, string Table, string Column)>();
        await using (var cmd = new NpgsqlCommand("""
            SELECT c.table_schema, c.table_name, c.column_name FROM information_schema.columns c
              JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
             WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema') AND c.data_type IN ('text', 'jsonb', 'json', 'ARRAY', 'character varying')
            """, conn))
        await using (var r = await cmd.ExecuteReaderAsync())
        {
            while (await r.ReadAsync())
            {
                columns.Add((r.GetString(0), r.GetString(1), r.GetString(2)));
            }
        }
        var found = new List<string>();
        foreach (var (schema, table, column) in columns)
        {
            await using var cmd = new NpgsqlCommand(
                $"SELECT count(*) FROM \"{schema}\".\"{table}\" WHERE strpos(\"{column}\"::text, $1) > 0 OR strpos(\"{column}\"::text, $2) > 0 OR strpos(\"{column}\"::text, $3) > 0 OR strpos(\"{column}\"::text, $4) > 0 OR strpos(\"{column}\"::text, $5) > 0",
                conn);
            foreach (var v in values)
            {
                cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = v });
            }
            if ((long)(await cmd.ExecuteScalarAsync())! > 0)
            {
                found.Add($"{schema}.{table}.{column}");
            }
        }
        return found;
    }

    private async Task<string> OtherFootprintAsync(Guid tenant)
    {
        var counts = new List<long>();
        foreach (var sql in new[]
                 {
                     "SELECT count(*) FROM community.members WHERE tenant_id = $1 AND user_id = $2",
                     "SELECT count(*) FROM community.signals WHERE tenant_id = $1 AND kind IN ('reply', 'mention') AND (actor_id = $2 OR target_id = $2)",
                     "SELECT count(*) FROM community.survey_responses WHERE tenant_id = $1 AND respondent_id = $2",
                     "SELECT count(*) FROM core.activities WHERE tenant_id = $1 AND from_id = $2 AND text IS NOT NULL",
                     "SELECT count(*) FROM ops.notification_outbox WHERE tenant_id = $1 AND user_id = $2",
                     "SELECT count(*) FROM ops.notification_profiles WHERE tenant_id = $1 AND user_id = $2",
                     "SELECT count(*) FROM governance.consents WHERE tenant_id = $1 AND user_id = $2",
                     "SELECT count(*) FROM events.attendees WHERE tenant_id = $1 AND user_id = $2",
                     "SELECT count(*) FROM events.match_feedback WHERE tenant_id = $1 AND match_user_id = $2",
                     "SELECT count(*) FROM civic.profiles WHERE tenant_id = $1 AND user_id = $2 AND email IS NOT NULL",
                 })
        {
            counts.Add(await fx.CountAsync(sql, tenant, Other));
        }
        return string.Join(",", counts);
    }

    private async Task<Guid> ConferenceWithReportAsync(TenantKeys tenant)
    {
        var api = fx.Client(tenant.ApiKey);
        var created = await api.PostAsJsonAsync("/v1/events/conferences", new { name = "Privacy Conf", features = new { reports = true } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var conference = (await ImpactFixture.Json(created)).GetProperty("id").GetGuid();
        foreach (var (user, name) in new[] { (Subject, Name), (Other, "Olga Other") })
        {
            var put = await api.PutAsJsonAsync($"/v1/events/conferences/{conference}/attendees/{user}", new
            {
                displayName = name, kind = "attendee", bio = user == Subject ? Words : "likes trains", interests = new { climate = 1 },
                consentToMatch = true, consentToInvites = true,
            });
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        }
        var feedback = await api.PostAsJsonAsync("/v1/matching/feedback", new { conferenceId = conference, userId = Subject, matchUserId = Other, outcome = "met" });
        Assert.Equal(HttpStatusCode.Created, feedback.StatusCode);
        var requested = await ImpactFixture.Json(await api.PostAsJsonAsync("/v1/intelligence/reports", new { conferenceId = conference }));
        var id = requested.GetProperty("id").GetGuid();
        var done = await Eventually.ReturnsAsync(async () => await ImpactFixture.Json(await api.GetAsync($"/v1/intelligence/reports/{id}")),
            j => j.GetProperty("status").GetString() == "completed", TimeSpan.FromSeconds(60), "the report job");
        Assert.Contains(done.GetProperty("report").GetProperty("topNetworkers").EnumerateArray(), n => n.GetProperty("displayName").GetString() == Name);
        return conference;
    }

    private async Task<string> ShareUrlAsync(Guid tenant, Guid conference)
    {
        await using var cmd = fx.Db.CreateCommand("SELECT share_token FROM events.reports WHERE tenant_id = $1 AND conference_id = $2");
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenant });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conference });
        return $"/v1/intelligence/reports/shared/{(string)(await cmd.ExecuteScalarAsync())!}";
    }

    /// <summary>As the owner: the person and another one in community, messages, notifications, consents and civic.</summary>
    private async Task SeedAsync(TenantKeys tenant)
    {
        await using var conn = new NpgsqlConnection(fx.Database);
        await conn.OpenAsync();
        await using var batch = new NpgsqlBatch(conn)
        {
            BatchCommands =
            {
                new("INSERT INTO community.members (tenant_id, user_id, display_name, team, skills) VALUES ($1, $2, $4, 'blue', '{gardening}'), ($1, $3, 'Olga Other', 'blue', '{}')"),
                new("""
                    INSERT INTO community.signals (tenant_id, kind, actor_id, target_id, team, occurred_at)
                    VALUES ($1, 'reply', $2, $3, 'blue', now()), ($1, 'mention', $3, $2, 'blue', now()), ($1, 'message', $3, NULL, 'blue', now())
                    """),
                new("""
                    WITH s AS (INSERT INTO community.surveys (id, tenant_id, title, created_by) VALUES (gen_random_uuid(), $1, 'Pulse', $3) RETURNING id)
                    INSERT INTO community.survey_responses (survey_id, tenant_id, respondent_id, answers)
                    SELECT s.id, $1, u, '{1,2,3,4,5,1,2}' FROM s, unnest(ARRAY[$2, $3]) u
                    """),
                new("INSERT INTO community.learning_catalysts (id, tenant_id, title, contributors, occurred_at, created_by) VALUES (gen_random_uuid(), $1, 'Soil', ARRAY[$2, $3], now(), $3)"),
                new("""
                    WITH i AS (INSERT INTO community.ideas (id, tenant_id, title, originator_id) VALUES (gen_random_uuid(), $1, 'Compost', $2) RETURNING id)
                    INSERT INTO community.adoptions (idea_id, tenant_id, adopter_id, source_adopter_id) SELECT i.id, $1, $3, $2 FROM i
                    """),
                new("""
                    INSERT INTO community.rankings (id, tenant_id, computed_at, algorithm, version, parameters, input_hash, members, signals, excluded,
                                                    betweenness_exact, error_bound, result, provenance_event_id)
                    VALUES (gen_random_uuid(), $1, now(), 'test', '1', '{}', 'h', 2, 3, 0, true, 0, jsonb_build_object('top', jsonb_build_array($2::text, $3::text)), gen_random_uuid())
                    """),
                new("INSERT INTO governance.consents (tenant_id, user_id, purpose, granted) VALUES ($1, $2, 'recommendations', true), ($1, $3, 'pulse', true)"),
                new("INSERT INTO governance.approvals (id, tenant_id, kind, subject_user_id, requested_by, payload) VALUES (gen_random_uuid(), $1, 'nudge', $2, $3, jsonb_build_object('name', $4::text))"),
                new("""
                    WITH ch AS (INSERT INTO core.channels (id, tenant_id, name, secret_hash) VALUES (gen_random_uuid(), $1, 'web', encode(sha256(gen_random_uuid()::text::bytea), 'hex')) RETURNING id),
                         cv AS (INSERT INTO core.conversations (id, tenant_id, channel_id, last_seq) SELECT gen_random_uuid(), $1, ch.id, 2 FROM ch RETURNING id)
                    INSERT INTO core.activities (conversation_id, seq, tenant_id, id, type, from_id, from_name, text)
                    SELECT cv.id, 1, $1, 'a1-' || cv.id, 'message', $2, $4, $5 FROM cv
                    UNION ALL SELECT cv.id, 2, $1, 'a2-' || cv.id, 'message', $3, 'Olga Other', 'hello' FROM cv
                    """),
                new("""
                    INSERT INTO ops.notification_outbox (tenant_id, user_id, subject_id, notification_type, payload, channels, dedupe_key)
                    SELECT $1, u, 'n-' || u, 'test.note', jsonb_build_object('text', 'for ' || u), ARRAY['in_app'], sha256(u::bytea) FROM unnest(ARRAY[$2, $3]) u
                    """),
                new("INSERT INTO ops.notification_profiles (tenant_id, user_id, email) VALUES ($1, $2, $6), ($1, $3, 'olga@example.org')"),
                new("INSERT INTO ops.notification_preferences (tenant_id, user_id) VALUES ($1, $2), ($1, $3)"),
                new("INSERT INTO civic.profiles (tenant_id, user_id, display_name, email) VALUES ($1, $2, $4, $6), ($1, $3, 'Olga Other', 'olga@example.org')"),
            },
        };
        foreach (var command in batch.BatchCommands)
        {
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenant.Id });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Subject });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Other });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Name });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Words });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Email });
        }
        await batch.ExecuteNonQueryAsync();
    }
}
