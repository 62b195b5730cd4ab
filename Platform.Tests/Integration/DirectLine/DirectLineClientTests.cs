using System.Text.Json;

namespace Platform.Tests.Integration.DirectLine;

/// <summary>The npm botframework-directlinejs client, run by Node, against Api + two Realtime nodes.</summary>
public sealed class DirectLineClientTests(DirectLineFixture fx) : IClassFixture<DirectLineFixture>
{
    private async Task<(JsonElement Report, Conversations.World World)> RunAsync(string mode)
    {
        var world = await fx.CreateWorldAsync("dl" + mode);
        var report = await NodeScripts.RunAsync("directline-client.mjs", new Dictionary<string, string>
        {
            ["DL_DOMAIN"] = fx.Domain,
            ["DL_SECRET"] = world.Channel.Secret,
            ["DL_MODE"] = mode,
        });
        Assert.Empty(report.GetProperty("errors").EnumerateArray());
        return (report, world);
    }

    private static List<JsonElement> Messages(JsonElement report) =>
        report.GetProperty("activities").EnumerateArray().Where(a => a.GetProperty("type").GetString() == "message").ToList();

    /// <summary>Every activity once, in seq order, with no gap: what the stream delivered equals the history.</summary>
    private static void AssertExactlyOnceInOrder(JsonElement report)
    {
        var received = Messages(report);
        var ids = received.Select(a => a.GetProperty("id").GetString()!).ToList();
        Assert.Equal(ids.Distinct().Count(), ids.Count);
        var seqs = received.Select(a => a.GetProperty("sequenceId").GetInt64()).ToList();
        Assert.Equal(Enumerable.Range(1, seqs.Count).Select(i => (long)i), seqs);
        Assert.Equal(report.GetProperty("history").EnumerateArray().Select(e => e.GetString()!), ids);
        Assert.Equal(seqs[^1].ToString(System.Globalization.CultureInfo.InvariantCulture), report.GetProperty("historyWatermark").GetString());
    }

    private static void AssertEcho(JsonElement report, string conversationId)
    {
        var echo = Messages(report).Single(a => a.GetProperty("id").GetString() == report.GetProperty("postedId").GetString());
        Assert.Equal("hello 1", echo.GetProperty("text").GetString());
        Assert.Equal("client-1", echo.GetProperty("clientActivityID").GetString());
        Assert.True(echo.GetProperty("custom").GetProperty("kept").GetBoolean());
        Assert.Equal("directline", echo.GetProperty("channelId").GetString());
        Assert.Equal(conversationId, echo.GetProperty("conversationId").GetString());
        Assert.Equal("alice", echo.GetProperty("from").GetString());
        Assert.Contains(Messages(report), a => a.GetProperty("text").GetString() == "from bob 1" && a.GetProperty("from").GetString() == "bob");
    }

    [Fact]
    public async Task Secret_websocket_echo_second_user_and_reconnect_with_watermark_lose_nothing()
    {
        var (report, _) = await RunAsync("secret");
        var conversationId = report.GetProperty("conversationId").GetString()!;
        AssertEcho(report, conversationId);
        AssertExactlyOnceInOrder(report);
        // The client's own reconnect logic ran: a second socket, opened from GET /conversations/{id}?watermark=N.
        Assert.True(report.GetProperty("sockets").GetInt32() >= 2);
        Assert.Matches(@"\?watermark=\d+$", report.GetProperty("reconnectedWith").GetString());
        Assert.Equal(7, Messages(report).Count); // hello 1, bob 1, missed 1..5, and nothing twice
    }

    [Fact]
    public async Task Token_mode_reconnects_and_refreshes_without_loss()
    {
        var (report, _) = await RunAsync("token");
        Assert.Equal(1800, report.GetProperty("generated").GetProperty("expires_in").GetInt32());
        Assert.Equal(report.GetProperty("generated").GetProperty("conversationId").GetString(), report.GetProperty("conversationId").GetString());
        AssertEcho(report, report.GetProperty("conversationId").GetString()!);
        Assert.True(report.GetProperty("refreshed").GetBoolean());
        Assert.Contains(Messages(report), a => a.GetProperty("text").GetString() == "after refresh");
        Assert.Matches(@"\?watermark=\d+$", report.GetProperty("reconnectedWith").GetString());
        AssertExactlyOnceInOrder(report);
        Assert.Equal(8, Messages(report).Count);
    }

    [Fact]
    public async Task Polling_mode_receives_echo_and_others()
    {
        var (report, _) = await RunAsync("polling");
        AssertEcho(report, report.GetProperty("conversationId").GetString()!);
        AssertExactlyOnceInOrder(report);
        Assert.Equal(0, report.GetProperty("sockets").GetInt32());
        Assert.Contains(report.GetProperty("requests").EnumerateArray(), r => r.GetString()!.Contains("/activities?watermark=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Upload_stores_the_file_and_sends_it_as_an_attachment()
    {
        var (report, _) = await RunAsync("upload");
        var withFile = Messages(report).Single(a => a.GetProperty("text").GetString() == "a file");
        var attachment = withFile.GetProperty("attachments")[0];
        Assert.Equal("hello.txt", attachment.GetProperty("name").GetString());
        Assert.Equal("text/plain", attachment.GetProperty("contentType").GetString());
        var download = report.GetProperty("download");
        Assert.Equal(200, download.GetProperty("status").GetInt32());
        Assert.True(download.GetProperty("matches").GetBoolean());
        AssertExactlyOnceInOrder(report);
    }
}
