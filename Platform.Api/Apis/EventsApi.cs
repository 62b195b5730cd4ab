using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Platform.Api.Security;
using Platform.Core.Events;
using Platform.Core.Events.Matching;
using Platform.Core.Security;
using StackExchange.Redis;

namespace Platform.Api.Apis;

/// <summary>What the events endpoints need, bundled for <c>[AsParameters]</c>.</summary>
public sealed record EventsServices(EventsStore Store, Matchmaking Matching, Gatherings Gatherings, PresenceStore Presence,
    IntelligenceReports Reports, Platform.Core.Jobs.IJobQueue Jobs, ClientTokens Tokens, RealtimeNodes Nodes, IConnectionMultiplexer Redis);

/// <summary>
/// Conferences, attendee profiles, presence and attendee stream tokens. A tenant API key reaches its own
/// conferences only; another tenant's ids answer 404. The conference's features and limits are applied here.
/// </summary>
public static class EventsApi
{
    public const int IncrementalDelaySeconds = 5, MaxTags = 50, MaxTagLength = 100, MaxSlots = 50, MaxTextLength = 4000;

    public static RouteGroupBuilder MapEventsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/events").WithTags("Events").RequireAuthorization(AuthPolicies.Tenant)
            .AddEndpointFilter<TenantRateLimitFilter>()
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status429TooManyRequests);

        api.MapPost("/conferences", CreateConference).WithName("CreateConference")
            .WithSummary("Create a conference with its branding, features and limits.").Accepts<ConferenceRequest>("application/json");
        api.MapGet("/conferences", ListConferences).WithName("ListConferences").WithSummary("The tenant's conferences.");
        api.MapGet("/conferences/{id}", GetConference).WithName("GetConference").WithSummary("A conference, with its current matcher weights.");
        api.MapPut("/conferences/{id}/attendees/{userId}", PutAttendee).WithName("PutAttendee")
            .WithSummary("Create or replace an attendee profile (starts an incremental match calculation).")
            .Accepts<AttendeeRequest>("application/json").ProducesProblem(StatusCodes.Status409Conflict);
        api.MapGet("/conferences/{id}/attendees/{userId}", GetAttendee).WithName("GetAttendee").WithSummary("An attendee profile.");
        api.MapPost("/conferences/{id}/attendees/{userId}/token", IssueStreamToken).WithName("IssueAttendeeStreamToken")
            .WithSummary("A client token and the URL of a Realtime node's conference stream (presence and gathering updates).")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapGet("/presence/{userId}", GetPresence).WithName("GetPresence")
            .WithSummary("online (a live Realtime connection), away (gone less than 5 minutes) or offline.");
        return api;
    }

    public static async Task<Results<Created<Conference>, ProblemHttpResult>> CreateConference(HttpRequest request, ClaimsPrincipal user,
        [AsParameters] EventsServices services, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, EventsJsonContext.Default.ConferenceRequest);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new Dictionary<string, string[]>();
        if (TenantsApi.NameProblem(body!.Name, required: true) is not null)
        {
            errors["name"] = ["name is required: 1 to 200 characters."];
        }
        foreach (var (field, value) in new[] { ("branding.primaryColor", body.Branding?.PrimaryColor), ("branding.accentColor", body.Branding?.AccentColor) })
        {
            if (value is not null && IntelligenceReports.SafeColor(value, "") != value)
            {
                errors[field] = [$"{field} must be a colour like #1f4e79."];
            }
        }
        if (body.Branding?.LogoUrl is { } logo && !(Uri.TryCreate(logo, UriKind.Absolute, out var u) && u.Scheme is "https" or "http"))
        {
            errors["branding.logoUrl"] = ["branding.logoUrl must be an absolute http(s) URL."];
        }
        if (body.Limits?.AttendeeCap is < 1 or > 1_000_000)
        {
            errors["limits.attendeeCap"] = ["limits.attendeeCap must be from 1 to 1000000."];
        }
        if (body.Limits?.RequestsPerMinute is < 1 or > 1_000_000)
        {
            errors["limits.requestsPerMinute"] = ["limits.requestsPerMinute must be from 1 to 1000000."];
        }
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }
        var conference = await services.Store.CreateConferenceAsync(Caller.From(user).TenantId, body.Name!.Trim(), body.Branding ?? new Branding(),
            body.Features ?? new ConferenceFeatures(), body.Limits ?? new ConferenceLimits(), ct);
        return TypedResults.Created($"/v1/events/conferences/{conference.Id}", conference);
    }

    public static async Task<Ok<ConferencePage>> ListConferences(ClaimsPrincipal user, [AsParameters] EventsServices services, CancellationToken ct) =>
        TypedResults.Ok(new ConferencePage(await services.Store.ListConferencesAsync(Caller.From(user).TenantId, ct)));

    public static async Task<Results<Ok<Conference>, ProblemHttpResult>> GetConference(string id, ClaimsPrincipal user,
        [AsParameters] EventsServices services, CancellationToken ct)
    {
        var (conference, problem) = await ConferenceAsync(id, "id", null, user, services, ct);
        return problem ?? (Results<Ok<Conference>, ProblemHttpResult>)TypedResults.Ok(conference!);
    }

    public static async Task<Results<Created<Attendee>, Ok<Attendee>, ProblemHttpResult>> PutAttendee(string id, string userId, HttpRequest request,
        ClaimsPrincipal user, [AsParameters] EventsServices services, CancellationToken ct)
    {
        var (conference, problem) = await ConferenceAsync(id, "id", null, user, services, ct);
        if (problem is not null)
        {
            return problem;
        }
        var (body, bodyProblem) = await JsonBody.ReadAsync(request, EventsJsonContext.Default.AttendeeRequest);
        if (bodyProblem is not null)
        {
            return bodyProblem;
        }
        var (profile, errors) = Validate(conference!.Id, userId, body!);
        if (profile is null)
        {
            return Problems.Invalid(errors);
        }
        var tenantId = Caller.From(user).TenantId;
        var (outcome, saved) = await services.Store.UpsertAttendeeAsync(tenantId, conference.Id, userId, profile, ct);
        switch (outcome)
        {
            case UpsertOutcome.ConferenceNotFound:
                return Problems.NotFound("Conference");
            case UpsertOutcome.CapReached:
                return TypedResults.Problem(new ProblemDetails
                {
                    Status = StatusCodes.Status409Conflict,
                    Type = "urn:platform:problem:attendee-cap",
                    Title = "The conference is full.",
                    Detail = $"This conference takes at most {conference.Limits.AttendeeCap} attendees (limits.attendeeCap).",
                });
        }
        // Incremental, debounced: one pending run per conference recomputes every attendee changed since their list
        // was stored, so a burst of sign-ups costs one index build instead of one per profile.
        await services.Jobs.EnqueueAsync(new MatchCalculationArgs(tenantId, conference.Id, null, StaleOnly: true),
            new Platform.Core.Jobs.JobOptions { UniqueKey = $"match-stale:{conference.Id}", RunAt = DateTimeOffset.UtcNow.AddSeconds(IncrementalDelaySeconds) }, ct);
        return outcome == UpsertOutcome.Created
            ? TypedResults.Created($"/v1/events/conferences/{conference.Id}/attendees/{Uri.EscapeDataString(userId)}", saved!)
            : TypedResults.Ok(saved!);
    }

    public static async Task<Results<Ok<Attendee>, ProblemHttpResult>> GetAttendee(string id, string userId, ClaimsPrincipal user,
        [AsParameters] EventsServices services, CancellationToken ct)
    {
        var (conference, problem) = await ConferenceAsync(id, "id", null, user, services, ct);
        if (problem is not null)
        {
            return problem;
        }
        return await services.Store.FindAttendeeAsync(Caller.From(user).TenantId, conference!.Id, userId, ct) is { } a
            ? TypedResults.Ok(a) : Problems.NotFound("Attendee");
    }

    public static async Task<Results<Created<StreamTokenIssued>, ProblemHttpResult>> IssueStreamToken(string id, string userId, ClaimsPrincipal user,
        [AsParameters] EventsServices services, CancellationToken ct)
    {
        var (conference, problem) = await ConferenceAsync(id, "id", null, user, services, ct);
        if (problem is not null)
        {
            return problem;
        }
        var tenantId = Caller.From(user).TenantId;
        if (await services.Store.FindAttendeeAsync(tenantId, conference!.Id, userId, ct) is null)
        {
            return Problems.NotFound("Attendee");
        }
        var lifetime = ClientTokens.DefaultLifetime;
        var token = services.Tokens.Issue(tenantId, userId, null, lifetime, roles: ["attendee"], issuedUnder: Caller.Origin(user), kind: TokenKinds.Attendee);
        if (await services.Nodes.NextStreamUrlAsync(token, ct) is not { } url)
        {
            return Problems.Unavailable("No Realtime node is configured (services:realtime:http:0).");
        }
        // Same node list, the conference stream path instead of the conversation one.
        var streamUrl = url.Replace("/v1/stream?", "/v1/events/stream?", StringComparison.Ordinal) + $"&conferenceId={conference.Id}";
        return TypedResults.Created($"/v1/events/conferences/{conference.Id}/attendees/{Uri.EscapeDataString(userId)}",
            new StreamTokenIssued(token, (int)lifetime.TotalSeconds, streamUrl));
    }

    public static async Task<Ok<PresenceStatus>> GetPresence(string userId, ClaimsPrincipal user, [AsParameters] EventsServices services) =>
        TypedResults.Ok(await services.Presence.GetAsync(Caller.From(user).TenantId, userId));

    /// <summary>
    /// Finds the caller's conference and applies its configuration: a switched-off feature is 403, and the
    /// per-conference call budget (limits.requestsPerMinute, Redis, fixed minute window) is 429.
    /// </summary>
    internal static async Task<(Conference? Conference, ProblemHttpResult? Problem)> ConferenceAsync(string? id, string field, string? feature,
        ClaimsPrincipal user, EventsServices services, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(id))
        {
            return (null, Problems.Invalid(field, $"{field} is required."));
        }
        if (!Problems.TryParseId(id, field, out var conferenceId, out var problem))
        {
            return (null, problem);
        }
        var conference = await services.Store.FindConferenceAsync(Caller.From(user).TenantId, conferenceId, ct);
        if (conference is null)
        {
            return (null, Problems.NotFound("Conference"));
        }
        var enabled = feature switch
        {
            "matchmaking" => conference.Features.Matchmaking,
            "gatherings" => conference.Features.Gatherings,
            "presence" => conference.Features.Presence,
            "reports" => conference.Features.Reports,
            _ => true,
        };
        if (!enabled)
        {
            return (null, Problems.Forbidden($"The feature '{feature}' is switched off for this conference (features.{feature})."));
        }
        if (conference.Limits.RequestsPerMinute is { } perMinute)
        {
            var minute = DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 60;
            var key = $"events:rl:{conference.Id:N}:{minute}";
            var db = services.Redis.GetDatabase();
            var used = await db.StringIncrementAsync(key);
            if (used == 1)
            {
                await db.KeyExpireAsync(key, TimeSpan.FromSeconds(70));
            }
            if (used > perMinute)
            {
                var retry = 60 - DateTimeOffset.UtcNow.ToUnixTimeSeconds() % 60;
                return (null, TypedResults.Problem(new ProblemDetails
                {
                    Status = StatusCodes.Status429TooManyRequests,
                    Type = ProblemTypes.RateLimited,
                    Title = "Rate limit exceeded.",
                    Detail = $"This conference allows {perMinute} calls per minute (limits.requestsPerMinute). Retry after {retry} s.",
                }));
            }
        }
        return (conference, null);
    }

    /// <summary>Every field checked before anything is written; the errors name the fields.</summary>
    internal static (Attendee? Profile, Dictionary<string, string[]> Errors) Validate(Guid conferenceId, string userId, AttendeeRequest body)
    {
        var errors = new Dictionary<string, string[]>();
        if (userId.Length is < 1 or > 200)
        {
            errors["userId"] = ["userId must be 1 to 200 characters."];
        }
        if (string.IsNullOrWhiteSpace(body.DisplayName) || body.DisplayName.Length > 200)
        {
            errors["displayName"] = ["displayName is required: 1 to 200 characters."];
        }
        var kind = body.Kind ?? AttendeeKinds.Attendee;
        if (!AttendeeKinds.All.Contains(kind))
        {
            errors["kind"] = ["kind must be attendee, speaker or exhibitor."];
        }
        foreach (var (field, value, max) in new[] { ("company", body.Company, 200), ("role", body.Role, 200), ("industry", body.Industry, 200), ("bio", body.Bio, MaxTextLength) })
        {
            if (value?.Length > max)
            {
                errors[field] = [$"{field} is longer than {max} characters."];
            }
        }
        void Tags(string field, IEnumerable<string>? tags)
        {
            var list = tags?.ToList() ?? [];
            if (list.Count > MaxTags || list.Any(t => string.IsNullOrWhiteSpace(t) || t.Length > MaxTagLength))
            {
                errors[field] = [$"{field} takes at most {MaxTags} non-empty tags of at most {MaxTagLength} characters."];
            }
        }
        Tags("skills", body.Skills);
        Tags("interests", body.Interests?.Keys);
        Tags("offering", body.Offering);
        Tags("seeking", body.Seeking);
        if (body.Interests?.Values.Any(w => !(w > 0 && w <= 100)) == true)
        {
            errors["interests"] = ["interests maps a tag to its priority, a number above 0 and at most 100."];
        }
        var slots = body.Availability ?? [];
        if (slots.Count > MaxSlots || slots.Any(s => s is null || s.End <= s.Start))
        {
            errors["availability"] = [$"availability takes at most {MaxSlots} slots, each with end after start."];
        }
        if (errors.Count > 0)
        {
            return (null, errors);
        }
        static IReadOnlyList<string> Clean(IEnumerable<string>? tags) => [.. (tags ?? []).Select(t => t.Trim()).Distinct(StringComparer.OrdinalIgnoreCase)];
        var now = DateTimeOffset.UtcNow;
        return (new Attendee(conferenceId, userId, body.DisplayName!.Trim(), kind, Trim(body.Company), Trim(body.Role), Trim(body.Industry), Trim(body.Bio),
            Clean(body.Skills), (body.Interests ?? new Dictionary<string, double>()).GroupBy(kv => kv.Key.Trim()).ToDictionary(g => g.Key, g => g.Max(kv => kv.Value)),
            Clean(body.Offering), Clean(body.Seeking),
            [.. slots.Select(s => new AvailabilitySlot(s.Start.ToUniversalTime(), s.End.ToUniversalTime()))],
            body.ConsentToMatch ?? false, body.ConsentToInvites ?? body.ConsentToMatch ?? false, now, now), errors);
    }

    private static string? Trim(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    internal static bool TryOutcome(string? value, out MatchOutcome outcome)
    {
        outcome = value switch { "accepted" => MatchOutcome.Accepted, "declined" => MatchOutcome.Declined, "met" => MatchOutcome.Met, _ => (MatchOutcome)(-1) };
        return (int)outcome >= 0;
    }
}
