using System.Net.WebSockets;
using Microsoft.Extensions.Configuration;
using Npgsql;
using Platform.Core.Security;

namespace Platform.Tests.Integration.Realtime;

public sealed class StreamingTests(RealtimeFixture fx) : IClassFixture<RealtimeFixture>
{
    [Fact]
    public async Task Clients_on_two_nodes_both_receive_every_activity_in_order()
    {
        var world = await fx.CreateWorldAsync();
        var token = await fx.TokenAsync(world.Tenant.ApiKey, world.Conversation);
        await using var a = await StreamClient.ConnectAsync(fx.NodeUri(0), token, watermark: 0);
        await using var b = await StreamClient.ConnectAsync(fx.NodeUri(1), token, watermark: 0);

        await fx.PostAsync(world.Tenant.ApiKey, world.Conversation, 60, concurrency: 4);

        await a.WaitForSeqAsync(60);
        await b.WaitForSeqAsync(60);
        StreamClient.AssertExactly(a.Seqs, 1, 60);
        StreamClient.AssertExactly(b.Seqs, 1, 60);

        // The nodes report their open connections; the operators' overview sums them (other classes' nodes share Redis).
        await Eventually.TrueAsync(async () =>
        {
            var overview = await RealtimeFixture.Json(await fx.Client(TestSettings.OperatorKey).GetAsync("/v1/admin/overview"));
            return overview.GetProperty("openConnections").ValueKind == System.Text.Json.JsonValueKind.Number &&
                   overview.GetProperty("openConnections").GetInt64() >= 2;
        }, because: "the overview counts the two open streams");
        Assert.Equal("m", a.Activities[0].GetProperty("text").GetString()![..1]);
        Assert.Equal(world.Conversation, a.Activities[0].GetProperty("conversationId").GetGuid());
    }

    [Fact]
    public async Task Resume_on_the_other_node_delivers_exactly_what_was_missed()
    {
        var world = await fx.CreateWorldAsync();
        var token = await fx.TokenAsync(world.Tenant.ApiKey, world.Conversation);
        var first = await StreamClient.ConnectAsync(fx.NodeUri(0), token, watermark: 0);
        await fx.PostAsync(world.Tenant.ApiKey, world.Conversation, 10);
        await first.WaitForSeqAsync(10);
        var watermark = first.LastWatermark;
        await first.DisposeAsync();

        await fx.PostAsync(world.Tenant.ApiKey, world.Conversation, 100, prefix: "missed", concurrency: 4);

        await using var again = await StreamClient.ConnectAsync(fx.NodeUri(1), token, watermark);
        await again.WaitForSeqAsync(110);
        Assert.Equal(10, watermark);
        StreamClient.AssertExactly(again.Seqs, 11, 110);
    }

    [Fact]
    public async Task Posts_racing_connection_setup_are_neither_lost_nor_duplicated()
    {
        var world = await fx.CreateWorldAsync();
        var token = await fx.TokenAsync(world.Tenant.ApiKey, world.Conversation);

        // Posting runs while clients connect to both nodes at staggered moments.
        var posting = fx.PostAsync(world.Tenant.ApiKey, world.Conversation, 300, concurrency: 6);
        var clients = new List<StreamClient>();
        for (var i = 0; i < 8; i++)
        {
            clients.Add(await StreamClient.ConnectAsync(fx.NodeUri(i % 2), token, watermark: 0));
            await Task.Yield();
        }
        await posting;

        foreach (var client in clients)
        {
            await client.WaitForSeqAsync(300);
            StreamClient.AssertExactly(client.Seqs, 1, 300);
            await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task Without_a_watermark_only_new_activities_arrive()
    {
        var world = await fx.CreateWorldAsync();
        var token = await fx.TokenAsync(world.Tenant.ApiKey, world.Conversation);
        await fx.PostAsync(world.Tenant.ApiKey, world.Conversation, 5, prefix: "old");

        await using var client = await StreamClient.ConnectAsync(fx.NodeUri(0), token, watermark: null);
        // The first frame tells where "new" starts: an empty frame with the current watermark.
        await Eventually.TrueAsync(() => Task.FromResult(client.Frames > 0), because: "the position frame");
        Assert.Equal(5, client.LastWatermark);
        await fx.PostAsync(world.Tenant.ApiKey, world.Conversation, 3, prefix: "new");

        await client.WaitForSeqAsync(8);
        StreamClient.AssertExactly(client.Seqs, 6, 8);
    }

    [Fact]
    public async Task The_socket_opens_only_once_the_live_position_is_read()
    {
        // Without a watermark a client is live "from the current end". If the node answered the upgrade before reading
        // that end, an activity the client posts as soon as its socket opens could commit in between: not replayed
        // (it is before the end) and not live (it was before the feed). So no read of the position, no open socket.
        var world = await fx.CreateWorldAsync();
        var token = await fx.TokenAsync(world.Tenant.ApiKey, world.Conversation);
        await using var blocker = new NpgsqlConnection(fx.Database);
        await blocker.OpenAsync();
        var holding = await blocker.BeginTransactionAsync();
        await using (var lockTable = new NpgsqlCommand("LOCK TABLE core.conversations IN ACCESS EXCLUSIVE MODE", blocker, holding))
        {
            await lockTable.ExecuteNonQueryAsync();
        }

        var connecting = StreamClient.ConnectAsync(fx.NodeUri(0), token, watermark: null);
        var first = await Task.WhenAny(connecting, Task.Delay(TimeSpan.FromSeconds(2)));
        await holding.RollbackAsync();
        Assert.False(first == connecting, "the socket opened while the conversation's position could not be read");

        await using var client = await connecting;
        await fx.PostAsync(world.Tenant.ApiKey, world.Conversation, 1, prefix: "at once");
        await client.WaitForSeqAsync(1);
        StreamClient.AssertExactly(client.Seqs, 1, 1);
    }

    [Fact]
    public async Task Typing_is_delivered_live_and_never_replayed()
    {
        var world = await fx.CreateWorldAsync();
        var token = await fx.TokenAsync(world.Tenant.ApiKey, world.Conversation);
        await using var live = await StreamClient.ConnectAsync(fx.NodeUri(1), token, watermark: 0);
        // Typing is live only: wait until the stream is live (its position frame) before typing.
        await Eventually.TrueAsync(() => Task.FromResult(live.Frames > 0), because: "the position frame");
        var api = fx.Client(world.Tenant.ApiKey);

        var typing = await api.PostAsJsonAsync($"/v1/conversations/{world.Conversation}/activities", new { type = "typing", from = new { id = "alice" } });
        Assert.Equal(HttpStatusCode.Accepted, typing.StatusCode); // published, not stored
        await fx.PostAsync(world.Tenant.ApiKey, world.Conversation, 1);
        await live.WaitForSeqAsync(1);
        await Eventually.TrueAsync(() => Task.FromResult(live.Activities.Any(a => a.GetProperty("type").GetString() == "typing")),
            because: "the live client sees the typing indication");

        await using var late = await StreamClient.ConnectAsync(fx.NodeUri(0), token, watermark: 0);
        await late.WaitForSeqAsync(1);
        Assert.DoesNotContain(late.Activities, a => a.GetProperty("type").GetString() == "typing");
    }

    [Fact]
    public async Task The_token_endpoint_points_at_a_configured_node_and_its_url_streams()
    {
        var world = await fx.CreateWorldAsync();
        var response = await fx.Client(world.Tenant.ApiKey).PostAsJsonAsync($"/v1/conversations/{world.Conversation}/tokens", new { userId = "u1" });
        var body = await RealtimeFixture.Json(response);
        var streamUrl = new Uri(body.GetProperty("streamUrl").GetString()!);

        Assert.Equal("ws", streamUrl.Scheme);
        Assert.Contains(streamUrl.Port, new[] { fx.NodeUri(0).Port, fx.NodeUri(1).Port });
        using var socket = new ClientWebSocket();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await socket.ConnectAsync(streamUrl, deadline.Token);
        var buffer = new byte[8192];
        // The stream URL carries no watermark: first the position frame, then what is posted after it.
        var first = await socket.ReceiveAsync(buffer, deadline.Token);
        Assert.Equal("{\"activities\":[],\"watermark\":0}", System.Text.Encoding.UTF8.GetString(buffer, 0, first.Count));
        await fx.PostAsync(world.Tenant.ApiKey, world.Conversation, 1);
        var second = await socket.ReceiveAsync(buffer, deadline.Token);
        Assert.Equal(WebSocketMessageType.Text, second.MessageType);
        Assert.EndsWith("\"watermark\":1}", System.Text.Encoding.UTF8.GetString(buffer, 0, second.Count));
    }

    [Fact]
    public async Task Refusals_use_the_documented_close_codes()
    {
        var world = await fx.CreateWorldAsync();
        var other = await fx.StartConversationAsync(world.Tenant.ApiKey, world.Channel.Id);
        var otherToken = await fx.TokenAsync(world.Tenant.ApiKey, other);

        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Platform:Jwt:SigningKey"] = TestSettings.JwtSigningKey,
        }).Build();
        var twoHoursAgo = new ClientTokens(config, new FixedClock(DateTimeOffset.UtcNow.AddHours(-2)));
        var expired = twoHoursAgo.Issue(world.Tenant.Id, "u1", world.Conversation, TimeSpan.FromHours(1));

        await using (var c = await StreamClient.ConnectAsync(fx.NodeUri(0), expired, 0))
        {
            await c.WaitForEndAsync();
            Assert.Equal(4401, (int?)c.CloseStatus);
            Assert.Equal("token expired", c.CloseReason);
        }
        await using (var c = await StreamClient.ConnectAsync(fx.NodeUri(0), "not-a-token", 0))
        {
            await c.WaitForEndAsync();
            Assert.Equal(4401, (int?)c.CloseStatus);
        }
        await using (var c = await StreamClient.ConnectAsync(fx.NodeUri(1), otherToken, 0, conversationId: world.Conversation.ToString()))
        {
            await c.WaitForEndAsync();
            Assert.Equal(4403, (int?)c.CloseStatus);
        }

        // A closed conversation: its history first, then 4409.
        await fx.PostAsync(world.Tenant.ApiKey, world.Conversation, 3);
        var closed = await fx.Client(world.Tenant.ApiKey).PostAsync($"/v1/conversations/{world.Conversation}/close", null);
        Assert.Equal(HttpStatusCode.OK, closed.StatusCode);
        var token = await fx.TokenAsync(world.Tenant.ApiKey, world.Conversation);
        await using (var c = await StreamClient.ConnectAsync(fx.NodeUri(1), token, 0))
        {
            await c.WaitForEndAsync();
            Assert.Equal(4409, (int?)c.CloseStatus);
            StreamClient.AssertExactly(c.Seqs, 1, 3);
        }
    }

    [Fact]
    public async Task Closing_a_conversation_ends_live_streams_with_4409()
    {
        var world = await fx.CreateWorldAsync();
        var token = await fx.TokenAsync(world.Tenant.ApiKey, world.Conversation);
        await using var c = await StreamClient.ConnectAsync(fx.NodeUri(0), token, 0);
        await fx.PostAsync(world.Tenant.ApiKey, world.Conversation, 2);
        await c.WaitForSeqAsync(2);

        await fx.Client(world.Tenant.ApiKey).PostAsync($"/v1/conversations/{world.Conversation}/close", null);

        await c.WaitForEndAsync();
        Assert.Equal(4409, (int?)c.CloseStatus);
    }

    [Fact]
    public async Task A_plain_http_request_gets_problem_details()
    {
        var response = await fx.Node(0).CreateClient().GetAsync("/v1/stream?token=x");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}

internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
