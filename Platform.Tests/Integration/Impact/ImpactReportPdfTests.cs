using System.Globalization;
using System.Text.Json;
using UglyToad.PdfPig;

namespace Platform.Tests.Integration.Impact;

/// <summary>The PDF export of the company report carries the same figures as the JSON and the HTML.</summary>
public sealed class ImpactReportPdfTests(ImpactFixture fx) : IClassFixture<ImpactFixture>
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    [Fact]
    public async Task Pdf_report_has_the_figures_of_the_json_and_html_reports()
    {
        var s = await fx.SeedAsync("pdf");
        await fx.WaitForScoringAsync(s.Tenant.Id);
        var api = fx.Client(s.Tenant.ApiKey);
        var inputs = await api.PutAsJsonAsync($"/v1/impact/companies/{s.Company}/sroi-inputs", new
        {
            investment = 12_500m, discountRate = 0.035m, volunteerHourValue = 31.5m,
            outcomes = new object[]
            {
                new { name = "Participants enter employment", quantity = 3m, financialProxy = 18_000m, deadweight = 0.25m, displacement = 0.1m, attribution = 0.3m, dropOff = 0.2m, durationYears = 3 },
                new { name = "Participants supported", measure = "participants", financialProxy = 1_200m, deadweight = 0m, displacement = 0m, attribution = 0m, dropOff = 0m, durationYears = 1 },
            },
        });
        Assert.Equal(HttpStatusCode.OK, inputs.StatusCode);

        var json = await ImpactFixture.Json(await api.GetAsync($"/v1/impact/companies/{s.Company}/report?period=2026-Q1"));
        var html = await (await api.GetAsync($"/v1/impact/companies/{s.Company}/report?period=2026-Q1&format=html")).Content.ReadAsStringAsync();
        var response = await api.GetAsync($"/v1/impact/companies/{s.Company}/report?period=2026-Q1&format=pdf");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/pdf", response.Content.Headers.ContentType?.MediaType);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        if (Environment.GetEnvironmentVariable("PLATFORM_KEEP_REPORT_PDF") is { Length: > 0 } keep)
        {
            await File.WriteAllBytesAsync(keep, bytes);
        }
        using var pdf = PdfDocument.Open(bytes);
        var text = string.Join(" ", pdf.GetPages().SelectMany(p => p.GetWords()).Select(w => w.Text));

        // Every figure of the JSON report, formatted as the HTML shows it, is in both the HTML and the PDF.
        var figures = new List<string>();
        var totals = json.GetProperty("totals");
        figures.Add($"Impact report — {json.GetProperty("company").GetProperty("name").GetString()}");
        figures.Add(totals.GetProperty("participants").GetInt32().ToString(Inv));
        figures.Add(totals.GetProperty("sessions").GetInt32().ToString(Inv));
        figures.Add(totals.GetProperty("volunteerHours").GetDecimal().ToString("0.#", Inv));
        foreach (var m in json.GetProperty("months").EnumerateArray())
        {
            figures.Add(DateOnly.Parse(m.GetProperty("month").GetString()!, Inv).ToString("yyyy-MM", Inv));
            foreach (var field in new[] { "avgIntegration", "avgLanguageLevel", "avgJobReadiness" })
            {
                if (m.GetProperty(field).ValueKind == JsonValueKind.Number)
                {
                    figures.Add(m.GetProperty(field).GetDouble().ToString("0.000", Inv));
                }
            }
        }
        foreach (var slope in json.GetProperty("trendSlopePerMonth").EnumerateObject())
        {
            figures.Add(slope.Name);
            if (slope.Value.ValueKind == JsonValueKind.Number)
            {
                figures.Add(slope.Value.GetDouble().ToString("+0.0000;-0.0000;0", Inv));
            }
        }
        var calc = json.GetProperty("sroi").GetProperty("calculation");
        figures.Add(calc.GetProperty("ratio").GetDecimal().ToString("0.00", Inv) + " : 1");
        foreach (var field in new[] { "totalPresentValue", "investment", "netPresentValue" })
        {
            figures.Add(calc.GetProperty(field).GetDecimal().ToString("N2", Inv));
        }
        foreach (var o in calc.GetProperty("outcomes").EnumerateArray())
        {
            figures.Add(o.GetProperty("name").GetString()!);
            foreach (var field in new[] { "grossValue", "impactYear1", "presentValue" })
            {
                figures.Add(o.GetProperty(field).GetDecimal().ToString("N2", Inv));
            }
        }
        var vis = json.GetProperty("vis");
        figures.Add($"{vis.GetProperty("volunteers").GetInt32()} volunteers");
        figures.Add(vis.GetProperty("averageScore").GetDouble().ToString("0.0", Inv));
        figures.Add(vis.GetProperty("volunteerHourValue").GetDecimal().ToString("0.00", Inv));
        figures.Add(vis.GetProperty("totalHoursValue").GetDecimal().ToString("N2", Inv));

        Assert.Equal(31.5m, vis.GetProperty("volunteerHourValue").GetDecimal());
        foreach (var figure in figures)
        {
            Assert.True(html.Contains(System.Net.WebUtility.HtmlEncode(figure), StringComparison.Ordinal), $"HTML lacks '{figure}'");
            Assert.True(text.Contains(figure, StringComparison.Ordinal), $"PDF lacks '{figure}' in: {text}");
        }

        Assert.Equal(HttpStatusCode.BadRequest, (await api.GetAsync($"/v1/impact/companies/{s.Company}/report?period=2026-Q1&format=docx")).StatusCode);
    }
}
