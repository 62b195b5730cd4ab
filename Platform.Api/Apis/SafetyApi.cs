using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Security;
using Platform.Core.Impact.Safety;

namespace Platform.Api.Apis;

public sealed record ReviewRequest(string? Decision, string? Note);
public sealed record SafetyFlagPage(IReadOnlyList<SafetyFlag> Flags, Guid? Next);

/// <summary>The safety review queue: texts flagged on ingestion (abuse, self-harm signals, leaked contact data).</summary>
public static class SafetyApi
{
    public static IEndpointRouteBuilder MapSafetyApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/safety").WithTags("Safety").RequireAuthorization(AuthPolicies.Tenant)
            .AddEndpointFilter<TenantRateLimitFilter>()
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        api.MapGet("/flags", ListFlags).WithName("ListSafetyFlags")
            .WithSummary("Flags in id order (?status=open|cleared|confirmed, ?limit=, ?after=); each carries the text (a logged PII read).")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapPost("/flags/{id}/review", Review).WithName("ReviewSafetyFlag")
            .WithSummary("Review a flag: decision clear (the text is scored) or confirm (it stays out of scoring).")
            .Accepts<ReviewRequest>("application/json").ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return app;
    }

    public static async Task<Results<Ok<SafetyFlagPage>, ProblemHttpResult>> ListFlags(string? status, string? limit, string? after, ClaimsPrincipal user,
        SafetyFlags flags, CancellationToken ct)
    {
        if (status is not (null or "open" or "cleared" or "confirmed"))
        {
            return Problems.Invalid("status", "status must be open, cleared or confirmed.");
        }
        if (!Problems.TryParsePage(after, limit, 500, 100, out var request, out var problem))
        {
            return problem!;
        }
        var page = await flags.ListAsync(Caller.From(user).TenantId, status, request.Limit, request.After, "api:tenant-key", ct);
        return TypedResults.Ok(new SafetyFlagPage(page, request.Next(page, r => r.Id)));
    }

    public static async Task<Results<Ok<SafetyFlagReviewed>, ProblemHttpResult>> Review(string id, HttpRequest request, ClaimsPrincipal user,
        SafetyFlags flags, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var flagId, out var problem))
        {
            return problem!;
        }
        var (body, bodyProblem) = await JsonBody.ReadAsync(request, ImpactJsonContext.Default.ReviewRequest);
        if (bodyProblem is not null)
        {
            return bodyProblem;
        }
        if (body!.Decision is not ("clear" or "confirm"))
        {
            return Problems.Invalid("decision", "decision must be clear (score the text) or confirm (keep it out of scoring).");
        }
        if (body.Note is { Length: > 2000 })
        {
            return Problems.Invalid("note", "note is at most 2000 characters.");
        }
        return await flags.ReviewAsync(Caller.From(user).TenantId, flagId, body.Decision == "clear", body.Note, ct) switch
        {
            ReviewOutcome.NotFound => Problems.NotFound("Safety flag"),
            ReviewOutcome.AlreadyReviewed => ImpactApi.Conflict("flag-reviewed", "The flag has already been reviewed.", "A review is final."),
            _ => TypedResults.Ok(new SafetyFlagReviewed(flagId, body.Decision == "clear" ? "cleared" : "confirmed")),
        };
    }
}

public sealed record SafetyFlagReviewed(Guid Id, string Status);
