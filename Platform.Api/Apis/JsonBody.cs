using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Platform.Api.Apis;

/// <summary>
/// Reads a JSON request body itself instead of relying on minimal-API binding, whose failures are a bare 400:
/// malformed JSON becomes a problem naming the offending field, and bodies over 256 KiB a 413, before anything
/// is parsed (Kestrel's own limit is not enforced under every server, e.g. TestServer or a proxy).
/// </summary>
public static class JsonBody
{
    public const int MaxBytes = 256 * 1024;

    public static async Task<(T? Value, ProblemHttpResult? Problem)> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> typeInfo, bool allowEmpty = false)
    {
        if (request.ContentLength > MaxBytes)
        {
            return (default, Problems.TooLarge(MaxBytes));
        }
        var buffer = new ArrayBufferWriter<byte>();
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
            {
                if (buffer.WrittenCount + read > MaxBytes)
                {
                    return (default, Problems.TooLarge(MaxBytes));
                }
                buffer.Write(chunk.AsSpan(0, read));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
        if (buffer.WrittenCount == 0 || buffer.WrittenSpan.Trim(" \t\r\n"u8).IsEmpty)
        {
            return allowEmpty ? (default, null) : (default, Problems.Invalid("body", "A JSON object is required."));
        }
        if (SyntaxError(buffer.WrittenSpan) is { } syntax)
        {
            return (default, Problems.Invalid("body", syntax));
        }
        try
        {
            var value = JsonSerializer.Deserialize(buffer.WrittenSpan, typeInfo);
            return value is null ? (default, Problems.Invalid("body", "A JSON object is required, not null.")) : (value, null);
        }
        catch (JsonException ex)
        {
            // Well-formed but of the wrong shape: the path names the field.
            var field = FieldOf(ex.Path);
            return (default, Problems.Invalid(field, field == "body" ? "The body must be a JSON object." : $"{field} has the wrong JSON type."));
        }
    }

    /// <summary>
    /// Checks the syntax first on its own, because a deserializer error's path points at the last property
    /// read, which would blame a valid field for a truncated body.
    /// </summary>
    private static string? SyntaxError(ReadOnlySpan<byte> json) => TextError(json);

    /// <summary>
    /// Checks every JSON string and property name, including the activity part of a multipart upload: text must be
    /// valid UTF-8 / UTF-16 (an escaped lone surrogate such as <c>"\ud800"</c> is not text) and free of U+0000, which
    /// PostgreSQL can store in neither <c>text</c> nor <c>jsonb</c>.
    /// </summary>
    public static string? TextError(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 64 });
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && TextError(ref reader) is { } text)
                {
                    return text;
                }
            }
            return null;
        }
        catch (JsonException ex)
        {
            return $"The body is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}).";
        }
    }

    private static string? TextError(ref Utf8JsonReader reader)
    {
        var position = reader.BytesConsumed;
        string value;
        try
        {
            value = reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            return $"The body holds a string that is not valid Unicode (a lone surrogate or invalid UTF-8) near byte {position}.";
        }
        return value.Contains('\0', StringComparison.Ordinal)
            ? $"The body holds a string with the character U+0000 near byte {position}; it cannot be stored."
            : null;
    }

    /// <summary><c>$.attachments[0].contentUrl</c> → <c>attachments[0].contentUrl</c>; the root is "body".</summary>
    public static string FieldOf(string? jsonPath) =>
        jsonPath is null or "$" || !jsonPath.StartsWith("$.", StringComparison.Ordinal) ? "body" : jsonPath[2..];
}
