using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Platform.Tests.Integration.Conversations;

/// <summary>An Api on a fresh database with two Realtime nodes in its service discovery, and helpers to set up tenants.</summary>
public class ConversationsFixture : ApiFixture
{
    public const string NodeA = "http://127.0.0.1:7101";
    public const string NodeB = "http://127.0.0.1:7102";

    protected override void Configure(Dictionary<string, string?> settings)
    {
        settings["services:realtime:http:0"] = NodeA;
        settings["services:realtime:http:1"] = NodeB;
        // The concurrency test alone posts 2000+ activities for one tenant; limits have their own test class.
        settings["Platform:RateLimits:ActivitiesPerWindow"] = "100000";
        settings["Platform:RateLimits:RequestsPerWindow"] = "100000";
        settings["Platform:RateLimits:UserRequestsPerWindow"] = "100000";
        settings["Platform:RateLimits:UserActivitiesPerWindow"] = "100000";
    }

    public HttpClient Client(string? bearer = null) => ClientOf(Api, bearer);

    public static HttpClient ClientOf(ApiFactory api, string? bearer)
    {
        var client = api.CreateClient();
        if (bearer is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }
        return client;
    }

    public async Task<TenantKeys> CreateTenantAsync(string name = "acme")
    {
        var response = await Client(TestSettings.OperatorKey).PostAsJsonAsync("/v1/tenants", new { name });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await Json(response);
        return new TenantKeys(body.GetProperty("id").GetGuid(), body.GetProperty("apiKey").GetString()!);
    }

    public async Task<ChannelKeys> CreateChannelAsync(string apiKey, string name = "web")
    {
        var response = await Client(apiKey).PostAsJsonAsync("/v1/channels", new { name });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await Json(response);
        return new ChannelKeys(body.GetProperty("id").GetGuid(), body.GetProperty("secret").GetString()!);
    }

    public async Task<Guid> StartConversationAsync(string apiKey, Guid channelId)
    {
        var response = await Client(apiKey).PostAsJsonAsync("/v1/conversations", new { channelId });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await Json(response)).GetProperty("id").GetGuid();
    }

    public async Task<string> TokenAsync(string credential, Guid conversationId, string userId = "user-1")
    {
        var response = await Client(credential).PostAsJsonAsync($"/v1/conversations/{conversationId}/tokens", new { userId });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await Json(response)).GetProperty("token").GetString()!;
    }

    /// <summary>A tenant with one channel and one conversation in it.</summary>
    public async Task<World> CreateWorldAsync(string name = "acme")
    {
        var tenant = await CreateTenantAsync(name);
        var channel = await CreateChannelAsync(tenant.ApiKey);
        var conversation = await StartConversationAsync(tenant.ApiKey, channel.Id);
        return new World(tenant, channel, conversation);
    }

    public async Task<JsonElement> ActivitiesAsync(string credential, Guid conversationId, long watermark = 0, int limit = 1000)
    {
        var response = await Client(credential).GetAsync($"/v1/conversations/{conversationId}/activities?watermark={watermark}&limit={limit}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await Json(response);
    }

    public static async Task<JsonElement> Json(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    public static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");

    public static object Message(string text, string from = "alice", string? clientActivityId = null) =>
        new { type = "message", text, from = new { id = from }, clientActivityId };
}

public sealed record TenantKeys(Guid Id, string ApiKey);

public sealed record ChannelKeys(Guid Id, string Secret);

public sealed record World(TenantKeys Tenant, ChannelKeys Channel, Guid Conversation);
