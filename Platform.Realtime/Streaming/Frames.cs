using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Platform.Core.Messaging;

namespace Platform.Realtime.Streaming;

/// <summary>A server → client frame: <c>{"activities": [...], "watermark": N}</c>, activities in the REST shape.</summary>
public sealed record StreamFrame(IReadOnlyList<Activity> Activities, long? Watermark);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(StreamFrame))]
internal sealed partial class StreamJsonContext : JsonSerializerContext;

/// <summary>
/// What a feed hands to its connections. Live frames are encoded once per node and shared by every local
/// client of the conversation; position events come from the idle check and carry no payload.
/// </summary>
public sealed class FeedEvent
{
    public required FeedEventKind Kind { get; init; }
    public long Seq { get; init; }
    public byte[]? Frame { get; init; }
    public long CommittedAtUnixMs { get; init; }
    public bool Closed { get; init; }

    /// <summary>The posting request's W3C traceparent, so this node's fan-out joins the same trace.</summary>
    public string? TraceParent { get; init; }

    /// <summary>The activity's JSON inside <see cref="Frame"/> (a slice, no copy), for formats that re-shape it.</summary>
    public ReadOnlyMemory<byte> ActivityJson { get; init; }

    /// <summary>
    /// The frame in a second shape (Direct Line), built by the first connection that needs it and shared by the
    /// rest, so a node still encodes each activity once per shape. Racing builders produce identical bytes.
    /// </summary>
    internal byte[]? AlternateFrame;
}

public enum FeedEventKind
{
    /// <summary>A stored activity with its seq (from a doorbell).</summary>
    Live,
    /// <summary>A typing indication: delivered live only, no seq.</summary>
    Typing,
    /// <summary>The conversation's current last seq (idle check): anything beyond what a client has is read from PostgreSQL.</summary>
    Position,
    /// <summary>Time for an application-level keepalive (formats that have one, e.g. Direct Line's empty frame); node-wide, every <see cref="StreamOptions.KeepAliveInterval"/>.</summary>
    KeepAlive,
}

/// <summary>
/// The seam between the stream machinery (replay, live, nextExpected) and the wire shape of its frames. The
/// native format hands out the pre-encoded frames untouched, so the native path does no extra work.
/// </summary>
public interface IStreamFrameFormat
{
    byte[] Live(FeedEvent e);
    byte[] Typing(FeedEvent e);
    byte[] Page(IReadOnlyList<Activity> activities, long watermark);

    /// <summary>
    /// An application-level keepalive frame, null for none. The node offers it to every such socket each
    /// <see cref="StreamOptions.KeepAliveInterval"/> (one node-wide timer), and those sockets send no WebSocket pongs.
    /// </summary>
    byte[]? KeepAlive { get; }
}

/// <summary><c>/v1/stream</c>: <c>{"activities": [...], "watermark": N}</c> with activities in the REST shape.</summary>
public sealed class NativeFrameFormat : IStreamFrameFormat
{
    public static readonly NativeFrameFormat Instance = new();

    public byte[] Live(FeedEvent e) => e.Frame!;
    public byte[] Typing(FeedEvent e) => e.Frame!;
    public byte[] Page(IReadOnlyList<Activity> activities, long watermark) => Frames.Page(activities, watermark);
    public byte[]? KeepAlive => null;
}

public static class Frames
{
    private static readonly byte[] Prefix = "{\"activities\":["u8.ToArray();
    private static readonly byte[] WatermarkInfix = "],\"watermark\":"u8.ToArray();
    private static readonly byte[] NoWatermarkSuffix = "],\"watermark\":null}"u8.ToArray();

    /// <summary>Turns a doorbell into a feed event, reusing the activity JSON exactly as Api wrote it.</summary>
    public static FeedEvent? FromDoorbell(ReadOnlySpan<byte> doorbell)
    {
        using var doc = JsonDocument.Parse(doorbell.ToArray());
        var root = doc.RootElement;
        if (!root.TryGetProperty("activity", out var activity) || activity.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        var committedAt = root.TryGetProperty("committedAtUnixMs", out var c) && c.ValueKind == JsonValueKind.Number ? c.GetInt64() : 0;
        var traceParent = root.TryGetProperty("traceParent", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        var raw = JsonMarshal.GetRawUtf8Value(activity);
        if (root.TryGetProperty("seq", out var seq) && seq.ValueKind == JsonValueKind.Number)
        {
            var s = seq.GetInt64();
            var live = Live(raw, s);
            return new FeedEvent
            {
                Kind = FeedEventKind.Live, Seq = s, Frame = live, CommittedAtUnixMs = committedAt, TraceParent = traceParent, ActivityJson = live.AsMemory(Prefix.Length, raw.Length),
            };
        }
        var typing = Typing(raw);
        return new FeedEvent
        {
            Kind = FeedEventKind.Typing, Frame = typing, CommittedAtUnixMs = committedAt, TraceParent = traceParent, ActivityJson = typing.AsMemory(Prefix.Length, raw.Length),
        };
    }

    public static byte[] Live(ReadOnlySpan<byte> activityJson, long seq)
    {
        var writer = new ArrayBufferWriter<byte>(activityJson.Length + 48);
        writer.Write(Prefix);
        writer.Write(activityJson);
        writer.Write(WatermarkInfix);
        writer.Write(Encoding.ASCII.GetBytes(seq.ToString(CultureInfo.InvariantCulture)));
        writer.Write("}"u8);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Typing has no seq, so its frame carries <c>"watermark": null</c>: it moves no client's position.</summary>
    public static byte[] Typing(ReadOnlySpan<byte> activityJson)
    {
        var writer = new ArrayBufferWriter<byte>(activityJson.Length + 48);
        writer.Write(Prefix);
        writer.Write(activityJson);
        writer.Write(NoWatermarkSuffix);
        return writer.WrittenSpan.ToArray();
    }

    public static byte[] Page(IReadOnlyList<Activity> activities, long watermark) =>
        JsonSerializer.SerializeToUtf8Bytes(new StreamFrame(activities, watermark), StreamJsonContext.Default.StreamFrame);
}
