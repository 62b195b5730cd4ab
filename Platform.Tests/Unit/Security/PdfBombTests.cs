using System.IO.Compression;
using System.Text;
using Platform.Core.Civic;

namespace Platform.Tests.Unit.Security;

/// <summary>Hostile documents cost bounded work: a PDF deflate bomb is refused before PdfPig inflates it, HTML is read in one pass.</summary>
public sealed class PdfBombTests
{
    /// <summary>A one-page PDF whose content stream is <paramref name="inflatedBytes"/> of spaces, zlib-compressed.</summary>
    private static byte[] Pdf(long inflatedBytes, string text = "Hello council")
    {
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var content = Encoding.ASCII.GetBytes($"BT /F1 12 Tf 72 712 Td ({text}) Tj ET\n");
            zlib.Write(content);
            var spaces = new byte[1024 * 1024];
            Array.Fill(spaces, (byte)' ');
            for (var written = 0L; written < inflatedBytes; written += spaces.Length)
            {
                zlib.Write(spaces, 0, (int)Math.Min(spaces.Length, inflatedBytes - written));
            }
        }
        var stream = compressed.ToArray();
        var pdf = new MemoryStream();
        var offsets = new List<long>();
        void Write(string s) => pdf.Write(Encoding.ASCII.GetBytes(s));
        Write("%PDF-1.4\n");
        offsets.Add(pdf.Position);
        Write("1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n");
        offsets.Add(pdf.Position);
        Write("2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n");
        offsets.Add(pdf.Position);
        Write("3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >> endobj\n");
        offsets.Add(pdf.Position);
        Write($"4 0 obj << /Length {stream.Length} /Filter /FlateDecode >>\nstream\n");
        pdf.Write(stream);
        Write("\nendstream\nendobj\n");
        offsets.Add(pdf.Position);
        Write("5 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj\n");
        var xref = pdf.Position;
        Write($"xref\n0 {offsets.Count + 1}\n0000000000 65535 f \n");
        foreach (var offset in offsets)
        {
            Write($"{offset:D10} 00000 n \n");
        }
        Write($"trailer << /Size {offsets.Count + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n");
        return pdf.ToArray();
    }

    [Fact]
    public void A_deflate_bomb_is_refused_quickly_and_a_normal_pdf_still_reads()
    {
        var limits = new DocumentLimits { MaxInflatedBytes = 4 * 1024 * 1024 };
        var bomb = Pdf(64L * 1024 * 1024);
        Assert.True(bomb.Length < 200_000, $"the bomb is {bomb.Length} bytes");

        var refused = Assert.Throws<DocumentFormatException>(() => DocumentText.Extract(bomb, "application/pdf", limits));
        Assert.Contains("inflate", refused.Message, StringComparison.Ordinal);
        // Counting stops just past the cap instead of inflating the 64 MiB the bomb holds.
        Assert.InRange(PdfText.InflatedBytes(bomb, limits.MaxInflatedBytes), limits.MaxInflatedBytes + 1, limits.MaxInflatedBytes + 64 * 1024);

        var text = DocumentText.Extract(Pdf(1000), "application/pdf", limits);
        Assert.Contains("Hello council", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Hostile_html_with_unclosed_tags_is_read_in_one_pass()
    {
        // Each of these made a regex rescan to the end once per opening: quadratic, hours for inputs of this size.
        var unclosedScripts = "<p>Kept</p>" + string.Concat(Enumerable.Repeat("<script>x", 400_000));
        Assert.Equal("Kept\n", DocumentText.Extract(Encoding.UTF8.GetBytes(unclosedScripts), "text/html"));
        var unclosedTags = "<p>Kept</p>" + new string('<', 2_000_000) + " tail";
        Assert.Contains("Kept", DocumentText.Extract(Encoding.UTF8.GetBytes(unclosedTags), "text/html"), StringComparison.Ordinal);
        var unclosedBreaks = "Kept" + string.Concat(Enumerable.Repeat("<br", 500_000));
        Assert.StartsWith("Kept", DocumentText.Extract(Encoding.UTF8.GetBytes(unclosedBreaks), "text/html"), StringComparison.Ordinal);
        // Closed elements still go, whatever their case, and text after them stays.
        var closed = DocumentText.Extract("<p>a</p><SCRIPT type=x>evil()</script ><style>p{}</STYLE><p>b</p><scripture>"u8, "text/html");
        Assert.Equal(["a", "b"], closed.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
