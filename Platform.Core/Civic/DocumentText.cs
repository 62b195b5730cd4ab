using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace Platform.Core.Civic;

/// <summary>A document that cannot be turned into text (a garbage PDF, an unknown media type).</summary>
public sealed class DocumentFormatException(string message) : Exception(message);

/// <summary>
/// Turns a raw document into the normalised text that evidence offsets index into. Pure: the same bytes always
/// give the same text, so offsets stay valid for as long as the artifact exists.
/// </summary>
public static partial class DocumentText
{
    public static string MediaTypeOf(string fileName) => Path.GetExtension(fileName).ToLowerInvariant() switch
    {
        ".pdf" => "application/pdf",
        ".html" or ".htm" => "text/html",
        ".txt" or ".text" or ".md" => "text/plain",
        _ => "application/octet-stream",
    };

    public static string Extract(ReadOnlySpan<byte> bytes, string mediaType)
    {
        var text = mediaType switch
        {
            "application/pdf" => PdfText.Extract(bytes),
            "text/html" => FromHtml(Encoding.UTF8.GetString(bytes)),
            "text/plain" => Encoding.UTF8.GetString(bytes),
            _ => throw new DocumentFormatException($"Unsupported media type '{mediaType}'."),
        };
        return Normalize(text);
    }

    /// <summary>\r\n → \n, trailing spaces trimmed, at most one blank line in a row, BOM removed.</summary>
    public static string Normalize(string text)
    {
        var lines = text.TrimStart('\uFEFF').Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n').Split('\n');
        var sb = new StringBuilder(text.Length);
        var blank = 0;
        foreach (var raw in lines)
        {
            var line = raw.TrimEnd();
            if (line.Length == 0)
            {
                if (++blank > 1 || sb.Length == 0)
                {
                    continue;
                }
            }
            else
            {
                blank = 0;
            }
            sb.Append(line).Append('\n');
        }
        return sb.ToString().TrimEnd('\n') + "\n";
    }

    /// <summary>Block elements become line breaks, tags go, entities are decoded; scripts and styles are dropped.</summary>
    public static string FromHtml(string html)
    {
        var s = ScriptOrStyle().Replace(html, "");
        s = BlockTag().Replace(s, "\n");
        s = AnyTag().Replace(s, "");
        s = WebUtility.HtmlDecode(s);
        var lines = s.Split('\n').Select(l => Spaces().Replace(l, " ").Trim());
        return string.Join('\n', lines);
    }

    [GeneratedRegex(@"<(script|style)\b[^>]*>.*?</\1\s*>", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex ScriptOrStyle();

    [GeneratedRegex(@"<\s*(br|/p|p|/div|div|/li|li|/h[1-6]|h[1-6]|/tr|tr|/title|hr)\b[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex BlockTag();

    [GeneratedRegex(@"<[^>]*>")]
    private static partial Regex AnyTag();

    [GeneratedRegex(@"[ \t\u00A0]+")]
    private static partial Regex Spaces();
}

/// <summary>
/// A small PDF text extractor for the subset our sources use (no PDF library is on the feed): finds the content
/// streams (uncompressed or FlateDecode through <see cref="ZLibStream"/>), and reads the text-showing operators
/// Tj, TJ, ' and " with line breaks at Td/TD/T*/ET. Fonts are assumed to use a standard single-byte encoding;
/// anything else (encrypted, object streams only, CID fonts) yields no text and is reported as unreadable.
/// </summary>
public static class PdfText
{
    public static string Extract(ReadOnlySpan<byte> pdf)
    {
        var data = pdf.ToArray();
        if (data.Length < 8 || Encoding.ASCII.GetString(data, 0, 5) != "%PDF-")
        {
            throw new DocumentFormatException("Not a PDF: the %PDF- header is missing.");
        }
        var text = new StringBuilder();
        var pos = 0;
        var streams = 0;
        while ((pos = IndexOf(data, "stream"u8, pos)) >= 0)
        {
            // "endstream" also contains "stream"; only a keyword followed by an EOL starts one.
            var isEnd = pos >= 3 && data[pos - 3] == 'e' && data[pos - 2] == 'n' && data[pos - 1] == 'd';
            var start = pos + 6;
            if (isEnd || start >= data.Length || (data[start] != '\r' && data[start] != '\n'))
            {
                pos = start;
                continue;
            }
            start += data[start] == '\r' && start + 1 < data.Length && data[start + 1] == '\n' ? 2 : 1;
            var end = IndexOf(data, "endstream"u8, start);
            if (end < 0)
            {
                throw new DocumentFormatException("Truncated PDF: a stream has no endstream.");
            }
            var dictStart = LastIndexOf(data, "<<"u8, pos);
            var dict = dictStart >= 0 ? Encoding.ASCII.GetString(data, dictStart, pos - dictStart) : "";
            var body = data.AsSpan(start, end - start).TrimEnd("\r\n"u8).ToArray();
            if (dict.Contains("/FlateDecode", StringComparison.Ordinal))
            {
                body = Inflate(body);
            }
            else if (dict.Contains("/Filter", StringComparison.Ordinal))
            {
                pos = end + 9;
                continue; // images and other filters carry no text we read
            }
            if (!dict.Contains("/Subtype", StringComparison.Ordinal))
            {
                streams++;
                ReadContent(Encoding.Latin1.GetString(body), text);
            }
            pos = end + 9;
        }
        var result = text.ToString();
        if (streams == 0 || result.Trim().Length == 0)
        {
            throw new DocumentFormatException("The PDF has no readable text content.");
        }
        return result;
    }

    private static byte[] Inflate(byte[] body)
    {
        try
        {
            using var input = new MemoryStream(body);
            using var z = new ZLibStream(input, CompressionMode.Decompress);
            using var output = new MemoryStream();
            z.CopyTo(output);
            return output.ToArray();
        }
        catch (InvalidDataException ex)
        {
            throw new DocumentFormatException($"Corrupt FlateDecode stream: {ex.Message}");
        }
    }

    /// <summary>Interprets a content stream's tokens, keeping only strings and the operators that place them.</summary>
    private static void ReadContent(string content, StringBuilder text)
    {
        var operands = new List<string>();
        var i = 0;
        while (i < content.Length)
        {
            var c = content[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c == '%')
            {
                while (i < content.Length && content[i] != '\n' && content[i] != '\r')
                {
                    i++;
                }
            }
            else if (c == '(')
            {
                operands.Add(ReadLiteral(content, ref i));
            }
            else if (c == '<' && i + 1 < content.Length && content[i + 1] != '<')
            {
                var close = content.IndexOf('>', i);
                if (close < 0)
                {
                    throw new DocumentFormatException("Unterminated hex string.");
                }
                operands.Add(FromHex(content[(i + 1)..close]));
                i = close + 1;
            }
            else if (c is '[' or ']' or '<' or '>' or '{' or '}')
            {
                i++; // TJ arrays: their strings are collected as operands; kerning numbers are ignored
            }
            else
            {
                var startTok = i;
                while (i < content.Length && !char.IsWhiteSpace(content[i]) && "()<>[]{}/%".IndexOf(content[i]) < 0)
                {
                    i++;
                }
                if (i == startTok)
                {
                    i++; // a name's slash
                    continue;
                }
                var token = content[startTok..i];
                if (double.TryParse(token, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _))
                {
                    continue;
                }
                switch (token)
                {
                    case "Tj" or "TJ":
                        operands.ForEach(s => text.Append(s));
                        break;
                    case "'" or "\"":
                        text.Append('\n');
                        operands.ForEach(s => text.Append(s));
                        break;
                    case "T*":
                        text.Append('\n'); // a next-line on an empty line is a blank line
                        break;
                    case "Td" or "TD" or "ET":
                        if (text.Length > 0 && text[^1] != '\n')
                        {
                            text.Append('\n');
                        }
                        break;
                }
                operands.Clear();
            }
        }
    }

    private static string ReadLiteral(string s, ref int i)
    {
        var sb = new StringBuilder();
        var depth = 0;
        i++; // (
        while (i < s.Length)
        {
            var c = s[i++];
            if (c == '\\' && i < s.Length)
            {
                var e = s[i++];
                switch (e)
                {
                    case 'n': sb.Append('\n'); break;
                    case 'r': sb.Append('\r'); break;
                    case 't': sb.Append('\t'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case '\r' or '\n': break; // line continuation
                    case >= '0' and <= '7':
                        var oct = e - '0';
                        for (var k = 0; k < 2 && i < s.Length && s[i] is >= '0' and <= '7'; k++)
                        {
                            oct = oct * 8 + (s[i++] - '0');
                        }
                        sb.Append((char)oct);
                        break;
                    default: sb.Append(e); break;
                }
            }
            else if (c == '(')
            {
                depth++;
                sb.Append(c);
            }
            else if (c == ')')
            {
                if (depth-- == 0)
                {
                    return sb.ToString();
                }
                sb.Append(c);
            }
            else
            {
                sb.Append(c);
            }
        }
        throw new DocumentFormatException("Unterminated string in a content stream.");
    }

    private static string FromHex(string hex)
    {
        var digits = new string(hex.Where(Uri.IsHexDigit).ToArray());
        if (digits.Length % 2 == 1)
        {
            digits += "0";
        }
        return Encoding.Latin1.GetString(Convert.FromHexString(digits));
    }

    private static int IndexOf(byte[] data, ReadOnlySpan<byte> needle, int from)
    {
        if (from >= data.Length)
        {
            return -1;
        }
        var i = data.AsSpan(from).IndexOf(needle);
        return i < 0 ? -1 : from + i;
    }

    private static int LastIndexOf(byte[] data, ReadOnlySpan<byte> needle, int before) => data.AsSpan(0, before).LastIndexOf(needle);
}
