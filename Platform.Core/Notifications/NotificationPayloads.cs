using System.Text;
using System.Text.Json;

namespace Platform.Core.Notifications;

/// <summary>
/// Fitting a payload into <see cref="NotificationRules.MaxPayloadBytes"/> (one Web Push record). A producer builds its
/// payload at a level of detail (how many teams, gatherings … it lists); <see cref="Fit"/> halves the detail until the
/// serialized payload fits, and if even the least detail does not, cuts one text field (on a word boundary, never
/// inside a UTF-16 surrogate pair, ending in "…") to the longest text that fits. The result is always a JSON object
/// that <see cref="NotificationRules.Validate"/> accepts.
/// </summary>
public static class NotificationPayloads
{
    private const string Ellipsis = "…";

    /// <param name="build">The payload's fields at a level of detail (called with <paramref name="detail"/>, then half, … down to 0).</param>
    /// <param name="detail">The fullest level of detail to try first; 0 when the payload has no levels.</param>
    /// <param name="shrinkField">The text field cut as a last resort (it must hold a string).</param>
    /// <exception cref="ArgumentException">The payload does not fit even with <paramref name="shrinkField"/> empty.</exception>
    public static JsonElement Fit(Func<int, IReadOnlyDictionary<string, object?>> build, int detail, string shrinkField,
        JsonSerializerOptions? options = null, int maxBytes = NotificationRules.MaxPayloadBytes)
    {
        ArgumentNullException.ThrowIfNull(build);
        ArgumentOutOfRangeException.ThrowIfNegative(detail);
        IReadOnlyDictionary<string, object?> fields;
        while (true)
        {
            fields = build(detail);
            var payload = Serialize(fields, options);
            if (Fits(payload, maxBytes))
            {
                return payload;
            }
            if (detail == 0)
            {
                break;
            }
            detail /= 2;
        }
        if (!fields.TryGetValue(shrinkField, out var value) || value is not string text)
        {
            throw new ArgumentException($"The payload is larger than {maxBytes} bytes and its field '{shrinkField}' is not a text to shorten.", nameof(shrinkField));
        }
        // The longest cut that fits: the cut's length grows with its limit (every cut is a prefix of the text), so a
        // binary search over the limit finds it in a dozen serializations.
        var (low, high) = (0, text.Length);
        JsonElement? best = null;
        while (low <= high)
        {
            var limit = low + ((high - low) / 2);
            var payload = Serialize(With(fields, shrinkField, Clip(text, limit)), options);
            if (Fits(payload, maxBytes))
            {
                best = payload;
                low = limit + 1;
            }
            else
            {
                high = limit - 1;
            }
        }
        return best ?? throw new ArgumentException($"The payload is larger than {maxBytes} bytes even with '{shrinkField}' empty.", nameof(build));
    }

    /// <summary>A payload without levels of detail: <paramref name="shrinkField"/> is cut if the whole does not fit.</summary>
    public static JsonElement Fit(IReadOnlyDictionary<string, object?> fields, string shrinkField, JsonSerializerOptions? options = null,
        int maxBytes = NotificationRules.MaxPayloadBytes) => Fit(_ => fields, 0, shrinkField, options, maxBytes);

    /// <summary>Whether the serialized payload is within <paramref name="maxBytes"/> UTF-8 bytes (the rule producers are held to).</summary>
    public static bool Fits(JsonElement payload, int maxBytes = NotificationRules.MaxPayloadBytes) =>
        Encoding.UTF8.GetByteCount(payload.GetRawText()) <= maxBytes;

    /// <summary>
    /// <paramref name="text"/> cut to at most <paramref name="maxChars"/> UTF-16 units including a closing "…": at the
    /// last space when that keeps more than half, never between the two halves of a surrogate pair.
    /// </summary>
    public static string Clip(string text, int maxChars)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length <= maxChars)
        {
            return text;
        }
        if (maxChars < 2)
        {
            return "";
        }
        var space = text.LastIndexOf(' ', maxChars - 1);
        var cut = space > maxChars / 2 ? space : maxChars - 1;
        if (char.IsHighSurrogate(text[cut - 1]))
        {
            cut--; // the pair's second half would be left out: leave out the whole character
        }
        return string.Concat(text.AsSpan(0, cut).TrimEnd(), Ellipsis);
    }

    private static JsonElement Serialize(IReadOnlyDictionary<string, object?> fields, JsonSerializerOptions? options) =>
        JsonSerializer.SerializeToElement(fields, options ?? JsonSerializerOptions.Default);

    private static Dictionary<string, object?> With(IReadOnlyDictionary<string, object?> fields, string name, string value) =>
        new(fields) { [name] = value };
}
