using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using UglyToad.PdfPig;
using UglyToad.PdfPig.DocumentLayoutAnalysis.PageSegmenter;
using UglyToad.PdfPig.DocumentLayoutAnalysis.ReadingOrderDetector;
using UglyToad.PdfPig.DocumentLayoutAnalysis.WordExtractor;

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

    /// <summary>Page breaks of a PDF stay in the text as a line holding only a form feed, so evidence can name its page.</summary>
    public const char PageBreak = '\f';

    public static string Extract(ReadOnlySpan<byte> bytes, string mediaType, DocumentLimits? limits = null)
    {
        limits ??= new DocumentLimits();
        var text = mediaType switch
        {
            "application/pdf" => PdfText.Extract(bytes, limits),
            "text/html" => FromHtml(Encoding.UTF8.GetString(bytes)),
            "text/plain" => Encoding.UTF8.GetString(bytes),
            _ => throw new DocumentFormatException($"Unsupported media type '{mediaType}'."),
        };
        var normalized = Normalize(text);
        if (Encoding.UTF8.GetByteCount(normalized) > limits.MaxTextBytes)
        {
            throw new DocumentFormatException($"The document's text is larger than the limit of {limits.MaxTextBytes} bytes.");
        }
        return normalized;
    }

    /// <summary>The 1-based page of an offset: one more than the page breaks before it.</summary>
    public static int PageOf(string text, int offset)
    {
        var page = 1;
        for (var i = text.IndexOf(PageBreak); i >= 0 && i < offset; i = text.IndexOf(PageBreak, i + 1))
        {
            page++;
        }
        return page;
    }

    /// <summary>\r\n → \n, trailing spaces trimmed, at most one blank line in a row, BOM removed.</summary>
    public static string Normalize(string text)
    {
        var lines = text.TrimStart('\uFEFF').Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n').Split('\n');
        var sb = new StringBuilder(text.Length);
        var blank = 0;
        foreach (var raw in lines)
        {
            var line = raw == "\f" ? raw : raw.TrimEnd();
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
        var s = WithoutScriptsAndStyles(html);
        s = BlockTag().Replace(s, "\n");
        s = CellEnd().Replace(s, " | "); // table cells stay apart: "Ortega | Aye" rather than "OrtegaAye"
        s = AnyTag().Replace(s, "");
        s = WebUtility.HtmlDecode(s);
        var lines = s.Split('\n').Select(l => Spaces().Replace(l, " ").Trim().TrimEnd('|').TrimEnd());
        return string.Join('\n', lines);
    }

    /// <summary>
    /// Drops <c>&lt;script&gt;</c> and <c>&lt;style&gt;</c> elements in one left-to-right pass. A lazy regex with a
    /// back-reference rescans to the end for every unclosed opening tag, which is quadratic on a hostile page; here
    /// each character is looked at a bounded number of times, and an unclosed element drops the rest, as a browser does.
    /// </summary>
    private static string WithoutScriptsAndStyles(string html)
    {
        var sb = new StringBuilder(html.Length);
        var i = 0;
        while (i < html.Length)
        {
            var open = html.IndexOf('<', i);
            if (open < 0)
            {
                sb.Append(html, i, html.Length - i);
                break;
            }
            var name = OpensElement(html, open, "script") ? "script" : OpensElement(html, open, "style") ? "style" : null;
            if (name is null)
            {
                sb.Append(html, i, open + 1 - i);
                i = open + 1;
                continue;
            }
            sb.Append(html, i, open - i);
            var close = html.IndexOf("</" + name, open + 1 + name.Length, StringComparison.OrdinalIgnoreCase);
            if (close < 0)
            {
                break;
            }
            var end = html.IndexOf('>', close);
            i = end < 0 ? html.Length : end + 1;
        }
        return sb.ToString();
    }

    private static bool OpensElement(string html, int at, string name) =>
        html.AsSpan(at + 1).StartsWith(name, StringComparison.OrdinalIgnoreCase) &&
        (at + 1 + name.Length >= html.Length || !char.IsLetterOrDigit(html[at + 1 + name.Length]));

    // [^<>]* rather than [^>]*: an unclosed tag stops at the next '<' instead of rescanning to the end (quadratic).
    [GeneratedRegex(@"<\s*(br|/p|p|/div|div|/li|li|/h[1-6]|h[1-6]|/tr|tr|/title|hr)\b[^<>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex BlockTag();

    [GeneratedRegex(@"</\s*t[dh]\s*>", RegexOptions.IgnoreCase)]
    private static partial Regex CellEnd();

    [GeneratedRegex(@"<[^<>]*>")]
    private static partial Regex AnyTag();

    [GeneratedRegex(@"[ \t\u00A0]+")]
    private static partial Regex Spaces();
}

/// <summary>Caps on what one document may cost to read (configuration: <c>Platform:Civic:Documents</c>).</summary>
public sealed class DocumentLimits
{
    /// <summary>A PDF with more pages is refused as a whole (minutes run to tens of pages, not thousands).</summary>
    public int MaxPdfPages { get; set; } = 500;
    /// <summary>Normalised text larger than this (UTF-8 bytes) is refused.</summary>
    public int MaxTextBytes { get; set; } = 4 * 1024 * 1024;
    /// <summary>
    /// All FlateDecode streams of a PDF together may inflate to at most this many bytes (default 128 MiB); a deflate
    /// bomb is refused before PdfPig, which inflates a stream whole, ever sees it.
    /// </summary>
    public long MaxInflatedBytes { get; set; } = 128L * 1024 * 1024;
}

/// <summary>
/// PDF text through PdfPig: words by nearest neighbour, blocks by Docstrum and blocks in reading order, so two-column
/// pages read column by column. Lines that repeat on most pages (running headers and footers, "Page 2 of 5") are
/// dropped; pages are separated by a form-feed line.
/// </summary>
public static partial class PdfText
{
    public static string Extract(ReadOnlySpan<byte> pdf, DocumentLimits limits)
    {
        var pages = new List<List<string>>();
        var raw = pdf.ToArray();
        if (InflatedBytes(raw, limits.MaxInflatedBytes) > limits.MaxInflatedBytes)
        {
            throw new DocumentFormatException($"The PDF's compressed streams inflate to more than the limit of {limits.MaxInflatedBytes} bytes.");
        }
        try
        {
            using var document = PdfDocument.Open(raw);
            if (document.NumberOfPages > limits.MaxPdfPages)
            {
                throw new DocumentFormatException($"The PDF has {document.NumberOfPages} pages; the limit is {limits.MaxPdfPages}.");
            }
            long bytes = 0;
            foreach (var page in document.GetPages())
            {
                var words = NearestNeighbourWordExtractor.Instance.GetWords(page.Letters);
                var blocks = DocstrumBoundingBoxes.Instance.GetBlocks(words);
                var lines = new List<string>();
                foreach (var block in UnsupervisedReadingOrderDetector.Instance.Get(blocks))
                {
                    foreach (var line in block.TextLines)
                    {
                        lines.Add(line.Text);
                        bytes += Encoding.UTF8.GetByteCount(line.Text) + 1;
                    }
                    lines.Add("");
                }
                if (bytes > limits.MaxTextBytes)
                {
                    throw new DocumentFormatException($"The PDF's text is larger than the limit of {limits.MaxTextBytes} bytes.");
                }
                pages.Add(lines);
            }
        }
        catch (DocumentFormatException)
        {
            throw;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException and not OperationCanceledException)
        {
            throw new DocumentFormatException($"Not a readable PDF: {ex.Message}");
        }
        if (pages.Sum(p => p.Count(l => l.Length > 0)) == 0)
        {
            throw new DocumentFormatException("The PDF holds no text (a scan without a text layer?).");
        }
        var running = RunningLines(pages);
        var sb = new StringBuilder();
        for (var i = 0; i < pages.Count; i++)
        {
            if (i > 0)
            {
                sb.Append('\n').Append(DocumentText.PageBreak).Append('\n');
            }
            var top = pages[i].FirstOrDefault(l => l.Length > 0);
            foreach (var line in pages[i].Where(l => !running.Contains(Shape(l)) && !PageNumber().IsMatch(l)
                         && !(i > 0 && ReferenceEquals(l, top) && RunningTitle().IsMatch(l))))
            {
                sb.Append(Ligatures(line.Replace(DocumentText.PageBreak, ' '))).Append('\n');
            }
        }
        return sb.ToString();
    }

    /// <summary>
    /// What the PDF's zlib (FlateDecode) streams inflate to together, counted in one pass and stopping as soon as the
    /// total passes <paramref name="limit"/>: each <c>stream</c> keyword is found once and its data inflated into a
    /// discarded buffer until the zlib stream itself ends (not until an <c>endstream</c> that a crafted stream could
    /// contain), so neither time nor memory grows with the bomb's ratio. Data that is not zlib counts as nothing.
    /// </summary>
    public static long InflatedBytes(byte[] pdf, long limit)
    {
        var total = 0L;
        var buffer = new byte[64 * 1024];
        var position = 0;
        while (position < pdf.Length)
        {
            var found = pdf.AsSpan(position).IndexOf("stream"u8);
            if (found < 0)
            {
                break;
            }
            var keyword = position + found;
            var start = keyword + "stream".Length;
            position = start;
            // The keyword "endstream" also contains "stream"; only a keyword followed by an end of line opens data.
            if (keyword >= 3 && pdf.AsSpan(keyword - 3).StartsWith("endstream"u8))
            {
                continue;
            }
            if (start < pdf.Length && pdf[start] == '\r')
            {
                start++;
            }
            if (start >= pdf.Length || pdf[start] != '\n')
            {
                continue;
            }
            start++;
            total += InflateCount(pdf, start, buffer, limit - total);
            if (total > limit)
            {
                return total;
            }
        }
        return total;
    }

    private static long InflateCount(byte[] pdf, int start, byte[] buffer, long budget)
    {
        if (pdf.Length - start < 2 || (pdf[start] & 0x0F) != 8 || ((pdf[start] << 8) | pdf[start + 1]) % 31 != 0)
        {
            return 0; // no zlib header
        }
        long count = 0;
        try
        {
            using var input = new MemoryStream(pdf, start, pdf.Length - start, writable: false);
            using var zlib = new System.IO.Compression.ZLibStream(input, System.IO.Compression.CompressionMode.Decompress);
            int read;
            while ((read = zlib.Read(buffer, 0, buffer.Length)) > 0)
            {
                count += read;
                if (count > budget)
                {
                    return count;
                }
            }
        }
        catch (InvalidDataException)
        {
            // A damaged stream: what inflated so far counts; PdfPig decides whether the document is readable.
        }
        return count;
    }

    /// <summary>Typographic ligatures (ﬁ, ﬂ, ﬀ …) as the letters a reader searches for.</summary>
    private static string Ligatures(string line) =>
        line.Any(c => c is >= '\uFB00' and <= '\uFB06') ? line.Normalize(NormalizationForm.FormKC) : line;

    /// <summary>Line shapes (digits folded) that occur on at least half of the pages of a document of two or more pages.</summary>
    private static HashSet<string> RunningLines(List<List<string>> pages)
    {
        if (pages.Count < 2)
        {
            return [];
        }
        return pages.SelectMany(p => p.Where(l => l.Length > 0).Select(Shape).Distinct())
            .GroupBy(s => s).Where(g => g.Count() * 2 >= pages.Count && g.Count() >= 2).Select(g => g.Key).ToHashSet();
    }

    private static string Shape(string line) => Digits().Replace(line.Trim(), "#");

    /// <summary>The first line of a later page naming the document ("Foxborough City Council Minutes"), which a two-page PDF cannot show to repeat.</summary>
    [GeneratedRegex(@"^[^.;]{0,80}\bMinutes\b[^.;]{0,60}$", RegexOptions.IgnoreCase)]
    private static partial Regex RunningTitle();

    [GeneratedRegex(@"\d+")]
    private static partial Regex Digits();

    [GeneratedRegex(@"^\s*(?:[-–—]\s*)?(?:Page\s+)?\d+(?:\s+of\s+\d+)?(?:\s*[-–—])?\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex PageNumber();
}
