using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Platform.Core.Messaging;

namespace Platform.Core.DirectLine;

/// <summary>
/// The Direct Line 3.0 shape of Platform activities (what botframework-directlinejs and Web Chat read), written
/// straight from the stored activity. One writer serves REST (GET activities) and the Realtime stream, so both
/// paths agree byte for byte. The watermark is the seq, as a string.
/// </summary>
public static class DirectLineWire
{
    /// <summary>The <c>channelId</c> every activity carries, as on Azure.</summary>
    public const string ChannelId = "directline";

    /// <summary>Where Web Chat reads the order of activities from (it falls back to timestamps otherwise).</summary>
    public const string SequenceIdKey = "webchat:sequence-id";

    /// <summary>Where Web Chat (and Direct Line JS callers) put the id they match the echo against.</summary>
    public const string ClientActivityIdKey = "clientActivityID";

    public static string Watermark(long seq) => seq.ToString(CultureInfo.InvariantCulture);

    /// <summary><c>{"activities":[…],"watermark":"N"}</c></summary>
    public static byte[] ActivitySet(IReadOnlyList<Activity> activities, long? watermark)
    {
        var buffer = new ArrayBufferWriter<byte>(256 + activities.Count * 256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("activities");
            foreach (var a in activities)
            {
                WriteActivity(w, a);
            }
            w.WriteEndArray();
            if (watermark is { } wm)
            {
                w.WriteString("watermark", Watermark(wm));
            }
            else
            {
                w.WriteNull("watermark");
            }
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>An ActivitySet of one activity in the native JSON shape (a live doorbell), re-shaped for Direct Line.</summary>
    public static byte[] ActivitySetFromNative(ReadOnlySpan<byte> nativeActivityJson)
    {
        var activity = JsonSerializer.Deserialize(nativeActivityJson, ActivityJsonContext.Default.Activity)
                       ?? throw new JsonException("The doorbell carried no activity.");
        return ActivitySet([activity], activity.Seq);
    }

    public static void WriteActivity(Utf8JsonWriter w, Activity a)
    {
        w.WriteStartObject();
        w.WriteString("type", a.Type);
        w.WriteString("id", a.Id);
        w.WriteString("timestamp", a.Timestamp);
        w.WriteString("channelId", ChannelId);
        w.WriteStartObject("from");
        w.WriteString("id", a.From.Id);
        if (a.From.Name is not null)
        {
            w.WriteString("name", a.From.Name);
        }
        w.WriteEndObject();
        w.WriteStartObject("conversation");
        w.WriteString("id", a.ConversationId.ToString("D"));
        w.WriteEndObject();
        if (a.Text is not null)
        {
            w.WriteString("text", a.Text);
        }
        if (a.Attachments is { Count: > 0 })
        {
            w.WriteStartArray("attachments");
            foreach (var attachment in a.Attachments)
            {
                w.WriteStartObject();
                w.WriteString("contentType", attachment.ContentType ?? "application/octet-stream");
                w.WriteString("contentUrl", attachment.ContentUrl);
                if (attachment.Name is not null)
                {
                    w.WriteString("name", attachment.Name);
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        WriteRaw(w, "entities", a.Entities);
        if (a.ReplyToId is not null)
        {
            w.WriteString("replyToId", a.ReplyToId);
        }
        if (a.Name is not null)
        {
            w.WriteString("name", a.Name);
        }
        WriteRaw(w, "value", a.Value);
        WriteChannelData(w, a);
        w.WriteEndObject();
    }

    /// <summary>
    /// channelData exactly as posted, plus our seq under <c>webchat:sequence-id</c> (Web Chat orders by it) and the
    /// clientActivityId if the activity was posted natively with one (Web Chat matches its echo by it).
    /// </summary>
    private static void WriteChannelData(Utf8JsonWriter w, Activity a)
    {
        var original = a.ChannelData is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) } cd ? cd : (JsonElement?)null;
        if (original is { ValueKind: not JsonValueKind.Object } other)
        {
            w.WritePropertyName("channelData");
            other.WriteTo(w); // not an object: nowhere to add our keys, so it stays exactly as posted
            return;
        }
        var addClientId = a.ClientActivityId is not null && (original is not { } o || !o.TryGetProperty(ClientActivityIdKey, out _));
        if (original is null && a.Seq is null && !addClientId)
        {
            return;
        }
        w.WriteStartObject("channelData");
        if (original is { } obj)
        {
            foreach (var property in obj.EnumerateObject())
            {
                if (property.NameEquals(SequenceIdKey) && a.Seq is not null)
                {
                    continue;
                }
                property.WriteTo(w);
            }
        }
        if (addClientId)
        {
            w.WriteString(ClientActivityIdKey, a.ClientActivityId);
        }
        if (a.Seq is { } seq)
        {
            w.WriteNumber(SequenceIdKey, seq);
        }
        w.WriteEndObject();
    }

    private static void WriteRaw(Utf8JsonWriter w, string name, JsonElement? value)
    {
        if (value is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) } v)
        {
            w.WritePropertyName(name);
            v.WriteTo(w);
        }
    }

    /// <summary>A Direct Line error body: <c>{"error":{"code":…,"message":…}}</c>.</summary>
    public static byte[] Error(string code, string message)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartObject("error");
            w.WriteString("code", code);
            w.WriteString("message", message);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
