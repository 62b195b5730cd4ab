using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Npgsql;
using static Microsoft.Playwright.Assertions;

namespace Platform.Tests.EndToEnd;

/// <summary>
/// The Admin panel in headless Chromium against a running Api + Worker + Admin on real PostgreSQL and Redis.
/// Every test ends with a screenshot in Platform.Tests/artifacts/.
/// </summary>
public sealed partial class AdminPanelTests(AdminSystemFixture system) : IClassFixture<AdminSystemFixture>
{
    [Fact]
    public async Task Operator_signs_in_and_sees_service_health_and_figures()
    {
        var page = await system.SignedInPageAsync();

        var services = page.GetByRole(AriaRole.Region, new() { Name = "Services" });
        await Expect(services.Locator(".card", new() { HasText = "api" })).ToContainTextAsync("healthy");
        await Expect(services.Locator(".card", new() { HasText = "worker" })).ToContainTextAsync("healthy");
        await Expect(page.Locator("[data-figure=activities-per-minute]")).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Queues" })).ToBeVisibleAsync();

        await AdminSystemFixture.ScreenshotAsync(page, "admin-overview");
    }

    [Fact]
    public async Task Wrong_password_is_refused_and_pages_stay_closed()
    {
        var page = await system.NewPageAsync();
        await page.GotoAsync("/tenants");
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/signin\\?ReturnUrl="));

        await page.GetByLabel("Password").FillAsync("not the password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Wrong password");
        await page.GotoAsync("/tenants");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Operator sign-in" })).ToBeVisibleAsync();

        await AdminSystemFixture.ScreenshotAsync(page, "admin-wrong-password");
    }

    [Fact]
    public async Task Created_tenant_shows_its_key_once_and_can_be_deactivated()
    {
        var page = await system.SignedInPageAsync();
        await page.OpenLiveAsync("/tenants");
        var name = "Acme " + Guid.NewGuid().ToString("N")[..6];
        await page.GetByPlaceholder("Tenant name").FillAsync(name);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create tenant" }).ClickAsync();

        var secret = page.Locator("[data-secret]");
        await Expect(secret).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^pk_"));
        var apiKey = (await secret.TextContentAsync())!.Trim();
        await AdminSystemFixture.ScreenshotAsync(page, "admin-tenant-created");

        // The key works, and the panel never shows it again.
        using (var tenant = ClientWith(apiKey))
        {
            Assert.Equal(HttpStatusCode.OK, (await tenant.GetAsync("/v1/channels")).StatusCode);
        }
        await page.OpenLiveAsync("/tenants");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = name })).ToBeVisibleAsync();
        Assert.DoesNotContain(apiKey, await page.ContentAsync());

        await page.GetByRole(AriaRole.Link, new() { Name = name }).ClickAsync();
        Assert.DoesNotContain(apiKey, await page.ContentAsync());
        await page.GetByRole(AriaRole.Button, new() { Name = "Deactivate" }).ClickAsync();
        await Expect(page.Locator("dialog.confirm")).ToContainTextAsync("Deactivate " + name);
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = name })).ToContainTextAsync("inactive");
        await Expect(page.Locator(".toasts")).ToContainTextAsync("Tenant deactivated.");
        using (var tenant = ClientWith(apiKey))
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await tenant.GetAsync("/v1/channels")).StatusCode);
        }
        await AdminSystemFixture.ScreenshotAsync(page, "admin-tenant-deactivated");
    }

    [Fact]
    public async Task Api_key_rotation_and_revocation_take_effect_at_once()
    {
        var name = "Keys " + Guid.NewGuid().ToString("N")[..6];
        var (tenantId, firstKey) = await CreateTenantAsync(name);
        var page = await system.SignedInPageAsync();
        await page.OpenLiveAsync($"/tenants/{tenantId}");
        var keyRows = page.Locator("tbody tr");
        await Expect(keyRows).ToHaveCountAsync(1);
        await Expect(keyRows.First).ToContainTextAsync(firstKey[..8]);

        await page.GetByRole(AriaRole.Button, new() { Name = "Rotate" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
        var secret = page.Locator("[data-secret]");
        await Expect(secret).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^pk_"));
        var secondKey = (await secret.TextContentAsync())!.Trim();
        await Expect(keyRows).ToHaveCountAsync(2);
        await Expect(keyRows.Filter(new() { HasText = "revoked" })).ToHaveCountAsync(1);
        using (var old = ClientWith(firstKey))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await old.GetAsync("/v1/channels")).StatusCode);
        }
        using (var current = ClientWith(secondKey))
        {
            Assert.Equal(HttpStatusCode.OK, (await current.GetAsync("/v1/channels")).StatusCode);
        }
        await AdminSystemFixture.ScreenshotAsync(page, "admin-key-rotated");

        await keyRows.Filter(new() { HasText = "active" }).GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
        await Expect(page.Locator(".toasts")).ToContainTextAsync("Key revoked.");
        await Expect(keyRows.Filter(new() { HasText = "revoked" })).ToHaveCountAsync(2);
        using (var revoked = ClientWith(secondKey))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await revoked.GetAsync("/v1/channels")).StatusCode);
        }
    }

    [Fact]
    public async Task Channel_secret_is_shown_once_and_rotation_and_deactivation_take_effect()
    {
        var (tenantId, _) = await CreateTenantAsync("Channels " + Guid.NewGuid().ToString("N")[..6]);
        var page = await system.SignedInPageAsync();
        await page.OpenLiveAsync($"/tenants/{tenantId}/channels");
        await Expect(page.GetByText("This tenant has no channels yet.")).ToBeVisibleAsync();

        await page.GetByPlaceholder("Channel name").FillAsync("web chat");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create channel" }).ClickAsync();
        var secret = page.Locator("[data-secret]");
        await Expect(secret).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^cs_"));
        var first = (await secret.TextContentAsync())!.Trim();
        using (var channel = ClientWith(first))
        {
            Assert.Equal(HttpStatusCode.Created, (await channel.PostAsJsonAsync("/v1/conversations", new { })).StatusCode);
        }

        await page.GetByRole(AriaRole.Button, new() { Name = "Rotate secret" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
        await Expect(secret).Not.ToHaveTextAsync(first);
        var second = (await secret.TextContentAsync())!.Trim();
        using (var old = ClientWith(first))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await old.PostAsJsonAsync("/v1/conversations", new { })).StatusCode);
        }
        await AdminSystemFixture.ScreenshotAsync(page, "admin-channel-rotated");

        await page.GetByRole(AriaRole.Button, new() { Name = "Deactivate" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
        await Expect(page.Locator("tr[data-channel]").First).ToContainTextAsync("inactive");
        Assert.DoesNotContain(second, await page.ContentAsync());
        using (var current = ClientWith(second))
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await current.PostAsJsonAsync("/v1/conversations", new { })).StatusCode);
        }
    }

    [Fact]
    public async Task Overview_refreshes_by_itself_when_a_job_fails()
    {
        var page = await system.SignedInPageAsync();
        var failed = page.Locator("[data-figure=failed-jobs]");
        await Expect(failed).Not.ToHaveTextAsync("—");
        var before = long.Parse((await failed.TextContentAsync())!.Replace(",", ""));

        // Some traffic for the activities figure, and a canary that ends failed at its first failure.
        var (_, apiKey) = await CreateTenantAsync("Overview traffic");
        using var tenant = ClientWith(apiKey);
        var channelId = await PostAsync(tenant, "/v1/channels", new { name = "general" }, "id");
        var conversationId = await PostAsync(tenant, "/v1/conversations", new { channelId }, "id");
        for (var i = 0; i < 12; i++)
        {
            await PostAsync(tenant, $"/v1/conversations/{conversationId}/activities", new { type = "message", text = $"hello {i}", from = new { id = "ada" } }, "id");
        }
        var canary = await system.OperatorClient.PostAsJsonAsync("/v1/admin/jobs/canary", new { failTimes = 3, maxAttempts = 1 });
        var jobId = (await canary.Content.ReadFromJsonAsync<JsonObject>())!["jobId"]!.GetValue<long>();
        await Eventually.ReturnsAsync(() => JobStateAsync(jobId), s => s == "failed", TimeSpan.FromSeconds(60), "the canary fails");

        // No reload: the page's own refresh brings the new figure. At least one more, not exactly one: a canary of
        // another test that is still retrying drops out of the count while it runs.
        await page.WaitForFunctionAsync(
            "n => Number(document.querySelector('[data-figure=failed-jobs]').textContent.replace(/,/g, '')) >= n",
            before + 1, new() { Timeout = 30_000 });
        await Expect(page.Locator(".figure.alerting")).ToBeVisibleAsync();
        await AdminSystemFixture.ScreenshotAsync(page, "admin-overview-live");
    }

    [Fact]
    public async Task Conversation_page_shows_an_activity_posted_through_Api_live()
    {
        var (_, apiKey) = await CreateTenantAsync("Live tail");
        using var tenant = ClientWith(apiKey);
        var channelId = await PostAsync(tenant, "/v1/channels", new { name = "support" }, "id");
        var conversationId = await PostAsync(tenant, "/v1/conversations", new { channelId }, "id");
        await PostAsync(tenant, $"/v1/conversations/{conversationId}/activities",
            new { type = "message", text = "First, before the page opened", from = new { id = "ada", name = "Ada" } }, "id");

        var page = await system.SignedInPageAsync();
        await page.OpenLiveAsync($"/conversations/{conversationId}");
        await Expect(page.Locator("tr[data-seq='1']")).ToContainTextAsync("First, before the page opened");
        await Expect(page.Locator("[data-live-status]")).ToBeVisibleAsync();

        // Posted while the page is open: it appears without a reload, after seq 1.
        await PostAsync(tenant, $"/v1/conversations/{conversationId}/activities",
            new { type = "message", text = "Second, posted while watching", from = new { id = "bob", name = "Bob" } }, "id");
        await Expect(page.Locator("tr[data-seq='2']")).ToContainTextAsync("Second, posted while watching");
        await Expect(page.Locator("tbody tr[data-seq]")).ToHaveCountAsync(2);
        await Expect(page.Locator("[data-activity-count]")).ToHaveTextAsync("2");

        await AdminSystemFixture.ScreenshotAsync(page, "admin-conversation-live");
    }

    [Fact]
    public async Task Failed_canary_job_is_retried_from_the_jobs_page_and_shows_in_the_hangfire_dashboard()
    {
        var page = await system.SignedInPageAsync();
        await page.OpenLiveAsync("/jobs");
        // Fails its first run and may run once: it ends failed.
        await page.GetByLabel("Fail first").FillAsync("1");
        await page.GetByLabel("of max attempts").FillAsync("1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Run canary" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { NameRegex = new System.Text.RegularExpressions.Regex("^Job \\d+") })).ToBeVisibleAsync();
        var jobId = long.Parse(new Uri(page.Url).Segments[^1].TrimEnd('/'));

        await Eventually.ReturnsAsync(() => JobStateAsync(jobId), s => s == "failed", TimeSpan.FromSeconds(60), "the canary fails");
        await page.OpenLiveAsync($"/jobs/{jobId}");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Job {jobId}" })).ToContainTextAsync("failed");
        await Expect(page.Locator("ol.errors li[data-history='failed']")).ToHaveCountAsync(1);

        await page.GetByRole(AriaRole.Button, new() { Name = "Retry" }).ClickAsync();
        await Expect(page.Locator(".toasts")).ToContainTextAsync("Job queued to run again.");

        // Its second run succeeds (it fails only the first), and the page says so.
        await Eventually.ReturnsAsync(() => JobStateAsync(jobId), s => s == "succeeded", TimeSpan.FromSeconds(60), "the retried canary succeeds");
        await page.OpenLiveAsync($"/jobs/{jobId}");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Job {jobId}" })).ToContainTextAsync("succeeded");
        await AdminSystemFixture.ScreenshotAsync(page, "admin-jobs");

        // The same job in the Hangfire Dashboard, reached from the panel's navigation with the panel's sign-in.
        await page.Locator("a[data-nav=hangfire]").ClickAsync();
        await Expect(page.Locator("body")).ToContainTextAsync("Platform jobs");
        await page.OpenLiveAsync("/jobs/" + jobId);
        await page.GetByRole(AriaRole.Link, new() { Name = "In Hangfire" }).ClickAsync();
        await Expect(page.Locator("body")).ToContainTextAsync("ops.canary");
        await Expect(page.Locator("body")).ToContainTextAsync("Succeeded");
        await AdminSystemFixture.ScreenshotAsync(page, "admin-hangfire-dashboard");
    }

    [Fact]
    public async Task Schedule_is_paused_resumed_and_triggered_from_the_schedules_page()
    {
        // A schedule the Worker declares to Hangfire at start: nightly, far from its next fire time in a test run.
        const string name = "impact.metrics-nightly";
        var page = await system.SignedInPageAsync();
        await page.OpenLiveAsync("/jobs/schedules");
        var row = page.Locator($"tr[data-schedule='{name}']");
        await Expect(row).ToContainTextAsync("0 15 2 * * ?");
        await Expect(row).ToContainTextAsync("active");

        await row.GetByRole(AriaRole.Button, new() { Name = "Pause" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
        await Expect(page.Locator(".toasts")).ToContainTextAsync($"{name} paused.");
        await Expect(row).ToContainTextAsync("paused");

        await row.GetByRole(AriaRole.Button, new() { Name = "Resume" }).ClickAsync();
        await Expect(row.Locator(".badge").First).ToHaveTextAsync("active");

        await row.GetByRole(AriaRole.Button, new() { Name = "Trigger now" }).ClickAsync();
        await Expect(page.Locator(".toasts")).ToContainTextAsync($"{name} triggered.");
        var schedules = await system.OperatorClient.GetFromJsonAsync<JsonArray>("/v1/admin/schedules");
        var schedule = schedules!.OfType<JsonObject>().Single(s => s["name"]!.GetValue<string>() == name);
        Assert.False(schedule["paused"]!.GetValue<bool>());
        await AdminSystemFixture.ScreenshotAsync(page, "admin-schedules");
    }

    [Fact]
    public async Task Busy_system_shows_every_job_state_on_the_jobs_and_overview_pages()
    {
        // Traffic on a few tenants, and canaries that succeed, wait for a retry and give up.
        foreach (var tenantName in new[] { "Northwind", "Contoso", "Fabrikam" })
        {
            var (_, apiKey) = await CreateTenantAsync(tenantName + " " + Guid.NewGuid().ToString("N")[..4]);
            using var tenant = ClientWith(apiKey);
            var channelId = await PostAsync(tenant, "/v1/channels", new { name = "community" }, "id");
            for (var c = 0; c < 2; c++)
            {
                var conversationId = await PostAsync(tenant, "/v1/conversations", new { channelId }, "id");
                for (var i = 0; i < 5; i++)
                {
                    await PostAsync(tenant, $"/v1/conversations/{conversationId}/activities", new { type = "message", text = $"message {i}", from = new { id = $"user{i % 3}" } }, "id");
                }
            }
        }
        var jobs = new List<(long Id, string Expected)>();
        foreach (var (failTimes, maxAttempts, expected) in new[] { (0, 3, "succeeded"), (0, 3, "succeeded"), (9, 1, "failed"), (9, 1, "failed"), (9, 9, "scheduled") })
        {
            var response = await system.OperatorClient.PostAsJsonAsync("/v1/admin/jobs/canary", new { failTimes, maxAttempts });
            jobs.Add(((await response.Content.ReadFromJsonAsync<JsonObject>())!["jobId"]!.GetValue<long>(), expected));
        }
        foreach (var (id, expected) in jobs)
        {
            // A canary waiting for a retry is awaited past its second failure: the next retry is then 16 s (2^4) away.
            await Eventually.ReturnsAsync(() => system.OperatorClient.GetFromJsonAsync<JsonObject>($"/v1/admin/jobs/{id}"),
                j => j!["state"]!.GetValue<string>() == expected && (expected != "scheduled" || j["attempt"]!.GetValue<int>() >= 2),
                TimeSpan.FromSeconds(60), $"job {id} {expected}");
        }

        var page = await system.SignedInPageAsync();
        await page.OpenLiveAsync("/jobs");
        foreach (var state in new[] { "succeeded", "failed", "scheduled" })
        {
            await Expect(page.Locator($"table.matrix td[data-state={state}]")).Not.ToHaveTextAsync("0");
        }
        await AdminSystemFixture.ScreenshotAsync(page, "readme-jobs");

        // The failed ones are listed by the Hangfire Dashboard, inside the panel.
        await page.Locator("table.matrix td[data-state=failed] a").ClickAsync();
        await Expect(page.Locator("body")).ToContainTextAsync("ops.canary");

        await page.OpenLiveAsync("/");
        // A figure, not the placeholder shown while the page's circuit loads them.
        await Expect(page.Locator("[data-figure=failed-jobs]")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^[1-9][0-9,]*$"));
        await Expect(page.Locator("[data-figure=activities-per-minute]")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^[0-9][0-9,]*$"));
        await Expect(page.GetByRole(AriaRole.Region, new() { Name = "Services" }).Locator(".card", new() { HasText = "api" })).ToContainTextAsync("healthy");
        await AdminSystemFixture.ScreenshotAsync(page, "readme-overview");
    }

    [Fact]
    public async Task Tenant_with_10000_conversations_is_paged_not_loaded()
    {
        var tenantId = Guid.NewGuid();
        var channelId = Guid.NewGuid();
        await using (var conn = new NpgsqlConnection(system.Database))
        {
            await conn.OpenAsync();
            await using var batch = new NpgsqlBatch(conn)
            {
                BatchCommands =
                {
                    new("INSERT INTO core.tenants (id, name) VALUES ($1, 'Big tenant')") { Parameters = { new() { Value = tenantId } } },
                    new("INSERT INTO core.channels (id, tenant_id, name, secret_hash) VALUES ($1, $2, 'busy', md5(random()::text))")
                    {
                        Parameters = { new() { Value = channelId }, new() { Value = tenantId } },
                    },
                    new("""
                        INSERT INTO core.conversations (id, tenant_id, channel_id, created_at)
                        SELECT gen_random_uuid(), $1, $2, now() - make_interval(secs => g) FROM generate_series(1, 10000) AS g
                        """)
                    {
                        Parameters = { new() { Value = tenantId }, new() { Value = channelId } },
                    },
                },
            };
            await batch.ExecuteNonQueryAsync();
        }

        var page = await system.SignedInPageAsync();
        await page.OpenLiveAsync($"/tenants/{tenantId}/conversations");
        var rows = page.Locator("tr[data-conversation]");
        await Expect(rows).ToHaveCountAsync(25);
        var firstOfPageOne = await rows.First.Locator("code").TextContentAsync();
        // Follow the link once the page's circuit runs: a circuit that starts after the click draws page one again.
        await Expect(page.Locator("nav.pager[data-live=true]")).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Link, new() { Name = "Next page »" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "« First page" })).ToBeVisibleAsync();
        await Expect(rows).ToHaveCountAsync(25);
        Assert.NotEqual(firstOfPageOne, await rows.First.Locator("code").TextContentAsync());

        await page.OpenLiveAsync($"/tenants/{tenantId}/conversations?channel={channelId}&status=active");
        await Expect(rows).ToHaveCountAsync(25);
        await AdminSystemFixture.ScreenshotAsync(page, "admin-conversations-paged");

        // At tablet width the navigation moves to the top and the table scrolls inside its panel.
        await page.SetViewportSizeAsync(820, 1100);
        await Expect(rows).ToHaveCountAsync(25);
        await AdminSystemFixture.ScreenshotAsync(page, "admin-conversations-tablet");

        // Going to one conversation by id.
        await page.GetByPlaceholder("Go to a conversation id").FillAsync(firstOfPageOne!.Trim());
        await page.GetByRole(AriaRole.Button, new() { Name = "Open" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"/conversations/{firstOfPageOne.Trim()}$"));
        await Expect(page.GetByText("No activities yet.")).ToBeVisibleAsync();
    }

    private async Task<string?> JobStateAsync(long id)
    {
        var job = await system.OperatorClient.GetFromJsonAsync<JsonObject>($"/v1/admin/jobs/{id}");
        return job?["state"]?.GetValue<string>();
    }

    private async Task<(string Id, string ApiKey)> CreateTenantAsync(string name)
    {
        var response = await system.OperatorClient.PostAsJsonAsync("/v1/tenants", new { name });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        return (body["id"]!.GetValue<string>(), body["apiKey"]!.GetValue<string>());
    }

    private static async Task<string> PostAsync(HttpClient client, string path, object body, string field)
    {
        var response = await client.PostAsJsonAsync(path, body);
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<JsonObject>())![field]!.ToString();
    }

    private HttpClient ClientWith(string credential)
    {
        var client = new HttpClient { BaseAddress = system.ApiAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", credential);
        return client;
    }

    [Fact]
    public async Task Pipeline_runs_page_lists_a_citys_runs_and_reruns_a_meeting()
    {
        var (tenantId, _) = await TenantAsync("Civic " + Guid.NewGuid().ToString("N")[..6]);
        var (city, meeting, run) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var slug = "town-" + Guid.NewGuid().ToString("N")[..6];
        await using (var conn = new NpgsqlConnection(system.Database))
        {
            await conn.OpenAsync();
            // A city with one processed meeting whose last run failed in the summarize stage.
            await using var cmd = new NpgsqlCommand("""
                WITH city AS (INSERT INTO civic.cities (id, tenant_id, slug, name) VALUES ($1, $2, $5, 'Riverton')),
                     artifact AS (INSERT INTO civic.artifacts (id, tenant_id, sha256, media_type, storage_key, byte_size, text_content)
                                  VALUES ($3, $2, md5(random()::text), 'text/plain', 'missing/agenda.txt', 12, 'Agenda: parks')),
                     meeting AS (INSERT INTO civic.meetings (id, tenant_id, city_id, meeting_uid, title, artifact_id, status)
                                 VALUES ($4, $2, $1, 'm-1', 'Council meeting', $3, 'failed'))
                INSERT INTO civic.processing_runs (id, tenant_id, city_id, meeting_id, artifact_id, trigger, status, stages, error, created_at, finished_at)
                VALUES ($6, $2, $1, $4, $3, 'scan', 'failed',
                        '{"extract": {"status": "completed", "durationMs": 12.5}, "summarize": {"status": "failed", "durationMs": 40}}',
                        'summarizer timed out', now() - interval '1 minute', now() - interval '50 seconds')
                """, conn);
            cmd.Parameters.Add(new() { Value = city });
            cmd.Parameters.Add(new() { Value = tenantId });
            cmd.Parameters.Add(new() { Value = Guid.NewGuid() });
            cmd.Parameters.Add(new() { Value = meeting });
            cmd.Parameters.Add(new() { Value = slug });
            cmd.Parameters.Add(new() { Value = run });
            await cmd.ExecuteNonQueryAsync();
        }

        var page = await system.SignedInPageAsync();
        await page.OpenLiveAsync("/");
        // Follow the link once the overview's circuit runs: one that starts after the click draws the overview again.
        await Expect(page.Locator("[data-live-status]")).ToContainTextAsync("Live");
        await page.GetByRole(AriaRole.Link, new() { Name = "Pipeline runs" }).ClickAsync();
        var cityRow = page.Locator($"tr[data-city='{slug}']");
        await Expect(cityRow).ToContainTextAsync("failed");
        await cityRow.GetByRole(AriaRole.Link, new() { Name = "Riverton" }).ClickAsync();

        var runRow = page.Locator($"tr[data-run='{run}']");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Runs of Riverton" })).ToBeVisibleAsync();
        await Expect(runRow).ToContainTextAsync("summarizer timed out");
        await Expect(runRow).ToContainTextAsync("extract");
        await Expect(runRow).ToContainTextAsync("summarize");
        await Expect(runRow).ToContainTextAsync("10.0 s");

        await runRow.GetByRole(AriaRole.Button, new() { Name = "Rerun" }).ClickAsync();
        await page.Locator("dialog.confirm").GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
        await Expect(page.Locator(".toasts")).ToContainTextAsync("Rerun started.");
        await Expect(page.Locator("tr[data-run]")).ToHaveCountAsync(2);
        await Expect(page.Locator("tr[data-run]").First).ToContainTextAsync("rerun");
        await using (var conn = new NpgsqlConnection(system.Database))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT count(*) FROM civic.processing_runs WHERE meeting_id = $1 AND trigger = 'rerun'", conn);
            cmd.Parameters.Add(new() { Value = meeting });
            Assert.Equal(1L, (long)(await cmd.ExecuteScalarAsync())!);
        }

        await AdminSystemFixture.ScreenshotAsync(page, "admin-pipeline");
    }

    [Fact]
    public async Task Safety_flags_page_lists_open_flags_across_tenants_and_clearing_sends_the_text_to_scoring()
    {
        var tenantName = "Impact " + Guid.NewGuid().ToString("N")[..6];
        var (tenantId, apiKey) = await TenantAsync(tenantName);
        using var tenant = new HttpClient { BaseAddress = system.ApiAddress };
        tenant.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        var company = await tenant.PostAsJsonAsync("/v1/impact/companies", new { name = "Flag corp" });
        Assert.Equal(HttpStatusCode.Created, company.StatusCode);
        var companyId = (await company.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        foreach (var (kind, csv) in new[]
        {
            ("participants", "source,external_id,role,name,email,program,enrolled_at\nbuddy,p1,participant,Jonas Berg,jonas@example.org,language,2026-01-06\n"),
            ("checkins", "source,checkin_id,participant_id,date,mood,note\nbuddy,c1,p1,2026-02-13,3,\"Call me on +47 912 34 567 or write to jonas@example.org\"\n"),
        })
        {
            var import = await tenant.PostAsync($"/v1/impact/imports?companyId={companyId}&kind={kind}", new StringContent(csv, System.Text.Encoding.UTF8, "text/csv"));
            Assert.True(import.IsSuccessStatusCode, await import.Content.ReadAsStringAsync());
        }
        Guid flagId = default, textId = default;
        await Eventually.TrueAsync(async () =>
        {
            await using var conn = new NpgsqlConnection(system.Database);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT id, text_id FROM impact.safety_flags WHERE tenant_id = $1 AND status = 'open'", conn);
            cmd.Parameters.Add(new() { Value = tenantId });
            await using var reader = await cmd.ExecuteReaderAsync();
            if (!await reader.ReadAsync())
            {
                return false;
            }
            (flagId, textId) = (reader.GetGuid(0), reader.GetGuid(1));
            return true;
        }, TimeSpan.FromSeconds(30), "the check-in with contact data is flagged");

        var page = await system.SignedInPageAsync();
        await page.OpenLiveAsync("/");
        // Follow the link once the overview's circuit runs: one that starts after the click draws the overview again.
        await Expect(page.Locator("[data-live-status]")).ToContainTextAsync("Live");
        await page.GetByRole(AriaRole.Link, new() { Name = "Safety flags" }).ClickAsync();
        var row = page.Locator($"tr[data-flag='{flagId}']");
        await Expect(row).ToContainTextAsync("contact_data");
        await Expect(row).ToContainTextAsync("+47 912 34 567");
        await Expect(row).ToContainTextAsync(tenantName);
        await AdminSystemFixture.ScreenshotAsync(page, "admin-safety");

        await row.GetByRole(AriaRole.Button, new() { Name = "Clear" }).ClickAsync();
        await page.Locator("dialog.confirm").GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
        await Expect(page.Locator(".toasts")).ToContainTextAsync("Flag cleared");
        await Expect(row).ToHaveCountAsync(0);

        // The same rules as the tenant's review: the flag is final and the text is scored.
        await using var db = NpgsqlDataSource.Create(system.Database);
        await using (var cmd = db.CreateCommand("SELECT status FROM impact.safety_flags WHERE id = $1"))
        {
            cmd.Parameters.Add(new() { Value = flagId });
            Assert.Equal("cleared", await cmd.ExecuteScalarAsync());
        }
        await Eventually.TrueAsync(async () =>
        {
            await using var cmd = db.CreateCommand("SELECT count(*) FROM impact.outcome_scores WHERE text_id = $1");
            cmd.Parameters.Add(new() { Value = textId });
            return (long)(await cmd.ExecuteScalarAsync())! > 0;
        }, TimeSpan.FromSeconds(30), "the cleared text is scored");
    }

    private async Task<(Guid Id, string ApiKey)> TenantAsync(string name)
    {
        var response = await system.OperatorClient.PostAsJsonAsync("/v1/tenants", new { name });
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        return (Guid.Parse(body["id"]!.GetValue<string>()), body["apiKey"]!.GetValue<string>());
    }
}
