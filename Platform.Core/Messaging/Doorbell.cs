using System.Text.Json;
using System.Text.Json.Serialization;

namespace Platform.Core.Messaging;

/// <summary>
/// What Api publishes to Redis after an activity is committed (typing: instead of storing it). Realtime
/// nodes treat it as a hint: PostgreSQL stays the truth, so a lost doorbell is repaired by reading
/// <c>seq &gt; nextExpected</c>. <see cref="Activity"/> is byte-for-byte the REST shape.
/// </summary>
/// <param name="Seq">The activity's seq, or null for typing.</param>
/// <param name="Activity">The activity exactly as <c>GET …/activities</c> returns it.</param>
/// <param name="CommittedAtUnixMs">When the transaction committed (Api clock), for end-to-end latency.</param>
/// <param name="TraceParent">The W3C traceparent of the request that posted the activity, so the Realtime node's
/// fan-out joins the same trace; null when nothing was being traced.</param>
public sealed record Doorbell(long? Seq, Activity Activity, long CommittedAtUnixMs,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? TraceParent = null)
{
    /// <summary>The Redis pub/sub channel of one conversation: <c>platform:{tenantId}:conv:{conversationId}</c>.</summary>
    public static string Channel(Guid tenantId, Guid conversationId) => $"platform:{tenantId:D}:conv:{conversationId:D}";

    public byte[] ToUtf8Json() => JsonSerializer.SerializeToUtf8Bytes(this, DoorbellJsonContext.Default.Doorbell);

    public static Doorbell? Parse(ReadOnlySpan<byte> utf8Json) => JsonSerializer.Deserialize(utf8Json, DoorbellJsonContext.Default.Doorbell);
}

/// <summary>Same options as <see cref="ActivityJsonContext"/>, so the embedded activity serialises identically.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(Doorbell))]
public sealed partial class DoorbellJsonContext : JsonSerializerContext;
