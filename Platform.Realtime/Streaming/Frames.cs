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
}

public enum FeedEventKind
{
    /// <summary>A stored activity with its seq (from a doorbell).</summary>
    Live,
    /// <summary>A typing indication: delivered live only, no seq.</summary>
    Typing,
    /// <summary>The conversation's current last seq (idle check): anything beyond what a client has is read from PostgreSQL.</summary>
    Position,
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
        var raw = JsonMarshal.GetRawUtf8Value(activity);
        if (root.TryGetProperty("seq", out var seq) && seq.ValueKind == JsonValueKind.Number)
        {
            var s = seq.GetInt64();
            return new FeedEvent { Kind = FeedEventKind.Live, Seq = s, Frame = Live(raw, s), CommittedAtUnixMs = committedAt };
        }
        return new FeedEvent { Kind = FeedEventKind.Typing, Frame = Typing(raw), CommittedAtUnixMs = committedAt };
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
