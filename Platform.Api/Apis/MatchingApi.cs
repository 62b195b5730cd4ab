using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Security;
using Platform.Core.Events;

namespace Platform.Api.Apis;

/// <summary>Matchmaking: live recommendations, feedback that moves the conference's weights, batch recalculation.</summary>
public static class MatchingApi
{
    public const int DefaultLimit = 10, MaxLimit = 100;

    public static RouteGroupBuilder MapMatchingApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/matching").WithTags("Matching").RequireAuthorization(AuthPolicies.Tenant)
            .AddEndpointFilter<TenantRateLimitFilter>()
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status429TooManyRequests);
        api.MapGet("/recommendations/{userId}", Recommend).WithName("GetRecommendations")
            .WithSummary("Ranked matches for an attendee (?conferenceId=&limit=, default 10, max 100) with reasons and a conversation starter.");
        api.MapPost("/feedback", Feedback).WithName("PostMatchFeedback")
            .WithSummary("accepted | declined | met on a match: recorded, and the conference's weights take one online update step.")
            .Accepts<FeedbackRequest>("application/json");
        api.MapPost("/calculate", Calculate).WithName("CalculateMatches")
            .WithSummary("Recompute the stored top matches of a conference (or one attendee) as a job; 202 with the job id.")
            .Accepts<CalculateRequest>("application/json");
        return api;
    }

    public static async Task<Results<Ok<Recommendations>, ProblemHttpResult>> Recommend(string userId, string? conferenceId, string? limit,
        ClaimsPrincipal user, [AsParameters] EventsServices services, CancellationToken ct)
    {
        if (!Problems.TryParseQuery(limit, "limit", 1, MaxLimit, DefaultLimit, out var take, out var problem))
        {
            return problem!;
        }
        var (conference, conferenceProblem) = await EventsApi.ConferenceAsync(conferenceId, "conferenceId", "matchmaking", user, services, ct);
        if (conferenceProblem is not null)
        {
            return conferenceProblem;
        }
        return await services.Matching.RecommendAsync(Caller.From(user).TenantId, conference!, userId, (int)take, ct) is { } recommendations
            ? TypedResults.Ok(recommendations) : Problems.NotFound("Attendee");
    }

    public static async Task<Results<Created<FeedbackRecorded>, ProblemHttpResult>> Feedback(HttpRequest request, ClaimsPrincipal user,
        [AsParameters] EventsServices services, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, EventsJsonContext.Default.FeedbackRequest);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new Dictionary<string, string[]>();
        if (body!.ConferenceId is null)
        {
            errors["conferenceId"] = ["conferenceId is required."];
        }
        if (string.IsNullOrEmpty(body.UserId))
        {
            errors["userId"] = ["userId is required."];
        }
        if (string.IsNullOrEmpty(body.MatchUserId))
        {
            errors["matchUserId"] = ["matchUserId is required."];
        }
        else if (body.MatchUserId == body.UserId)
        {
            errors["matchUserId"] = ["matchUserId must be another attendee."];
        }
        if (!EventsApi.TryOutcome(body.Outcome, out var outcome))
        {
            errors["outcome"] = ["outcome must be accepted, declined or met."];
        }
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }
        var (conference, conferenceProblem) = await EventsApi.ConferenceAsync(body.ConferenceId.ToString(), "conferenceId", "matchmaking", user, services, ct);
        if (conferenceProblem is not null)
        {
            return conferenceProblem;
        }
        var recorded = await services.Matching.FeedbackAsync(Caller.From(user).TenantId, conference!, body.UserId!, body.MatchUserId!, outcome, ct);
        return recorded is null
            ? Problems.NotFound("Attendee")
            : TypedResults.Created($"/v1/events/conferences/{conference!.Id}", recorded);
    }

    public static async Task<Results<Accepted<CalculationQueued>, ProblemHttpResult>> Calculate(HttpRequest request, ClaimsPrincipal user,
        [AsParameters] EventsServices services, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, EventsJsonContext.Default.CalculateRequest);
        if (problem is not null)
        {
            return problem;
        }
        if (body!.ConferenceId is null)
        {
            return Problems.Invalid("conferenceId", "conferenceId is required.");
        }
        var (conference, conferenceProblem) = await EventsApi.ConferenceAsync(body.ConferenceId.ToString(), "conferenceId", "matchmaking", user, services, ct);
        if (conferenceProblem is not null)
        {
            return conferenceProblem;
        }
        var tenantId = Caller.From(user).TenantId;
        if (body.UserId is not null && await services.Store.FindAttendeeAsync(tenantId, conference!.Id, body.UserId, ct) is null)
        {
            return Problems.NotFound("Attendee");
        }
        var job = await services.Jobs.EnqueueAsync(new MatchCalculationArgs(tenantId, conference!.Id, body.UserId),
            new Platform.Core.Jobs.JobOptions { UniqueKey = $"match:{conference.Id}:{body.UserId ?? "*"}" }, ct);
        return TypedResults.Accepted($"/v1/admin/jobs/{job.Id}", new CalculationQueued(job.Id, job.Duplicate));
    }
}
