using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Security;
using Platform.Core.Messaging;
using Platform.Core.Security;
using Platform.Core.Tenancy;

namespace Platform.Api.Apis;

/// <summary>What the conversation endpoints need, bundled for <c>[AsParameters]</c>.</summary>
public sealed record ConversationServices(Conversations Conversations, ActivityLog Log, ClientTokens Tokens, RealtimeNodes Nodes);

/// <summary>
/// Conversations and their activities. A tenant API key reaches all the tenant's conversations, a channel
/// secret its channel's, a client token its own; anything else is 404 so no id's existence leaks.
/// </summary>
public static class ConversationsApi
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;

    public static RouteGroupBuilder MapConversationsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/conversations").WithTags("Conversations")
            .AddEndpointFilter<TenantRateLimitFilter>()
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status429TooManyRequests);

        api.MapPost("/", StartConversation).WithName("StartConversation")
            .WithSummary("Start a conversation in a channel (with a channel secret, channelId may be omitted).")
            .RequireAuthorization(AuthPolicies.TenantOrChannel)
            .Accepts<StartConversationRequest>("application/json").ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/{id}", GetConversation).WithName("GetConversation")
            .WithSummary("Get a conversation, including its current watermark (lastSeq).")
            .RequireAuthorization(AuthPolicies.Participant).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/{id}/close", CloseConversation).WithName("CloseConversation")
            .WithSummary("Close a conversation: it takes no new activities; its history stays readable.")
            .RequireAuthorization(AuthPolicies.TenantOrChannel).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/{id}/tokens", IssueToken).WithName("IssueClientToken")
            .WithSummary("Mint a client token for one user of the conversation, with the URL of a Realtime node to stream from.")
            .RequireAuthorization(AuthPolicies.TenantOrChannel)
            .Accepts<TokenRequest>("application/json").ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapPost("/{id}/activities", PostActivity).WithName("PostActivity")
            .WithSummary("Post an activity (message, event or typing). Idempotent on clientActivityId.")
            .RequireAuthorization(AuthPolicies.Participant).WithMetadata(new RateLimitedAs(RateCategory.Activities))
            .Accepts<ActivityDraft>("application/json")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        api.MapGet("/{id}/activities", ListActivities).WithName("ListActivities")
            .WithSummary("Activities with seq > watermark, in seq order (limit: default 100, max 1000).")
            .RequireAuthorization(AuthPolicies.Participant).ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    public static async Task<Results<Created<Conversation>, ProblemHttpResult>> StartConversation(HttpRequest request, ClaimsPrincipal user,
        [AsParameters] ConversationServices services, CancellationToken ct)
    {
        var caller = Caller.From(user);
        var (body, problem) = await JsonBody.ReadAsync(request, ApiJsonContext.Default.StartConversationRequest, allowEmpty: caller.ChannelScope is not null);
        if (problem is not null)
        {
            return problem;
        }
        var channelId = body?.ChannelId ?? caller.ChannelScope;
        if (channelId is null)
        {
            return Problems.Invalid("channelId", "channelId is required with a tenant API key.");
        }
        if (caller.ChannelScope is { } own && own != channelId)
        {
            return Problems.NotFound("Channel");
        }
        var (outcome, conversation) = await services.Conversations.StartAsync(caller.TenantId, channelId.Value, ct);
        return outcome switch
        {
            StartOutcome.Started => TypedResults.Created($"/v1/conversations/{conversation!.Id}", conversation),
            StartOutcome.ChannelInactive => Problems.ChannelInactive(),
            _ => Problems.NotFound("Channel"),
        };
    }

    public static async Task<Results<Ok<Conversation>, ProblemHttpResult>> GetConversation(string id, ClaimsPrincipal user,
        [AsParameters] ConversationServices services, CancellationToken ct)
    {
        if (!TryReach(id, user, out var caller, out var conversationId, out var problem))
        {
            return problem!;
        }
        return await services.Conversations.FindAsync(caller.TenantId, conversationId, caller.ChannelScope, ct) is { } conversation
            ? TypedResults.Ok(conversation)
            : Problems.NotFound("Conversation");
    }

    public static async Task<Results<Ok<Conversation>, ProblemHttpResult>> CloseConversation(string id, ClaimsPrincipal user,
        [AsParameters] ConversationServices services, CancellationToken ct)
    {
        if (!TryReach(id, user, out var caller, out var conversationId, out var problem))
        {
            return problem!;
        }
        return await services.Conversations.CloseAsync(caller.TenantId, conversationId, caller.ChannelScope, ct) is { } conversation
            ? TypedResults.Ok(conversation)
            : Problems.NotFound("Conversation");
    }

    public static async Task<Results<Created<TokenIssued>, ProblemHttpResult>> IssueToken(string id, HttpRequest request, ClaimsPrincipal user,
        [AsParameters] ConversationServices services, CancellationToken ct)
    {
        if (!TryReach(id, user, out var caller, out var conversationId, out var problem))
        {
            return problem!;
        }
        var (body, bodyProblem) = await JsonBody.ReadAsync(request, ApiJsonContext.Default.TokenRequest);
        if (bodyProblem is not null)
        {
            return bodyProblem;
        }
        if (string.IsNullOrWhiteSpace(body!.UserId))
        {
            return Problems.Invalid("userId", "userId is required: the user the token speaks for.");
        }
        if (body.UserId.Length > ActivityRules.MaxIdLength)
        {
            return Problems.Invalid("userId", $"userId is longer than {ActivityRules.MaxIdLength} characters.");
        }
        var maxSeconds = (int)ClientTokens.MaxLifetime.TotalSeconds;
        if (body.TtlSeconds is < 1 || body.TtlSeconds > maxSeconds)
        {
            return Problems.Invalid("ttlSeconds", $"ttlSeconds must be from 1 to {maxSeconds} (24 hours); the default is 3600.");
        }
        var conversation = await services.Conversations.FindAsync(caller.TenantId, conversationId, caller.ChannelScope, ct);
        if (conversation is null)
        {
            return Problems.NotFound("Conversation");
        }
        if (await services.Conversations.ChannelActiveAsync(caller.TenantId, conversationId, ct) is false)
        {
            return Problems.ChannelInactive();
        }
        var lifetime = ClientTokens.Lifetime(body.TtlSeconds);
        // "user" is the claim Direct Line JS and Web Chat read the user id from.
        var token = services.Tokens.Issue(caller.TenantId, body.UserId, conversationId, lifetime,
            extraClaims: new Dictionary<string, object> { ["user"] = body.UserId }, issuedUnder: Caller.Origin(user));
        var streamUrl = await services.Nodes.NextStreamUrlAsync(token, ct);
        if (streamUrl is null)
        {
            return Problems.Unavailable("No Realtime node is configured (services:realtime:http:0).");
        }
        return TypedResults.Created($"/v1/conversations/{conversationId}",
            new TokenIssued(token, (int)lifetime.TotalSeconds, conversationId, streamUrl));
    }

    public static async Task<Results<Created<ActivityReceipt>, Ok<ActivityReceipt>, Accepted<ActivityReceipt>, ProblemHttpResult>> PostActivity(
        string id, HttpRequest request, ClaimsPrincipal user, [AsParameters] ConversationServices services, CancellationToken ct)
    {
        if (!TryReach(id, user, out var caller, out var conversationId, out var problem))
        {
            return problem!;
        }
        var (draft, bodyProblem) = await JsonBody.ReadAsync(request, ActivityJsonContext.Default.ActivityDraft);
        if (bodyProblem is not null)
        {
            return bodyProblem;
        }
        var (content, errors) = ActivityRules.Validate(draft, caller.IsClient ? caller.UserId : null);
        if (content is null)
        {
            return Problems.Invalid(errors);
        }
        var result = await services.Log.AppendAsync(caller.TenantId, conversationId, caller.ChannelScope, content, ct);
        var a = result.Activity;
        return result.Outcome switch
        {
            AppendOutcome.Created => TypedResults.Created($"/v1/conversations/{conversationId}/activities?watermark={a!.Seq - 1}&limit=1",
                new ActivityReceipt(a.Id, a.Seq, a.Timestamp)),
            AppendOutcome.Duplicate => TypedResults.Ok(new ActivityReceipt(a!.Id, a.Seq, a.Timestamp)),
            AppendOutcome.Published => TypedResults.Accepted((string?)null, new ActivityReceipt(a!.Id, null, a.Timestamp)),
            AppendOutcome.ChannelInactive => Problems.ChannelInactive(),
            AppendOutcome.Closed => Problems.ConversationClosed(),
            _ => Problems.NotFound("Conversation"),
        };
    }

    public static async Task<Results<Ok<ActivityPage>, ProblemHttpResult>> ListActivities(string id, string? watermark, string? limit, ClaimsPrincipal user,
        [AsParameters] ConversationServices services, CancellationToken ct)
    {
        if (!TryReach(id, user, out var caller, out var conversationId, out var problem))
        {
            return problem!;
        }
        if (!Problems.TryParseQuery(watermark, "watermark", 0, long.MaxValue, 0, out var after, out problem) ||
            !Problems.TryParseQuery(limit, "limit", 1, MaxPageSize, DefaultPageSize, out var take, out problem))
        {
            return problem!;
        }
        // Existence and channel scope first, so an empty page never stands in for "not yours".
        if (await services.Conversations.FindAsync(caller.TenantId, conversationId, caller.ChannelScope, ct) is null)
        {
            return Problems.NotFound("Conversation");
        }
        var activities = await services.Log.ReadAsync(caller.TenantId, conversationId, after, (int)take, ct);
        return TypedResults.Ok(new ActivityPage(activities, activities.Count > 0 ? activities[^1].Seq!.Value : after));
    }

    /// <summary>Parses the id and checks a client token's scope: another conversation is 404, like any id not the caller's.</summary>
    private static bool TryReach(string id, ClaimsPrincipal user, out Caller caller, out Guid conversationId, out ProblemHttpResult? problem)
    {
        caller = Caller.From(user);
        if (!Problems.TryParseId(id, "id", out conversationId, out problem))
        {
            return false;
        }
        if (!caller.Reaches(conversationId))
        {
            problem = Problems.NotFound("Conversation");
            return false;
        }
        return true;
    }
}
