using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Platform.Api.Security;
using Platform.Core.Community;
using Platform.Core.Community.Algorithms;
using Platform.Core.Governance;
using Platform.Core.Jobs;

namespace Platform.Api.Apis;

public sealed record MemberRequest(string? DisplayName, string? Team, string? Org, string? Cohort, string[]? Skills, string[]? Roles);

public sealed record SignalInput(string? Kind, string? ActorId, string? TargetId, string? Team, DateTimeOffset? OccurredAt, double? Weight, string? SourceRef, string? Text);

public sealed record SignalBatch(SignalInput[]? Signals);

public sealed record SignalsAccepted(int Received, int Stored, int Duplicates);

public sealed record MemberPage(IReadOnlyList<MemberProfile> Members, string? Next);

public sealed record SurveyRequest(string? Title, string? Team);

public sealed record SurveyResponseRequest(int[]? Answers);

public sealed record SurveyResponseAccepted(Guid SurveyId, string RespondentId);

public sealed record CatalystRequest(string? Title, string[]? Tags, string[]? Contributors, JsonElement? Outcomes, DateTimeOffset? OccurredAt);

public sealed record CatalystView(Guid Id, string Title, IReadOnlyList<string> Tags, IReadOnlyList<string> Contributors, int OtherContributors,
    JsonElement Outcomes, DateTimeOffset OccurredAt, DateTimeOffset CreatedAt);

public sealed record CatalystPage(IReadOnlyList<CatalystView> Items);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(MemberRequest))]
[JsonSerializable(typeof(SignalBatch))]
[JsonSerializable(typeof(SurveyRequest))]
[JsonSerializable(typeof(SurveyResponseRequest))]
[JsonSerializable(typeof(CatalystRequest))]
[JsonSerializable(typeof(IdeaRequest))]
[JsonSerializable(typeof(CollaboratorFeedbackRequest))]
[JsonSerializable(typeof(AdoptionRequest))]
[JsonSerializable(typeof(DiscoverResult))]
public sealed partial class CommunityApiJsonContext : JsonSerializerContext;

public sealed record CommunityServices(Members Members, Consents Consents, Approvals Approvals, ProvenanceLedger Ledger, ILogger<CommunityCaller> Logger);

/// <summary>
/// Convener: member directory, signals, champion/connector discovery, pulse, learning catalysts and
/// innovation spread. Who may call what is on each endpoint (<see cref="CommunityAccess.Allow"/>); every answer
/// that exposes people goes through the consent check and appends provenance.
/// </summary>
public static partial class CommunityApi
{
    private const int MaxId = 256;

    public static IEndpointRouteBuilder MapCommunityApi(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder Group(string prefix, string tag) => app.MapGroup(prefix).WithTags(tag).RequireAuthorization(AuthPolicies.TenantOrUser)
            .AddEndpointFilter<TenantRateLimitFilter>().AddEndpointFilter<CommunityAccess.Filter>()
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        var community = Group("/v1/community", "Community");
        community.MapPut("/members/{userId}", PutMember).WithName("PutMember").Allow(tenant: true)
            .WithSummary("Create or replace a member's directory entry (tenant API key).").Accepts<MemberRequest>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        community.MapGet("/members/{userId}", GetMember).WithName("GetMember").Allow(tenant: true, anyUser: true)
            .WithSummary("A member's directory entry: the tenant, the member, a community manager, or anyone the member shares their profile with.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        community.MapGet("/members", ListMembers).WithName("ListMembers").Allow(true, false, CommunityRoles.CommunityManager)
            .WithSummary("Page through the directory (?team=&after=&limit=).").ProducesProblem(StatusCodes.Status400BadRequest);
        community.MapPost("/signals", PostSignals).WithName("PostSignals").Allow(tenant: true)
            .WithSummary("Store up to 1,000 interaction signals; a repeated sourceRef stores nothing.").Accepts<SignalBatch>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        community.MapGet("/collaborators/{userId}", RecommendCollaborators).WithName("RecommendCollaborators").Allow(tenant: true, anyUser: true)
            .WithSummary("Collaborator recommendations for a member (?limit=) from expertise and participation, with reasons and provenance: "
                + "the member, their team lead, a community manager or the tenant; only among members who consented to recommendations.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        community.MapPost("/collaborators/{userId}/feedback", CollaboratorFeedback).WithName("CollaboratorFeedback").Allow(tenant: true, anyUser: true)
            .WithSummary("Accept or dismiss a recommended collaborator: the pair is not shown again and the tenant's ranking weights move.")
            .Accepts<CollaboratorFeedbackRequest>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);

        var champions = Group("/v1/champions", "Champions");
        champions.MapGet("/discover", Discover).WithName("DiscoverChampions").Allow(false, false, CommunityRoles.CommunityManager, CommunityRoles.TeamLead)
            .WithSummary("Ranked champions or connectors (?kind=champion|connector&team=&limit=) with components, why and provenance.")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        champions.MapPost("/refresh", Refresh).WithName("RefreshChampions").Allow(false, false, CommunityRoles.CommunityManager)
            .WithSummary("Recompute the ranking now (a job); 202 with the job id.");

        var pulse = Group("/v1/pulse", "Pulse");
        pulse.MapGet("/aggregate", Aggregate).WithName("PulseAggregate").Allow(false, false, CommunityRoles.CommunityManager, CommunityRoles.TeamLead)
            .WithSummary("Engagement, sentiment, psychological safety, trend and risk flags per team, org or cohort (k-anonymity floor 5).")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        pulse.MapPost("/surveys", CreateSurvey).WithName("CreateSurvey").Allow(false, false, CommunityRoles.CommunityManager, CommunityRoles.TeamLead)
            .WithSummary("Open an Edmondson 7-item psychological safety survey.").Accepts<SurveyRequest>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        pulse.MapPost("/surveys/{id}/responses", RespondToSurvey).WithName("RespondToSurvey").Allow(anyUser: true)
            .WithSummary("Answer a survey as the token's user: seven answers 1–7.").Accepts<SurveyResponseRequest>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);

        var learning = Group("/v1/learning", "Learning");
        learning.MapPost("/catalysts", CreateCatalyst).WithName("CreateCatalyst").Allow(false, false, CommunityRoles.CommunityManager)
            .WithSummary("Record a curated learning event with tags, contributors and outcomes.").Accepts<CatalystRequest>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        learning.MapGet("/catalysts", ListCatalysts).WithName("ListCatalysts").Allow(anyUser: true)
            .WithSummary("Learning events, newest first (?tag=&limit=); contributors without recognition consent are only counted.");
        MapLearningOutcomes(learning);

        var innovation = Group("/v1/innovation", "Innovation");
        innovation.MapPost("/ideas", CreateIdea).WithName("CreateIdea").Allow(anyUser: true)
            .WithSummary("Record an idea; the token's user is its originator.").Accepts<IdeaRequest>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        innovation.MapPost("/ideas/{id}/adoptions", Adopt).WithName("AdoptIdea").Allow(anyUser: true)
            .WithSummary("Record that adopterId took up the idea from sourceAdopterId (default: from the originator).")
            .Accepts<AdoptionRequest>("application/json").ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        innovation.MapGet("/spread", Spread).WithName("IdeaSpread").Allow(false, false, CommunityRoles.CommunityManager, CommunityRoles.TeamLead)
            .WithSummary("Lineage tree, reach, depth and structural virality of an idea (?ideaId=).")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    // ---------- directory ----------

    public static async Task<Results<Ok<MemberProfile>, Created<MemberProfile>, ProblemHttpResult>> PutMember(string userId, HttpRequest request,
        ClaimsPrincipal user, Members members, CancellationToken ct)
    {
        if (!ValidId(userId))
        {
            return Problems.Invalid("userId", $"userId must be 1–{MaxId} characters.");
        }
        var (body, problem) = await JsonBody.ReadAsync(request, CommunityApiJsonContext.Default.MemberRequest);
        if (problem is not null) return problem;
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(body!.DisplayName) || body.DisplayName.Length > MaxId) errors["displayName"] = [$"displayName is required, at most {MaxId} characters."];
        foreach (var (field, value) in new[] { ("team", body.Team), ("org", body.Org), ("cohort", body.Cohort) })
        {
            if (value is not null && (value.Length == 0 || value.Length > MaxId)) errors[field] = [$"{field} must be 1–{MaxId} characters when present."];
        }
        if (body.Skills is { Length: > 100 } || body.Skills?.Any(s => string.IsNullOrWhiteSpace(s) || s.Length > 100) == true) errors["skills"] = ["At most 100 skills of 1–100 characters."];
        if (body.Roles?.FirstOrDefault(r => !CommunityRoles.All.Contains(r)) is { } bad) errors["roles"] = [$"Unknown role '{bad}'; roles are {string.Join(", ", CommunityRoles.All)}."];
        if (errors.Count > 0) return Problems.Invalid(errors);
        var caller = CommunityCaller.From(user);
        var (member, created) = await members.UpsertAsync(caller.TenantId, userId, body.DisplayName!.Trim(), body.Team, body.Org, body.Cohort,
            body.Skills ?? [], body.Roles?.Distinct().ToArray() ?? [], ct);
        return created ? TypedResults.Created($"/v1/community/members/{Uri.EscapeDataString(userId)}", member) : TypedResults.Ok(member);
    }

    public static async Task<Results<Ok<MemberProfile>, ProblemHttpResult>> GetMember(string userId, ClaimsPrincipal user,
        [AsParameters] CommunityServices services, CancellationToken ct)
    {
        var caller = CommunityCaller.From(user);
        var member = await services.Members.FindAsync(caller.TenantId, userId, ct);
        if (member is null) return Problems.NotFound("Member");
        // The policy check: someone else's profile needs their share_profile consent or an approved share to this caller.
        if (!caller.IsTenant && caller.UserId != userId && !caller.Has(CommunityRoles.CommunityManager) &&
            !await services.Consents.IsGrantedAsync(caller.TenantId, userId, ConsentPurposes.ShareProfile, ct) &&
            !(await services.Approvals.OfSubjectAsync(caller.TenantId, userId, ct)).Any(a => a is { Kind: ApprovalKinds.ProfileShare, Status: "approved" } &&
                a.Payload.ValueKind == JsonValueKind.Object && a.Payload.TryGetProperty("recipientId", out var r) && r.ValueKind == JsonValueKind.String &&
                r.GetString() == caller.UserId))
        {
            return Problems.Forbidden("This member has not shared their profile with you (consent share_profile or an approved profile_share).");
        }
        await services.Ledger.AppendAsync(caller.TenantId, new ProvenanceEntry(ProvenanceActions.PersonalDataRead, caller.Actor, userId,
            DetailsJson: JsonSerializer.Serialize(new Dictionary<string, string> { ["resource"] = "community.member" })), ct);
        return TypedResults.Ok(member);
    }

    public static async Task<Results<Ok<MemberPage>, ProblemHttpResult>> ListMembers(string? team, string? after, string? limit, ClaimsPrincipal user,
        [AsParameters] CommunityServices services, CancellationToken ct)
    {
        if (!Problems.TryParseQuery(limit, "limit", 1, 1000, 100, out var n, out var problem)) return problem!;
        var caller = CommunityCaller.From(user);
        var (items, next) = await services.Members.ListAsync(caller.TenantId, team, after, (int)n, ct);
        await services.Ledger.AppendAsync(caller.TenantId, new ProvenanceEntry(ProvenanceActions.PersonalDataRead, caller.Actor, null,
            DetailsJson: JsonSerializer.Serialize(new Dictionary<string, object?> { ["resource"] = "community.members", ["team"] = team, ["count"] = items.Count })), ct);
        return TypedResults.Ok(new MemberPage(items, next));
    }

    // ---------- signals ----------

    public static async Task<Results<Ok<SignalsAccepted>, ProblemHttpResult>> PostSignals(HttpRequest request, ClaimsPrincipal user, Signals signals,
        CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, CommunityApiJsonContext.Default.SignalBatch);
        if (problem is not null) return problem;
        var list = body!.Signals;
        if (list is null || list.Length == 0) return Problems.Invalid("signals", "signals must be a non-empty array.");
        if (list.Length > Signals.MaxBatch) return Problems.Invalid("signals", $"At most {Signals.MaxBatch} signals per request.");
        var errors = new Dictionary<string, string[]>();
        var batch = new List<SignalRecord>(list.Length);
        for (var i = 0; i < list.Length; i++)
        {
            var s = list[i];
            var at = $"signals[{i}]";
            if (s is null) { errors[at] = ["A signal must be an object."]; continue; }
            if (s.Kind is null || !SignalKinds.ByName.ContainsKey(s.Kind)) errors[$"{at}.kind"] = [$"kind must be one of {string.Join(", ", SignalKinds.ByName.Keys)}."];
            if (!ValidId(s.ActorId)) errors[$"{at}.actorId"] = [$"actorId is required, 1–{MaxId} characters."];
            if (s.TargetId is not null && !ValidId(s.TargetId)) errors[$"{at}.targetId"] = [$"targetId must be 1–{MaxId} characters."];
            if (s.Kind is not null && SignalKinds.NeedsTarget(s.Kind) && s.TargetId is null) errors[$"{at}.targetId"] = [$"A {s.Kind} needs a targetId."];
            if (s.Team is not null && !ValidId(s.Team)) errors[$"{at}.team"] = [$"team must be 1–{MaxId} characters."];
            if (s.OccurredAt is null) errors[$"{at}.occurredAt"] = ["occurredAt is required (ISO 8601 with offset)."];
            else if (s.OccurredAt > DateTimeOffset.UtcNow.AddMinutes(5)) errors[$"{at}.occurredAt"] = ["occurredAt is in the future."];
            if (s.Weight is { } w && (!double.IsFinite(w) || w <= 0 || w > 100)) errors[$"{at}.weight"] = ["weight must be > 0 and ≤ 100."];
            if (s.SourceRef is not null && !ValidId(s.SourceRef)) errors[$"{at}.sourceRef"] = [$"sourceRef must be 1–{MaxId} characters."];
            if (s.Text is { Length: > 32768 }) errors[$"{at}.text"] = ["text is at most 32768 characters."];
            if (errors.Count > 20) break;
        }
        if (errors.Count > 0) return Problems.Invalid(errors);
        foreach (var s in list)
        {
            // Text is scored for sentiment and dropped: the signal keeps the score, never the words.
            batch.Add(new SignalRecord(s.Kind!, s.ActorId!, s.TargetId, s.Team, s.OccurredAt!.Value, s.Weight, s.SourceRef,
                s.Text is null ? null : Platform.Core.Community.Algorithms.SentimentScorer.Score(s.Text).Compound));
        }
        var stored = await signals.AppendAsync(CommunityCaller.From(user).TenantId, batch, ct);
        return TypedResults.Ok(new SignalsAccepted(list.Length, stored, list.Length - stored));
    }

    // ---------- champions ----------

    public static async Task<Results<Ok<DiscoverResult>, ProblemHttpResult>> Discover(string? team, string? kind, string? limit, ClaimsPrincipal user,
        ChampionDiscovery discovery, [AsParameters] CommunityServices services, CancellationToken ct)
    {
        kind ??= "champion";
        if (kind is not ("champion" or "connector")) return Problems.Invalid("kind", "kind must be champion or connector.");
        if (!Problems.TryParseQuery(limit, "limit", 1, 100, 20, out var n, out var problem)) return problem!;
        var caller = CommunityCaller.From(user);
        // Only managers may get the cached ranking while PostgreSQL is down: a team lead's scope cannot be read then.
        var answer = await discovery.DiscoverAsync(new DiscoverRequest(caller.TenantId, caller.Actor, kind, team, (int)n,
            c => CommunityAccess.ScopeTeamAsync(caller, team, services.Members, c), caller.Has(CommunityRoles.CommunityManager)), ct);
        if (answer.Forbidden) return Problems.Forbidden("A team lead sees only their own team (set in the member directory).");
        if (answer.Unavailable is { } why) return Problems.Unavailable(why);
        return TypedResults.Ok(answer.Result!);
    }

    public static async Task<Accepted<JobAccepted>> Refresh(ClaimsPrincipal user, IJobQueue jobs, CancellationToken ct)
    {
        var caller = CommunityCaller.From(user);
        var job = await jobs.EnqueueAsync(new ScoreChampionsArgs(caller.TenantId, caller.Actor),
            new JobOptions { MaxAttempts = 5, UniqueKey = $"score:{caller.TenantId}" }, ct);
        return TypedResults.Accepted($"/v1/admin/jobs/{job.Id}", new JobAccepted(job.Id));
    }

    internal static bool ValidId(string? id) => !string.IsNullOrWhiteSpace(id) && id.Length <= MaxId;

}

internal static class ProvenanceJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);
}
