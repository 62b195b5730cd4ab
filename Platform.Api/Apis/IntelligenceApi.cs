using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Security;
using Platform.Core.Events;

namespace Platform.Api.Apis;

/// <summary>Intelligence reports: requested as a job, read as JSON or as a shareable HTML page.</summary>
public static class IntelligenceApi
{
    public static IEndpointRouteBuilder MapIntelligenceApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/intelligence/reports").WithTags("Intelligence")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/", Request).WithName("RequestIntelligenceReport").RequireAuthorization(AuthPolicies.Tenant)
            .AddEndpointFilter<TenantRateLimitFilter>()
            .WithSummary("Start a report job for {conferenceId}; 202 with the report (status pending), its share URL and when that link expires (shareDays, default 30, at most 90).")
            .Accepts<ReportRequest>("application/json").ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapGet("/{id}", Get).WithName("GetIntelligenceReport").RequireAuthorization(AuthPolicies.Tenant)
            .AddEndpointFilter<TenantRateLimitFilter>()
            .WithSummary("The report as JSON, or ?format=html (or Accept: text/html) as its page once completed.");
        // The share URL is the capability: 32 random hex characters, no credential needed to view the page.
        api.MapGet("/shared/{token}", Shared).WithName("GetSharedIntelligenceReport").AllowAnonymous()
            .WithSummary("The report page by its share token (no credential); 410 once the link has expired.")
            .ProducesProblem(StatusCodes.Status410Gone);
        return app;
    }

    public static async Task<Results<Accepted<ReportStatus>, ProblemHttpResult>> Request(HttpRequest request, ClaimsPrincipal user,
        [AsParameters] EventsServices services, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, EventsJsonContext.Default.ReportRequest);
        if (problem is not null)
        {
            return problem;
        }
        if (body!.ConferenceId is null)
        {
            return Problems.Invalid("conferenceId", "conferenceId is required.");
        }
        if (body.ShareDays is < 1 or > IntelligenceReports.MaxShareDays)
        {
            return Problems.Invalid("shareDays",
                $"shareDays (how long the share link works) must be between 1 and {IntelligenceReports.MaxShareDays}; {IntelligenceReports.DefaultShareDays} when left out.");
        }
        var (conference, conferenceProblem) = await EventsApi.ConferenceAsync(body.ConferenceId.ToString(), "conferenceId", "reports", user, services, ct);
        if (conferenceProblem is not null)
        {
            return conferenceProblem;
        }
        var status = await services.Reports.RequestAsync(Caller.From(user).TenantId, conference!.Id,
            body.ShareDays ?? IntelligenceReports.DefaultShareDays, ct);
        return TypedResults.Accepted($"/v1/intelligence/reports/{status.Id}", status);
    }

    public static async Task<IResult> Get(string id, string? format, HttpRequest request, ClaimsPrincipal user, [AsParameters] EventsServices services,
        CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var reportId, out var problem))
        {
            return problem!;
        }
        if (format is not (null or "json" or "html"))
        {
            return Problems.Invalid("format", "format must be json or html.");
        }
        if (await services.Reports.FindAsync(Caller.From(user).TenantId, reportId, ct) is not { } found)
        {
            return Problems.NotFound("Report");
        }
        var wantsHtml = format == "html" || (format is null && request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase));
        if (wantsHtml && found.Html is { } html)
        {
            return TypedResults.Content(html, "text/html; charset=utf-8");
        }
        return TypedResults.Ok(found.Status);
    }

    public static async Task<IResult> Shared(string token, [AsParameters] EventsServices services, CancellationToken ct)
    {
        if (token.Length != 32 || !token.All(Uri.IsHexDigit))
        {
            return Problems.NotFound("Report");
        }
        return await services.Reports.SharedAsync(token, ct) switch
        {
            { Expired: true } => Problems.Gone("This share link has expired; ask for a new report link."),
            { Html: { } html } => TypedResults.Content(html, "text/html; charset=utf-8"),
            _ => Problems.NotFound("Report"), // no such token, or the report is not built yet
        };
    }
}
