using System.Net.WebSockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Platform.Core.Security;

namespace Platform.Tests.Integration.Realtime;

/// <summary>
/// Revocation reaches what was issued: live sockets close at token expiry and within seconds of a key revocation,
/// a secret rotation or a deactivation (pushed over Redis); tokens die with the credential that minted them; each
/// stream accepts only its own kind of token; Direct Line refresh chains have a maximum age.
/// </summary>
public sealed class RevocationTests(RealtimeFixture fx) : IClassFixture<RealtimeFixture>
{
    /// <summary>Well under the nodes' periodic re-check (60 s): only the pushed revocation can close this fast.</summary>
    private static readonly TimeSpan Seconds = TimeSpan.FromSeconds(10);

    /// <summary>A raw WebSocket that records how the server closed it.</summary>
    private sealed class Socket : IAsyncDisposable
    {
        private readonly ClientWebSocket _ws = new();
        private Task _reading = Task.CompletedTask;
        public WebSocketCloseStatus? Status { get; private set; }
        public string? Reason { get; private set; }
        public int Frames { get; private set; }

        public static async Task<Socket> OpenAsync(Uri node, string path, string query)
        {
            var s = new Socket();
            await s._ws.ConnectAsync(new UriBuilder(node) { Scheme = "ws", Path = path, Query = query }.Uri, CancellationToken.None);
            s._reading = s.ReadAsync();
            return s;
        }

        private async Task ReadAsync()
        {
            var buffer = new byte[64 * 1024];
            try
            {
                while (true)
                {
                    var r = await _ws.ReceiveAsync(buffer, CancellationToken.None);
                    if (r.MessageType == WebSocketMessageType.Close)
                    {
                        (Status, Reason) = (r.CloseStatus, r.CloseStatusDescription);
                        return;
                    }
                    Frames += r.EndOfMessage ? 1 : 0;
                }
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
                Reason = $"no close frame: {ex.GetType().Name} {ex.Message} {ex.InnerException?.Message}";
            }
        }

        public async Task<int> ClosedWithAsync(TimeSpan within)
        {
            await Eventually.TrueAsync(() => Task.FromResult(_reading.IsCompleted), within, "the server closes the socket");
            Assert.True(Status is not null, Reason);
            return (int)Status!.Value;
        }

        public async Task StaysOpenAsync(TimeSpan forAtLeast)
        {
            // Open after the first frame and still open a moment later: nothing closed it.
            await Eventually.TrueAsync(() => Task.FromResult(Frames > 0), TimeSpan.FromSeconds(10), "the first frame");
            Assert.False(await Task.WhenAny(_reading, Task.Delay(forAtLeast)) == _reading, "the socket stays open");
        }

        public async ValueTask DisposeAsync()
        {
            _ws.Abort();
            await _reading;
            _ws.Dispose();
        }
    }

    private static Task<Socket> StreamAsync(RealtimeFixture fx, string token, int node = 0) =>
        Socket.OpenAsync(fx.NodeUri(node), "/v1/stream", $"token={Uri.EscapeDataString(token)}");

    private async Task<string> TokenAsync(string credential, Guid conversation, int? ttlSeconds = null)
    {
        var response = await fx.Client(credential).PostAsJsonAsync($"/v1/conversations/{conversation}/tokens", new { userId = "u1", ttlSeconds });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await ConversationsFixtureJson(response)).GetProperty("token").GetString()!;
    }

    private static Task<System.Text.Json.JsonElement> ConversationsFixtureJson(HttpResponseMessage r) => Conversations.ConversationsFixture.Json(r);

    [Fact]
    public async Task A_socket_closes_4401_when_its_token_expires()
    {
        var w = await fx.CreateWorldAsync("expiry");
        var token = await TokenAsync(w.Tenant.ApiKey, w.Conversation, ttlSeconds: 3);
        await using var socket = await StreamAsync(fx, token);
        Assert.Equal(4401, await socket.ClosedWithAsync(TimeSpan.FromSeconds(15)));
        Assert.Equal("token expired", socket.Reason);
    }

    [Fact]
    public async Task Rotating_the_channel_secret_kills_tokens_it_minted_live_sockets_included_on_every_node()
    {
        var w = await fx.CreateWorldAsync("rotate");
        var bySecret = await TokenAsync(w.Channel.Secret, w.Conversation);
        var byKey = await TokenAsync(w.Tenant.ApiKey, w.Conversation);
        await using var a = await StreamAsync(fx, bySecret, node: 0);
        await using var b = await StreamAsync(fx, bySecret, node: 1);
        await using var other = await StreamAsync(fx, byKey, node: 0);
        await a.StaysOpenAsync(TimeSpan.FromMilliseconds(200));

        Assert.Equal(HttpStatusCode.Created, (await fx.Client(w.Tenant.ApiKey).PostAsync($"/v1/channels/{w.Channel.Id}/secret", null)).StatusCode);
        Assert.Equal(4401, await a.ClosedWithAsync(Seconds));
        Assert.Equal(4401, await b.ClosedWithAsync(Seconds));
        Assert.Contains("rotated", a.Reason);
        await other.StaysOpenAsync(TimeSpan.FromSeconds(1)); // minted by the tenant key: unaffected
        Assert.Equal(HttpStatusCode.Unauthorized, (await fx.Client(bySecret).GetAsync($"/v1/conversations/{w.Conversation}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await fx.Client(byKey).GetAsync($"/v1/conversations/{w.Conversation}")).StatusCode);
        await using var again = await StreamAsync(fx, bySecret);
        Assert.Equal(4401, await again.ClosedWithAsync(Seconds));
    }

    [Fact]
    public async Task Revoking_the_api_key_closes_sockets_of_tokens_it_minted_with_4401()
    {
        var w = await fx.CreateWorldAsync("revoke");
        var op = fx.Client(TestSettings.OperatorKey);
        var issued = await ConversationsFixtureJson(await op.PostAsync($"/v1/tenants/{w.Tenant.Id}/api-keys", null));
        var key = issued.GetProperty("apiKey").GetString()!;
        var userToken = (await ConversationsFixtureJson(await fx.Client(key).PostAsJsonAsync("/v1/users/ana/tokens", new { }))).GetProperty("token").GetString()!;
        var conversationToken = await TokenAsync(key, w.Conversation);
        await using var user = await StreamAsync(fx, userToken);
        await using var conversation = await StreamAsync(fx, conversationToken, node: 1);
        await user.StaysOpenAsync(TimeSpan.FromMilliseconds(200));

        Assert.Equal(HttpStatusCode.NoContent, (await op.DeleteAsync($"/v1/tenants/{w.Tenant.Id}/api-keys/{issued.GetProperty("id").GetGuid()}")).StatusCode);
        Assert.Equal(4401, await user.ClosedWithAsync(Seconds));
        Assert.Equal(4401, await conversation.ClosedWithAsync(Seconds));
        Assert.Equal(HttpStatusCode.Unauthorized, (await fx.Client(userToken).GetAsync("/v1/me/notifications")).StatusCode);
    }

    [Fact]
    public async Task Deactivating_the_channel_or_the_tenant_closes_sockets_with_4403()
    {
        var w = await fx.CreateWorldAsync("deactivate");
        var token = await TokenAsync(w.Tenant.ApiKey, w.Conversation);
        await using var conversation = await StreamAsync(fx, token);
        await conversation.StaysOpenAsync(TimeSpan.FromMilliseconds(200));
        Assert.Equal(HttpStatusCode.OK, (await fx.Client(w.Tenant.ApiKey).PatchAsJsonAsync($"/v1/channels/{w.Channel.Id}", new { status = "inactive" })).StatusCode);
        Assert.Equal(4403, await conversation.ClosedWithAsync(Seconds));

        var userToken = (await ConversationsFixtureJson(await fx.Client(w.Tenant.ApiKey).PostAsJsonAsync("/v1/users/bo/tokens", new { }))).GetProperty("token").GetString()!;
        await using var user = await StreamAsync(fx, userToken, node: 1);
        await user.StaysOpenAsync(TimeSpan.FromMilliseconds(200));
        Assert.Equal(HttpStatusCode.OK, (await fx.Client(TestSettings.OperatorKey).PatchAsJsonAsync($"/v1/tenants/{w.Tenant.Id}", new { status = "inactive" })).StatusCode);
        Assert.Equal(4403, await user.ClosedWithAsync(Seconds));
        Assert.Equal("tenant inactive", user.Reason);
    }

    [Fact]
    public async Task Each_stream_accepts_only_its_own_kind_of_token()
    {
        var w = await fx.CreateWorldAsync("kinds");
        var tokens = fx.Api.Services.GetRequiredService<ClientTokens>();
        var attendee = tokens.Issue(w.Tenant.Id, "cy", null, TimeSpan.FromMinutes(5), ["attendee"], kind: TokenKinds.Attendee);
        await using var onConversationStream = await StreamAsync(fx, attendee);
        Assert.Equal(4403, await onConversationStream.ClosedWithAsync(Seconds));

        var conversationToken = await TokenAsync(w.Tenant.ApiKey, w.Conversation);
        await using var onConference = await Socket.OpenAsync(fx.NodeUri(0), "/v1/events/stream",
            $"token={Uri.EscapeDataString(conversationToken)}&conferenceId={Guid.NewGuid()}");
        Assert.Equal(4403, await onConference.ClosedWithAsync(Seconds));
    }

    [Fact]
    public async Task Direct_Line_refresh_stops_when_the_chain_is_older_than_its_maximum()
    {
        var w = await fx.CreateWorldAsync("refresh");
        var generated = await fx.Client(w.Channel.Secret).PostAsJsonAsync("/v3/directline/tokens/generate", new { user = new { id = "dl-user" } });
        Assert.Equal(HttpStatusCode.OK, generated.StatusCode);
        var token = (await ConversationsFixtureJson(generated)).GetProperty("token").GetString()!;
        var refreshed = await fx.Client(token).PostAsync("/v3/directline/tokens/refresh", null);
        Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);

        // A token whose chain began 25 hours ago (minted as a refresh would have, under the same secret).
        var validation = await fx.Api.Services.GetRequiredService<ClientTokens>().ValidateAsync(token);
        var old = fx.Api.Services.GetRequiredService<ClientTokens>().Issue(w.Tenant.Id, "dl-user", validation.Claims!.ConversationId, TimeSpan.FromMinutes(30),
            issuedUnder: validation.Claims.IssuedUnder, firstIssuedAt: DateTimeOffset.UtcNow.AddHours(-25));
        var refused = await fx.Client(old).PostAsync("/v3/directline/tokens/refresh", null);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("TokenExpired", (await ConversationsFixtureJson(refused)).GetProperty("error").GetProperty("code").GetString());
    }
}

/// <summary>Api holds the ES256 private key; a Realtime node configured with only the public key serves Api's tokens.</summary>
public sealed class AsymmetricTokenFixture : RealtimeFixture
{
    public static readonly (string Private, string Public) Key = ClientTokens.GenerateKeyPair();

    protected override void Configure(Dictionary<string, string?> settings)
    {
        base.Configure(settings);
        settings["Platform:Jwt:Keys:0:Id"] = "es1";
        settings["Platform:Jwt:Keys:0:PrivateKey"] = Key.Private;
    }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await StopNodeAsync(0);
        StartNode(0, s =>
        {
            s["Platform:Jwt:Keys:0:PrivateKey"] = null;
            s["Platform:Jwt:Keys:0:PublicKey"] = Key.Public;
        });
    }
}

public sealed class AsymmetricTokenTests(AsymmetricTokenFixture fx) : IClassFixture<AsymmetricTokenFixture>
{
    [Fact]
    public async Task A_node_with_only_the_public_key_streams_Api_tokens_and_refuses_one_made_with_the_shared_secret()
    {
        var w = await fx.CreateWorldAsync("es256");
        var token = await fx.TokenAsync(w.Tenant.ApiKey, w.Conversation);
        Assert.Equal("es1", new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(token).Kid);
        var node = fx.Node(0).Services.GetRequiredService<ClientTokens>();
        Assert.False(node.CanIssue);
        await using var ok = await StreamClient.ConnectAsync(fx.NodeUri(0), token, watermark: 0);
        await Eventually.TrueAsync(() => Task.FromResult(ok.Frames > 0), TimeSpan.FromSeconds(10), "the first frame");

        var forged = new ClientTokens(new Microsoft.Extensions.Configuration.ConfigurationBuilder().AddInMemoryCollection(
            new Dictionary<string, string?> { ["Platform:Jwt:SigningKey"] = TestSettings.JwtSigningKey }).Build())
            .Issue(w.Tenant.Id, "u1", w.Conversation, TimeSpan.FromMinutes(5));
        await using var refused = await StreamClient.ConnectAsync(fx.NodeUri(0), forged, watermark: 0);
        await refused.WaitForEndAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(4401, (int)refused.CloseStatus!.Value);
    }
}
