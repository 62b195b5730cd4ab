using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Npgsql;
using Platform.Core.Governance;
using static Microsoft.Playwright.Assertions;

namespace Platform.Tests.EndToEnd;

/// <summary>The operator pages of the Community, Conferences and Impact modules, and replay on the notifications page.</summary>
public sealed partial class AdminPanelTests
{
    /// <summary>Seeds rows as the module would have written them; several statements, so named parameters (@p1, @p2, …).</summary>
    private async Task ExecuteAsync(string sql, params object[] values)
    {
        await using var conn = new NpgsqlConnection(system.Database);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        for (var i = 0; i < values.Length; i++)
        {
            cmd.Parameters.AddWithValue($"p{i + 1}", values[i]);
        }
        await cmd.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task Community_page_shows_members_consent_the_last_ranking_and_verifies_the_provenance_chain()
    {
        var (tenantId, _) = await TenantAsync("Convener " + Guid.NewGuid().ToString("N")[..6]);
        await ExecuteAsync("""
            INSERT INTO community.members (tenant_id, user_id, display_name) VALUES (@p1, 'ada', 'Ada'), (@p1, 'bob', 'Bob'), (@p1, 'cy', 'Cy');
            INSERT INTO governance.consents (tenant_id, user_id, purpose, granted)
            VALUES (@p1, 'ada', 'recognition', true), (@p1, 'bob', 'recognition', true), (@p1, 'cy', 'recognition', false), (@p1, 'ada', 'pulse', true);
            """, tenantId);
        await using var dataSource = NpgsqlDataSource.Create(system.Database);
        var ledger = new ProvenanceLedger(dataSource, TimeProvider.System);
        var computed = await ledger.AppendAsync(tenantId, new ProvenanceEntry(ProvenanceActions.Ranking, "test", Algorithm: "champions", Version: "2.1"));
        await ledger.AppendAsync(tenantId, new ProvenanceEntry(ProvenanceActions.RankingRead, "test"));
        var inputHash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(tenantId.ToByteArray()));
        await ExecuteAsync("""
            INSERT INTO community.rankings (id, tenant_id, computed_at, algorithm, version, parameters, input_hash, members, signals, excluded,
                                            betweenness_exact, error_bound, result, provenance_event_id)
            VALUES (gen_random_uuid(), @p1, now() - interval '3 minutes', 'champions', '2.1', '{}', @p2, 3, 42, 1, true, 0, '{}', @p3)
            """, tenantId, inputHash, computed.Id);

        var page = await system.SignedInPageAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Community", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Community", Exact = true })).ToBeVisibleAsync();
        var row = page.Locator($"tr[data-tenant='{tenantId}']");
        await Expect(row.Locator("td").Nth(1)).ToHaveTextAsync("3");
        await Expect(row.Locator("[data-consent=recognition]")).ToContainTextAsync("2/3");
        await Expect(row.Locator("[data-consent=pulse]")).ToContainTextAsync("1/3");
        await Expect(row).ToContainTextAsync("champions 2.1 · 42 signals");
        await Expect(row.Locator("[data-input-hash]")).ToHaveAttributeAsync("title", inputHash);

        await row.GetByRole(AriaRole.Button, new() { Name = "Verify chain" }).ClickAsync();
        await Expect(row.Locator("[data-provenance]")).ToContainTextAsync("verified");
        await Expect(row.Locator("[data-provenance]")).ToContainTextAsync("2 events, chain intact");
        await AdminSystemFixture.ScreenshotAsync(page, "readme-community");
    }

    [Fact]
    public async Task Conferences_page_shows_attendees_match_runs_gatherings_and_report_jobs()
    {
        var (tenantId, _) = await TenantAsync("Events " + Guid.NewGuid().ToString("N")[..6]);
        var conferenceId = Guid.NewGuid();
        var name = "Summit " + conferenceId.ToString("N")[..6];
        await ExecuteAsync("""
            INSERT INTO events.conferences (id, tenant_id, name) VALUES (@p1, @p2, @p3);
            INSERT INTO events.attendees (tenant_id, conference_id, user_id, display_name, profile, consent_to_match, consent_to_invites)
            VALUES (@p2, @p1, 'ada', 'Ada', '{}', true, true), (@p2, @p1, 'bob', 'Bob', '{}', true, false), (@p2, @p1, 'cy', 'Cy', '{}', false, false);
            INSERT INTO events.matches (tenant_id, conference_id, user_id, rank, match_user_id, score, reasons, starter)
            VALUES (@p2, @p1, 'ada', 1, 'bob', 0.8, '[]', 'Hi'), (@p2, @p1, 'bob', 1, 'ada', 0.8, '[]', 'Hi');
            INSERT INTO events.gatherings (id, tenant_id, conference_id, topic, tags, place, starts_at, ends_at, capacity)
            VALUES (gen_random_uuid(), @p2, @p1, 'Rust at scale', '{rust}', 'Room A', now() + interval '1 hour', now() + interval '2 hours', 20),
                   (gen_random_uuid(), @p2, @p1, 'Breakfast', '{food}', 'Hall', now() - interval '3 hours', now() - interval '2 hours', 50);
            INSERT INTO events.reports (id, tenant_id, conference_id, status, share_token, created_at, share_expires_at)
            VALUES (gen_random_uuid(), @p2, @p1, 'completed', md5(random()::text), now() - interval '10 minutes', now() + interval '30 days'),
                   (gen_random_uuid(), @p2, @p1, 'failed', md5(random()::text), now() - interval '1 minute', now() + interval '30 days');
            """, conferenceId, tenantId, name);

        var page = await system.SignedInPageAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Conferences", Exact = true }).ClickAsync();
        var row = page.Locator($"tr[data-conference='{conferenceId}']");
        await Expect(row).ToContainTextAsync(name);
        await Expect(row.Locator("[data-attendees]")).ToContainTextAsync("3");
        await Expect(row.Locator("[data-attendees]")).ToContainTextAsync("2 consent to matching");
        await Expect(row.Locator("[data-matches]")).ToContainTextAsync("2 attendees matched");
        await Expect(row.Locator("[data-gatherings]")).ToContainTextAsync("1 upcoming");
        await Expect(row.Locator("[data-reports]")).ToContainTextAsync("completed 1");
        await Expect(row.Locator("[data-reports]")).ToContainTextAsync("failed 1");
        await AdminSystemFixture.ScreenshotAsync(page, "admin-conferences");
    }

    [Fact]
    public async Task Impact_page_shows_companies_imports_with_line_errors_webhook_rejections_and_privacy_requests()
    {
        var (tenantId, _) = await TenantAsync("TEEI " + Guid.NewGuid().ToString("N")[..6]);
        var companyId = Guid.NewGuid();
        var company = "Acme " + companyId.ToString("N")[..6];
        var importId = Guid.NewGuid();
        var requestId = Guid.NewGuid();
        var source = "kintone-" + companyId.ToString("N")[..6];
        await ExecuteAsync("""
            INSERT INTO impact.companies (id, tenant_id, name) VALUES (@p1, @p2, @p3);
            INSERT INTO impact.imports (id, tenant_id, company_id, kind, file_sha256, report)
            VALUES (@p4, @p2, @p1, 'participants', md5(random()::text),
                    '{"rows": 3, "imported": 1, "unchanged": 0, "rejected": 2, "errors": [
                       {"line": 3, "column": "email", "message": "email is not an address."},
                       {"line": 4, "column": "*", "message": "expected 5 fields, found 2."}]}');
            INSERT INTO impact.webhook_rejections (tenant_id, source, reason, remote_ip, window_start, attempts, last_at)
            VALUES (@p2, @p5, 'bad signature', '192.0.2.7', date_trunc('hour', now()), 4, now());
            INSERT INTO impact.privacy_requests (id, tenant_id, subject_id, kind, status, requested_by)
            VALUES (@p6, @p2, gen_random_uuid(), 'delete', 'pending', 'dpo@example.com');
            """, companyId, tenantId, company, importId, source, requestId);

        var page = await system.SignedInPageAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Impact", Exact = true }).ClickAsync();
        await Expect(page.Locator($"tr[data-company='{companyId}']")).ToContainTextAsync(company);
        await Expect(page.Locator($"tr[data-company='{companyId}'] [data-scored]")).ToHaveTextAsync("0 of 0");

        await page.GetByRole(AriaRole.Link, new() { Name = "Imports", Exact = true }).ClickAsync();
        var import = page.Locator($"tr[data-import='{importId}']");
        await Expect(import).ToContainTextAsync(company);
        await Expect(import.Locator("[data-line='3']")).ToHaveTextAsync("line 3, email: email is not an address.");
        await Expect(import.Locator("[data-line='4']")).ToContainTextAsync("expected 5 fields");
        await page.GetByRole(AriaRole.Link, new() { Name = "Show only imports with line errors" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("errors=true"));
        await Expect(import).ToContainTextAsync("participants");
        await AdminSystemFixture.ScreenshotAsync(page, "admin-impact-imports");

        await page.GetByRole(AriaRole.Link, new() { Name = "Webhook rejections" }).ClickAsync();
        var rejection = page.Locator("tr[data-rejection]", new() { HasText = source });
        await Expect(rejection).ToContainTextAsync("bad signature");
        await Expect(rejection).ToContainTextAsync("192.0.2.7");
        await Expect(rejection.Locator("td").Nth(5)).ToHaveTextAsync("4");

        await page.GetByRole(AriaRole.Link, new() { Name = "Privacy requests" }).ClickAsync();
        var request = page.Locator($"tr[data-privacy-request='{requestId}']");
        await Expect(request).ToContainTextAsync("erasure");
        await Expect(request).ToContainTextAsync("pending");
        await Expect(request).ToContainTextAsync("dpo@example.com");
    }

    [Fact]
    public async Task Replay_on_the_notifications_page_sends_a_notification_again()
    {
        var (tenantId, _) = await TenantAsync("Replay " + Guid.NewGuid().ToString("N")[..6]);
        long outboxId;
        await using (var conn = new NpgsqlConnection(system.Database))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("""
                WITH o AS (
                  INSERT INTO ops.notification_outbox (tenant_id, user_id, subject_id, notification_type, payload, channels, dedupe_key)
                  VALUES ($1, 'ada', 'subject-1', 'test.note', '{}', ARRAY['in_app'], decode(md5(random()::text) || md5(random()::text), 'hex'))
                  RETURNING id)
                INSERT INTO ops.notification_deliveries (tenant_id, outbox_id, channel, target, state, reason)
                SELECT $1, o.id, 'in_app', '', 'failed', 'gave up' FROM o RETURNING outbox_id
                """, conn);
            cmd.Parameters.Add(new() { Value = tenantId });
            outboxId = (long)(await cmd.ExecuteScalarAsync())!;
        }

        var page = await system.SignedInPageAsync();
        await page.OpenLiveAsync("/notifications");
        var replay = page.GetByRole(AriaRole.Button, new() { Name = "Replay" });
        await Expect(replay).ToBeEnabledAsync();
        await page.GetByLabel("Outbox id").FillAsync(outboxId.ToString());
        await replay.ClickAsync();
        await Expect(page.Locator(".toasts")).ToContainTextAsync($"Notification {outboxId} queued to be sent again.");

        // The worker runs the send job: the delivery, failed and never attempted here, gets an attempt and leaves "failed".
        await Eventually.TrueAsync(async () =>
        {
            await using var conn = new NpgsqlConnection(system.Database);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("""
                SELECT d.state <> 'failed' AND EXISTS (SELECT 1 FROM ops.notification_attempts a WHERE a.delivery_id = d.id)
                FROM ops.notification_deliveries d WHERE d.outbox_id = $1
                """, conn);
            cmd.Parameters.Add(new() { Value = outboxId });
            return await cmd.ExecuteScalarAsync() is true;
        }, TimeSpan.FromSeconds(30), "the replayed delivery is attempted again");

        // An id that does not exist is refused with Api's reason, and nothing is queued.
        await page.GetByLabel("Outbox id").FillAsync((outboxId + 1_000_000).ToString());
        await replay.ClickAsync();
        await Expect(page.Locator(".alert.bad")).ToContainTextAsync("No notification with this id");
    }
}
