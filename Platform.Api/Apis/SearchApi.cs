using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Security;
using Platform.Core.Community;
using Platform.Core.Events;
using Platform.Core.Governance;
using Platform.Core.Search;
using Platform.Core.Security;

namespace Platform.Api.Apis;

public sealed record SearchLanguage(string? Language);

/// <summary>
/// Full-text search (docs/search.md): civic meetings and decisions, conversation messages, members by skill and
/// attendees by interest, each answering one ranked page with highlights and a cursor for the next. Every search is
/// within the caller's tenant; who sees which messages follows the conversation endpoints' rules.
/// </summary>
public static class SearchApi
{
    public const int DefaultLimit = 20, MaxLimit = 100;

    /// <summary>A user token with this role searches every conversation of its tenant, as the tenant's API key does.</summary>
    public const string OperatorRole = "ops";

    public static IEndpointRouteBuilder MapSearchApi(this IEndpointRouteBuilder app)
    {
        RouteHandlerBuilder Documented(RouteHandlerBuilder b) => b.WithTags("Search").AddEndpointFilter<TenantRateLimitFilter>()
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status429TooManyRequests);

        Documented(app.MapGet("/v1/civic/meetings/search", SearchMeetings).RequireAuthorization(AuthPolicies.TenantOrUser)
            .WithName("SearchMeetings").WithSummary("Full-text search of meetings: titles and document text (?q=&cityId=&cursor=&limit=)."));
        Documented(app.MapGet("/v1/civic/decisions/search", SearchDecisions).RequireAuthorization(AuthPolicies.TenantOrUser)
            .WithName("SearchDecisions").WithSummary("Full-text search of the decisions in meetings' current summaries (?q=&cityId=&cursor=&limit=)."));
        Documented(app.MapGet("/v1/conversations/search", SearchMessages).RequireAuthorization(AnyTenantCaller())
            .WithName("SearchMessages")
            .WithSummary("Full-text search of messages: the whole tenant (API key, role ops), a channel (its secret), a conversation (client token) or the conversations a user has posted in (?q=&conversationId=&cursor=&limit=)."));
        Documented(app.MapGet("/v1/community/members/search", SearchMembers).RequireAuthorization(AuthPolicies.TenantOrUser)
            .WithName("SearchMembers").WithSummary("Members by skill (then name, team, organisation): tenant API key, community manager, or a team lead within their team (?q=&team=&cursor=&limit=)."));
        Documented(app.MapGet("/v1/events/conferences/{id}/attendees/search", SearchAttendees).RequireAuthorization(AuthPolicies.Tenant)
            .WithName("SearchAttendees").WithSummary("A conference's attendees by interest (then what they seek and offer, skills, bio) (?q=&cursor=&limit=).")
            .ProducesProblem(StatusCodes.Status404NotFound));
        Documented(app.MapGet("/v1/search/settings", GetSettings).RequireAuthorization(AuthPolicies.Tenant)
            .WithName("GetSearchSettings").WithSummary("The tenant's text search language (a PostgreSQL text search configuration; simple by default)."));
        Documented(app.MapPut("/v1/search/settings", PutSettings).RequireAuthorization(AuthPolicies.Tenant)
            .WithName("PutSearchSettings").WithSummary("Set the tenant's text search language and re-index what can change (meetings, documents, members, attendees).")
            .Accepts<SearchLanguage>("application/json"));
        return app;
    }

    private static AuthorizationPolicy AnyTenantCaller() => new AuthorizationPolicyBuilder().RequireAuthenticatedUser()
        .RequireAssertion(c => !c.User.HasClaim(x => x.Type == PlatformClaims.Inactive) &&
                               c.User.FindFirstValue(PlatformClaims.Kind) is CallerKinds.Tenant or CallerKinds.Channel or CallerKinds.Client or CallerKinds.User)
        .Build();

    /// <summary>Validates q, cursor and limit the same way for every search.</summary>
    internal static bool TryRead(string? q, string? cursor, string? limit, out string query, out SearchCursor? after, out int take, out ProblemHttpResult? problem)
    {
        query = q?.Trim() ?? "";
        after = null;
        take = 0;
        if (query.Length == 0)
        {
            problem = Problems.Invalid("q", "q is required: the words to search for (quotes for a phrase, or, -word to exclude).");
            return false;
        }
        if (query.Length > SiteSearch.MaxQueryLength)
        {
            problem = Problems.Invalid("q", $"q is longer than {SiteSearch.MaxQueryLength} characters.");
            return false;
        }
        if (!SearchCursor.TryDecode(cursor, out after))
        {
            problem = Problems.Invalid("cursor", "cursor is not one this API returned.");
            return false;
        }
        if (!Problems.TryParseQuery(limit, "limit", 1, MaxLimit, DefaultLimit, out var n, out problem))
        {
            return false;
        }
        take = (int)n;
        return true;
    }

    private static bool TryOptionalId(string? value, string field, out Guid? id, out ProblemHttpResult? problem)
    {
        id = null;
        problem = null;
        if (value is null)
        {
            return true;
        }
        if (!Problems.TryParseId(value, field, out var parsed, out problem))
        {
            return false;
        }
        id = parsed;
        return true;
    }

    public static async Task<Results<Ok<SearchPage<MeetingHit>>, ProblemHttpResult>> SearchMeetings(string? q, string? cityId, string? cursor, string? limit,
        ClaimsPrincipal user, SiteSearch search, CancellationToken ct)
    {
        if (!TryRead(q, cursor, limit, out var query, out var after, out var take, out var problem) || !TryOptionalId(cityId, "cityId", out var city, out problem))
        {
            return problem!;
        }
        return TypedResults.Ok(await search.MeetingsAsync(Caller.From(user).TenantId, query, city, after, take, ct));
    }

    public static async Task<Results<Ok<SearchPage<DecisionHit>>, ProblemHttpResult>> SearchDecisions(string? q, string? cityId, string? cursor, string? limit,
        ClaimsPrincipal user, SiteSearch search, CancellationToken ct)
    {
        if (!TryRead(q, cursor, limit, out var query, out var after, out var take, out var problem) || !TryOptionalId(cityId, "cityId", out var city, out problem))
        {
            return problem!;
        }
        return TypedResults.Ok(await search.DecisionsAsync(Caller.From(user).TenantId, query, city, after, take, ct));
    }

    public static async Task<Results<Ok<SearchPage<MessageHit>>, ProblemHttpResult>> SearchMessages(string? q, string? conversationId, string? cursor, string? limit,
        ClaimsPrincipal user, SiteSearch search, CancellationToken ct)
    {
        if (!TryRead(q, cursor, limit, out var query, out var after, out var take, out var problem) ||
            !TryOptionalId(conversationId, "conversationId", out var conversation, out problem))
        {
            return problem!;
        }
        var caller = Caller.From(user);
        MessageScope scope = caller.Kind switch
        {
            CallerKinds.Tenant => new(),
            CallerKinds.Channel => new(ChannelId: caller.ChannelId),
            // A client token reaches its own conversation only; asking for another finds nothing, as anywhere else.
            CallerKinds.Client => new(ConversationId: conversation is { } c && c != caller.ConversationId ? Guid.Empty : caller.ConversationId),
            _ when user.HasClaim(PlatformClaims.Role, OperatorRole) => new(),
            _ => new(ParticipantId: caller.UserId ?? ""),
        };
        if (conversation is not null && caller.Kind != CallerKinds.Client)
        {
            scope = scope with { ConversationId = conversation };
        }
        return TypedResults.Ok(await search.MessagesAsync(caller.TenantId, query, scope, after, take, ct));
    }

    public static async Task<Results<Ok<SearchPage<MemberHit>>, ProblemHttpResult>> SearchMembers(string? q, string? team, string? cursor, string? limit,
        ClaimsPrincipal user, SiteSearch search, Members members, ProvenanceLedger ledger, CancellationToken ct)
    {
        if (!TryRead(q, cursor, limit, out var query, out var after, out var take, out var problem))
        {
            return problem!;
        }
        var caller = CommunityCaller.From(user);
        if (!caller.IsTenant && !caller.Has(CommunityRoles.CommunityManager) && !caller.Has(CommunityRoles.TeamLead))
        {
            return Problems.Forbidden("This endpoint is for the tenant API key, role community_manager, role team_lead.");
        }
        var (scoped, forbidden) = await CommunityAccess.ScopeTeamAsync(caller, team, members, ct);
        if (forbidden)
        {
            return Problems.Forbidden("A team lead sees only their own team (set in the member directory).");
        }
        var page = await search.MembersAsync(caller.TenantId, query, scoped, after, take, ct);
        // A directory search reads personal data: it is on the record like a directory listing.
        await ledger.AppendAsync(caller.TenantId, new ProvenanceEntry(ProvenanceActions.PersonalDataRead, caller.Actor, null,
            DetailsJson: JsonSerializer.Serialize(new Dictionary<string, object?> { ["resource"] = "community.members.search", ["team"] = scoped, ["count"] = page.Items.Count })), ct);
        return TypedResults.Ok(page);
    }

    public static async Task<Results<Ok<SearchPage<AttendeeHit>>, ProblemHttpResult>> SearchAttendees(string id, string? q, string? cursor, string? limit,
        ClaimsPrincipal user, SiteSearch search, EventsStore store, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var conferenceId, out var problem) || !TryRead(q, cursor, limit, out var query, out var after, out var take, out problem))
        {
            return problem!;
        }
        var tenant = Caller.From(user).TenantId;
        if (await store.FindConferenceAsync(tenant, conferenceId, ct) is null)
        {
            return Problems.NotFound("Conference");
        }
        return TypedResults.Ok(await search.AttendeesAsync(tenant, conferenceId, query, after, take, ct));
    }

    public static async Task<Ok<SearchLanguage>> GetSettings(ClaimsPrincipal user, SiteSearch search, CancellationToken ct) =>
        TypedResults.Ok(new SearchLanguage(await search.LanguageAsync(Caller.From(user).TenantId, ct)));

    public static async Task<Results<Ok<SearchLanguage>, ProblemHttpResult>> PutSettings(HttpRequest request, ClaimsPrincipal user, SiteSearch search, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, SearchJsonContext.Default.SearchLanguage);
        if (problem is not null)
        {
            return problem;
        }
        var known = await search.ConfigurationsAsync(ct);
        if (body!.Language is not { } language || !known.Contains(language))
        {
            return Problems.Invalid("language", $"language must be one of: {string.Join(", ", known)}.");
        }
        await search.SetLanguageAsync(Caller.From(user).TenantId, language, ct);
        return TypedResults.Ok(new SearchLanguage(language));
    }
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[System.Text.Json.Serialization.JsonSerializable(typeof(SearchLanguage))]
public sealed partial class SearchJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
