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

public sealed record CollaboratorFeedbackRequest(string? CandidateId, string? Outcome);

/// <summary>Collaborator recommendations for a member, and the feedback that tunes them.</summary>
public static partial class CommunityApi
{

    /// <summary>The member themselves, a community manager, the tenant, or a team lead of the member's team.</summary>
    private static async Task<bool> MaySeeCollaboratorsOfAsync(CommunityCaller caller, string userId, Members members, CancellationToken ct)
    {
        if (caller.IsTenant || caller.UserId == userId || caller.Has(CommunityRoles.CommunityManager))
        {
            return true;
        }
        if (!caller.Has(CommunityRoles.TeamLead))
        {
            return false;
        }
        var lead = await members.FindAsync(caller.TenantId, caller.UserId!, ct);
        var member = await members.FindAsync(caller.TenantId, userId, ct);
        return lead?.Team is not null && lead.Team == member?.Team;
    }

    public static async Task<Results<Ok<CollaboratorList>, ProblemHttpResult>> RecommendCollaborators(string userId, string? limit, ClaimsPrincipal user,
        Members members, Collaborators collaborators, CancellationToken ct)
    {
        if (!ValidId(userId)) return Problems.Invalid("userId", $"userId must be 1–{MaxId} characters.");
        if (!Problems.TryParseQuery(limit, "limit", 1, 50, 10, out var n, out var problem)) return problem!;
        var caller = CommunityCaller.From(user);
        if (!await MaySeeCollaboratorsOfAsync(caller, userId, members, ct))
        {
            return Problems.Forbidden("Collaborator recommendations are for the member, their team lead, a community manager or the tenant.");
        }
        var list = await collaborators.RecommendAsync(caller.TenantId, userId, (int)n, caller.Actor, ct);
        return list is null ? Problems.NotFound("Member") : TypedResults.Ok(list);
    }

    public static async Task<Results<Created<CollaboratorFeedbackRecorded>, ProblemHttpResult>> CollaboratorFeedback(string userId, HttpRequest request,
        ClaimsPrincipal user, Members members, Collaborators collaborators, CancellationToken ct)
    {
        if (!ValidId(userId)) return Problems.Invalid("userId", $"userId must be 1–{MaxId} characters.");
        var (body, problem) = await JsonBody.ReadAsync(request, CommunityApiJsonContext.Default.CollaboratorFeedbackRequest);
        if (problem is not null) return problem;
        var errors = new Dictionary<string, string[]>();
        if (body!.CandidateId is null || !ValidId(body.CandidateId) || body.CandidateId == userId) errors["candidateId"] = [$"candidateId is required: another member's id of 1–{MaxId} characters."];
        CollaboratorOutcome outcome = default;
        if (body.Outcome is not ("accepted" or "dismissed")) errors["outcome"] = ["outcome must be accepted or dismissed."];
        else outcome = body.Outcome == "accepted" ? CollaboratorOutcome.Accepted : CollaboratorOutcome.Dismissed;
        if (errors.Count > 0) return Problems.Invalid(errors);
        var caller = CommunityCaller.From(user);
        if (!await MaySeeCollaboratorsOfAsync(caller, userId, members, ct))
        {
            return Problems.Forbidden("Collaborator feedback is for the member, their team lead, a community manager or the tenant.");
        }
        var recorded = await collaborators.FeedbackAsync(caller.TenantId, userId, body.CandidateId!, outcome, caller.Actor, ct);
        return recorded is null
            ? Problems.NotFound("Member")
            : TypedResults.Created($"/v1/community/collaborators/{userId}", recorded);
    }
}
