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

public sealed record IdeaRequest(string? Title, string? Team);

public sealed record AdoptionRequest(string? AdopterId, string? SourceAdopterId);

public sealed record AdoptionAccepted(Guid IdeaId, string AdopterId, int Adoptions, int NotifiedTeamLeads);

public sealed record SpreadNodeView(string? UserId, string? SourceId, int Depth, DateTimeOffset At);

public sealed record SpreadView(Idea Idea, IReadOnlyList<SpreadNodeView> Lineage, int Reach, int Depth, int MaxBreadth, double StructuralVirality,
    ProvenanceRef Provenance);

/// <summary>Ideas, their adoptions (notifying the team leads of adopters) and how an idea spread.</summary>
public static partial class CommunityApi
{

    public static async Task<Results<Created<Idea>, ProblemHttpResult>> CreateIdea(HttpRequest request, ClaimsPrincipal user, Innovation innovation,
        Members members, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, CommunityApiJsonContext.Default.IdeaRequest);
        if (problem is not null) return problem;
        if (string.IsNullOrWhiteSpace(body!.Title) || body.Title.Length > 500) return Problems.Invalid("title", "title is required, at most 500 characters.");
        if (body.Team is not null && !ValidId(body.Team)) return Problems.Invalid("team", $"team must be 1–{MaxId} characters.");
        var caller = CommunityCaller.From(user);
        var team = body.Team ?? (await members.FindAsync(caller.TenantId, caller.UserId!, ct))?.Team;
        var idea = await innovation.CreateAsync(caller.TenantId, body.Title.Trim(), caller.UserId!, team, ct);
        return TypedResults.Created($"/v1/innovation/ideas/{idea.Id}", idea);
    }

    public static async Task<Results<Created<AdoptionAccepted>, Ok<AdoptionAccepted>, ProblemHttpResult>> Adopt(string id, HttpRequest request,
        ClaimsPrincipal user, Innovation innovation, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var ideaId, out var idProblem)) return idProblem!;
        var (body, problem) = await JsonBody.ReadAsync(request, CommunityApiJsonContext.Default.AdoptionRequest, allowEmpty: true);
        if (problem is not null) return problem;
        var caller = CommunityCaller.From(user);
        var adopter = body?.AdopterId ?? caller.UserId!;
        if (!ValidId(adopter)) return Problems.Invalid("adopterId", $"adopterId must be 1–{MaxId} characters.");
        if (body?.SourceAdopterId is { } src && !ValidId(src)) return Problems.Invalid("sourceAdopterId", $"sourceAdopterId must be 1–{MaxId} characters.");
        if (adopter != caller.UserId && !caller.Has(CommunityRoles.CommunityManager))
        {
            return Problems.Forbidden("Only a community manager records an adoption for someone else.");
        }
        var (outcome, count, notified) = await innovation.AdoptAsync(caller.TenantId, ideaId, adopter, body?.SourceAdopterId, ct);
        return outcome switch
        {
            AdoptionOutcome.IdeaNotFound => Problems.NotFound("Idea"),
            AdoptionOutcome.UnknownSource => Problems.Invalid("sourceAdopterId", "sourceAdopterId has not adopted this idea (nor originated it)."),
            AdoptionOutcome.AlreadyAdopted => TypedResults.Ok(new AdoptionAccepted(ideaId, adopter, count, 0)),
            _ => TypedResults.Created($"/v1/innovation/spread?ideaId={ideaId}", new AdoptionAccepted(ideaId, adopter, count, notified.Count)),
        };
    }

    public static async Task<Results<Ok<SpreadView>, ProblemHttpResult>> Spread(string? ideaId, ClaimsPrincipal user, Innovation innovation,
        [AsParameters] CommunityServices services, CancellationToken ct)
    {
        if (!Problems.TryParseId(ideaId ?? "", "ideaId", out var id, out var idProblem)) return idProblem!;
        var caller = CommunityCaller.From(user);
        var spread = await innovation.SpreadAsync(caller.TenantId, id, ct);
        if (spread is null) return Problems.NotFound("Idea");
        var granted = await services.Consents.GrantedAsync(caller.TenantId, ConsentPurposes.Recognition, [.. spread.Lineage.Select(l => l.UserId)], ct);
        string? Named(string? u) => u is not null && granted.Contains(u) ? u : null;
        var e = await services.Ledger.AppendAsync(caller.TenantId, new ProvenanceEntry("innovation.spread", caller.Actor, null, "structural-virality",
            Platform.Core.Community.Algorithms.StructuralVirality.Version,
            JsonSerializer.Serialize(new Dictionary<string, object?> { ["ideaId"] = id, ["reach"] = spread.Reach, ["depth"] = spread.Depth })), ct);
        return TypedResults.Ok(new SpreadView(spread.Idea, [.. spread.Lineage.Select(l => new SpreadNodeView(Named(l.UserId), Named(l.SourceId), l.Depth, l.At))],
            spread.Reach, spread.Depth, spread.MaxBreadth, spread.StructuralVirality, ProvenanceLedger.RefOf(e)));
    }
}
