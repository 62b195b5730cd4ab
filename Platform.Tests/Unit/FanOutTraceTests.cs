extern alias RealtimeHost;
using System.Diagnostics;
using Platform.Core.Messaging;
using RealtimeHost::Platform.Realtime.Streaming;
using Activity = Platform.Core.Messaging.Activity;

namespace Platform.Tests.Unit;

public sealed class FanOutTraceTests
{
    [Fact]
    public void A_node_hands_a_doorbell_to_its_clients_inside_the_posting_requests_trace()
    {
        var stopped = new List<System.Diagnostics.Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == "Platform.Realtime",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Add,
        };
        ActivitySource.AddActivityListener(listener);

        var conversation = Guid.CreateVersion7();
        var feed = new Feed(Doorbell.Channel(Guid.CreateVersion7(), conversation), conversation);
        var activity = new Activity("x-1", 1, conversation, "message", "hi", null, new("a"), DateTimeOffset.UnixEpoch,
            null, null, null, null, null, null);
        const string traceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

        feed.OnMessage(StackExchange.Redis.RedisChannel.Literal(feed.Channel), new Doorbell(1, activity, 42, traceParent).ToUtf8Json());

        var span = Assert.Single(stopped, a => a.OperationName == "realtime fan-out");
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", span.TraceId.ToHexString());
        Assert.Equal("b7ad6b7169203331", span.ParentSpanId.ToHexString());
        Assert.Equal(ActivityKind.Consumer, span.Kind);
        Assert.Equal(feed.Channel, span.GetTagItem("messaging.destination.name"));
    }
}
