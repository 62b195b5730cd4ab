using System.Diagnostics.Metrics;

namespace Platform.Realtime.Streaming;

/// <summary>The numbers operators watch on a stream node (meter <c>Platform.Realtime</c>).</summary>
public static class StreamMetrics
{
    public static readonly Meter Meter = new("Platform.Realtime");
    public static readonly System.Diagnostics.ActivitySource Source = new("Platform.Realtime");
    public static readonly UpDownCounter<long> Connections = Meter.CreateUpDownCounter<long>("platform.realtime.connections", "{connection}", "Open stream connections");
    public static readonly UpDownCounter<long> Subscriptions = Meter.CreateUpDownCounter<long>("platform.realtime.subscriptions", "{subscription}", "Redis subscriptions (one per watched conversation)");
    public static readonly Counter<long> FramesSent = Meter.CreateCounter<long>("platform.realtime.frames_sent", "{frame}", "Frames written to clients");
    public static readonly Histogram<double> FanoutLatency = Meter.CreateHistogram<double>("platform.realtime.fanout_latency", "ms", "Commit to frame written");
    public static readonly Counter<long> GapRepairs = Meter.CreateCounter<long>("platform.realtime.gap_repairs", "{repair}", "Reads from PostgreSQL to fill a gap in the live sequence");
    private static long _open;

    /// <summary>Open stream connections on this node (what <see cref="Connections"/> sums), for the node's heartbeat in Redis.</summary>
    public static long Open => Interlocked.Read(ref _open);

    public static void Opened()
    {
        Interlocked.Increment(ref _open);
        Connections.Add(1);
    }

    public static void Closed()
    {
        Interlocked.Decrement(ref _open);
        Connections.Add(-1);
    }

    public static readonly Counter<long> SlowConsumerCloses = Meter.CreateCounter<long>("platform.realtime.slow_consumer_closes", "{connection}", "Connections closed because their send queue overflowed");
}
