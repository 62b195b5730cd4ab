using System.Net.Http.Headers;

namespace Platform.Tests.Integration.Conversations;

/// <summary>
/// Every endpoint × every foreign credential: another tenant's key, another channel's secret (same and other
/// tenant), a token of another conversation (same and other tenant), and none. Ids of others answer 404,
/// a credential of the wrong kind 403, no credential 401; nothing leaks and nothing changes.
/// </summary>
public sealed class IsolationMatrixTests(ConversationsFixture fx) : IClassFixture<ConversationsFixture>
{
    private const string PrivateText = "only-tenant-a-may-read-this";

    private sealed record Endpoint(string Name, HttpMethod Method, string Path, object? Body, Expect Expect);

    /// <summary>Expected status per credential kind.</summary>
    private sealed record Expect(HttpStatusCode OtherTenantKey, HttpStatusCode OtherSecret, HttpStatusCode OtherToken);

    [Fact]
    public async Task Foreign_credentials_get_the_documented_status_and_see_nothing()
    {
        var a = await fx.CreateWorldAsync("tenant-a");
        var a2Channel = await fx.CreateChannelAsync(a.Tenant.ApiKey, "a-second-channel");
        var a2 = await fx.StartConversationAsync(a.Tenant.ApiKey, a2Channel.Id);
        var b = await fx.CreateWorldAsync("tenant-b");
        var issued = await ConversationsFixture.Json(await fx.Client(TestSettings.OperatorKey).PostAsync($"/v1/tenants/{a.Tenant.Id}/api-keys", null));
        var aKeyId = issued.GetProperty("id").GetGuid();

        var posted = await fx.Client(a.Tenant.ApiKey).PostAsJsonAsync($"/v1/conversations/{a.Conversation}/activities", ConversationsFixture.Message(PrivateText));
        Assert.Equal(HttpStatusCode.Created, posted.StatusCode);

        var credentials = new (string Label, string? Bearer, Func<Expect, HttpStatusCode> Expected)[]
        {
            ("other tenant's API key", b.Tenant.ApiKey, e => e.OtherTenantKey),
            ("other tenant's channel secret", b.Channel.Secret, e => e.OtherSecret),
            ("same tenant, other channel's secret", a2Channel.Secret, e => e.OtherSecret),
            ("token of another tenant's conversation", await fx.TokenAsync(b.Tenant.ApiKey, b.Conversation), e => e.OtherToken),
            ("token of another conversation of the tenant", await fx.TokenAsync(a.Tenant.ApiKey, a2), e => e.OtherToken),
            ("no credential", null, _ => HttpStatusCode.Unauthorized),
        };

        const HttpStatusCode NotFound = HttpStatusCode.NotFound, Forbidden = HttpStatusCode.Forbidden;
        var conv = $"/v1/conversations/{a.Conversation}";
        var endpoints = new Endpoint[]
        {
            new("create tenant", HttpMethod.Post, "/v1/tenants", new { name = "x" }, new(Forbidden, Forbidden, Forbidden)),
            new("list tenants", HttpMethod.Get, "/v1/tenants", null, new(Forbidden, Forbidden, Forbidden)),
            new("get tenant", HttpMethod.Get, $"/v1/tenants/{a.Tenant.Id}", null, new(Forbidden, Forbidden, Forbidden)),
            new("patch tenant", HttpMethod.Patch, $"/v1/tenants/{a.Tenant.Id}", new { status = "inactive" }, new(Forbidden, Forbidden, Forbidden)),
            new("issue api key", HttpMethod.Post, $"/v1/tenants/{a.Tenant.Id}/api-keys", null, new(Forbidden, Forbidden, Forbidden)),
            new("revoke api key", HttpMethod.Delete, $"/v1/tenants/{a.Tenant.Id}/api-keys/{aKeyId}", null, new(Forbidden, Forbidden, Forbidden)),
            new("get channel", HttpMethod.Get, $"/v1/channels/{a.Channel.Id}", null, new(NotFound, Forbidden, Forbidden)),
            new("patch channel", HttpMethod.Patch, $"/v1/channels/{a.Channel.Id}", new { status = "inactive" }, new(NotFound, Forbidden, Forbidden)),
            new("rotate secret", HttpMethod.Post, $"/v1/channels/{a.Channel.Id}/secret", null, new(NotFound, Forbidden, Forbidden)),
            new("start conversation", HttpMethod.Post, "/v1/conversations", new { channelId = a.Channel.Id }, new(NotFound, NotFound, Forbidden)),
            new("get conversation", HttpMethod.Get, conv, null, new(NotFound, NotFound, NotFound)),
            new("close conversation", HttpMethod.Post, conv + "/close", null, new(NotFound, NotFound, Forbidden)),
            new("mint token", HttpMethod.Post, conv + "/tokens", new { userId = "mallory" }, new(NotFound, NotFound, Forbidden)),
            new("post activity", HttpMethod.Post, conv + "/activities", ConversationsFixture.Message("intrusion", "mallory"), new(NotFound, NotFound, NotFound)),
            new("list activities", HttpMethod.Get, conv + "/activities", null, new(NotFound, NotFound, NotFound)),
        };

        var failures = new List<string>();
        foreach (var endpoint in endpoints)
        {
            foreach (var (label, bearer, expected) in credentials)
            {
                using var request = new HttpRequestMessage(endpoint.Method, endpoint.Path);
                if (endpoint.Body is not null)
                {
                    request.Content = JsonContent.Create(endpoint.Body);
                }
                if (bearer is not null)
                {
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
                }
                var response = await fx.Client().SendAsync(request);
                var body = await response.Content.ReadAsStringAsync();
                var want = expected(endpoint.Expect);
                if (response.StatusCode != want)
                {
                    failures.Add($"{endpoint.Name} with {label}: {(int)response.StatusCode}, expected {(int)want}. {body}");
                }
                if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                {
                    failures.Add($"{endpoint.Name} with {label}: not a problem details answer ({response.Content.Headers.ContentType}).");
                }
                if (body.Contains(PrivateText, StringComparison.Ordinal) || body.Contains("tenant-a", StringComparison.Ordinal))
                {
                    failures.Add($"{endpoint.Name} with {label}: the answer leaks tenant A's data.");
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));

        // Nothing changed for tenant A: still active, same secret, conversation open with its one activity.
        var owner = fx.Client(a.Tenant.ApiKey);
        Assert.Equal(HttpStatusCode.OK, (await fx.Client(a.Channel.Secret).GetAsync(conv)).StatusCode);
        var conversation = await ConversationsFixture.Json(await owner.GetAsync(conv));
        Assert.Equal("active", conversation.GetProperty("status").GetString());
        Assert.Equal(1, conversation.GetProperty("lastSeq").GetInt64());
        var page = await fx.ActivitiesAsync(a.Tenant.ApiKey, a.Conversation);
        Assert.Equal(PrivateText, Assert.Single(page.GetProperty("activities").EnumerateArray()).GetProperty("text").GetString());
        var tenant = await ConversationsFixture.Json(await fx.Client(TestSettings.OperatorKey).GetAsync($"/v1/tenants/{a.Tenant.Id}"));
        Assert.Equal("active", tenant.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, (await fx.Client(a.Tenant.ApiKey).GetAsync($"/v1/channels/{a.Channel.Id}")).StatusCode);
    }

    [Fact]
    public async Task A_client_token_reaches_only_its_own_conversation_and_speaks_as_its_user()
    {
        var a = await fx.CreateWorldAsync();
        var token = await fx.TokenAsync(a.Channel.Secret, a.Conversation, "carol");
        var client = fx.Client(token);

        var posted = await client.PostAsJsonAsync($"/v1/conversations/{a.Conversation}/activities", ConversationsFixture.Message("hi", from: "impersonated"));
        Assert.Equal(HttpStatusCode.Created, posted.StatusCode);
        var page = await ConversationsFixture.Json(await client.GetAsync($"/v1/conversations/{a.Conversation}/activities"));
        var activity = Assert.Single(page.GetProperty("activities").EnumerateArray());
        Assert.Equal("carol", activity.GetProperty("from").GetProperty("id").GetString());

        var other = await fx.StartConversationAsync(a.Tenant.ApiKey, a.Channel.Id);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/v1/conversations/{other}/activities")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/v1/conversations/{other}")).StatusCode);
    }
}
