using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Platform.Core.Security;

namespace Platform.Tests.Integration.Conversations;

/// <summary>Client tokens: minted by a tenant key or channel secret, streamUrl round-robin over the nodes, expiry is a distinct 401.</summary>
public sealed class ClientTokenTests(ConversationsFixture fx) : IClassFixture<ConversationsFixture>
{
    private sealed class ShiftedClock(TimeSpan shift) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + shift;
    }

    private static ClientTokens Signer(TimeSpan shift) => new(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Platform:Jwt:SigningKey"] = TestSettings.JwtSigningKey,
    }).Build(), new ShiftedClock(shift));

    [Fact]
    public async Task A_token_carries_a_ws_stream_url_of_the_next_realtime_node()
    {
        var w = await fx.CreateWorldAsync();
        var urls = new List<Uri>();
        for (var i = 0; i < 4; i++)
        {
            var response = await fx.Client(w.Channel.Secret).PostAsJsonAsync($"/v1/conversations/{w.Conversation}/tokens", new { userId = "dana", ttlSeconds = 600 });
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            var body = await ConversationsFixture.Json(response);
            Assert.Equal(600, body.GetProperty("expiresIn").GetInt32());
            Assert.Equal(w.Conversation, body.GetProperty("conversationId").GetGuid());
            var url = new Uri(body.GetProperty("streamUrl").GetString()!);
            Assert.Equal("ws", url.Scheme);
            Assert.Equal("/v1/stream", url.AbsolutePath);
            Assert.Equal("?token=" + Uri.EscapeDataString(body.GetProperty("token").GetString()!), url.Query);
            urls.Add(url);
        }
        var ports = urls.Select(u => u.Port).ToList();
        Assert.Equal(2, ports.Distinct().Count()); // both nodes handed out
        Assert.All(ports.Zip(ports.Skip(1)), p => Assert.NotEqual(p.First, p.Second)); // alternating

        var fallback = await ConversationsFixture.Json(await fx.Client(w.Tenant.ApiKey).PostAsJsonAsync($"/v1/conversations/{w.Conversation}/tokens", new { userId = "dana" }));
        Assert.Equal(3600, fallback.GetProperty("expiresIn").GetInt32()); // default lifetime: one hour
    }

    [Fact]
    public async Task An_expired_token_is_401_with_a_problem_type_saying_expired()
    {
        var w = await fx.CreateWorldAsync();
        var expired = Signer(TimeSpan.FromHours(-3)).Issue(w.Tenant.Id, "erin", w.Conversation, TimeSpan.FromHours(1));
        var response = await fx.Client(expired).GetAsync($"/v1/conversations/{w.Conversation}/activities");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("urn:platform:problem:token-expired", (await ConversationsFixture.Json(response)).GetProperty("type").GetString());
        Assert.Contains("invalid_token", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);

        // The same token minted now works: it was the expiry, not the signature.
        var fresh = Signer(TimeSpan.Zero).Issue(w.Tenant.Id, "erin", w.Conversation, TimeSpan.FromHours(1));
        Assert.Equal(HttpStatusCode.OK, (await fx.Client(fresh).GetAsync($"/v1/conversations/{w.Conversation}/activities")).StatusCode);
    }

    [Fact]
    public async Task A_forged_or_foreign_tenant_token_is_401()
    {
        var w = await fx.CreateWorldAsync();
        var forged = new ClientTokens(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Platform:Jwt:SigningKey"] = "another-signing-key-0123456789abcdef0123456789",
        }).Build()).Issue(w.Tenant.Id, "mallory", w.Conversation, TimeSpan.FromHours(1));
        var response = await fx.Client(forged).GetAsync($"/v1/conversations/{w.Conversation}/activities");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("urn:platform:problem:unauthenticated", (await ConversationsFixture.Json(response)).GetProperty("type").GetString());

        // A genuine token naming another tenant for this conversation finds no such conversation.
        var crossed = Signer(TimeSpan.Zero).Issue(Guid.NewGuid(), "mallory", w.Conversation, TimeSpan.FromHours(1));
        Assert.Equal(HttpStatusCode.Unauthorized, (await fx.Client(crossed).GetAsync($"/v1/conversations/{w.Conversation}/activities")).StatusCode);
        JsonElement body = await ConversationsFixture.Json(await fx.Client(crossed).GetAsync($"/v1/conversations/{w.Conversation}"));
        Assert.DoesNotContain(w.Tenant.Id.ToString(), body.GetRawText(), StringComparison.Ordinal);
    }
}
