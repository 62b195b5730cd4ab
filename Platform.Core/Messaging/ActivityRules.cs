using System.Text;
using System.Text.Json;

namespace Platform.Core.Messaging;

/// <summary>A draft that passed <see cref="ActivityRules"/>: what <see cref="ActivityLog.AppendAsync"/> stores or publishes.</summary>
public sealed record ActivityContent(
    string Type,
    string? Text,
    IReadOnlyList<Attachment>? Attachments,
    ChannelAccount From,
    string? ClientActivityId,
    string? ReplyToId,
    JsonElement? Entities,
    string? Name,
    JsonElement? Value,
    JsonElement? ChannelData);

/// <summary>
/// The rules a posted activity must satisfy. Pure: errors are keyed by the JSON field they concern
/// (camelCase path such as <c>attachments[2].contentUrl</c>) so the 400 names the field.
/// </summary>
public static class ActivityRules
{
    public const int MaxTextBytes = 32 * 1024;
    public const int MaxAttachments = 10;
    public const int MaxOpaqueJsonBytes = 8 * 1024;
    public const int MaxEntities = 50;
    public const int MaxIdLength = 256;
    public const int MaxNameLength = 256;

    /// <param name="tokenUserId">The client token's user, which replaces <c>from.id</c>; null for server credentials.</param>
    public static (ActivityContent? Content, Dictionary<string, string[]> Errors) Validate(ActivityDraft? draft, string? tokenUserId)
    {
        var errors = new Dictionary<string, string[]>();
        void Add(string field, string message) => errors[field] = [message];

        if (draft is null)
        {
            Add("body", "A JSON object is required.");
            return (null, errors);
        }

        if (string.IsNullOrEmpty(draft.Type))
        {
            Add("type", "type is required: message, event or typing.");
        }
        else if (!ActivityTypes.IsKnown(draft.Type))
        {
            Add("type", $"Unknown type '{Truncate(draft.Type)}': use message, event or typing.");
        }

        if (draft.Text is { } text && Encoding.UTF8.GetByteCount(text) > MaxTextBytes)
        {
            Add("text", $"text is longer than {MaxTextBytes} bytes (32 KiB, UTF-8).");
        }

        var attachments = new List<Attachment>();
        if (draft.Attachments is { } list)
        {
            if (list.Count > MaxAttachments)
            {
                Add("attachments", $"At most {MaxAttachments} attachments are allowed; got {list.Count}.");
            }
            for (var i = 0; i < list.Count && i < MaxAttachments; i++)
            {
                var a = list[i];
                if (a is null)
                {
                    Add($"attachments[{i}]", "An attachment must be an object.");
                    continue;
                }
                if (!IsHttpUrl(a.ContentUrl))
                {
                    Add($"attachments[{i}].contentUrl", "contentUrl must be an absolute http or https URL.");
                }
                if (a.ContentType is { Length: > MaxNameLength })
                {
                    Add($"attachments[{i}].contentType", $"contentType is longer than {MaxNameLength} characters.");
                }
                if (a.Name is { Length: > MaxNameLength })
                {
                    Add($"attachments[{i}].name", $"name is longer than {MaxNameLength} characters.");
                }
                attachments.Add(a);
            }
        }

        if (draft.Type == ActivityTypes.Message && string.IsNullOrWhiteSpace(draft.Text) && attachments.Count == 0)
        {
            Add("text", "A message needs text or at least one attachment.");
        }

        string? fromId = tokenUserId ?? draft.From?.Id;
        if (string.IsNullOrWhiteSpace(fromId))
        {
            Add("from.id", "from.id is required: who sends the activity.");
        }
        else if (fromId.Length > MaxIdLength)
        {
            Add("from.id", $"from.id is longer than {MaxIdLength} characters.");
        }
        if (draft.From?.Name is { Length: > MaxNameLength })
        {
            Add("from.name", $"from.name is longer than {MaxNameLength} characters.");
        }

        CheckId(draft.ClientActivityId, "clientActivityId", Add);
        CheckId(draft.ReplyToId, "replyToId", Add);
        if (draft.Name is { Length: > MaxNameLength })
        {
            Add("name", $"name is longer than {MaxNameLength} characters.");
        }

        var entities = Normalize(draft.Entities);
        if (entities is { } e)
        {
            if (e.ValueKind != JsonValueKind.Array)
            {
                Add("entities", "entities must be an array of objects with a type.");
            }
            else
            {
                var n = e.GetArrayLength();
                if (n > MaxEntities)
                {
                    Add("entities", $"At most {MaxEntities} entities are allowed; got {n}.");
                }
                var i = 0;
                foreach (var entity in e.EnumerateArray())
                {
                    if (entity.ValueKind != JsonValueKind.Object ||
                        !entity.TryGetProperty("type", out var t) || t.ValueKind != JsonValueKind.String || t.GetString() is not { Length: > 0 })
                    {
                        Add($"entities[{i}].type", "Every entity is an object with a non-empty string type.");
                    }
                    i++;
                }
            }
        }

        var value = Normalize(draft.Value);
        var channelData = Normalize(draft.ChannelData);
        CheckOpaque(value, "value", Add);
        CheckOpaque(channelData, "channelData", Add);

        if (errors.Count > 0)
        {
            return (null, errors);
        }
        return (new ActivityContent(
            draft.Type!,
            draft.Text,
            attachments.Count > 0 ? attachments : null,
            new ChannelAccount(fromId!, draft.From?.Name),
            draft.ClientActivityId ?? ClientActivityIdFromChannelData(channelData),
            draft.ReplyToId,
            entities,
            draft.Name,
            value,
            channelData), errors);
    }

    /// <summary>Web Chat stamps <c>channelData.clientActivityID</c> on every post; honour it as the idempotency key.</summary>
    private static string? ClientActivityIdFromChannelData(JsonElement? channelData) =>
        channelData is { ValueKind: JsonValueKind.Object } cd &&
        cd.TryGetProperty("clientActivityID", out var id) && id.ValueKind == JsonValueKind.String &&
        id.GetString() is { Length: > 0 and <= MaxIdLength } s
            ? s
            : null;

    public static bool IsHttpUrl(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) &&
        !string.IsNullOrEmpty(uri.Host);

    /// <summary>A JSON null is the same as leaving the field out.</summary>
    private static JsonElement? Normalize(JsonElement? element) =>
        element is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) } e ? e : null;

    private static void CheckOpaque(JsonElement? element, string field, Action<string, string> add)
    {
        if (element is { } e && Encoding.UTF8.GetByteCount(e.GetRawText()) > MaxOpaqueJsonBytes)
        {
            add(field, $"{field} is larger than {MaxOpaqueJsonBytes} bytes (8 KiB of JSON).");
        }
    }

    private static void CheckId(string? value, string field, Action<string, string> add)
    {
        if (value is null)
        {
            return;
        }
        if (value.Length == 0 || value.Length > MaxIdLength)
        {
            add(field, $"{field} must be 1 to {MaxIdLength} characters.");
        }
    }

    private static string Truncate(string s) => s.Length > 40 ? s[..40] + "…" : s;
}
