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

/// <summary>Pulse: aggregated interaction sentiment by team, org or cohort, and pulse surveys with their anonymous responses.</summary>
public static partial class CommunityApi
{

    public static async Task<Results<Ok<JsonObject>, ProblemHttpResult>> Aggregate(string? groupBy, string? window, string? team, ClaimsPrincipal user,
        Pulse pulse, TimeProvider time, [AsParameters] CommunityServices services, CancellationToken ct)
    {
        groupBy ??= "team";
        if (!Pulse.GroupColumns.ContainsKey(groupBy)) return Problems.Invalid("groupBy", "groupBy must be team, org or cohort.");
        if (!TryParseWindow(window, out var span)) return Problems.Invalid("window", "window is a number of days with a d suffix, 1d–365d (default 30d).");
        var caller = CommunityCaller.From(user);
        var (scoped, forbidden) = await CommunityAccess.ScopeTeamAsync(caller, groupBy == "team" ? team : null, services.Members, ct);
        if (forbidden || (scoped is not null && groupBy != "team" && !caller.Has(CommunityRoles.CommunityManager)))
        {
            return Problems.Forbidden("A team lead sees only their own team's pulse (groupBy=team).");
        }
        var asOf = time.GetUtcNow();
        var result = await pulse.AggregateAsync(caller.TenantId, groupBy, span, asOf, scoped, ct);
        var e = await services.Ledger.AppendAsync(caller.TenantId, new ProvenanceEntry("pulse.aggregate", caller.Actor, null, "pulse", Pulse.Version,
            JsonSerializer.Serialize(new Dictionary<string, object?> { ["groupBy"] = groupBy, ["windowDays"] = span.TotalDays, ["team"] = scoped }), asOf), ct);
        result["provenance"] = JsonSerializer.SerializeToNode(ProvenanceLedger.RefOf(e), ProvenanceJson.Options);
        return TypedResults.Ok(result);
    }

    public static bool TryParseWindow(string? window, out TimeSpan span)
    {
        span = TimeSpan.FromDays(30);
        if (string.IsNullOrEmpty(window)) return true;
        if (window.EndsWith('d') && int.TryParse(window.AsSpan(0, window.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var days) && days is >= 1 and <= 365)
        {
            span = TimeSpan.FromDays(days);
            return true;
        }
        return false;
    }

    public static async Task<Results<Created<Survey>, ProblemHttpResult>> CreateSurvey(HttpRequest request, ClaimsPrincipal user, PulseSurveys surveys,
        CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, CommunityApiJsonContext.Default.SurveyRequest);
        if (problem is not null) return problem;
        if (string.IsNullOrWhiteSpace(body!.Title) || body.Title.Length > 500) return Problems.Invalid("title", "title is required, at most 500 characters.");
        if (body.Team is not null && !ValidId(body.Team)) return Problems.Invalid("team", $"team must be 1–{MaxId} characters.");
        var caller = CommunityCaller.From(user);
        var survey = await surveys.CreateAsync(caller.TenantId, body.Title.Trim(), body.Team, caller.UserId!, ct);
        return TypedResults.Created($"/v1/pulse/surveys/{survey.Id}", survey);
    }

    public static async Task<Results<Created<SurveyResponseAccepted>, ProblemHttpResult>> RespondToSurvey(string id, HttpRequest request, ClaimsPrincipal user,
        PulseSurveys surveys, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var surveyId, out var idProblem)) return idProblem!;
        var (body, problem) = await JsonBody.ReadAsync(request, CommunityApiJsonContext.Default.SurveyResponseRequest);
        if (problem is not null) return problem;
        if (body!.Answers is not { Length: 7 } answers || answers.Any(a => a is < 1 or > 7))
        {
            return Problems.Invalid("answers", "answers must be 7 whole numbers from 1 to 7 (Edmondson's items in order).");
        }
        var caller = CommunityCaller.From(user);
        return await surveys.RespondAsync(caller.TenantId, surveyId, caller.UserId!, answers, ct)
            ? TypedResults.Created($"/v1/pulse/surveys/{surveyId}", new SurveyResponseAccepted(surveyId, caller.UserId!))
            : Problems.NotFound("Survey");
    }
}
