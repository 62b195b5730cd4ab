using System.Globalization;
using System.Security.Claims;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using Platform.Api.Security;
using Platform.Core.Community.Algorithms;
using Platform.Core.Community;
using Platform.Core.Governance;
using Platform.Core.Jobs;

namespace Platform.Api.Apis;

public sealed record CatalystOutcomeRequest(string? Kind, string? Description, Guid? IdeaId, string? Metric, double? Value, DateTimeOffset? OccurredAt);

public sealed record LearningGoalsRequest(string[]? Goals);

public sealed record CatalystDetail(CatalystView Catalyst, IReadOnlyList<CatalystOutcome> LinkedOutcomes);

public sealed record LearningRecommendationView(CatalystView Catalyst, double Score, IReadOnlyList<string> MatchedGoals, IReadOnlyList<CatalystOutcome> LinkedOutcomes,
    IReadOnlyList<string> Reasons);

public sealed record LearningRecommendationPage(string UserId, IReadOnlyList<string> Goals, string Algorithm, IReadOnlyList<LearningRecommendationView> Items,
    ProvenanceRef Provenance);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(CatalystOutcomeRequest))]
[JsonSerializable(typeof(LearningGoalsRequest))]
public sealed partial class CommunityLearningJsonContext : JsonSerializerContext;

/// <summary>Learning catalysts linked to their outcomes, members' learning goals and the catalysts recommended for them.</summary>
public static partial class CommunityApi
{
    /// <summary>Catalysts considered for recommendations: the newest this many.</summary>
    public const int RecommendationPool = 2000;

    private static void MapLearningOutcomes(RouteGroupBuilder learning)
    {
        learning.MapGet("/catalysts/{id}", GetCatalyst).WithName("GetCatalyst").Allow(anyUser: true)
            .WithSummary("A learning event with the outcomes linked to it (ideas with their adoptions, skills, projects, metrics).")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        learning.MapPost("/catalysts/{id}/outcomes", LinkOutcome).WithName("LinkCatalystOutcome").Allow(false, false, CommunityRoles.CommunityManager)
            .WithSummary("Link an outcome to a learning event: {kind: idea|skill|project|metric|other, description, ideaId (kind idea), metric?, value?, occurredAt?}.")
            .Accepts<CatalystOutcomeRequest>("application/json").ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        learning.MapGet("/goals", GetGoals).WithName("GetLearningGoals").Allow(anyUser: true).WithSummary("My learning goals.");
        learning.MapPut("/goals", PutGoals).WithName("PutLearningGoals").Allow(anyUser: true)
            .WithSummary("Set my learning goals: {goals: [up to 20 tags]}; recommendations match catalyst tags against them.")
            .Accepts<LearningGoalsRequest>("application/json").ProducesProblem(StatusCodes.Status400BadRequest);
        learning.MapGet("/recommendations", RecommendLearning).WithName("RecommendLearning").Allow(anyUser: true)
            .WithSummary("Learning events matching my goals, with reasons (?limit=; ?userId= for a community manager). Needs the person's recommendations consent.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static CatalystView View(LearningCatalyst c, HashSet<string> granted) => new(c.Id, c.Title, c.Tags,
        [.. c.Contributors.Where(granted.Contains)], c.Contributors.Count(x => !granted.Contains(x)), c.Outcomes, c.OccurredAt, c.CreatedAt);

    public static async Task<Results<Ok<CatalystDetail>, ProblemHttpResult>> GetCatalyst(string id, ClaimsPrincipal user, LearningCatalysts catalysts,
        LearningOutcomes outcomes, Consents consents, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var catalystId, out var problem)) return problem!;
        var caller = CommunityCaller.From(user);
        if (await catalysts.FindAsync(caller.TenantId, catalystId, ct) is not { } c) return Problems.NotFound("Catalyst");
        var granted = await consents.GrantedAsync(caller.TenantId, ConsentPurposes.Recognition, c.Contributors, ct);
        return TypedResults.Ok(new CatalystDetail(View(c, granted), await outcomes.OfAsync(caller.TenantId, [catalystId], ct)));
    }

    public static async Task<Results<Created<CatalystOutcome>, ProblemHttpResult>> LinkOutcome(string id, HttpRequest request, ClaimsPrincipal user,
        LearningOutcomes outcomes, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var catalystId, out var idProblem)) return idProblem!;
        var (body, problem) = await JsonBody.ReadAsync(request, CommunityLearningJsonContext.Default.CatalystOutcomeRequest);
        if (problem is not null) return problem;
        var errors = new Dictionary<string, string[]>();
        if (body!.Kind is null || !CatalystOutcomeKinds.All.Contains(body.Kind)) errors["kind"] = [$"kind must be one of {string.Join(", ", CatalystOutcomeKinds.All)}."];
        if (string.IsNullOrWhiteSpace(body.Description) || body.Description.Length > 2000) errors["description"] = ["description is required, at most 2000 characters."];
        if (body.Kind == CatalystOutcomeKinds.Idea && body.IdeaId is null) errors["ideaId"] = ["An idea outcome names its ideaId."];
        if (body.Kind is not null && body.Kind != CatalystOutcomeKinds.Idea && body.IdeaId is not null) errors["ideaId"] = ["ideaId belongs to kind idea only."];
        if (body.Metric is { Length: 0 or > 200 }) errors["metric"] = ["metric is 1–200 characters when present."];
        if (body.Value is { } v && !double.IsFinite(v)) errors["value"] = ["value must be a finite number."];
        if (body.OccurredAt > DateTimeOffset.UtcNow.AddMinutes(5)) errors["occurredAt"] = ["occurredAt is in the future."];
        if (errors.Count > 0) return Problems.Invalid(errors);
        var caller = CommunityCaller.From(user);
        var (outcome, linked) = await outcomes.LinkAsync(caller.TenantId, catalystId,
            new NewCatalystOutcome(body.Kind!, body.Description!.Trim(), body.IdeaId, body.Metric, body.Value, body.OccurredAt ?? DateTimeOffset.UtcNow), caller.Actor, ct);
        return outcome switch
        {
            Platform.Core.Community.LinkOutcome.CatalystNotFound => Problems.NotFound("Catalyst"),
            Platform.Core.Community.LinkOutcome.IdeaNotFound => Problems.Invalid("ideaId", "ideaId is not an idea of this tenant."),
            _ => TypedResults.Created($"/v1/learning/catalysts/{catalystId}", linked!),
        };
    }

    public static async Task<Ok<LearningGoals>> GetGoals(ClaimsPrincipal user, LearningOutcomes outcomes, CancellationToken ct)
    {
        var caller = CommunityCaller.From(user);
        return TypedResults.Ok(await outcomes.GoalsAsync(caller.TenantId, caller.UserId!, ct));
    }

    public static async Task<Results<Ok<LearningGoals>, ProblemHttpResult>> PutGoals(HttpRequest request, ClaimsPrincipal user, LearningOutcomes outcomes,
        CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, CommunityLearningJsonContext.Default.LearningGoalsRequest);
        if (problem is not null) return problem;
        if (body!.Goals is null || body.Goals.Length > LearningOutcomes.MaxGoals || body.Goals.Any(g => string.IsNullOrWhiteSpace(g) || g.Length > 100))
        {
            return Problems.Invalid("goals", $"goals is a list of at most {LearningOutcomes.MaxGoals} tags of 1–100 characters.");
        }
        var caller = CommunityCaller.From(user);
        var goals = body.Goals.Select(LearningMatcher.Normalise).Distinct(StringComparer.Ordinal).ToArray();
        return TypedResults.Ok(await outcomes.SetGoalsAsync(caller.TenantId, caller.UserId!, goals, ct));
    }

    public static async Task<Results<Ok<LearningRecommendationPage>, ProblemHttpResult>> RecommendLearning(string? userId, string? limit, ClaimsPrincipal user,
        LearningCatalysts catalysts, LearningOutcomes outcomes, Consents consents, ProvenanceLedger ledger, TimeProvider time, CancellationToken ct)
    {
        if (!Problems.TryParseQuery(limit, "limit", 1, 100, 10, out var n, out var problem)) return problem!;
        var caller = CommunityCaller.From(user);
        var subject = userId ?? caller.UserId!;
        if (!ValidId(subject)) return Problems.Invalid("userId", $"userId must be 1–{MaxId} characters.");
        if (subject != caller.UserId && !caller.Has(CommunityRoles.CommunityManager))
        {
            return Problems.Forbidden("Only a community manager asks for someone else's recommendations.");
        }
        // Recommendations made to a person need their recommendations consent; without it nothing is computed.
        if (!await consents.IsGrantedAsync(caller.TenantId, subject, ConsentPurposes.Recommendations, ct))
        {
            return TypedResults.Problem(new ProblemDetails
            {
                Status = StatusCodes.Status403Forbidden, Type = "urn:platform:problem:consent-required", Title = "Consent required.",
                Detail = $"{subject} has not consented to recommendations (PUT /v1/me/consents/recommendations {{\"granted\": true}}).",
            });
        }
        var goals = await outcomes.GoalsAsync(caller.TenantId, subject, ct);
        var pool = await catalysts.ListAsync(caller.TenantId, null, null, RecommendationPool, ct);
        var linked = await outcomes.OfAsync(caller.TenantId, [.. pool.Select(c => c.Id)], ct);
        var now = time.GetUtcNow();
        var picked = LearningMatcher.Recommend(subject, goals.Goals, pool, linked, now, (int)n);
        var granted = await consents.GrantedAsync(caller.TenantId, ConsentPurposes.Recognition, [.. picked.SelectMany(p => p.Catalyst.Contributors).Distinct()], ct);
        var e = await ledger.AppendAsync(caller.TenantId, new ProvenanceEntry(ProvenanceActions.Recommendation, caller.Actor, subject, "learning-match",
            LearningMatcher.Version, JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["resource"] = "learning.recommendations", ["goals"] = goals.Goals, ["candidates"] = pool.Count,
                ["returned"] = picked.Select(p => new Dictionary<string, object> { ["catalystId"] = p.Catalyst.Id, ["score"] = p.Score }).ToArray(),
            }), now), ct);
        return TypedResults.Ok(new LearningRecommendationPage(subject, goals.Goals, LearningMatcher.Version,
            [.. picked.Select(p => new LearningRecommendationView(View(p.Catalyst, granted), p.Score, p.MatchedGoals, p.Outcomes, p.Reasons))],
            ProvenanceLedger.RefOf(e)));
    }


    public static async Task<Results<Created<CatalystView>, ProblemHttpResult>> CreateCatalyst(HttpRequest request, ClaimsPrincipal user,
        LearningCatalysts catalysts, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, CommunityApiJsonContext.Default.CatalystRequest);
        if (problem is not null) return problem;
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(body!.Title) || body.Title.Length > 500) errors["title"] = ["title is required, at most 500 characters."];
        if (body.Tags is { Length: > 50 } || body.Tags?.Any(t => string.IsNullOrWhiteSpace(t) || t.Length > 100) == true) errors["tags"] = ["At most 50 tags of 1–100 characters."];
        if (body.Contributors is { Length: > 1000 } || body.Contributors?.Any(c => !ValidId(c)) == true) errors["contributors"] = ["At most 1000 user ids."];
        if (body.Outcomes is { } o && o.ValueKind is not (JsonValueKind.Array or JsonValueKind.Null)) errors["outcomes"] = ["outcomes must be an array."];
        if (errors.Count > 0) return Problems.Invalid(errors);
        var caller = CommunityCaller.From(user);
        var outcomes = body.Outcomes is { ValueKind: JsonValueKind.Array } arr ? arr.GetRawText() : "[]";
        var c = await catalysts.CreateAsync(caller.TenantId, body.Title!.Trim(), body.Tags ?? [], body.Contributors?.Distinct().ToArray() ?? [], outcomes,
            body.OccurredAt ?? DateTimeOffset.UtcNow, caller.UserId!, ct);
        return TypedResults.Created($"/v1/learning/catalysts/{c.Id}", new CatalystView(c.Id, c.Title, c.Tags, c.Contributors, 0, c.Outcomes, c.OccurredAt, c.CreatedAt));
    }

    public static async Task<Results<Ok<CatalystPage>, ProblemHttpResult>> ListCatalysts(string? tag, string? limit, ClaimsPrincipal user,
        LearningCatalysts catalysts, Consents consents, CancellationToken ct)
    {
        if (!Problems.TryParseQuery(limit, "limit", 1, 200, 50, out var n, out var problem)) return problem!;
        var caller = CommunityCaller.From(user);
        var items = await catalysts.ListAsync(caller.TenantId, tag, null, (int)n, ct);
        var granted = await consents.GrantedAsync(caller.TenantId, ConsentPurposes.Recognition, [.. items.SelectMany(i => i.Contributors).Distinct()], ct);
        return TypedResults.Ok(new CatalystPage([.. items.Select(c => new CatalystView(c.Id, c.Title, c.Tags,
            [.. c.Contributors.Where(granted.Contains)], c.Contributors.Count(x => !granted.Contains(x)), c.Outcomes, c.OccurredAt, c.CreatedAt))]));
    }
}
