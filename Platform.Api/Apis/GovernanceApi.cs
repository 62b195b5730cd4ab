using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Security;
using Platform.Core.Community;
using Platform.Core.Governance;

namespace Platform.Api.Apis;

public sealed record ConsentRequest(bool? Granted);

public sealed record ConsentList(string UserId, IReadOnlyList<Consent> Consents);

public sealed record ApprovalRequest(string? Kind, string? SubjectUserId, JsonElement? Payload);

public sealed record ApprovalDecided(Approval Approval, ProvenanceRef Provenance);

public sealed record ApprovalList(IReadOnlyList<Approval> Items);

public sealed record SignalCount(string Kind, string Role, long Count);

public sealed record RankingAppearance(string Kind, int Rank, double Score, Guid RankingId, DateTimeOffset ComputedAt);

public sealed record MyData(string UserId, MemberProfile? Profile, IReadOnlyList<Consent> Consents, IReadOnlyList<SignalCount> Signals,
    IReadOnlyList<RankingAppearance> Rankings, IReadOnlyList<Approval> Approvals, IReadOnlyList<Approval> Shares, ProvenanceRef Provenance);

public sealed record MyImpact(string UserId, IReadOnlyList<LearningCatalyst> LearningCatalysts, IReadOnlyList<Innovation.IdeaImpact> Innovation,
    ProvenanceRef Provenance);

public sealed record ProvenancePage(IReadOnlyList<ProvenanceEvent> Items, string? NextCursor);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(ConsentRequest))]
[JsonSerializable(typeof(ApprovalRequest))]
public sealed partial class GovernanceApiJsonContext : JsonSerializerContext;

/// <summary>
/// Consent, approvals, "my data", "my impact" and the provenance ledger. <c>/v1/me/*</c> is the token's own user;
/// the ledger is for compliance officers. Every personal-data read and every decision appends provenance.
/// </summary>
public static class GovernanceApi
{
    public static IEndpointRouteBuilder MapGovernanceApi(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder Group(string prefix, string tag) => app.MapGroup(prefix).WithTags(tag).RequireAuthorization(AuthPolicies.TenantOrUser)
            .AddEndpointFilter<TenantRateLimitFilter>().AddEndpointFilter<CommunityAccess.Filter>()
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        var me = Group("/v1/me", "Me");
        me.MapGet("/consents", ListConsents).WithName("ListMyConsents").Allow(anyUser: true).WithSummary("My consent for every purpose.");
        me.MapGet("/consents/{purpose}", GetConsent).WithName("GetMyConsent").Allow(anyUser: true)
            .WithSummary("My consent for one purpose (recognition, pulse, recommendations, share_profile).").ProducesProblem(StatusCodes.Status400BadRequest);
        me.MapPut("/consents/{purpose}", PutConsent).WithName("PutMyConsent").Allow(anyUser: true)
            .WithSummary("Grant or withdraw consent for one purpose: {granted: true|false}.").Accepts<ConsentRequest>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        me.MapGet("/data", MyDataHandler).WithName("GetMyData").Allow(anyUser: true)
            .WithSummary("What is stored about me, what is shared and with whom, and my consents.");
        me.MapGet("/impact", MyImpactHandler).WithName("GetMyImpact").Allow(anyUser: true)
            .WithSummary("Where my contributions catalysed learning or innovation.");
        me.MapGet("/approvals", MyApprovals).WithName("ListMyApprovals").Allow(anyUser: true).WithSummary("Approvals about me (pending and decided).");

        var approvals = Group("/v1/approvals", "Approvals");
        approvals.MapPost("/request", RequestApproval).WithName("RequestApproval").Allow(anyUser: true)
            .WithSummary("Ask for approval of an outbound share or nudge: {kind, subjectUserId, payload}; it stays pending until decided.")
            .Accepts<ApprovalRequest>("application/json").ProducesProblem(StatusCodes.Status400BadRequest);
        approvals.MapPost("/{id}/approve", Approve).WithName("ApproveRequest").Allow(anyUser: true)
            .WithSummary("Approve (the subject, or a role the kind names).").ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        approvals.MapPost("/{id}/deny", Deny).WithName("DenyRequest").Allow(anyUser: true)
            .WithSummary("Deny (the subject, or a role the kind names).").ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        approvals.MapGet("/{id}/execution", NudgeExecutionHandler).WithName("GetNudgeExecution").Allow(anyUser: true)
            .WithSummary("What an approved nudge did (sent its message, created the collaboration space, or skipped and why): the subject, the requester or a community manager; 404 until it has run.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);

        var provenance = Group("/v1/provenance", "Provenance");
        provenance.MapGet("/events", ListEvents).WithName("ListProvenanceEvents").Allow(false, false, CommunityRoles.ComplianceOfficer)
            .WithSummary("The tenant's provenance events in chain order (?subjectId=&action=&from=&to=&cursor=&limit=).")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        provenance.MapGet("/verify", Verify).WithName("VerifyProvenance").Allow(false, false, CommunityRoles.ComplianceOfficer)
            .WithSummary("Recompute the tenant's hash chain: {ok, checked, firstBrokenEventId}.");
        return app;
    }

    public static async Task<Ok<ConsentList>> ListConsents(ClaimsPrincipal user, Consents consents, CancellationToken ct)
    {
        var caller = CommunityCaller.From(user);
        return TypedResults.Ok(new ConsentList(caller.UserId!, await consents.OfAsync(caller.TenantId, caller.UserId!, ct)));
    }

    public static async Task<Results<Ok<Consent>, ProblemHttpResult>> GetConsent(string purpose, ClaimsPrincipal user, Consents consents, CancellationToken ct)
    {
        if (!ConsentPurposes.All.Contains(purpose)) return Problems.Invalid("purpose", $"purpose must be one of {string.Join(", ", ConsentPurposes.All)}.");
        var caller = CommunityCaller.From(user);
        return TypedResults.Ok((await consents.OfAsync(caller.TenantId, caller.UserId!, ct)).Single(c => c.Purpose == purpose));
    }

    public static async Task<Results<Ok<Consent>, ProblemHttpResult>> PutConsent(string purpose, HttpRequest request, ClaimsPrincipal user,
        Consents consents, ProvenanceLedger ledger, CancellationToken ct)
    {
        if (!ConsentPurposes.All.Contains(purpose)) return Problems.Invalid("purpose", $"purpose must be one of {string.Join(", ", ConsentPurposes.All)}.");
        var (body, problem) = await JsonBody.ReadAsync(request, GovernanceApiJsonContext.Default.ConsentRequest);
        if (problem is not null) return problem;
        if (body!.Granted is not { } granted) return Problems.Invalid("granted", "granted (true or false) is required.");
        var caller = CommunityCaller.From(user);
        var consent = await consents.SetAsync(caller.TenantId, caller.UserId!, purpose, granted, ct);
        await ledger.AppendAsync(caller.TenantId, new ProvenanceEntry(ProvenanceActions.ConsentChanged, caller.Actor, caller.UserId,
            DetailsJson: JsonSerializer.Serialize(new Dictionary<string, object> { ["purpose"] = purpose, ["granted"] = granted })), ct);
        return TypedResults.Ok(consent);
    }

    public static async Task<Ok<MyData>> MyDataHandler(ClaimsPrincipal user, [AsParameters] CommunityServices services, Signals signals,
        ChampionScoring scoring, CancellationToken ct)
    {
        var caller = CommunityCaller.From(user);
        var userId = caller.UserId!;
        var profile = await services.Members.FindAsync(caller.TenantId, userId, ct);
        var consents = await services.Consents.OfAsync(caller.TenantId, userId, ct);
        var counts = await signals.CountsOfAsync(caller.TenantId, userId, ct);
        var ranking = await scoring.LatestAsync(caller.TenantId, ct);
        var appearances = new List<RankingAppearance>();
        if (ranking is not null)
        {
            foreach (var (kind, list) in new[] { ("champion", ranking.Champions), ("connector", ranking.Connectors) })
            {
                if (list.FirstOrDefault(e => e.UserId == userId) is { } entry)
                    appearances.Add(new RankingAppearance(kind, entry.Rank, entry.Score, ranking.Id, ranking.ComputedAt));
            }
        }
        var approvals = await services.Approvals.OfSubjectAsync(caller.TenantId, userId, ct);
        var e = await services.Ledger.AppendAsync(caller.TenantId, new ProvenanceEntry(ProvenanceActions.PersonalDataRead, caller.Actor, userId,
            DetailsJson: JsonSerializer.Serialize(new Dictionary<string, string> { ["resource"] = "me.data" })), ct);
        return TypedResults.Ok(new MyData(userId, profile, consents, [.. counts.Select(c => new SignalCount(c.Kind, c.Role, c.Count))], appearances, approvals,
            [.. approvals.Where(a => a.Status == "approved" && a.Kind == ApprovalKinds.ProfileShare)], ProvenanceLedger.RefOf(e)));
    }

    public static async Task<Ok<MyImpact>> MyImpactHandler(ClaimsPrincipal user, LearningCatalysts catalysts, Innovation innovation,
        ProvenanceLedger ledger, CancellationToken ct)
    {
        var caller = CommunityCaller.From(user);
        var learning = await catalysts.ListAsync(caller.TenantId, null, caller.UserId, 200, ct);
        var ideas = await innovation.ImpactOfAsync(caller.TenantId, caller.UserId!, ct);
        var e = await ledger.AppendAsync(caller.TenantId, new ProvenanceEntry(ProvenanceActions.PersonalDataRead, caller.Actor, caller.UserId,
            DetailsJson: JsonSerializer.Serialize(new Dictionary<string, string> { ["resource"] = "me.impact" })), ct);
        return TypedResults.Ok(new MyImpact(caller.UserId!, learning, ideas, ProvenanceLedger.RefOf(e)));
    }

    public static async Task<Ok<ApprovalList>> MyApprovals(ClaimsPrincipal user, Approvals approvals, CancellationToken ct)
    {
        var caller = CommunityCaller.From(user);
        return TypedResults.Ok(new ApprovalList(await approvals.OfSubjectAsync(caller.TenantId, caller.UserId!, ct)));
    }

    public static async Task<Results<Created<Approval>, ProblemHttpResult>> RequestApproval(HttpRequest request, ClaimsPrincipal user, Approvals approvals,
        Nudges nudges, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, GovernanceApiJsonContext.Default.ApprovalRequest);
        if (problem is not null) return problem;
        var errors = new Dictionary<string, string[]>();
        if (body!.Kind is null || !ApprovalKinds.DeciderRoles.ContainsKey(body.Kind)) errors["kind"] = [$"kind must be one of {string.Join(", ", ApprovalKinds.DeciderRoles.Keys)}."];
        if (!CommunityApi.ValidId(body.SubjectUserId)) errors["subjectUserId"] = ["subjectUserId is required, 1–256 characters."];
        if (body.Payload is { } p && p.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null)) errors["payload"] = ["payload must be an object."];
        if (body.Payload is { ValueKind: JsonValueKind.Object } big && big.GetRawText().Length > 8192) errors["payload"] = ["payload is at most 8 KiB of JSON."];
        var caller = CommunityCaller.From(user);
        if (errors.Count == 0 && body.Kind == ApprovalKinds.Nudge)
        {
            // A nudge is carried out once approved, so what it does is checked now, before anything is stored.
            var (nudge, nudgeErrors) = NudgePayload.Parse(body.Payload ?? default);
            foreach (var (field, messages) in nudgeErrors) errors[field] = messages;
            if (nudge?.ChannelId is { } channel && !await nudges.ChannelUsableAsync(caller.TenantId, channel, ct))
            {
                errors["payload.channelId"] = ["channelId is not an active channel of this tenant."];
            }
        }
        if (errors.Count > 0) return Problems.Invalid(errors);
        var approval = await approvals.RequestAsync(caller.TenantId, body.Kind!, body.SubjectUserId!, caller.UserId!,
            body.Payload is { ValueKind: JsonValueKind.Object } o ? o.GetRawText() : "{}", ct);
        return TypedResults.Created($"/v1/approvals/{approval.Id}", approval);
    }

    public static Task<Results<Ok<ApprovalDecided>, ProblemHttpResult>> Approve(string id, ClaimsPrincipal user, Approvals approvals, CancellationToken ct) =>
        DecideAsync(id, true, user, approvals, ct);

    public static Task<Results<Ok<ApprovalDecided>, ProblemHttpResult>> Deny(string id, ClaimsPrincipal user, Approvals approvals, CancellationToken ct) =>
        DecideAsync(id, false, user, approvals, ct);

    private static async Task<Results<Ok<ApprovalDecided>, ProblemHttpResult>> DecideAsync(string id, bool approve, ClaimsPrincipal user, Approvals approvals,
        CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var approvalId, out var problem)) return problem!;
        var caller = CommunityCaller.From(user);
        var (outcome, approval, e) = await approvals.DecideAsync(caller.TenantId, approvalId, approve, caller.UserId!, caller.Roles, ct);
        return outcome switch
        {
            ApprovalDecisionOutcome.NotFound => Problems.NotFound("Approval"),
            ApprovalDecisionOutcome.Forbidden => Problems.Forbidden("Only the subject, or a role this kind of approval names, may decide it."),
            ApprovalDecisionOutcome.AlreadyDecided => TypedResults.Problem(new Microsoft.AspNetCore.Mvc.ProblemDetails
            {
                Status = StatusCodes.Status409Conflict, Type = "urn:platform:problem:already-decided", Title = "The approval is already decided.",
                Detail = $"It was {approval!.Status} by {approval.DecidedBy}.",
            }),
            _ => TypedResults.Ok(new ApprovalDecided(approval!, ProvenanceLedger.RefOf(e!))),
        };
    }

    public static async Task<Results<Ok<NudgeExecution>, ProblemHttpResult>> NudgeExecutionHandler(string id, ClaimsPrincipal user, Approvals approvals,
        Nudges nudges, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var approvalId, out var problem)) return problem!;
        var caller = CommunityCaller.From(user);
        var approval = await approvals.FindAsync(caller.TenantId, approvalId, ct);
        if (approval is null || (approval.SubjectUserId != caller.UserId && approval.RequestedBy != caller.UserId && !caller.Has(CommunityRoles.CommunityManager)))
        {
            return Problems.NotFound("Approval");
        }
        return await nudges.FindAsync(caller.TenantId, approvalId, ct) is { } execution ? TypedResults.Ok(execution) : Problems.NotFound("Nudge execution");
    }

    public static async Task<Results<Ok<ProvenancePage>, ProblemHttpResult>> ListEvents(string? subjectId, string? action, string? from, string? to,
        string? cursor, string? limit, ClaimsPrincipal user, ProvenanceLedger ledger, CancellationToken ct)
    {
        if (!Problems.TryParseQuery(limit, "limit", 1, 1000, 100, out var n, out var problem)) return problem!;
        if (!Problems.TryParseQuery(cursor, "cursor", 0, long.MaxValue, 0, out var after, out problem)) return problem!;
        DateTimeOffset? fromAt = null, toAt = null;
        if (from is not null)
        {
            if (!DateTimeOffset.TryParse(from, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var f)) return Problems.Invalid("from", "from must be an ISO 8601 time.");
            fromAt = f;
        }
        if (to is not null)
        {
            if (!DateTimeOffset.TryParse(to, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)) return Problems.Invalid("to", "to must be an ISO 8601 time.");
            toAt = t;
        }
        var caller = CommunityCaller.From(user);
        var (items, next) = await ledger.ListAsync(caller.TenantId, new ProvenanceLedger.Query(subjectId, action, fromAt, toAt, after, (int)n), ct);
        return TypedResults.Ok(new ProvenancePage(items, next?.ToString(CultureInfo.InvariantCulture)));
    }

    public static async Task<Ok<ChainVerification>> Verify(ClaimsPrincipal user, ProvenanceLedger ledger, CancellationToken ct) =>
        TypedResults.Ok(await ledger.VerifyAsync(CommunityCaller.From(user).TenantId, ct));
}
