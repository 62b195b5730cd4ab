using System.Text.Json.Nodes;
using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Platform.Tests.EndToEnd;

/// <summary>
/// The panel's live parts over the Blazor circuit (no page reload, no polling script), the network allowlist as a
/// browser meets it, and axe-core on every page.
/// </summary>
public sealed partial class AdminPanelTests
{
    /// <summary>Marks the document; the mark survives only as long as the page is not reloaded.</summary>
    private static Task MarkDocumentAsync(IPage page) => page.EvaluateAsync("() => { window.__notReloaded = true; }");

    private static async Task AssertNotReloadedAsync(IPage page) =>
        Assert.True(await page.EvaluateAsync<bool>("() => window.__notReloaded === true"), "the page was reloaded");

    [Fact]
    public async Task Overview_activity_tile_rises_when_activities_are_posted_without_a_reload()
    {
        var (_, apiKey) = await CreateTenantAsync("Tile " + Guid.NewGuid().ToString("N")[..6]);
        using var tenant = ClientWith(apiKey);
        var channelId = await PostAsync(tenant, "/v1/channels", new { name = "general" }, "id");
        var conversationId = await PostAsync(tenant, "/v1/conversations", new { channelId }, "id");

        var page = await system.SignedInPageAsync();
        await Expect(page.Locator("[data-live-status]")).ToContainTextAsync("Live");
        // The tile's minute bars: a past minute's count never falls, unlike "the last minute", from which other
        // tests' activities age out while this one waits. Everything from the newest bar's minute on is counted.
        var bars = page.Locator("[data-figure=activities-per-minute] ~ .spark span[data-minute]");
        await Expect(bars.Last).ToBeAttachedAsync();
        var since = (await bars.Last.GetAttributeAsync("data-minute"))!;
        const string CountSince = """
            since => [...document.querySelectorAll('.spark span[data-minute]')]
                .filter(s => s.dataset.minute >= since).reduce((n, s) => n + Number(s.dataset.count), 0)
            """;
        var before = await page.EvaluateAsync<long>(CountSince, since);
        await MarkDocumentAsync(page);

        for (var i = 0; i < 5; i++)
        {
            await PostAsync(tenant, $"/v1/conversations/{conversationId}/activities", new { type = "message", text = $"tile {i}", from = new { id = "ada" } }, "id");
        }

        await page.WaitForFunctionAsync(
            $"since => ({CountSince})(since) >= {before + 5}", since, new() { Timeout = 15_000 });
        await AssertNotReloadedAsync(page);
    }

    [Fact]
    public async Task Live_tail_shows_a_new_activity_within_two_seconds()
    {
        var (_, apiKey) = await CreateTenantAsync("Tail " + Guid.NewGuid().ToString("N")[..6]);
        using var tenant = ClientWith(apiKey);
        var channelId = await PostAsync(tenant, "/v1/channels", new { name = "support" }, "id");
        var conversationId = await PostAsync(tenant, "/v1/conversations", new { channelId }, "id");
        await PostAsync(tenant, $"/v1/conversations/{conversationId}/activities",
            new { type = "message", text = "Hello, is anyone there?", from = new { id = "ada", name = "Ada" } }, "id");

        var page = await system.SignedInPageAsync();
        await page.OpenLiveAsync($"/conversations/{conversationId}");
        await Expect(page.Locator("tr[data-seq='1']")).ToContainTextAsync("Hello, is anyone there?");
        await Expect(page.Locator("[data-live-status]")).ToContainTextAsync("Live");
        await MarkDocumentAsync(page);

        for (var i = 2; i <= 4; i++)
        {
            var text = $"Reply {i}, posted while the operator watches";
            await PostAsync(tenant, $"/v1/conversations/{conversationId}/activities",
                new { type = "message", text, from = new { id = "bob", name = "Bob" } }, "id");
            var posted = DateTime.UtcNow;
            await Expect(page.Locator($"tr[data-seq='{i}']")).ToContainTextAsync(text, new() { Timeout = 2_000 });
            Assert.True(DateTime.UtcNow - posted < TimeSpan.FromSeconds(2), "shown within 2 s of the post");
        }
        await Expect(page.Locator("[data-activity-count]")).ToHaveTextAsync("4");
        await AssertNotReloadedAsync(page);
        await AdminSystemFixture.ScreenshotAsync(page, "readme-live-tail");
    }

    [Fact]
    public async Task Chromium_outside_the_allowlist_gets_an_empty_403_for_pages_script_and_circuit()
    {
        // The panel allows only a documentation network, so the browser on loopback is outside it.
        var settings = new Dictionary<string, string?>
        {
            ["Platform:OperatorKey"] = TestSettings.OperatorKey,
            ["services:api:http:0"] = system.ApiAddress.ToString(),
            ["Admin:Password"] = AdminSystemFixture.Password,
            ["Admin:AllowedNetworks"] = "203.0.113.0/24",
        };
        var port = LocalServers.FreePort();
        await using var admin = new AdminFactory(settings);
        admin.UseKestrel(o => o.Listen(IPAddress.Loopback, port));
        admin.StartServer();

        var context = await system.Browser.NewContextAsync(new() { BaseURL = $"http://127.0.0.1:{port}" });
        var page = await context.NewPageAsync();
        var statuses = new Dictionary<string, (int Status, string? Length)>();
        page.Response += (_, r) => statuses[new Uri(r.Url).AbsolutePath] = (r.Status, r.Headers.GetValueOrDefault("content-length"));
        foreach (var path in new[] { "/", "/signin", "/_framework/blazor.web.js" })
        {
            // An empty 403 (Content-Length 0): Chromium shows an error page of its own (ERR_HTTP_RESPONSE_CODE_FAILURE), nothing of the panel.
            var failed = await Assert.ThrowsAsync<PlaywrightException>(() => page.GotoAsync(path));
            Assert.Contains("ERR_HTTP_RESPONSE_CODE_FAILURE", failed.Message);
            Assert.Equal((403, "0"), statuses[path]);
        }
        var negotiate = await page.APIRequest.PostAsync("/_blazor/negotiate?negotiateVersion=1");
        Assert.Equal(403, negotiate.Status);
        await context.CloseAsync();
    }

    [Fact]
    public async Task Every_page_has_no_serious_or_critical_accessibility_violation()
    {
        // Data for every page: a tenant with a channel, a conversation with activities, a finished job.
        var (tenantId, apiKey) = await CreateTenantAsync("Axe " + Guid.NewGuid().ToString("N")[..6]);
        using var tenant = ClientWith(apiKey);
        var channelId = await PostAsync(tenant, "/v1/channels", new { name = "general" }, "id");
        var conversationId = await PostAsync(tenant, "/v1/conversations", new { channelId }, "id");
        await PostAsync(tenant, $"/v1/conversations/{conversationId}/activities", new { type = "message", text = "axe", from = new { id = "ada", name = "Ada" } }, "id");
        var canary = await system.OperatorClient.PostAsJsonAsync("/v1/admin/jobs/canary", new { failTimes = 0, maxAttempts = 1 });
        var jobId = (await canary.Content.ReadFromJsonAsync<JsonObject>())!["jobId"]!.GetValue<long>();

        var anonymous = await system.NewPageAsync();
        await anonymous.GotoAsync("/signin");
        var failures = new List<string>();
        failures.AddRange(await AxeAsync(anonymous, "/signin"));

        var page = await system.SignedInPageAsync();
        foreach (var path in AllPages(tenantId, conversationId, jobId))
        {
            await page.OpenLiveAsync(path);
            await Expect(page.Locator("h1").First).ToBeVisibleAsync();
            // Let the page's first reads settle before axe looks; a page that refreshes itself may never be fully idle on
            // a busy machine, and the circuit being live with its heading shown is what the check needs.
            try
            {
                await page.WaitForLoadStateAsync(LoadState.NetworkIdle, new() { Timeout = 10_000 });
            }
            catch (TimeoutException)
            {
            }
            failures.AddRange(await AxeAsync(page, path));
        }
        Assert.True(failures.Count == 0, "axe-core found serious or critical violations:\n" + string.Join('\n', failures));
    }

    /// <summary>Every page of the panel an operator reaches from the navigation or a list.</summary>
    private static string[] AllPages(string tenantId, string conversationId, long jobId) =>
    [
        "/", "/tenants", $"/tenants/{tenantId}", $"/tenants/{tenantId}/channels", $"/tenants/{tenantId}/conversations",
        $"/conversations/{conversationId}", "/jobs", $"/jobs/{jobId}", "/jobs/schedules", "/pipeline", "/safety", "/notifications",
        "/community", "/conferences", "/impact", "/impact?view=imports", "/impact?view=rejections", "/impact?view=privacy", "/not-found",
    ];

    private static async Task<IEnumerable<string>> AxeAsync(IPage page, string path)
    {
        // The head is written again when the page's circuit starts; wait for the title rather than read it mid-way.
        await Expect(page).ToHaveTitleAsync(new System.Text.RegularExpressions.Regex(@"\S"), new() { Timeout = 15_000 });
        Assert.False(string.IsNullOrWhiteSpace(await page.TitleAsync()), $"{path} has a document title");
        Assert.Equal("en", await page.Locator("html").GetAttributeAsync("lang"));
        var result = await page.RunAxe();
        return result.Violations
            .Where(v => v.Impact is "serious" or "critical")
            .Select(v => $"{path}: {v.Id} ({v.Impact}) {v.Help} at {string.Join(", ", v.Nodes.Select(n => n.Target.ToString()).Take(5))}");
    }
}

public sealed partial class AdminPanelTests
{
    [Fact]
    public async Task Admin_url_as_platform_sh_prints_it_opens_in_chromium_without_flags()
    {
        // ./platform.sh up/start print ADMIN_URL as the AppHost reports it: the admin endpoint with 127.0.0.1 for localhost.
        static string Printed(int port) => $"http://127.0.0.1:{port}";
        var port = Platform.AppHost.Infrastructure.PlatformPorts.From(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build()).Admin;

        // Chromium here runs with no port flags: it refuses the old default exactly as a user's browser did.
        var page = await system.Browser.NewPageAsync();
        try
        {
            var refused = await Assert.ThrowsAsync<PlaywrightException>(() => page.GotoAsync(Printed(5060) + "/signin"));
            Assert.Contains("ERR_UNSAFE_PORT", refused.Message);

            // The default port is a fixed number, so a running system (./platform.sh start) may hold it while the suite
            // runs. Ours goes there when it can; otherwise Chromium must still not refuse the address (any answer, or
            // a network error other than ERR_UNSAFE_PORT), and ours is opened at the same printed form on a free port.
            var (admin, ours) = StartAdminOn(port) is { } atDefault ? (atDefault, port) : FreeAdmin();
            await using var _ = admin;
            if (ours != port)
            {
                // In a page of its own: a failed navigation leaves Chromium's error page loading in the page it used.
                var probe = await system.Browser.NewPageAsync();
                try
                {
                    await probe.GotoAsync(Printed(port), new() { Timeout = 10_000 });
                }
                catch (PlaywrightException e)
                {
                    Assert.DoesNotContain("ERR_UNSAFE_PORT", e.Message);
                }
                finally
                {
                    await probe.CloseAsync();
                }
            }
            // A page of its own again: the refused navigation above may still be loading Chromium's error page into
            // the first page, and that load would interrupt this one.
            var opened = await system.Browser.NewPageAsync();
            try
            {
                await opened.GotoAsync(Printed(ours));
                await Expect(opened.GetByRole(AriaRole.Heading, new() { Name = "Operator sign-in" })).ToBeVisibleAsync();
            }
            finally
            {
                await opened.CloseAsync();
            }
        }
        finally
        {
            await page.CloseAsync();
        }
    }

    private (AdminFactory, int) FreeAdmin()
    {
        var port = LocalServers.FreePort();
        return (StartAdminOn(port) ?? throw new InvalidOperationException($"port {port} was taken"), port);
    }

    /// <summary>An Admin on this loopback port, or null when something else already listens there.</summary>
    private AdminFactory? StartAdminOn(int port)
    {
        var admin = new AdminFactory(new Dictionary<string, string?>
        {
            ["Platform:OperatorKey"] = TestSettings.OperatorKey,
            ["services:api:http:0"] = system.ApiAddress.ToString(),
            ["Admin:Password"] = AdminSystemFixture.Password,
        });
        admin.UseKestrel(o => o.Listen(IPAddress.Loopback, port));
        try
        {
            admin.StartServer();
            return admin;
        }
        catch (IOException)
        {
            // Kestrel reports a port in use as an IOException ("Failed to bind to address …: address already in use").
            admin.Dispose();
            return null;
        }
    }
}

public sealed partial class AdminPanelTests
{
    [Fact]
    public async Task Notifications_page_shows_backlog_failures_per_channel_and_re_enables_a_disabled_webhook()
    {
        var (tenantId, _) = await TenantAsync("Notify " + Guid.NewGuid().ToString("N")[..6]);
        var endpointId = Guid.NewGuid();
        var url = $"https://hooks.example.com/{endpointId:N}";
        // The backlog row is an email delivery with no send job behind it: an in-app one would be delivered at once by
        // the Worker's in-app relay, which this system runs.
        await using (var conn = new Npgsql.NpgsqlConnection(system.Database))
        {
            await conn.OpenAsync();
            await using var batch = new Npgsql.NpgsqlBatch(conn)
            {
                BatchCommands =
                {
                    new("""
                        INSERT INTO ops.webhook_endpoints (id, tenant_id, url, secret, status, failure_streak, disabled_at)
                        VALUES ($1, $2, $3, 'whsec_test', 'disabled', 10, now() - interval '5 minutes')
                        """) { Parameters = { new() { Value = endpointId }, new() { Value = tenantId }, new() { Value = url } } },
                    new("""
                        WITH o AS (
                          INSERT INTO ops.notification_outbox (tenant_id, user_id, subject_id, notification_type, payload, channels, dedupe_key)
                          VALUES ($1, 'ada', 'subject-1', 'test.note', '{}', ARRAY['email','webhook'], decode(md5(random()::text) || md5(random()::text), 'hex'))
                          RETURNING id)
                        INSERT INTO ops.notification_deliveries (tenant_id, outbox_id, channel, target, state, created_at)
                        SELECT $1, o.id, 'webhook', $2::text, 'failed', now() - interval '2 minutes' FROM o
                        UNION ALL SELECT $1, o.id, 'email', 'ada@example.org', 'pending', now() - interval '90 seconds' FROM o
                        """) { Parameters = { new() { Value = tenantId }, new() { Value = endpointId.ToString() } } },
                },
            };
            await batch.ExecuteNonQueryAsync();
        }

        var page = await system.SignedInPageAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Notifications" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Notifications", Exact = true })).ToBeVisibleAsync();
        await Expect(page.Locator("[data-figure=pending-deliveries]")).Not.ToHaveTextAsync("0");
        await Expect(page.Locator("[data-figure=disabled-webhooks]")).Not.ToHaveTextAsync("0");
        await Expect(page.Locator("tr[data-channel=webhook] td").Nth(2)).Not.ToHaveTextAsync("0");
        var row = page.Locator($"tr[data-webhook='{endpointId}']");
        await Expect(row).ToContainTextAsync(url);
        await Expect(row).ToContainTextAsync("10");
        await AdminSystemFixture.ScreenshotAsync(page, "readme-notifications");

        await row.GetByRole(AriaRole.Button, new() { Name = "Re-enable" }).ClickAsync();
        await Expect(page.Locator("dialog.confirm")).ToContainTextAsync(url);
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
        await Expect(page.Locator(".toasts")).ToContainTextAsync("re-enabled");
        await Expect(row).ToHaveCountAsync(0);

        await using var check = new Npgsql.NpgsqlConnection(system.Database);
        await check.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand("SELECT status || ':' || failure_streak FROM ops.webhook_endpoints WHERE id = $1", check);
        cmd.Parameters.Add(new() { Value = endpointId });
        Assert.Equal("active:0", await cmd.ExecuteScalarAsync());
    }
}
