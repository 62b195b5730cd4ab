extern alias RealtimeHost;

using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Platform.Core.Events;
using RealtimeHost::Platform.Realtime.Streaming;

namespace Platform.Tests.Integration.Realtime;

/// <summary>Nodes with a 1 s keepalive and a 2 s presence TTL, so the node-wide timers tick within a test.</summary>
public sealed class IdleSocketFixture : RealtimeFixture
{
    protected override void ConfigureNodes(Dictionary<string, string?> settings)
    {
        settings["Platform:Realtime:KeepAliveInterval"] = "00:00:01";
        settings["Platform:Presence:Ttl"] = "00:00:02";
    }
}

/// <summary>
/// What an idle socket relies on once its per-socket timers are gone: keepalives from the node-wide timer, presence
/// refreshed by the node, and the receive loop noticing a client that disappears.
/// </summary>
public sealed class IdleSocketTests(IdleSocketFixture fx) : IClassFixture<IdleSocketFixture>
{
    private static Uri Ws(Uri node, string pathAndQuery) => new($"ws://{node.Host}:{node.Port}{pathAndQuery}");

    private static async Task<(WebSocketMessageType Type, string Text)?> ReceiveAsync(ClientWebSocket socket, TimeSpan within)
    {
        var buffer = new byte[64 * 1024];
        using var deadline = new CancellationTokenSource(within);
        try
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(), deadline.Token);
            var count = result.Count;
            while (!result.EndOfMessage)
            {
                result = await socket.ReceiveAsync(buffer.AsMemory(count), deadline.Token);
                count += result.Count;
            }
            return (result.MessageType, Encoding.UTF8.GetString(buffer, 0, count));
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    [Fact]
    public async Task Direct_Line_sockets_get_empty_keepalive_frames_from_the_node_wide_timer()
    {
        var world = await fx.CreateWorldAsync();
        var token = await fx.TokenAsync(world.Tenant.ApiKey, world.Conversation);
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(Ws(fx.NodeUri(0), $"/v3/directline/conversations/{world.Conversation}/stream?t={Uri.EscapeDataString(token)}"), CancellationToken.None);

        var first = await ReceiveAsync(socket, TimeSpan.FromSeconds(30));
        Assert.NotNull(first);
        Assert.Contains("\"watermark\"", first.Value.Text);
        // The interval is 1 s: within 5 s at least two empty text messages (Direct Line's keepalive).
        for (var i = 0; i < 2; i++)
        {
            var keepAlive = await ReceiveAsync(socket, TimeSpan.FromSeconds(5));
            Assert.NotNull(keepAlive);
            Assert.Equal((WebSocketMessageType.Text, ""), keepAlive.Value);
        }

        // Keepalives go between activities, never instead of them.
        await fx.PostAsync(world.Tenant.ApiKey, world.Conversation, 1);
        (WebSocketMessageType Type, string Text)? frame;
        do
        {
            frame = await ReceiveAsync(socket, TimeSpan.FromSeconds(30));
            Assert.NotNull(frame);
        }
        while (frame.Value.Text.Length == 0);
        Assert.Contains("\"watermark\":\"1\"", frame.Value.Text);
    }

    [Fact]
    public async Task Native_sockets_get_no_keepalive_frames()
    {
        var world = await fx.CreateWorldAsync();
        var token = await fx.TokenAsync(world.Tenant.ApiKey, world.Conversation);
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(Ws(fx.NodeUri(0), $"/v1/stream?token={Uri.EscapeDataString(token)}"), CancellationToken.None);

        Assert.Equal((WebSocketMessageType.Text, "{\"activities\":[],\"watermark\":0}"), await ReceiveAsync(socket, TimeSpan.FromSeconds(30)));
        // Three keepalive intervals pass without a frame: the native format keeps the connection alive with WebSocket pongs.
        Assert.Null(await ReceiveAsync(socket, TimeSpan.FromSeconds(3.5)));
    }

    [Theory]
    [InlineData("native")]
    [InlineData("directline")]
    public async Task A_client_that_vanishes_without_a_close_frame_is_noticed_and_its_socket_released(string format)
    {
        var node = fx.Node(1);
        var standings = node.Services.GetRequiredService<SocketStandings>();
        var feeds = node.Services.GetRequiredService<ConversationFeeds>();
        await Eventually.TrueAsync(() => Task.FromResult(standings.Count == 0 && feeds.Count == 0), because: "earlier tests' sockets on node 1 to end");
        var world = await fx.CreateWorldAsync();
        var token = Uri.EscapeDataString(await fx.TokenAsync(world.Tenant.ApiKey, world.Conversation));
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(Ws(fx.NodeUri(1), format == "native"
            ? $"/v1/stream?token={token}"
            : $"/v3/directline/conversations/{world.Conversation}/stream?t={token}"), CancellationToken.None);
        Assert.NotNull(await ReceiveAsync(socket, TimeSpan.FromSeconds(30)));
        Assert.Equal(1, standings.Count);
        Assert.Equal(1, feeds.Count);

        socket.Abort(); // the connection is dropped: no close frame
        socket.Dispose();

        await Eventually.TrueAsync(() => Task.FromResult(standings.Count == 0 && feeds.Count == 0), TimeSpan.FromSeconds(10),
            "the node to notice the vanished client and release its standing and feed");
    }

    [Fact]
    public async Task Presence_stays_online_across_several_ttls_and_ends_with_the_socket()
    {
        var world = await fx.CreateWorldAsync();
        var token = await fx.TokenAsync(world.Tenant.ApiKey, world.Conversation, userId: "steady");
        var store = fx.Node(0).Services.GetRequiredService<PresenceStore>();
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(Ws(fx.NodeUri(0), $"/v1/stream?token={Uri.EscapeDataString(token)}"), CancellationToken.None);
        Assert.NotNull(await ReceiveAsync(socket, TimeSpan.FromSeconds(30)));

        await Eventually.TrueAsync(async () => (await store.GetAsync(world.Tenant.Id, "steady")).Status == PresenceStore.Online, because: "the connection to register");
        // Three TTLs (2 s each): online throughout, because the node-wide timer refreshes every open connection.
        for (var i = 0; i < 12; i++)
        {
            await Task.Delay(500);
            Assert.Equal(PresenceStore.Online, (await store.GetAsync(world.Tenant.Id, "steady")).Status);
        }

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        await Eventually.TrueAsync(async () => (await store.GetAsync(world.Tenant.Id, "steady")).Status != PresenceStore.Online,
            TimeSpan.FromSeconds(10), "presence to end with the socket");
    }
}
