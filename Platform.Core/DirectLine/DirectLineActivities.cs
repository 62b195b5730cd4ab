using System.Text.Json;
using Platform.Core.Messaging;

namespace Platform.Core.DirectLine;

/// <summary>
/// Reads a posted Direct Line activity into the native draft, which then passes the same validation as
/// <c>/v1</c>. <c>channelData</c> is kept exactly as posted; its <c>clientActivityID</c> (set by Web Chat)
/// becomes the idempotency key, so a retried post answers the original id instead of storing twice.
/// </summary>
public static class DirectLineActivities
{
    public static bool TryRead(JsonElement body, out ActivityDraft? draft, out string? error)
    {
        draft = null;
        error = null;
        if (body.ValueKind != JsonValueKind.Object)
        {
            error = "The activity must be a JSON object.";
            return false;
        }
        try
        {
            ChannelAccount? from = null;
            if (Field(body, "from") is { ValueKind: JsonValueKind.Object } f)
            {
                from = new ChannelAccount(String(f, "id", "from.id") ?? "", String(f, "name", "from.name"));
            }
            List<Attachment?>? attachments = null;
            if (Field(body, "attachments") is { } list)
            {
                if (list.ValueKind != JsonValueKind.Array)
                {
                    throw new FormatException("attachments must be an array.");
                }
                attachments = [];
                var i = 0;
                foreach (var a in list.EnumerateArray())
                {
                    if (a.ValueKind != JsonValueKind.Object)
                    {
                        throw new FormatException($"attachments[{i}] must be an object.");
                    }
                    attachments.Add(new Attachment(String(a, "contentUrl", $"attachments[{i}].contentUrl") ?? "",
                        String(a, "contentType", $"attachments[{i}].contentType"), String(a, "name", $"attachments[{i}].name")));
                    i++;
                }
            }
            var channelData = Field(body, "channelData");
            var clientActivityId = channelData is { ValueKind: JsonValueKind.Object } cd
                ? String(cd, DirectLineWire.ClientActivityIdKey, "channelData.clientActivityID")
                : null;
            draft = new ActivityDraft(String(body, "type", "type"), String(body, "text", "text"), attachments, from, clientActivityId,
                String(body, "replyToId", "replyToId"), Field(body, "entities"), String(body, "name", "name"), Field(body, "value"), channelData);
            return true;
        }
        catch (FormatException ex)
        {
            error = ex.Message;
            return false;
        }
    }

    private static JsonElement? Field(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined) ? v.Clone() : null;

    private static string? String(JsonElement o, string name, string path) => Field(o, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } s => s.GetString(),
        _ => throw new FormatException($"{path} must be a string."),
    };
}
