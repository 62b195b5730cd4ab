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
        var s = ScriptOrStyle().Replace(html, "");
        s = BlockTag().Replace(s, "\n");
        s = CellEnd().Replace(s, " | "); // table cells stay apart: "Ortega | Aye" rather than "OrtegaAye"
        s = AnyTag().Replace(s, "");
        s = WebUtility.HtmlDecode(s);
        var lines = s.Split('\n').Select(l => Spaces().Replace(l, " ").Trim().TrimEnd('|').TrimEnd());
        return string.Join('\n', lines);
    }

    [GeneratedRegex(@"<(script|style)\b[^>]*>.*?</\1\s*>", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex ScriptOrStyle();

    [GeneratedRegex(@"<\s*(br|/p|p|/div|div|/li|li|/h[1-6]|h[1-6]|/tr|tr|/title|hr)\b[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex BlockTag();

    [GeneratedRegex(@"</\s*t[dh]\s*>", RegexOptions.IgnoreCase)]
    private static partial Regex CellEnd();

    [GeneratedRegex(@"<[^>]*>")]
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
        try
        {
            using var document = PdfDocument.Open(pdf.ToArray());
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
