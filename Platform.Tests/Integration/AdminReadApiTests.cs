using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Npgsql;

namespace Platform.Tests.Integration;

/// <summary>The operator-only read endpoints behind the Admin panel (/v1/admin/…), against real PostgreSQL.</summary>
public sealed class AdminReadApiTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private HttpClient Operator()
    {
        var client = fixture.Api.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestSettings.OperatorKey);
        return client;
    }

    private async Task<(Guid TenantId, string ApiKey)> TenantAsync(string name)
    {
        var response = await Operator().PostAsJsonAsync("/v1/tenants", new { name });
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        return (Guid.Parse(body["id"]!.GetValue<string>()), body["apiKey"]!.GetValue<string>());
    }

    [Fact]
    public async Task Admin_reads_answer_only_the_operator()
    {
        var (tenantId, apiKey) = await TenantAsync("Reads auth");
        var anonymous = fixture.Api.CreateClient();
        var tenant = fixture.Api.CreateClient();
        tenant.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);

        foreach (var path in new[] { "/v1/admin/overview", "/v1/admin/tenants", $"/v1/admin/tenants/{tenantId}/conversations",
                                     "/v1/admin/notifications/health", "/v1/admin/notifications/webhooks/disabled",
                                     "/v1/admin/notifications/email/disabled" })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(path)).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await tenant.GetAsync(path)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await Operator().GetAsync(path)).StatusCode);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await Operator().GetAsync($"/v1/admin/tenants/{Guid.NewGuid()}/conversations")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Operator().GetAsync($"/v1/admin/conversations/{Guid.NewGuid()}/activities")).StatusCode);

        // Re-enabling an endpoint that is not disabled is a problem answer, and the tenant cannot do it.
        var enable = $"/v1/admin/notifications/webhooks/{Guid.NewGuid()}/enable";
        Assert.Equal(HttpStatusCode.Forbidden, (await tenant.PostAsync(enable, null)).StatusCode);
        var missing = await Operator().PostAsync(enable, null);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Conversations_page_by_cursor_without_gaps_or_repeats_even_with_equal_timestamps()
    {
        var tenantId = Guid.NewGuid();
        var (busy, quiet) = (Guid.NewGuid(), Guid.NewGuid());
        await using (var conn = new NpgsqlConnection(fixture.Database))
        {
            await conn.OpenAsync();
            await using var batch = new NpgsqlBatch(conn)
            {
                BatchCommands =
                {
                    new("INSERT INTO core.tenants (id, name) VALUES ($1, 'Paged')") { Parameters = { new() { Value = tenantId } } },
                    new("INSERT INTO core.channels (id, tenant_id, name, secret_hash) VALUES ($1, $3, 'busy', md5(random()::text)), ($2, $3, 'quiet', md5(random()::text))")
                    {
                        Parameters = { new() { Value = busy }, new() { Value = quiet }, new() { Value = tenantId } },
                    },
                    // 130 in 'busy', ten at a time sharing one timestamp, so only the id breaks ties; 7 closed in 'quiet'.
                    new("""
                        INSERT INTO core.conversations (id, tenant_id, channel_id, created_at)
                        SELECT gen_random_uuid(), $1, $2, timestamptz '2026-01-01' + make_interval(mins => g / 10) FROM generate_series(1, 130) g
                        """) { Parameters = { new() { Value = tenantId }, new() { Value = busy } } },
                    new("""
                        INSERT INTO core.conversations (id, tenant_id, channel_id, status, closed_at)
                        SELECT gen_random_uuid(), $1, $2, 'closed', now() FROM generate_series(1, 7)
                        """) { Parameters = { new() { Value = tenantId }, new() { Value = quiet } } },
                },
            };
            await batch.ExecuteNonQueryAsync();
        }

        var seen = new List<string>();
        var pages = 0;
        string? cursor = null;
        do
        {
            var page = (await Operator().GetFromJsonAsync<JsonObject>(
                $"/v1/admin/tenants/{tenantId}/conversations?channelId={busy}&limit=50" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor))))!;
            var items = page["items"]!.AsArray();
            Assert.True(items.Count <= 50);
            seen.AddRange(items.Select(i => i!["id"]!.GetValue<string>()));
            cursor = page["next"]?.GetValue<string>();
            pages++;
        }
        while (cursor is not null);

        Assert.Equal(3, pages);
        Assert.Equal(130, seen.Count);
        Assert.Equal(130, seen.Distinct().Count());

        var closed = (await Operator().GetFromJsonAsync<JsonObject>($"/v1/admin/tenants/{tenantId}/conversations?status=closed"))!;
        Assert.Equal(7, closed["items"]!.AsArray().Count);
        Assert.All(closed["items"]!.AsArray(), i => Assert.Equal("quiet", i!["channelName"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.BadRequest, (await Operator().GetAsync($"/v1/admin/tenants/{tenantId}/conversations?status=open")).StatusCode);
    }

    [Fact]
    public async Task Activities_come_in_seq_order_as_a_window_or_a_tail()
    {
        var (_, apiKey) = await TenantAsync("Reads activities");
        var tenant = fixture.Api.CreateClient();
        tenant.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        var channel = (await (await tenant.PostAsJsonAsync("/v1/channels", new { name = "c" })).Content.ReadFromJsonAsync<JsonObject>())!;
        var conversation = (await (await tenant.PostAsJsonAsync("/v1/conversations", new { channelId = channel["id"]!.GetValue<string>() }))
            .Content.ReadFromJsonAsync<JsonObject>())!;
        var id = conversation["id"]!.GetValue<string>();
        for (var i = 1; i <= 5; i++)
        {
            var posted = await tenant.PostAsJsonAsync($"/v1/conversations/{id}/activities", new { type = "message", text = $"m{i}", from = new { id = "u" } });
            Assert.Equal(HttpStatusCode.Created, posted.StatusCode);
        }

        static long[] Seqs(JsonObject page) => [.. page["activities"]!.AsArray().Select(a => a!["seq"]!.GetValue<long>())];

        var newest = (await Operator().GetFromJsonAsync<JsonObject>($"/v1/admin/conversations/{id}/activities?limit=3"))!;
        Assert.Equal([3L, 4L, 5L], Seqs(newest));
        Assert.Equal(5, newest["lastSeq"]!.GetValue<long>());
        var older = (await Operator().GetFromJsonAsync<JsonObject>($"/v1/admin/conversations/{id}/activities?before=3"))!;
        Assert.Equal([1L, 2L], Seqs(older));
        var tail = (await Operator().GetFromJsonAsync<JsonObject>($"/v1/admin/conversations/{id}/activities?after=3"))!;
        Assert.Equal([4L, 5L], Seqs(tail));
        Assert.Equal("m4", tail["activities"]![0]!["text"]!.GetValue<string>());

        var listed = (await Operator().GetFromJsonAsync<JsonObject>($"/v1/admin/conversations/{id}"))!;
        Assert.Equal(5, listed["activities"]!.GetValue<long>());
        Assert.Equal("Reads activities", listed["tenantName"]!.GetValue<string>());
    }

    [Fact]
    public async Task Civic_and_safety_reads_and_the_flag_review_answer_only_the_operator()
    {
        var (_, apiKey) = await TenantAsync("Ops auth");
        var anonymous = fixture.Api.CreateClient();
        var tenant = fixture.Api.CreateClient();
        tenant.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);

        foreach (var path in new[] { "/v1/admin/civic/cities", "/v1/admin/safety/flags" })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(path)).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await tenant.GetAsync(path)).StatusCode);
            var page = await Operator().GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.NotNull((await page.Content.ReadFromJsonAsync<JsonObject>())!["items"]);
        }
        var review = $"/v1/admin/safety/flags/{Guid.NewGuid()}/review";
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync(review, new { decision = "clear" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await tenant.PostAsJsonAsync(review, new { decision = "clear" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Operator().PostAsJsonAsync(review, new { decision = "maybe" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Operator().PostAsJsonAsync(review, new { decision = "clear" })).StatusCode);
    }
}
