using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Platform.Api.Security;
using Platform.Core.Events;
using Platform.Core.Events.Matching;

namespace Platform.Api.Apis;

/// <summary>Gatherings: create, suggest (whole conference or invitees of one), invite, RSVP. Changes go live through Realtime.</summary>
public static class GatheringsApi
{
    public static RouteGroupBuilder MapGatheringsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/gatherings").WithTags("Gatherings").RequireAuthorization(AuthPolicies.Tenant)
            .AddEndpointFilter<TenantRateLimitFilter>()
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status429TooManyRequests);
        api.MapPost("/", Create).WithName("CreateGathering")
            .WithSummary("Create a gathering (topic, tags, place, startsAt, endsAt, capacity); autoInvite invites the suggested attendees.")
            .Accepts<GatheringRequest>("application/json");
        api.MapGet("/suggestions", Suggest).WithName("SuggestGatherings")
            .WithSummary("Clusters of attendees sharing an interest and free at the same time (?conferenceId=&durationMinutes=60&capacity=10).");
        api.MapGet("/{id}", Get).WithName("GetGathering").WithSummary("A gathering with its invitations and RSVPs.");
        api.MapGet("/{id}/invite-suggestions", SuggestInvitees).WithName("SuggestInvitees")
            .WithSummary("Attendees to invite: consenting, free for the whole gathering, sharing a topic tag; at most the free seats.");
        api.MapPost("/{id}/invitations", Invite).WithName("InviteToGathering")
            .WithSummary("Invite the given userIds, or the suggested attendees when none are given; never beyond capacity.")
            .Accepts<InviteRequest>("application/json");
        api.MapPost("/{id}/rsvp", Rsvp).WithName("RsvpGathering")
            .WithSummary("{userId, response: accepted | declined}; accepting beyond capacity is 409.")
            .Accepts<RsvpRequest>("application/json").ProducesProblem(StatusCodes.Status409Conflict);
        return api;
    }

    public static async Task<Results<Created<Gathering>, ProblemHttpResult>> Create(HttpRequest request, ClaimsPrincipal user,
        [AsParameters] EventsServices services, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, EventsJsonContext.Default.GatheringRequest);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new Dictionary<string, string[]>();
        if (body!.ConferenceId is null)
        {
            errors["conferenceId"] = ["conferenceId is required."];
        }
        if (string.IsNullOrWhiteSpace(body.Topic) || body.Topic.Length > 200)
        {
            errors["topic"] = ["topic is required: 1 to 200 characters."];
        }
        if (string.IsNullOrWhiteSpace(body.Place) || body.Place.Length > 200)
        {
            errors["place"] = ["place is required: 1 to 200 characters."];
        }
        if (body.Tags is { } tags && (tags.Count > EventsApi.MaxTags || tags.Any(t => string.IsNullOrWhiteSpace(t) || t.Length > EventsApi.MaxTagLength)))
        {
            errors["tags"] = [$"tags takes at most {EventsApi.MaxTags} non-empty tags."];
        }
        if (body.StartsAt is null || body.EndsAt is null || body.EndsAt <= body.StartsAt)
        {
            errors["endsAt"] = ["startsAt and endsAt are required, endsAt after startsAt."];
        }
        if (body.Capacity is null or < 1 or > 10000)
        {
            errors["capacity"] = ["capacity is required: 1 to 10000."];
        }
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }
        var (conference, conferenceProblem) = await EventsApi.ConferenceAsync(body.ConferenceId.ToString(), "conferenceId", "gatherings", user, services, ct);
        if (conferenceProblem is not null)
        {
            return conferenceProblem;
        }
        var tenantId = Caller.From(user).TenantId;
        var gathering = await services.Gatherings.CreateAsync(tenantId, conference!.Id, body.Topic!.Trim(),
            [.. (body.Tags ?? [body.Topic]).Select(t => t.Trim())], body.Place!.Trim(), body.StartsAt!.Value, body.EndsAt!.Value, body.Capacity!.Value, ct);
        if (body.AutoInvite == true)
        {
            await services.Gatherings.InviteAsync(tenantId, gathering.Id, null, "auto", ct);
            gathering = (await services.Gatherings.FindAsync(tenantId, gathering.Id, ct))!;
        }
        return TypedResults.Created($"/v1/gatherings/{gathering.Id}", gathering);
    }

    public static async Task<Results<Ok<GatheringSuggestions>, ProblemHttpResult>> Suggest(string? conferenceId, string? durationMinutes, string? capacity,
        ClaimsPrincipal user, [AsParameters] EventsServices services, CancellationToken ct)
    {
        if (!Problems.TryParseQuery(durationMinutes, "durationMinutes", 5, 24 * 60, 60, out var minutes, out var problem) ||
            !Problems.TryParseQuery(capacity, "capacity", 2, 10000, 10, out var seats, out problem))
        {
            return problem!;
        }
        var (conference, conferenceProblem) = await EventsApi.ConferenceAsync(conferenceId, "conferenceId", "gatherings", user, services, ct);
        if (conferenceProblem is not null)
        {
            return conferenceProblem;
        }
        var attendees = await services.Store.ListAttendeesAsync(Caller.From(user).TenantId, conference!.Id, ct);
        var suggestions = GatheringSuggester.Suggest([.. attendees.Select(a => a.ToCandidate())], TimeSpan.FromMinutes(minutes), (int)seats);
        return TypedResults.Ok(new GatheringSuggestions(conference.Id, GatheringSuggester.Version, suggestions));
    }

    public static async Task<Results<Ok<Gathering>, ProblemHttpResult>> Get(string id, ClaimsPrincipal user, [AsParameters] EventsServices services,
        CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var gatheringId, out var problem))
        {
            return problem!;
        }
        return await services.Gatherings.FindAsync(Caller.From(user).TenantId, gatheringId, ct) is { } g ? TypedResults.Ok(g) : Problems.NotFound("Gathering");
    }

    public static async Task<Results<Ok<InviteSuggestions>, ProblemHttpResult>> SuggestInvitees(string id, ClaimsPrincipal user,
        [AsParameters] EventsServices services, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var gatheringId, out var problem))
        {
            return problem!;
        }
        return await services.Gatherings.SuggestInviteesAsync(Caller.From(user).TenantId, gatheringId, ct) is { } s
            ? TypedResults.Ok(s) : Problems.NotFound("Gathering");
    }

    public static async Task<Results<Ok<InvitesSent>, ProblemHttpResult>> Invite(string id, HttpRequest request, ClaimsPrincipal user,
        [AsParameters] EventsServices services, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var gatheringId, out var problem))
        {
            return problem!;
        }
        var (body, bodyProblem) = await JsonBody.ReadAsync(request, EventsJsonContext.Default.InviteRequest, allowEmpty: true);
        if (bodyProblem is not null)
        {
            return bodyProblem;
        }
        if (body?.UserIds is { Count: > 10000 })
        {
            return Problems.Invalid("userIds", "userIds takes at most 10000 ids.");
        }
        return await services.Gatherings.InviteAsync(Caller.From(user).TenantId, gatheringId, body?.UserIds, body?.UserIds is null ? "auto" : "manual", ct) is { } sent
            ? TypedResults.Ok(sent) : Problems.NotFound("Gathering");
    }

    public static async Task<Results<Ok<Gathering>, ProblemHttpResult>> Rsvp(string id, HttpRequest request, ClaimsPrincipal user,
        [AsParameters] EventsServices services, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var gatheringId, out var problem))
        {
            return problem!;
        }
        var (body, bodyProblem) = await JsonBody.ReadAsync(request, EventsJsonContext.Default.RsvpRequest);
        if (bodyProblem is not null)
        {
            return bodyProblem;
        }
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrEmpty(body!.UserId))
        {
            errors["userId"] = ["userId is required."];
        }
        if (body.Response is not ("accepted" or "declined"))
        {
            errors["response"] = ["response must be accepted or declined."];
        }
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }
        var (outcome, gathering) = await services.Gatherings.RsvpAsync(Caller.From(user).TenantId, gatheringId, body.UserId!, body.Response == "accepted", ct);
        return outcome switch
        {
            RsvpOutcome.Recorded => TypedResults.Ok(gathering!),
            RsvpOutcome.NotAttendee => Problems.NotFound("Attendee"),
            RsvpOutcome.Full => TypedResults.Problem(new ProblemDetails
            {
                Status = StatusCodes.Status409Conflict,
                Type = "urn:platform:problem:gathering-full",
                Title = "The gathering is full.",
                Detail = $"All {gathering!.Capacity} seats are taken.",
            }),
            _ => Problems.NotFound("Gathering"),
        };
    }
}
