using System.Globalization;
using System.Net;
using System.Text;
using Npgsql;
using Platform.Core.Impact.Programs;
using Platform.Core.Impact.Scoring;

namespace Platform.Core.Impact.Reporting;

/// <summary>One impact-map row. Either a fixed <see cref="Quantity"/> or a <see cref="Measure"/> counted from the data in the window.</summary>
public sealed record SroiOutcomeSetting(string Name, string? Measure, decimal? Quantity, decimal FinancialProxy, decimal Deadweight, decimal Displacement,
    decimal Attribution, decimal DropOff, int DurationYears);

/// <summary>A company's configurable SROI inputs (docs/impact.md) and the value of a volunteer hour for VIS.</summary>
public sealed record SroiSettings(decimal Investment, decimal DiscountRate, IReadOnlyList<SroiOutcomeSetting> Outcomes, decimal? VolunteerHourValue);

public sealed record SroiQuantity(string Outcome, string Source, decimal Quantity);

public sealed record SroiReport(Guid CompanyId, DateOnly From, DateOnly To, SroiSettings Inputs, IReadOnlyList<SroiQuantity> Quantities, SroiCalculation Calculation);

public sealed record VolunteerScore(Guid VolunteerId, VolunteerActivity Inputs, VolunteerImpactScore Vis);

public sealed record VisReport(Guid CompanyId, DateOnly From, DateOnly To, string Version, decimal VolunteerHourValue, int Volunteers, double? AverageScore,
    decimal TotalHoursValue, IReadOnlyList<VolunteerScore> Scores);

public sealed record ReportTotals(int Participants, int Volunteers, int Sessions, decimal VolunteerHours, int CoursesCompleted, int Credentials);

public sealed record TrendPoint(DateOnly Month, double? Value);

public sealed record CompanyReport(Company Company, string Period, DateOnly From, DateOnly To, ReportTotals Totals, IReadOnlyList<MonthMetrics> Months,
    IReadOnlyDictionary<string, IReadOnlyList<TrendPoint>> Trends, IReadOnlyDictionary<string, double?> TrendSlopePerMonth, SroiReport? Sroi, VisReport Vis,
    string ModelVersion, DateTimeOffset GeneratedAt);

/// <summary>SROI, VIS and the company report, computed from the program data on request.</summary>
public sealed class ImpactReports(NpgsqlDataSource dataSource, Companies companies, IOutcomeModel? outcomeModel = null)
{
    public const decimal DefaultVolunteerHourValue = 29.95m;

    public static readonly IReadOnlyList<string> Measures =
    [
        "participants", "volunteers", "sessions", "course_completions", "credentials",
        .. OutcomeDimensions.All.Select(d => "improved_" + d),
    ];

    /// <summary>Parses <c>2026</c>, <c>2026-Q2</c>, <c>2026-03</c> or <c>2026-01..2026-06</c> into [from, to) month bounds.</summary>
    public static bool TryParsePeriod(string? period, out DateOnly from, out DateOnly to)
    {
        from = to = default;
        if (string.IsNullOrWhiteSpace(period))
        {
            return false;
        }
        var parts = period.Split("..");
        if (parts.Length == 2)
        {
            if (TryParsePeriod(parts[0], out from, out _) && TryParsePeriod(parts[1], out _, out to) && to > from)
            {
                return true;
            }
            return false;
        }
        var p = period.Trim();
        if (p.Length == 4 && int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var year) && year is >= 2000 and <= 2100)
        {
            from = new DateOnly(year, 1, 1);
            to = from.AddYears(1);
            return true;
        }
        if (p.Length == 7 && p[4] == '-' && int.TryParse(p[..4], NumberStyles.None, CultureInfo.InvariantCulture, out year) && year is >= 2000 and <= 2100)
        {
            if (p[5] is 'Q' or 'q' && p[6] is >= '1' and <= '4')
            {
                from = new DateOnly(year, (p[6] - '1') * 3 + 1, 1);
                to = from.AddMonths(3);
                return true;
            }
            if (int.TryParse(p[5..], NumberStyles.None, CultureInfo.InvariantCulture, out var month) && month is >= 1 and <= 12)
            {
                from = new DateOnly(year, month, 1);
                to = from.AddMonths(1);
                return true;
            }
        }
        return false;
    }

    public async Task<SroiReport?> SroiAsync(Guid tenantId, Guid companyId, DateOnly from, DateOnly to, CancellationToken ct)
    {
        if (await companies.SroiSettingsAsync(tenantId, companyId, ct) is not { } settings)
        {
            return null;
        }
        var quantities = new List<SroiQuantity>();
        var outcomes = new List<SroiOutcome>();
        (int Participants, int Volunteers, int Sessions, decimal Hours, int CoursesCompleted, int Credentials)? totals = null;
        foreach (var o in settings.Outcomes)
        {
            decimal quantity;
            if (o.Quantity is { } fixedQuantity)
            {
                quantity = fixedQuantity;
                quantities.Add(new SroiQuantity(o.Name, "configured", quantity));
            }
            else
            {
                totals ??= await CompanyMetrics.TotalsAsync(dataSource, tenantId, companyId, from, to, ct);
                var t = totals.Value;
                quantity = o.Measure switch
                {
                    "participants" => t.Participants,
                    "volunteers" => t.Volunteers,
                    "sessions" => t.Sessions,
                    "course_completions" => t.CoursesCompleted,
                    "credentials" => t.Credentials,
                    _ => await CompanyMetrics.ImprovedAsync(dataSource, tenantId, companyId, o.Measure!["improved_".Length..], from, to, ct),
                };
                quantities.Add(new SroiQuantity(o.Name, o.Measure!, quantity));
            }
            outcomes.Add(new SroiOutcome(o.Name, quantity, o.FinancialProxy, o.Deadweight, o.Displacement, o.Attribution, o.DropOff, o.DurationYears));
        }
        var calculation = SroiCalculator.Calculate(new SroiInputs(settings.Investment, settings.DiscountRate, outcomes));
        return new SroiReport(companyId, from, to, settings, quantities, Reported(calculation));
    }

    /// <summary>Reported figures round to cents, half away from zero (docs/impact-scoring.md §2); discount factors keep 6 places.</summary>
    private static SroiCalculation Reported(SroiCalculation c)
    {
        static decimal Cents(decimal x) => Math.Round(x, 2, MidpointRounding.AwayFromZero);
        return c with
        {
            Outcomes = c.Outcomes.Select(o => o with
            {
                GrossValue = Cents(o.GrossValue), ImpactYear1 = Cents(o.ImpactYear1), PresentValue = Cents(o.PresentValue),
                Years = o.Years.Select(y => y with
                {
                    Impact = Cents(y.Impact), PresentValue = Cents(y.PresentValue),
                    DiscountFactor = Math.Round(y.DiscountFactor, 6, MidpointRounding.AwayFromZero),
                }).ToList(),
            }).ToList(),
            TotalPresentValue = Cents(c.TotalPresentValue), Investment = Cents(c.Investment), NetPresentValue = Cents(c.NetPresentValue),
            Ratio = Cents(c.Ratio), NetRatio = Cents(c.NetRatio),
        };
    }

    public async Task<VisReport> VisAsync(Guid tenantId, Guid companyId, DateOnly from, DateOnly to, CancellationToken ct)
    {
        var hourValue = (await companies.SroiSettingsAsync(tenantId, companyId, ct))?.VolunteerHourValue ?? DefaultVolunteerHourValue;
        var volunteers = await CompanyMetrics.VolunteersAsync(dataSource, tenantId, companyId, from, to, ct);
        var scores = volunteers.Select(v => new VolunteerScore(v.VolunteerId, v.Activity, VolunteerImpact.Compute(v.Activity, hourValue))).ToList();
        return new VisReport(companyId, from, to, VolunteerImpact.Version, hourValue, scores.Count,
            scores.Count == 0 ? null : Math.Round(scores.Average(s => s.Vis.Score), 1), scores.Sum(s => s.Vis.HoursValue), scores);
    }

    public async Task<CompanyReport?> ReportAsync(Guid tenantId, Guid companyId, string period, DateOnly from, DateOnly to, CancellationToken ct)
    {
        if (await companies.FindAsync(tenantId, companyId, ct) is not { } company)
        {
            return null;
        }
        var months = await CompanyMetrics.MonthsAsync(dataSource, tenantId, companyId, from, to, ct);
        var t = await CompanyMetrics.TotalsAsync(dataSource, tenantId, companyId, from, to, ct);
        var trends = new Dictionary<string, IReadOnlyList<TrendPoint>>();
        var slopes = new Dictionary<string, double?>();
        foreach (var d in OutcomeDimensions.All)
        {
            var points = months.Select(m => new TrendPoint(m.Month, m.Dimensions[d])).ToList();
            trends[d] = points;
            slopes[d] = Slope(points);
        }
        var sroi = await SroiAsync(tenantId, companyId, from, to, ct);
        var vis = await VisAsync(tenantId, companyId, from, to, ct);
        return new CompanyReport(company, period, from, to, new ReportTotals(t.Participants, t.Volunteers, t.Sessions, t.Hours, t.CoursesCompleted, t.Credentials),
            months, trends, slopes, sroi, vis, outcomeModel?.ModelVersion ?? OutcomeScorer.ModelVersion, DateTimeOffset.UtcNow);
    }

    /// <summary>Least-squares slope of the monthly means, per month (null with fewer than two scored months): the trend's direction.</summary>
    private static double? Slope(IReadOnlyList<TrendPoint> points)
    {
        var xs = new List<(double X, double Y)>();
        for (var i = 0; i < points.Count; i++)
        {
            if (points[i].Value is { } y)
            {
                xs.Add((i, y));
            }
        }
        if (xs.Count < 2)
        {
            return null;
        }
        var mx = xs.Average(p => p.X);
        var my = xs.Average(p => p.Y);
        var den = xs.Sum(p => (p.X - mx) * (p.X - mx));
        return den == 0 ? null : Math.Round(xs.Sum(p => (p.X - mx) * (p.Y - my)) / den, 4);
    }

    public static string Csv(CompanyReport r)
    {
        var sb = new StringBuilder();
        sb.Append("month,participants,volunteers,sessions,texts,scored_texts,avg_integration,avg_language_level,avg_job_readiness");
        foreach (var d in OutcomeDimensions.All)
        {
            sb.Append(",avg_").Append(d);
        }
        sb.Append('\n');
        foreach (var m in r.Months)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{m.Month:yyyy-MM},{m.Participants},{m.Volunteers},{m.Sessions},{m.Texts},{m.ScoredTexts},");
            sb.Append(N(m.AvgIntegration)).Append(',').Append(N(m.AvgLanguageLevel)).Append(',').Append(N(m.AvgJobReadiness));
            foreach (var d in OutcomeDimensions.All)
            {
                sb.Append(',').Append(N(m.Dimensions[d]));
            }
            sb.Append('\n');
        }
        sb.Append(CultureInfo.InvariantCulture, $"total,{r.Totals.Participants},{r.Totals.Volunteers},{r.Totals.Sessions},,,,,");
        foreach (var _ in OutcomeDimensions.All)
        {
            sb.Append(',');
        }
        sb.Append('\n');
        return sb.ToString();
    }

    internal static string N(double? v) => v is { } x ? x.ToString("0.000", CultureInfo.InvariantCulture) : "";

    /// <summary>A self-contained printable page: tables plus inline SVG charts (no script, no external assets).</summary>
    public static string Html(CompanyReport r)
    {
        static string E(string s) => WebUtility.HtmlEncode(s);
        var sb = new StringBuilder();
        sb.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Impact report — ").Append(E(r.Company.Name)).Append("</title>")
          .Append("<style>body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}" +
                  "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}" +
                  "h2{margin-top:2em}.kpi{display:inline-block;margin:0 2em 1em 0}.kpi b{display:block;font-size:1.8em}" +
                  "@media print{body{margin:0}h2{page-break-after:avoid}svg{page-break-inside:avoid}}</style></head><body>");
        sb.Append("<h1>Impact report — ").Append(E(r.Company.Name)).Append("</h1>");
        sb.Append(CultureInfo.InvariantCulture, $"<p>Period {r.Period} ({r.From:yyyy-MM-dd} to {r.To.AddDays(-1):yyyy-MM-dd}); scores by {E(r.ModelVersion)}; generated {r.GeneratedAt:yyyy-MM-dd HH:mm} UTC.</p>");
        void Kpi(string label, string value) => sb.Append("<div class=\"kpi\"><b>").Append(E(value)).Append("</b>").Append(E(label)).Append("</div>");
        Kpi("participants", r.Totals.Participants.ToString(CultureInfo.InvariantCulture));
        Kpi("volunteers", r.Totals.Volunteers.ToString(CultureInfo.InvariantCulture));
        Kpi("sessions", r.Totals.Sessions.ToString(CultureInfo.InvariantCulture));
        Kpi("volunteer hours", r.Totals.VolunteerHours.ToString("0.#", CultureInfo.InvariantCulture));
        if (r.Sroi is { } s)
        {
            Kpi("SROI", s.Calculation.Ratio.ToString("0.00", CultureInfo.InvariantCulture) + " : 1");
        }
        if (r.Vis.AverageScore is { } vis)
        {
            Kpi("average VIS", vis.ToString("0.0", CultureInfo.InvariantCulture));
        }

        sb.Append("<h2>Activity per month</h2>");
        sb.Append(BarChart(r.Months.Select(m => (m.Month.ToString("MMM yy", CultureInfo.InvariantCulture), (double)m.Sessions)).ToList(), "sessions"));
        sb.Append("<h2>Outcome trends</h2><p>Mean score per month (0–1) for each dimension; gaps are months without scored texts.</p>");
        sb.Append(LineChart(r));
        sb.Append("<table><tr><th>dimension</th><th>trend per month</th></tr>");
        foreach (var (d, slope) in r.TrendSlopePerMonth)
        {
            sb.Append("<tr><td>").Append(E(d)).Append("</td><td>")
              .Append(slope is { } x ? x.ToString("+0.0000;-0.0000;0", CultureInfo.InvariantCulture) : "–").Append("</td></tr>");
        }
        sb.Append("</table>");

        sb.Append("<h2>Monthly metrics</h2><table><tr><th>month</th><th>participants</th><th>volunteers</th><th>sessions</th><th>integration</th><th>language</th><th>job readiness</th></tr>");
        foreach (var m in r.Months)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<tr><td>{m.Month:yyyy-MM}</td><td>{m.Participants}</td><td>{m.Volunteers}</td><td>{m.Sessions}</td><td>{N(m.AvgIntegration)}</td><td>{N(m.AvgLanguageLevel)}</td><td>{N(m.AvgJobReadiness)}</td></tr>");
        }
        sb.Append("</table>");

        if (r.Sroi is { } sroi)
        {
            sb.Append("<h2>Social return on investment</h2><table><tr><th>outcome</th><th>quantity</th><th>gross</th><th>impact year 1</th><th>present value</th></tr>");
            foreach (var o in sroi.Calculation.Outcomes)
            {
                var q = sroi.Quantities.First(x => x.Outcome == o.Name);
                sb.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(o.Name)}</td><td>{q.Quantity:0.##} ({E(q.Source)})</td><td>{o.GrossValue:N2}</td><td>{o.ImpactYear1:N2}</td><td>{o.PresentValue:N2}</td></tr>");
            }
            sb.Append(CultureInfo.InvariantCulture, $"</table><p>Total PV {sroi.Calculation.TotalPresentValue:N2}; investment {sroi.Calculation.Investment:N2}; NPV {sroi.Calculation.NetPresentValue:N2}; <b>SROI {sroi.Calculation.Ratio:0.00} : 1</b>.</p><details><summary>Full calculation</summary><pre>");
            foreach (var step in sroi.Calculation.Steps)
            {
                sb.Append(E(step)).Append('\n');
            }
            sb.Append("</pre></details>");
        }
        sb.Append(CultureInfo.InvariantCulture, $"<h2>Volunteer Impact Score ({E(r.Vis.Version)})</h2><p>{r.Vis.Volunteers} volunteers; average VIS {(r.Vis.AverageScore is { } a ? a.ToString("0.0", CultureInfo.InvariantCulture) : "–")}; hours valued at {r.Vis.VolunteerHourValue:0.00} per hour = {r.Vis.TotalHoursValue:N2}.</p>");
        sb.Append(BarChart(Histogram(r.Vis.Scores.Select(s => s.Vis.Score)), "volunteers"));
        sb.Append("</body></html>");
        return sb.ToString();
    }

    internal static List<(string, double)> Histogram(IEnumerable<double> scores)
    {
        var bins = new double[10];
        foreach (var s in scores)
        {
            bins[Math.Min(9, (int)(s / 10))]++;
        }
        return bins.Select((n, i) => ($"{i * 10}–{i * 10 + 10}", n)).ToList();
    }

    private static string BarChart(IReadOnlyList<(string Label, double Value)> bars, string unit)
    {
        const int width = 720, height = 200, pad = 30;
        var max = Math.Max(1, bars.Count == 0 ? 1 : bars.Max(b => b.Value));
        var w = bars.Count == 0 ? 0 : (width - 2 * pad) / (double)bars.Count;
        var sb = new StringBuilder(); sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height + 20}\" role=\"img\" aria-label=\"{unit}\">");
        for (var i = 0; i < bars.Count; i++)
        {
            var h = (height - 2 * pad) * bars[i].Value / max;
            var x = pad + i * w;
            sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x + 2:0.#}\" y=\"{height - pad - h:0.#}\" width=\"{w - 4:0.#}\" height=\"{h:0.#}\" fill=\"#4a7bd0\"><title>{WebUtility.HtmlEncode(bars[i].Label)}: {bars[i].Value:0} {unit}</title></rect>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{x + w / 2:0.#}\" y=\"{height - pad + 14}\" font-size=\"10\" text-anchor=\"middle\">{WebUtility.HtmlEncode(bars[i].Label)}</text>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{x + w / 2:0.#}\" y=\"{height - pad - h - 3:0.#}\" font-size=\"10\" text-anchor=\"middle\">{bars[i].Value:0}</text>");
        }
        return sb.Append("</svg>").ToString();
    }

    private static readonly string[] Colors = ["#d04a4a", "#4a7bd0", "#3a9a5a", "#c08a20", "#8a4ac0"];

    private static string LineChart(CompanyReport r)
    {
        const int width = 720, height = 260, pad = 36;
        var n = Math.Max(1, r.Months.Count - 1);
        var sb = new StringBuilder(); sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height + 40}\" role=\"img\" aria-label=\"outcome trends\">");
        for (var g = 0; g <= 4; g++)
        {
            var y = height - pad - (height - 2 * pad) * g / 4.0;
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{pad}\" x2=\"{width - pad}\" y1=\"{y:0.#}\" y2=\"{y:0.#}\" stroke=\"#eee\"/><text x=\"4\" y=\"{y + 4:0.#}\" font-size=\"10\">{g / 4.0:0.00}</text>");
        }
        for (var i = 0; i < r.Months.Count; i++)
        {
            var x = pad + (width - 2 * pad) * i / (double)n;
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{x:0.#}\" y=\"{height - pad + 16}\" font-size=\"10\" text-anchor=\"middle\">{r.Months[i].Month.ToString("MMM", CultureInfo.InvariantCulture)}</text>");
        }
        var c = 0;
        foreach (var (d, points) in r.Trends)
        {
            var color = Colors[c % Colors.Length];
            var path = new StringBuilder();
            var pen = false;
            for (var i = 0; i < points.Count; i++)
            {
                if (points[i].Value is not { } v)
                {
                    pen = false;
                    continue;
                }
                var x = pad + (width - 2 * pad) * i / (double)n;
                var y = height - pad - (height - 2 * pad) * v;
                path.Append(CultureInfo.InvariantCulture, $"{(pen ? 'L' : 'M')}{x:0.#},{y:0.#} ");
                pen = true;
                sb.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{x:0.#}\" cy=\"{y:0.#}\" r=\"2.5\" fill=\"{color}\"><title>{d} {points[i].Month:yyyy-MM}: {v:0.000}</title></circle>");
            }
            sb.Append(CultureInfo.InvariantCulture, $"<path d=\"{path}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{pad + c * 135}\" y=\"{height + 14}\" width=\"10\" height=\"10\" fill=\"{color}\"/><text x=\"{pad + c * 135 + 14}\" y=\"{height + 23}\" font-size=\"11\">{d}</text>");
            c++;
        }
        return sb.Append("</svg>").ToString();
    }
}
