using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Security;
using Platform.Core.Data;
using Platform.Core.Events;
using Platform.Core.Notifications;

namespace Platform.Api.Apis;

public sealed record NetworkingNotifyRequest(Guid? ConferenceId, IReadOnlyList<string>? UserIds, string? Title, string? Message, string? Key,
    IReadOnlyList<string>? Channels);

public sealed record NetworkingNotified(Guid ConferenceId, string Key, string NotificationType, int Recipients, int Notified, int Duplicates, string Delivery);

public sealed record LiveTokenRequest(string? UserId);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(NetworkingNotifyRequest))]
[JsonSerializable(typeof(LiveTokenRequest))]
[JsonSerializable(typeof(ConversationStarterRequest))]
public sealed partial class ConferenceInsightsJsonContext : JsonSerializerContext;

/// <summary>
/// Conference ROI, competitor benchmarks, exhibitor lead lists, conversation starters, the per-gathering live stream's
/// token and the tenant's networking notifications. Tenant API key; another tenant's ids answer 404.
/// </summary>
public static class ConferenceInsightsApi
{
    public const string NetworkingType = "events.networking";
    public const int MaxRecipients = 5000;

    public static IEndpointRouteBuilder MapConferenceInsightsApi(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder Group(string prefix, string tag) => app.MapGroup(prefix).WithTags(tag).RequireAuthorization(AuthPolicies.Tenant)
            .AddEndpointFilter<TenantRateLimitFilter>()
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status429TooManyRequests);

        var intelligence = Group("/v1/intelligence", "Intelligence");
        intelligence.MapGet("/roi/{conferenceId}", Roi).WithName("GetConferenceRoi")
            .WithSummary("ROI of a conference: meetings booked, matches accepted, sessions attended and lead value with its formula and inputs (?valuePerLead=100&qualificationScore=30).");
        intelligence.MapGet("/competitors/{tenantId}", Competitors).WithName("GetCompetitorBenchmarks")
            .WithSummary("Exhibiting companies compared across this tenant's conferences (never another tenant's); tenantId must be the caller's own.");
        intelligence.MapGet("/leads/{userId}", Leads).WithName("GetExhibitorLeads")
            .WithSummary("An exhibitor's leads with scores and reasons, per conference they exhibit at (?conferenceId=&limit=50).");
        var matching = Group("/v1/matching", "Matching");
        matching.MapPost("/conversation-starters", Starters).WithName("GetConversationStarters")
            .WithSummary("Openers for userId to use with matchUserId: {conferenceId, userId, matchUserId}; a template, or the configured chat model.")
            .Accepts<ConversationStarterRequest>("application/json");
        var networking = Group("/v1/networking", "Networking");
        networking.MapPost("/notify", Notify).WithName("NetworkingNotify")
            .WithSummary("Notify attendees of a conference through the notifications outbox: {conferenceId, userIds?, title, message, key?, channels?}; 202.")
            .Accepts<NetworkingNotifyRequest>("application/json");
        var gatherings = Group("/v1/gatherings", "Gatherings");
        gatherings.MapPost("/{id}/live-token", LiveToken).WithName("IssueGatheringLiveToken")
            .WithSummary("An attendee token and the URL of a Realtime node's live stream of this gathering: {userId}.")
            .Accepts<LiveTokenRequest>("application/json").ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    private static bool TryParseNumber(string? value, string field, double min, double max, double fallback, out double result,
        out ProblemHttpResult? problem)
    {
        problem = null;
        result = fallback;
        if (value is null)
        {
            return true;
        }
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out result) && double.IsFinite(result) && result >= min && result <= max)
        {
            return true;
        }
        problem = Problems.Invalid(field, $"{field} must be a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}.");
        return false;
    }

    private static async Task<ConferenceFacts> FactsAsync(Guid tenantId, Conference conference, EventsServices services, CancellationToken ct)
    {
        var compiled = await services.Matching.CompileAsync(tenantId, conference, ct);
        var feedback = await services.Store.FeedbackAsync(tenantId, conference.Id, ct);
        var accepted = await services.Gatherings.AcceptedAsync(tenantId, conference.Id, ct);
        return new ConferenceFacts(conference, compiled.Attendees, compiled.Index, feedback, accepted);
    }

    public static async Task<Results<Ok<ConferenceRoi>, ProblemHttpResult>> Roi(string conferenceId, string? valuePerLead, string? qualificationScore,
        ClaimsPrincipal user, [AsParameters] EventsServices services, TimeProvider time, CancellationToken ct)
    {
        if (!TryParseNumber(valuePerLead, "valuePerLead", 0, 1e9, ConferenceInsights.DefaultValuePerLead, out var value, out var problem) ||
            !TryParseNumber(qualificationScore, "qualificationScore", 0, 100, ConferenceInsights.DefaultQualificationScore, out var threshold, out problem))
        {
            return problem!;
        }
        var (conference, conferenceProblem) = await EventsApi.ConferenceAsync(conferenceId, "conferenceId", "reports", user, services, ct);
        if (conferenceProblem is not null)
        {
            return conferenceProblem;
        }
        var tenantId = Caller.From(user).TenantId;
        return TypedResults.Ok(ConferenceInsights.Roi(await FactsAsync(tenantId, conference!, services, ct), time.GetUtcNow(), value, threshold));
    }

    public static async Task<Results<Ok<CompetitorBenchmarks>, ProblemHttpResult>> Competitors(string tenantId, string? valuePerLead, string? qualificationScore,
        ClaimsPrincipal user, [AsParameters] EventsServices services, TimeProvider time, CancellationToken ct)
    {
        if (!Problems.TryParseId(tenantId, "tenantId", out var requested, out var problem))
        {
            return problem!;
        }
        if (!TryParseNumber(valuePerLead, "valuePerLead", 0, 1e9, ConferenceInsights.DefaultValuePerLead, out var value, out problem) ||
            !TryParseNumber(qualificationScore, "qualificationScore", 0, 100, ConferenceInsights.DefaultQualificationScore, out var threshold, out problem))
        {
            return problem!;
        }
        var caller = Caller.From(user).TenantId;
        // Benchmarks never cross tenants: another tenant's id answers like one that does not exist.
        if (requested != caller)
        {
            return Problems.NotFound("Tenant");
        }
        var facts = new List<ConferenceFacts>();
        foreach (var conference in await services.Store.ListConferencesAsync(caller, ct))
        {
            if (conference.Features.Reports)
            {
                facts.Add(await FactsAsync(caller, conference, services, ct));
            }
        }
        return TypedResults.Ok(ConferenceInsights.Benchmarks(caller, facts, time.GetUtcNow(), value, threshold));
    }

    public static async Task<Results<Ok<LeadLists>, ProblemHttpResult>> Leads(string userId, string? conferenceId, string? limit, ClaimsPrincipal user,
        [AsParameters] EventsServices services, CancellationToken ct)
    {
        if (!Problems.TryParseQuery(limit, "limit", 1, 1000, 50, out var take, out var problem))
        {
            return problem!;
        }
        var tenantId = Caller.From(user).TenantId;
        IReadOnlyList<Conference> conferences;
        if (conferenceId is not null)
        {
            var (conference, conferenceProblem) = await EventsApi.ConferenceAsync(conferenceId, "conferenceId", "reports", user, services, ct);
            if (conferenceProblem is not null)
            {
                return conferenceProblem;
            }
            conferences = [conference!];
        }
        else
        {
            conferences = [.. (await services.Store.ListConferencesAsync(tenantId, ct)).Where(c => c.Features.Reports)];
        }
        var lists = new List<ExhibitorLeadList>();
        foreach (var conference in conferences)
        {
            if (await services.Store.FindAttendeeAsync(tenantId, conference.Id, userId, ct) is not { Kind: AttendeeKinds.Exhibitor })
            {
                continue;
            }
            var facts = await FactsAsync(tenantId, conference, services, ct);
            foreach (var (x, leads) in ConferenceInsights.Leads(facts).Where(l => l.Exhibitor.UserId == userId))
            {
                lists.Add(new ExhibitorLeadList(conference.Id, conference.Name, x.UserId, x.DisplayName, x.Company, leads.Count, [.. leads.Take((int)take)]));
            }
        }
        return lists.Count == 0 ? Problems.NotFound("Exhibitor") : TypedResults.Ok(new LeadLists(userId, ConferenceInsights.LeadScoreVersion, lists));
    }

    public static async Task<Results<Ok<ConversationStarterSet>, ProblemHttpResult>> Starters(HttpRequest request, ClaimsPrincipal user,
        [AsParameters] EventsServices services, ConversationStarters starters, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, ConferenceInsightsJsonContext.Default.ConversationStarterRequest);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new Dictionary<string, string[]>();
        if (body!.ConferenceId is null) errors["conferenceId"] = ["conferenceId is required."];
        if (string.IsNullOrEmpty(body.UserId)) errors["userId"] = ["userId is required."];
        if (string.IsNullOrEmpty(body.MatchUserId)) errors["matchUserId"] = ["matchUserId is required."];
        else if (body.MatchUserId == body.UserId) errors["matchUserId"] = ["matchUserId must be another attendee."];
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }
        var (conference, conferenceProblem) = await EventsApi.ConferenceAsync(body.ConferenceId.ToString(), "conferenceId", "matchmaking", user, services, ct);
        if (conferenceProblem is not null)
        {
            return conferenceProblem;
        }
        var compiled = await services.Matching.CompileAsync(Caller.From(user).TenantId, conference!, ct);
        var a = compiled.Attendees.FirstOrDefault(x => x.UserId == body.UserId);
        var b = compiled.Attendees.FirstOrDefault(x => x.UserId == body.MatchUserId);
        if (a is null || b is null)
        {
            return Problems.NotFound("Attendee");
        }
        // Openers use what the matcher knows of both people: only when both agreed to be matched.
        if (!a.ConsentToMatch || !b.ConsentToMatch)
        {
            return Problems.Forbidden("Both attendees must consent to matching (consentToMatch) before starters are made for them.");
        }
        return TypedResults.Ok(await starters.ForAsync(conference!, a, b, compiled.Index, ct));
    }

    public static async Task<Results<Accepted<NetworkingNotified>, ProblemHttpResult>> Notify(HttpRequest request, ClaimsPrincipal user,
        [AsParameters] EventsServices services, NotificationOutbox outbox, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, ConferenceInsightsJsonContext.Default.NetworkingNotifyRequest);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new Dictionary<string, string[]>();
        if (body!.ConferenceId is null) errors["conferenceId"] = ["conferenceId is required."];
        if (string.IsNullOrWhiteSpace(body.Title) || body.Title.Length > 200) errors["title"] = ["title is required: 1 to 200 characters."];
        if (string.IsNullOrWhiteSpace(body.Message) || body.Message.Length > 1000) errors["message"] = ["message is required: 1 to 1000 characters."];
        if (body.Key is not null && (body.Key.Length is < 1 or > 100 || !body.Key.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
        {
            errors["key"] = ["key is 1–100 letters, digits, '-', '_' or '.': the same key notifies nobody twice."];
        }
        if (body.UserIds is { Count: 0 or > MaxRecipients }) errors["userIds"] = [$"userIds takes 1 to {MaxRecipients} attendees (omit it for every attendee who accepts invitations)."];
        var channels = NotificationChannels.InApp | NotificationChannels.WebPush;
        if (body.Channels is { } names)
        {
            channels = 0;
            for (var i = 0; i < names.Count; i++)
            {
                channels |= names[i] switch
                {
                    ChannelNames.InApp => NotificationChannels.InApp,
                    ChannelNames.WebPush => NotificationChannels.WebPush,
                    ChannelNames.Email => NotificationChannels.Email,
                    _ => 0,
                };
                if (names[i] is not (ChannelNames.InApp or ChannelNames.WebPush or ChannelNames.Email))
                {
                    errors[$"channels[{i}]"] = ["A channel is in_app, web_push or email."];
                }
            }
            if (names.Count == 0) errors["channels"] = ["channels names at least one of in_app, web_push, email."];
        }
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }
        var (conference, conferenceProblem) = await EventsApi.ConferenceAsync(body.ConferenceId.ToString(), "conferenceId", null, user, services, ct);
        if (conferenceProblem is not null)
        {
            return conferenceProblem;
        }
        var tenantId = Caller.From(user).TenantId;
        var attendees = await services.Store.ListAttendeesAsync(tenantId, conference!.Id, ct);
        var byId = attendees.ToDictionary(a => a.UserId, StringComparer.Ordinal);
        IReadOnlyList<string> recipients;
        if (body.UserIds is { } ids)
        {
            for (var i = 0; i < ids.Count; i++)
            {
                if (ids[i] is null || !byId.ContainsKey(ids[i]))
                {
                    errors[$"userIds[{i}]"] = ["Not an attendee of this conference."];
                }
            }
            if (errors.Count > 0)
            {
                return Problems.Invalid(errors);
            }
            recipients = [.. ids.Distinct(StringComparer.Ordinal)];
        }
        else
        {
            recipients = [.. attendees.Where(a => a.ConsentToInvites).Select(a => a.UserId)];
        }
        var key = body.Key ?? Guid.CreateVersion7().ToString("N");
        var payload = JsonSerializer.SerializeToElement(new Dictionary<string, object?>
        {
            ["conferenceId"] = conference.Id, ["title"] = body.Title!.Trim(), ["message"] = body.Message!.Trim(), ["key"] = key,
        });
        if (System.Text.Encoding.UTF8.GetByteCount(payload.GetRawText()) > 3000)
        {
            return Problems.Invalid("message", "title and message together must fit a notification (3000 bytes of JSON).");
        }
        var notified = 0;
        // One transaction for every recipient: all are in the outbox or none is; the key makes a repeat notify nobody twice.
        await using (var conn = await services.Store.DataSource.OpenForTenantAsync(tenantId, ct))
        await using (var tx = await conn.BeginTransactionAsync(ct))
        {
            foreach (var userId in recipients)
            {
                var result = await outbox.EnqueueAsync(tx, new Notification(tenantId, userId, $"networking:{conference.Id:N}:{key}", NetworkingType, payload, channels), ct);
                notified += result.Duplicate ? 0 : 1;
            }
            await tx.CommitAsync(ct);
        }
        return TypedResults.Accepted($"/v1/events/conferences/{conference.Id}",
            new NetworkingNotified(conference.Id, key, NetworkingType, recipients.Count, notified, recipients.Count - notified, "notifications"));
    }

    public static async Task<Results<Created<StreamTokenIssued>, ProblemHttpResult>> LiveToken(string id, HttpRequest request, ClaimsPrincipal user,
        [AsParameters] EventsServices services, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var gatheringId, out var problem))
        {
            return problem!;
        }
        var (body, bodyProblem) = await JsonBody.ReadAsync(request, ConferenceInsightsJsonContext.Default.LiveTokenRequest);
        if (bodyProblem is not null)
        {
            return bodyProblem;
        }
        if (string.IsNullOrEmpty(body!.UserId) || body.UserId.Length > 200)
        {
            return Problems.Invalid("userId", "userId is required: 1 to 200 characters.");
        }
        var tenantId = Caller.From(user).TenantId;
        if (await services.Gatherings.FindAsync(tenantId, gatheringId, ct) is not { } gathering)
        {
            return Problems.NotFound("Gathering");
        }
        if (await services.Store.FindAttendeeAsync(tenantId, gathering.ConferenceId, body.UserId, ct) is null)
        {
            return Problems.NotFound("Attendee");
        }
        var lifetime = Platform.Core.Security.ClientTokens.DefaultLifetime;
        var token = services.Tokens.Issue(tenantId, body.UserId, null, lifetime, roles: ["attendee"], issuedUnder: Caller.Origin(user),
            kind: Platform.Core.Security.TokenKinds.Attendee);
        if (await services.Nodes.NextStreamUrlAsync(token, ct) is not { } url)
        {
            return Problems.Unavailable("No Realtime node is configured (services:realtime:http:0).");
        }
        var streamUrl = url.Replace("/v1/stream?", $"/v1/gatherings/live/{gathering.Id}?", StringComparison.Ordinal);
        return TypedResults.Created($"/v1/gatherings/{gathering.Id}", new StreamTokenIssued(token, (int)lifetime.TotalSeconds, streamUrl));
    }
}
