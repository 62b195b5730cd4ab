using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Security;
using Platform.Core.Impact.Privacy;

namespace Platform.Api.Apis;

public sealed record SubjectRequest(Guid? SubjectId);

/// <summary>GDPR requests about a person of the tenant's impact data: export (a JSON bundle) and erasure (crypto-shredding). Both run as jobs.</summary>
public static class PrivacyApi
{
    public static IEndpointRouteBuilder MapPrivacyApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/privacy").WithTags("Privacy").RequireAuthorization(AuthPolicies.Tenant)
            .AddEndpointFilter<TenantRateLimitFilter>()
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        api.MapPost("/export", Export).WithName("RequestPrivacyExport")
            .WithSummary("Queue an export of everything stored about a person; poll the request for the bundle.")
            .Accepts<SubjectRequest>("application/json").ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/delete", Delete).WithName("RequestPrivacyErasure")
            .WithSummary("Queue the erasure of a person: data key destroyed, derived rows anonymised, aggregates kept.")
            .Accepts<SubjectRequest>("application/json").ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/requests/{id}", Status).WithName("GetPrivacyRequest")
            .WithSummary("Status of an export or erasure request; a completed export carries its bundle.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    public static Task<Results<Accepted<PrivacyRequest>, ProblemHttpResult>> Export(HttpRequest request, ClaimsPrincipal user, PrivacyRequests requests,
        CancellationToken ct) => CreateAsync(request, user, requests, PrivacyKinds.Export, ct);

    public static Task<Results<Accepted<PrivacyRequest>, ProblemHttpResult>> Delete(HttpRequest request, ClaimsPrincipal user, PrivacyRequests requests,
        CancellationToken ct) => CreateAsync(request, user, requests, PrivacyKinds.Delete, ct);

    private static async Task<Results<Accepted<PrivacyRequest>, ProblemHttpResult>> CreateAsync(HttpRequest request, ClaimsPrincipal user,
        PrivacyRequests requests, string kind, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, ImpactJsonContext.Default.SubjectRequest);
        if (problem is not null)
        {
            return problem;
        }
        if (body!.SubjectId is not { } subject)
        {
            return Problems.Invalid("subjectId", "subjectId (the person's id) is required.");
        }
        var created = await requests.CreateAsync(Caller.From(user).TenantId, subject, kind, "api:tenant-key", ct);
        return created is null ? Problems.NotFound("Person") : TypedResults.Accepted($"/v1/privacy/requests/{created.Id}", created);
    }

    public static async Task<Results<Ok<PrivacyRequest>, ProblemHttpResult>> Status(string id, ClaimsPrincipal user, PrivacyRequests requests,
        CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var requestId, out var problem))
        {
            return problem!;
        }
        return await requests.FindAsync(Caller.From(user).TenantId, requestId, "gdpr-export-download", "api:tenant-key", ct) is { } found
            ? TypedResults.Ok(found)
            : Problems.NotFound("Privacy request");
    }
}
