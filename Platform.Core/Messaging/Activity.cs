using System.Text.Json;
using System.Text.Json.Serialization;

namespace Platform.Core.Messaging;

/// <summary>The kinds of activity a conversation carries (a subset of the Bot Framework Activity schema).</summary>
public static class ActivityTypes
{
    public const string Message = "message";
    public const string Event = "event";
    /// <summary>Broadcast to the stream only: never stored, never numbered.</summary>
    public const string Typing = "typing";

    public static bool IsKnown(string? type) => type is Message or Event or Typing;
}

/// <summary>Who sent an activity. With a client token, <see cref="Id"/> is always the token's user.</summary>
public sealed record ChannelAccount(string Id, string? Name = null);

/// <summary>A file or link shown with a message.</summary>
public sealed record Attachment(string ContentUrl, string? ContentType = null, string? Name = null);

/// <summary>
/// One activity as REST returns it and as the stream delivers it: the same shape everywhere, so clients
/// dedupe and order by <see cref="Seq"/> whichever path it came by. Typing activities have no seq.
/// </summary>
public sealed record Activity(
    string Id,
    long? Seq,
    Guid ConversationId,
    string Type,
    string? Text,
    IReadOnlyList<Attachment>? Attachments,
    ChannelAccount From,
    DateTimeOffset Timestamp,
    string? ClientActivityId,
    string? ReplyToId,
    JsonElement? Entities,
    string? Name,
    JsonElement? Value,
    JsonElement? ChannelData);

/// <summary>The body of <c>POST /v1/conversations/{id}/activities</c>.</summary>
public sealed record ActivityDraft(
    string? Type,
    string? Text,
    IReadOnlyList<Attachment?>? Attachments,
    ChannelAccount? From,
    string? ClientActivityId,
    string? ReplyToId,
    JsonElement? Entities,
    string? Name,
    JsonElement? Value,
    JsonElement? ChannelData);

/// <summary>What a post answers: where the activity landed in the conversation.</summary>
public sealed record ActivityReceipt(string Id, long? Seq, DateTimeOffset Timestamp);

/// <summary>A page of a conversation's history; <see cref="Watermark"/> is the last seq returned (or the one asked for).</summary>
public sealed record ActivityPage(IReadOnlyList<Activity> Activities, long Watermark);

/// <summary>
/// Source-generated JSON for the hot payloads (camelCase, nulls written so every activity has every field).
/// REST responses and the Realtime stream serialise through this one context.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(Activity))]
[JsonSerializable(typeof(ActivityDraft))]
[JsonSerializable(typeof(ActivityReceipt))]
[JsonSerializable(typeof(ActivityPage))]
[JsonSerializable(typeof(List<Activity>))]
public sealed partial class ActivityJsonContext : JsonSerializerContext;
