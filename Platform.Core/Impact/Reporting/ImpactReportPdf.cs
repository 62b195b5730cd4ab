using System.Globalization;
using PdfSharp;
using PdfSharp.Drawing;
using PdfSharp.Fonts;
using PdfSharp.Pdf;

namespace Platform.Core.Impact.Reporting;

/// <summary>
/// The company report as a PDF (PDFsharp), with the same sections and the same figures, formatted the same way, as
/// <see cref="ImpactReports.Html"/>: KPIs, sessions per month, trend slopes, the monthly table, the SROI table with its
/// full calculation, and the VIS summary with its histogram. A4 portrait, new pages as needed.
/// </summary>
public static class ImpactReportPdf
{
    private const double PageWidth = 595, PageHeight = 842, Margin = 48, ContentWidth = PageWidth - 2 * Margin;
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private static readonly XColor Accent = XColor.FromArgb(0x4a, 0x7b, 0xd0);
    private static readonly XColor Rule = XColor.FromArgb(0xcc, 0xcc, 0xcc);
    private static readonly XColor Shade = XColor.FromArgb(0xf3, 0xf3, 0xf3);
    private static readonly Lock FontsLock = new();
    private static bool fontsSet;

    /// <summary>PDFsharp embeds every font it uses; on Linux it finds none by itself, so the report's font comes from here.</summary>
    public static void UseFonts()
    {
        lock (FontsLock)
        {
            if (!fontsSet)
            {
                GlobalFontSettings.FontResolver = new DejaVuFontResolver();
                fontsSet = true;
            }
        }
    }

    public static byte[] Render(CompanyReport r)
    {
        UseFonts();
        using var document = new PdfDocument();
        document.Info.Title = $"Impact report — {r.Company.Name}";
        document.Info.Subject = $"Period {r.Period}";
        var w = new Writer(document);

        w.Text($"Impact report — {r.Company.Name}", w.Title);
        w.Text(string.Create(Inv, $"Period {r.Period} ({r.From:yyyy-MM-dd} to {r.To.AddDays(-1):yyyy-MM-dd}); scores by {r.ModelVersion}; generated {r.GeneratedAt:yyyy-MM-dd HH:mm} UTC."), w.Small);
        w.Space(8);

        var kpis = new List<(string Label, string Value)>
        {
            ("participants", r.Totals.Participants.ToString(Inv)),
            ("volunteers", r.Totals.Volunteers.ToString(Inv)),
            ("sessions", r.Totals.Sessions.ToString(Inv)),
            ("volunteer hours", r.Totals.VolunteerHours.ToString("0.#", Inv)),
        };
        if (r.Sroi is { } s)
        {
            kpis.Add(("SROI", s.Calculation.Ratio.ToString("0.00", Inv) + " : 1"));
        }
        if (r.Vis.AverageScore is { } vis)
        {
            kpis.Add(("average VIS", vis.ToString("0.0", Inv)));
        }
        w.Kpis(kpis);

        w.Heading("Activity per month");
        w.Bars(r.Months.Select(m => (m.Month.ToString("MMM yy", Inv), (double)m.Sessions)).ToList(), "sessions");

        w.Heading("Outcome trends");
        w.Text("Mean score per month (0–1) for each dimension: the least-squares trend per month.", w.Small);
        w.Table(["dimension", "trend per month"], [220, 120],
            r.TrendSlopePerMonth.Select(kv => new[] { kv.Key, kv.Value is { } x ? x.ToString("+0.0000;-0.0000;0", Inv) : "–" }).ToList());

        w.Heading("Monthly metrics");
        w.Table(["month", "participants", "volunteers", "sessions", "integration", "language", "job readiness"], [70, 70, 70, 60, 70, 70, 89],
            r.Months.Select(m => new[]
            {
                m.Month.ToString("yyyy-MM", Inv), m.Participants.ToString(Inv), m.Volunteers.ToString(Inv), m.Sessions.ToString(Inv),
                ImpactReports.N(m.AvgIntegration), ImpactReports.N(m.AvgLanguageLevel), ImpactReports.N(m.AvgJobReadiness),
            }).ToList());

        if (r.Sroi is { } sroi)
        {
            w.Heading("Social return on investment");
            w.Table(["outcome", "quantity", "gross", "impact year 1", "present value"], [150, 100, 80, 84, 85],
                sroi.Calculation.Outcomes.Select(o =>
                {
                    var q = sroi.Quantities.First(x => x.Outcome == o.Name);
                    return new[]
                    {
                        o.Name, string.Create(Inv, $"{q.Quantity:0.##} ({q.Source})"), o.GrossValue.ToString("N2", Inv), o.ImpactYear1.ToString("N2", Inv),
                        o.PresentValue.ToString("N2", Inv),
                    };
                }).ToList());
            var c = sroi.Calculation;
            w.Text(string.Create(Inv, $"Total PV {c.TotalPresentValue:N2}; investment {c.Investment:N2}; NPV {c.NetPresentValue:N2}; SROI {c.Ratio:0.00} : 1."), w.Bold);
            w.Space(4);
            w.Text("Full calculation", w.Small);
            foreach (var step in c.Steps)
            {
                w.Text(step, w.Mono);
            }
        }

        w.Heading($"Volunteer Impact Score ({r.Vis.Version})");
        w.Text(string.Create(Inv,
            $"{r.Vis.Volunteers} volunteers; average VIS {(r.Vis.AverageScore is { } a ? a.ToString("0.0", Inv) : "–")}; hours valued at {r.Vis.VolunteerHourValue:0.00} per hour = {r.Vis.TotalHoursValue:N2}."), w.Body);
        w.Bars(ImpactReports.Histogram(r.Vis.Scores.Select(v => v.Vis.Score)), "volunteers");

        w.Finish();
        using var stream = new MemoryStream();
        document.Save(stream, false);
        return stream.ToArray();
    }

    /// <summary>A cursor down the pages: starts a new page when the next block does not fit.</summary>
    private sealed class Writer
    {
        private readonly PdfDocument document;
        private XGraphics gfx = null!;
        private double y;
        private int pageNumber;

        public readonly XFont Title = new(DejaVuFontResolver.Family, 18, XFontStyleEx.Bold);
        public readonly XFont Header = new(DejaVuFontResolver.Family, 13, XFontStyleEx.Bold);
        public readonly XFont Body = new(DejaVuFontResolver.Family, 9.5, XFontStyleEx.Regular);
        public readonly XFont Bold = new(DejaVuFontResolver.Family, 9.5, XFontStyleEx.Bold);
        public readonly XFont Small = new(DejaVuFontResolver.Family, 8, XFontStyleEx.Regular);
        public readonly XFont Mono = new(DejaVuFontResolver.Family, 7, XFontStyleEx.Regular);
        private readonly XFont kpiValue = new(DejaVuFontResolver.Family, 16, XFontStyleEx.Bold);

        public Writer(PdfDocument document)
        {
            this.document = document;
            NewPage();
        }

        private void NewPage()
        {
            if (pageNumber > 0)
            {
                Footer();
                gfx.Dispose();
            }
            var page = document.AddPage();
            page.Size = PageSize.A4;
            gfx = XGraphics.FromPdfPage(page);
            pageNumber++;
            y = Margin;
        }

        private void Footer() =>
            gfx.DrawString($"page {pageNumber}", Small, XBrushes.Gray, new XRect(Margin, PageHeight - Margin / 2 - 10, ContentWidth, 10), XStringFormats.TopRight);

        public void Finish()
        {
            Footer();
            gfx.Dispose();
        }

        private void Need(double height)
        {
            if (y + height > PageHeight - Margin)
            {
                NewPage();
            }
        }

        public void Space(double points) => y += points;

        public void Heading(string text)
        {
            Need(Header.Height + 60);
            y += 12;
            gfx.DrawString(text, Header, XBrushes.Black, Margin, y, XStringFormats.TopLeft);
            y += Header.Height + 4;
        }

        /// <summary>Writes text wrapped at word boundaries to the content width.</summary>
        public void Text(string text, XFont font)
        {
            foreach (var line in Wrap(text, font, ContentWidth))
            {
                Need(font.Height + 2);
                gfx.DrawString(line, font, XBrushes.Black, Margin, y, XStringFormats.TopLeft);
                y += font.Height + 2;
            }
        }

        private List<string> Wrap(string text, XFont font, double width)
        {
            var lines = new List<string>();
            var current = "";
            foreach (var word in text.Split(' '))
            {
                var candidate = current.Length == 0 ? word : current + " " + word;
                if (current.Length > 0 && gfx.MeasureString(candidate, font).Width > width)
                {
                    lines.Add(current);
                    current = word;
                }
                else
                {
                    current = candidate;
                }
            }
            lines.Add(current);
            return lines;
        }

        public void Kpis(IReadOnlyList<(string Label, string Value)> kpis)
        {
            Need(44);
            var x = Margin;
            var width = ContentWidth / Math.Max(1, kpis.Count);
            foreach (var (label, value) in kpis)
            {
                gfx.DrawString(value, kpiValue, XBrushes.Black, x, y, XStringFormats.TopLeft);
                gfx.DrawString(label, Small, XBrushes.Black, x, y + kpiValue.Height + 2, XStringFormats.TopLeft);
                x += width;
            }
            y += 44;
        }

        /// <summary>A table with a shaded header row; the first column is left-aligned, the others right-aligned.</summary>
        public void Table(string[] headers, double[] widths, IReadOnlyList<string[]> rows)
        {
            var rowHeight = Body.Height + 6;
            var pen = new XPen(Rule, 0.5);
            void Row(string[] cells, XFont font, bool header)
            {
                Need(rowHeight);
                var total = widths.Sum();
                if (header)
                {
                    gfx.DrawRectangle(new XSolidBrush(Shade), Margin, y, total, rowHeight);
                }
                var x = Margin;
                for (var i = 0; i < cells.Length; i++)
                {
                    var rect = new XRect(x + 4, y + 3, widths[i] - 8, rowHeight - 6);
                    gfx.DrawString(cells[i], font, XBrushes.Black, rect, i == 0 ? XStringFormats.TopLeft : XStringFormats.TopRight);
                    x += widths[i];
                }
                gfx.DrawLine(pen, Margin, y + rowHeight, Margin + total, y + rowHeight);
                y += rowHeight;
            }
            Row(headers, Bold, true);
            foreach (var row in rows)
            {
                Row(row, Body, false);
            }
            y += 6;
        }

        /// <summary>A bar chart with each bar's value above it and its label below.</summary>
        public void Bars(IReadOnlyList<(string Label, double Value)> bars, string unit)
        {
            const double height = 110;
            Need(height + 24);
            var max = Math.Max(1, bars.Count == 0 ? 1 : bars.Max(b => b.Value));
            var w = bars.Count == 0 ? 0 : ContentWidth / bars.Count;
            var baseline = y + height;
            var brush = new XSolidBrush(Accent);
            for (var i = 0; i < bars.Count; i++)
            {
                var h = (height - 14) * bars[i].Value / max;
                var x = Margin + i * w;
                if (h > 0)
                {
                    gfx.DrawRectangle(brush, x + 3, baseline - h, w - 6, h);
                }
                gfx.DrawString(bars[i].Value.ToString("0", Inv), Small, XBrushes.Black, new XRect(x, baseline - h - 11, w, 10), XStringFormats.TopCenter);
                gfx.DrawString(bars[i].Label, Small, XBrushes.Black, new XRect(x, baseline + 3, w, 10), XStringFormats.TopCenter);
            }
            gfx.DrawLine(new XPen(Rule, 0.5), Margin, baseline, Margin + ContentWidth, baseline);
            gfx.DrawString(unit, Small, XBrushes.Gray, Margin, baseline + 14, XStringFormats.TopLeft);
            y = baseline + 28;
        }
    }
}

/// <summary>
/// Serves DejaVu Sans (regular and bold) from the machine's fonts (Debian package fonts-dejavu-core, which platform.sh
/// installs) for every family PDFsharp asks for.
/// </summary>
public sealed class DejaVuFontResolver : IFontResolver
{
    public const string Family = "DejaVu Sans";

    private static readonly string[] Folders = ["/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/local/share/fonts/dejavu"];

    public FontResolverInfo? ResolveTypeface(string familyName, bool bold, bool italic) =>
        new(bold ? "DejaVuSans-Bold" : "DejaVuSans", false, italic);

    public byte[]? GetFont(string faceName)
    {
        foreach (var folder in Folders)
        {
            var path = Path.Combine(folder, faceName + ".ttf");
            if (File.Exists(path))
            {
                return File.ReadAllBytes(path);
            }
        }
        throw new FileNotFoundException($"The PDF report needs the font {faceName}.ttf (Debian: apt-get install fonts-dejavu-core) in one of: {string.Join(", ", Folders)}.");
    }
}
