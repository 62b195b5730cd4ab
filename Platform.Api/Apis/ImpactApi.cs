using System.Buffers;
using System.Globalization;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Platform.Api.Security;
using Platform.Core.Impact.Privacy;
using Platform.Core.Impact.Programs;
using Platform.Core.Impact.Reporting;
using Platform.Core.Impact.Scoring;
using Platform.Core.Jobs;

namespace Platform.Api.Apis;

public sealed record CreateCompanyRequest(string? Name, string? ExternalId);
public sealed record CompanyList(IReadOnlyList<Company> Companies);
public sealed record WebhookSecretRequest(Guid? CompanyId);
public sealed record WebhookSecretIssued(string Source, Guid CompanyId, string Secret, string SignatureHeader, string TimestampHeader, string TenantHeader);
public sealed record WebhookAccepted(string EventId, string Type, bool Duplicate);
public sealed record MetricsQueued(Guid CompanyId, IReadOnlyList<DateOnly> Months, int Jobs);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(CreateCompanyRequest))]
[JsonSerializable(typeof(WebhookSecretRequest))]
[JsonSerializable(typeof(SroiSettings))]
[JsonSerializable(typeof(SubjectRequest))]
[JsonSerializable(typeof(Platform.Core.Privacy.SubjectRequestBody))]
[JsonSerializable(typeof(Platform.Core.Privacy.SubjectPrivacyRequest))]
[JsonSerializable(typeof(ReviewRequest))]
public sealed partial class ImpactJsonContext : JsonSerializerContext;

/// <summary>
/// Social impact, tenant API key: companies, program data ingestion (CSV, signed webhooks),
/// outcome scores, SROI, VIS and the company report. docs/impact.md describes formats and calculations.
/// </summary>
public static partial class ImpactApi
{
    public const int MaxCsvBytes = 10 * 1024 * 1024;
    public const string TenantHeader = "X-Platform-Tenant";
    public const string TimestampHeader = "X-Impact-Timestamp";
    public const string SignatureHeader = "X-Impact-Signature";

    public static IEndpointRouteBuilder MapImpactApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/impact").WithTags("Impact").RequireAuthorization(AuthPolicies.Tenant)
            .AddEndpointFilter<TenantRateLimitFilter>()
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        // A company's reports are also open to its own company users (a signed-in user holding company_user:{id});
        // to them every other company does not exist.
        var reads = app.MapGroup("/v1/impact").WithTags("Impact").RequireAuthorization(AuthPolicies.TenantOrUser)
            .AddEndpointFilter<TenantRateLimitFilter>().AddEndpointFilter<CompanyUserScope>()
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        reads.MapGet("/companies", ListCompanies).WithName("ListImpactCompanies").WithSummary("List the tenant's companies.");
        reads.MapGet("/companies/{id}", GetCompany).WithName("GetImpactCompany").WithSummary("Get a company.").ProducesProblem(StatusCodes.Status404NotFound);
        reads.MapGet("/companies/{id}/sroi", GetSroi).WithName("GetSroi").WithSummary("SROI ratio for [from, to) with its full calculation.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        reads.MapGet("/companies/{id}/vis", GetVis).WithName("GetVis").WithSummary("Volunteer Impact Score of every volunteer in [from, to), with components.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        reads.MapGet("/companies/{id}/report", GetReport).WithName("GetImpactReport")
            .WithSummary("Company report for ?period= (2026, 2026-Q1, 2026-03, 2026-01..2026-06) as JSON, CSV (?format=csv), printable HTML (?format=html) or PDF (?format=pdf).")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        reads.MapGet("/companies/{id}/analytics", GetAnalytics).WithName("GetImpactAnalytics")
            .WithSummary("Cohorts with monthly retention, the retention funnel and segment breakdowns (?segmentBy=program) for the participants who enrolled in ?period=.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/companies", CreateCompany).WithName("CreateImpactCompany").WithSummary("Create a company (corporate sponsor).")
            .Accepts<CreateCompanyRequest>("application/json").ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPut("/companies/{id}/sroi-inputs", PutSroiInputs).WithName("PutSroiInputs")
            .WithSummary("Set the company's SROI impact map: investment, discount rate, outcomes with proxies, deadweight, attribution, displacement, drop-off.")
            .Accepts<SroiSettings>("application/json").ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/companies/{id}/metrics", QueueMetrics).WithName("QueueCompanyMetrics")
            .WithSummary("Queue the metrics_company_period job for each month of ?period=.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/imports", Import).WithName("ImportProgramData")
            .WithSummary("Import a CSV file (?companyId=&kind=participants|sessions|checkins|feedback|courses); returns the import report.")
            .Accepts<string>("text/csv").ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        api.MapPost("/webhooks/{source}/secret", IssueWebhookSecret).WithName("IssueImpactWebhookSecret")
            .WithSummary("Create or rotate the signing secret of a webhook source (shown once).")
            .Accepts<WebhookSecretRequest>("application/json").ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/people/{id}", GetPerson).WithName("GetImpactPerson").WithSummary("The unified profile of a person (the PII read is logged).")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/texts/{id}/scores", GetTextScores).WithName("GetTextScores")
            .WithSummary("Outcome scores of a check-in or feedback text, with evidence sentences and their SHA-256 (the PII read is logged).")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);

        // Called by connectors, which hold a signing secret, not an API key.
        app.MapPost("/v1/impact/webhooks/{source}", ReceiveWebhook).WithTags("Impact").WithName("ReceiveImpactWebhook").AllowAnonymous()
            .RequireRateLimiting(Platform.Api.Security.AnonymousLimits.PerIp)
            .WithSummary("Receive a signed domain event envelope (X-Platform-Tenant, X-Impact-Timestamp, X-Impact-Signature: sha256=HMAC(secret, timestamp + '.' + body)).")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status429TooManyRequests);
        return app;
    }

    public static async Task<Results<Created<Company>, ProblemHttpResult>> CreateCompany(HttpRequest request, ClaimsPrincipal user, Companies companies,
        CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, ImpactJsonContext.Default.CreateCompanyRequest);
        if (problem is not null)
        {
            return problem;
        }
        if (TenantsApi.NameProblem(body!.Name, required: true) is { } invalid)
        {
            return invalid;
        }
        if (body.ExternalId is { Length: > 200 })
        {
            return Problems.Invalid("externalId", "externalId is at most 200 characters.");
        }
        var (company, conflict) = await companies.CreateAsync(Caller.From(user).TenantId, body.Name!.Trim(), body.ExternalId, ct);
        return conflict
            ? Conflict("company-exists", "A company with this externalId exists.", $"externalId '{body.ExternalId}' is already used by another company of this tenant.")
            : TypedResults.Created($"/v1/impact/companies/{company!.Id}", company);
    }

    public static async Task<Ok<CompanyList>> ListCompanies(ClaimsPrincipal user, Companies companies, CancellationToken ct)
    {
        var all = await companies.ListAsync(Caller.From(user).TenantId, ct);
        return TypedResults.Ok(new CompanyList(CompanyUserScope.Companies(user) is { } own ? [.. all.Where(c => own.Contains(c.Id))] : all));
    }

    public static async Task<Results<Ok<Company>, ProblemHttpResult>> GetCompany(string id, ClaimsPrincipal user, Companies companies, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var companyId, out var problem))
        {
            return problem!;
        }
        return await companies.FindAsync(Caller.From(user).TenantId, companyId, ct) is { } c ? TypedResults.Ok(c) : Problems.NotFound("Company");
    }

    public static async Task<Results<Ok<SroiSettings>, ProblemHttpResult>> PutSroiInputs(string id, HttpRequest request, ClaimsPrincipal user,
        Companies companies, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var companyId, out var problem))
        {
            return problem!;
        }
        var (body, bodyProblem) = await JsonBody.ReadAsync(request, ImpactJsonContext.Default.SroiSettings);
        if (bodyProblem is not null)
        {
            return bodyProblem;
        }
        if (SroiProblems(body!) is { Count: > 0 } errors)
        {
            return Problems.Invalid(errors);
        }
        return await companies.SetSroiSettingsAsync(Caller.From(user).TenantId, companyId, body!, ct) ? TypedResults.Ok(body!) : Problems.NotFound("Company");
    }

    private static Dictionary<string, string[]> SroiProblems(SroiSettings s)
    {
        var errors = new Dictionary<string, string[]>();
        if (s.Investment <= 0)
        {
            errors["investment"] = ["investment must be greater than 0."];
        }
        if (s.DiscountRate is < 0 or >= 1)
        {
            errors["discountRate"] = ["discountRate is a fraction from 0 to below 1 (0.035 = 3.5 %)."];
        }
        if (s.VolunteerHourValue is < 0)
        {
            errors["volunteerHourValue"] = ["volunteerHourValue cannot be negative."];
        }
        if (s.Outcomes is null || s.Outcomes.Count is 0 or > 50)
        {
            errors["outcomes"] = ["outcomes must list 1 to 50 outcomes."];
            return errors;
        }
        for (var i = 0; i < s.Outcomes.Count; i++)
        {
            var o = s.Outcomes[i];
            var p = $"outcomes[{i}]";
            if (string.IsNullOrWhiteSpace(o.Name)) { errors[$"{p}.name"] = ["name is required."]; }
            if ((o.Quantity is null) == (o.Measure is null)) { errors[$"{p}.quantity"] = ["give either quantity or measure."]; }
            if (o.Quantity is < 0) { errors[$"{p}.quantity"] = ["quantity cannot be negative."]; }
            if (o.Measure is not null && !ImpactReports.Measures.Contains(o.Measure)) { errors[$"{p}.measure"] = [$"measure must be one of {string.Join(", ", ImpactReports.Measures)}."]; }
            if (o.FinancialProxy < 0) { errors[$"{p}.financialProxy"] = ["financialProxy cannot be negative."]; }
            foreach (var (name, v) in new[] { ("deadweight", o.Deadweight), ("displacement", o.Displacement), ("attribution", o.Attribution), ("dropOff", o.DropOff) })
            {
                if (v is < 0 or > 1) { errors[$"{p}.{name}"] = [$"{name} is a fraction from 0 to 1."]; }
            }
            if (o.DurationYears is < 1 or > 30) { errors[$"{p}.durationYears"] = ["durationYears is 1 to 30."]; }
        }
        return errors;
    }

    public static async Task<Results<Ok<SroiReport>, ProblemHttpResult>> GetSroi(string id, string? from, string? to, string? period, ClaimsPrincipal user,
        Companies companies, ImpactReports reports, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var companyId, out var problem) || !TryWindow(from, to, period, out var f, out var t, out problem))
        {
            return problem!;
        }
        var tenant = Caller.From(user).TenantId;
        if (await companies.FindAsync(tenant, companyId, ct) is null)
        {
            return Problems.NotFound("Company");
        }
        return await reports.SroiAsync(tenant, companyId, f, t, ct) is { } sroi
            ? TypedResults.Ok(sroi)
            : Conflict("sroi-inputs-missing", "The company has no SROI inputs.", "Set them with PUT /v1/impact/companies/{id}/sroi-inputs first.");
    }

    public static async Task<Results<Ok<VisReport>, ProblemHttpResult>> GetVis(string id, string? from, string? to, string? period, ClaimsPrincipal user,
        Companies companies, ImpactReports reports, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var companyId, out var problem) || !TryWindow(from, to, period, out var f, out var t, out problem))
        {
            return problem!;
        }
        var tenant = Caller.From(user).TenantId;
        if (await companies.FindAsync(tenant, companyId, ct) is null)
        {
            return Problems.NotFound("Company");
        }
        return TypedResults.Ok(await reports.VisAsync(tenant, companyId, f, t, ct));
    }

    public static async Task<IResult> GetReport(string id, string? period, string? format, ClaimsPrincipal user, ImpactReports reports, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var companyId, out var problem))
        {
            return problem!;
        }
        if (!ImpactReports.TryParsePeriod(period, out var from, out var to))
        {
            return Problems.Invalid("period", "period must be a year (2026), quarter (2026-Q1), month (2026-03) or a range of them (2026-01..2026-06).");
        }
        if (format is not (null or "json" or "csv" or "html" or "pdf"))
        {
            return Problems.Invalid("format", "format must be json, csv, html or pdf.");
        }
        if (await reports.ReportAsync(Caller.From(user).TenantId, companyId, period!, from, to, ct) is not { } report)
        {
            return Problems.NotFound("Company");
        }
        return format switch
        {
            "csv" => TypedResults.Text(ImpactReports.Csv(report), "text/csv; charset=utf-8"),
            "html" => TypedResults.Text(ImpactReports.Html(report), "text/html; charset=utf-8"),
            "pdf" => TypedResults.File(ImpactReportPdf.Render(report), "application/pdf", $"impact-report-{report.Company.Id:N}-{report.Period}.pdf"),
            _ => TypedResults.Ok(report),
        };
    }

    public static async Task<Results<Ok<ImpactAnalyticsReport>, ProblemHttpResult>> GetAnalytics(string id, string? period, string? segmentBy, ClaimsPrincipal user,
        Companies companies, ImpactAnalytics analytics, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var companyId, out var problem))
        {
            return problem!;
        }
        if (!ImpactReports.TryParsePeriod(period, out var from, out var to))
        {
            return Problems.Invalid("period", "period must be a year (2026), quarter (2026-Q1), month (2026-03) or a range of them (2026-01..2026-06).");
        }
        segmentBy ??= "program";
        if (!ImpactAnalytics.Segmentations.Contains(segmentBy))
        {
            return Problems.Invalid("segmentBy", $"segmentBy must be one of: {string.Join(", ", ImpactAnalytics.Segmentations)}.");
        }
        var tenant = Caller.From(user).TenantId;
        if (await companies.FindAsync(tenant, companyId, ct) is null)
        {
            return Problems.NotFound("Company");
        }
        return TypedResults.Ok(await analytics.ComputeAsync(tenant, companyId, period!, from, to, segmentBy, ct));
    }

    public static async Task<Results<Accepted<MetricsQueued>, ProblemHttpResult>> QueueMetrics(string id, string? period, ClaimsPrincipal user,
        Companies companies, IJobQueue jobs, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var companyId, out var problem))
        {
            return problem!;
        }
        if (!ImpactReports.TryParsePeriod(period, out var from, out var to))
        {
            return Problems.Invalid("period", "period must be a year (2026), quarter (2026-Q1), month (2026-03) or a range of them.");
        }
        var tenant = Caller.From(user).TenantId;
        if (await companies.FindAsync(tenant, companyId, ct) is null)
        {
            return Problems.NotFound("Company");
        }
        var months = new List<DateOnly>();
        for (var m = from; m < to; m = m.AddMonths(1))
        {
            months.Add(m);
        }
        var n = await jobs.EnqueueManyAsync(months.Select(m => (new ComputeCompanyMetricsArgs(tenant, companyId, m),
            new JobOptions { UniqueKey = $"{tenant}:{companyId}:{m:yyyy-MM}" })), null, ct);
        return TypedResults.Accepted($"/v1/impact/companies/{companyId}/report?period={period}", new MetricsQueued(companyId, months, n));
    }

    public static async Task<Results<Ok<PersonProfile>, ProblemHttpResult>> GetPerson(string id, ClaimsPrincipal user, ImpactPeople people, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var personId, out var problem))
        {
            return problem!;
        }
        var profile = await people.GetAsync(Caller.From(user).TenantId, personId, ct);
        return profile is null ? Problems.NotFound("Person") : TypedResults.Ok(profile);
    }

    public static async Task<Results<Ok<TextScores>, ProblemHttpResult>> GetTextScores(string id, ClaimsPrincipal user, TextScoreReads scores, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var textId, out var problem))
        {
            return problem!;
        }
        var found = await scores.GetAsync(Caller.From(user).TenantId, textId, ct);
        return found is null ? Problems.NotFound("Text") : TypedResults.Ok(found);
    }

    private static bool TryWindow(string? from, string? to, string? period, out DateOnly f, out DateOnly t, out ProblemHttpResult? problem)
    {
        problem = null;
        if (period is not null)
        {
            if (ImpactReports.TryParsePeriod(period, out f, out t))
            {
                return true;
            }
            problem = Problems.Invalid("period", "period must be a year (2026), quarter (2026-Q1), month (2026-03) or a range of them.");
            return false;
        }
        f = t = default;
        if (!DateOnly.TryParseExact(from, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out f))
        {
            problem = Problems.Invalid("from", "from (inclusive) must be a date like 2026-01-01, or give period.");
            return false;
        }
        if (!DateOnly.TryParseExact(to, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out t) || t <= f)
        {
            problem = Problems.Invalid("to", "to (exclusive) must be a date after from, like 2027-01-01.");
            return false;
        }
        return true;
    }

    public static ProblemHttpResult Conflict(string type, string title, string detail) => TypedResults.Problem(new ProblemDetails
    {
        Status = StatusCodes.Status409Conflict,
        Type = "urn:platform:problem:" + type,
        Title = title,
        Detail = detail,
    });
}
