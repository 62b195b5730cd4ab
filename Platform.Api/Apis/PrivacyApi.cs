using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Security;
using Platform.Core.Impact.Privacy;
using Platform.Core.Privacy;

namespace Platform.Api.Apis;

public sealed record SubjectRequest(Guid? SubjectId);

/// <summary>
/// GDPR requests about a person: export (a JSON bundle) and erasure, both run as jobs. <c>/v1/privacy/export|delete</c>
/// are about a person of the impact data (crypto-shredding); <c>/v1/privacy/{module}/export|delete</c> about a user id in
/// the community, events or civic module (docs/retention.md). One status endpoint answers both kinds of request.
/// </summary>
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
        api.MapPost("/{module}/export", ExportSubject).WithName("RequestSubjectExport")
            .WithSummary("Queue an export of everything a module (community, events, civic) and the shared records hold about a user id.")
            .Accepts<SubjectRequestBody>("application/json").ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/{module}/delete", DeleteSubject).WithName("RequestSubjectErasure")
            .WithSummary("Queue the erasure of a user id from a module (community, events, civic) and the shared records; aggregates kept under a pseudonym.")
            .Accepts<SubjectRequestBody>("application/json").ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
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

    public static Task<Results<Accepted<SubjectPrivacyRequest>, ProblemHttpResult>> ExportSubject(string module, HttpRequest request, ClaimsPrincipal user,
        SubjectRequests requests, CancellationToken ct) => CreateSubjectAsync(module, request, user, requests, PrivacyKinds.Export, ct);

    public static Task<Results<Accepted<SubjectPrivacyRequest>, ProblemHttpResult>> DeleteSubject(string module, HttpRequest request, ClaimsPrincipal user,
        SubjectRequests requests, CancellationToken ct) => CreateSubjectAsync(module, request, user, requests, PrivacyKinds.Delete, ct);

    private static async Task<Results<Accepted<SubjectPrivacyRequest>, ProblemHttpResult>> CreateSubjectAsync(string module, HttpRequest request,
        ClaimsPrincipal user, SubjectRequests requests, string kind, CancellationToken ct)
    {
        if (requests.Find(module) is not { } holder)
        {
            return Problems.NotFound("Privacy module");
        }
        var (body, problem) = await JsonBody.ReadAsync(request, ImpactJsonContext.Default.SubjectRequestBody);
        if (problem is not null)
        {
            return problem;
        }
        if (string.IsNullOrWhiteSpace(body!.SubjectId) || body.SubjectId.Length > 200)
        {
            return Problems.Invalid("subjectId", "subjectId (the person's user id, 1 to 200 characters) is required.");
        }
        var created = await requests.CreateAsync(Caller.From(user).TenantId, holder, body.SubjectId, kind, "api:tenant-key", ct);
        return created is null ? Problems.NotFound("Person") : TypedResults.Accepted($"/v1/privacy/requests/{created.Id}", created);
    }

    public static async Task<Results<Ok<PrivacyRequest>, Ok<SubjectPrivacyRequest>, ProblemHttpResult>> Status(string id, ClaimsPrincipal user,
        PrivacyRequests requests, SubjectRequests subjectRequests, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var requestId, out var problem))
        {
            return problem!;
        }
        var tenant = Caller.From(user).TenantId;
        if (await requests.FindAsync(tenant, requestId, "gdpr-export-download", "api:tenant-key", ct) is { } found)
        {
            return TypedResults.Ok(found);
        }
        return await subjectRequests.FindAsync(tenant, requestId, ct) is { } subject
            ? TypedResults.Ok(subject)
            : Problems.NotFound("Privacy request");
    }
}
