using System.Security.Claims;
using System.Globalization;
using System.Text.Json;
using Platform.Api.Security;
using Platform.Core.DirectLine;
using Platform.Core.Messaging;
using Platform.Core.Security;
using Platform.Core.Tenancy;

namespace Platform.Api.Apis;

/// <summary>What the Direct Line endpoints need, bundled for <c>[AsParameters]</c>.</summary>
public sealed record DirectLineServices(
    Conversations Conversations, ActivityLog Log, ClientTokens Tokens, RealtimeNodes Nodes, DirectLineStore Store, ILoggerFactory Loggers);

/// <summary>
/// Direct Line 3.0 over the conversation store: the REST half of what botframework-directlinejs,
/// Web Chat and the Bot Framework SDKs call, under <c>/v3/directline</c>. A channel secret acts as the Direct
/// Line secret, a client token (JWT with the <c>user</c> claim, 30 minutes here) as the Direct Line token;
/// the <c>streamUrl</c> points at a Realtime node. Errors are <c>{"error":{"code","message"}}</c>. See docs/directline.md.
/// </summary>
public static partial class DirectLineApi
{
    public const string Prefix = "/v3/directline";
    public const int TokenLifetimeSeconds = 1800;
    private static readonly TimeSpan TokenLifetime = TimeSpan.FromSeconds(TokenLifetimeSeconds);

    /// <summary>The user a secret-held stream token speaks as (the secret itself never goes into a URL).</summary>
    private const string SecretStreamUser = "dl_secret";

    public static IEndpointRouteBuilder MapDirectLineApi(this IEndpointRouteBuilder app)
    {
        // Preflights carry no Authorization header, so they cannot name a channel: they are answered for any
        // origin and the channel's allowed origins are enforced on the real request (DirectLineFilter).
        app.MapMethods(Prefix + "/{**path}", [HttpMethods.Options], Preflight).ExcludeFromDescription();
        // Attachment URLs are capabilities (256 random bits): <img src> cannot send a bearer token.
        app.MapGet(Prefix + "/attachments/{id}", GetAttachment).WithTags("DirectLine").WithName("DirectLineAttachment")
            .WithSummary("An uploaded file, by its unguessable id.");

        // Erasure of uploaded files by the tenant: a conversation's, or one user's (optionally in one conversation).
        app.MapDelete("/v1/conversations/{id}/uploads", EraseConversationUploads).WithTags("DirectLine").WithName("EraseConversationUploads")
            .RequireAuthorization(AuthPolicies.TenantOrChannel).AddEndpointFilter<TenantRateLimitFilter>()
            .WithSummary("Delete the files uploaded in a conversation (?userId= only that user's); their attachment URLs answer 404.");
        app.MapDelete("/v1/users/{userId}/uploads", EraseUserUploads).WithTags("DirectLine").WithName("EraseUserUploads")
            .RequireAuthorization(AuthPolicies.Tenant).AddEndpointFilter<TenantRateLimitFilter>()
            .WithSummary("Delete every file a user uploaded through Direct Line; their attachment URLs answer 404.");

        var api = app.MapGroup(Prefix).WithTags("DirectLine").AddEndpointFilter<DirectLineFilter>();
        api.MapPost("/tokens/generate", GenerateToken).WithName("DirectLineGenerateToken")
            .WithSummary("Channel secret → a new conversation and a 30-minute token for it ({user:{id,name}} optional).");
        api.MapPost("/tokens/refresh", RefreshToken).WithName("DirectLineRefreshToken")
            .WithSummary("An unexpired token → a fresh one for the same conversation and user.");
        api.MapPost("/conversations", StartConversation).WithName("DirectLineStartConversation")
            .WithSummary("Start a conversation (secret) or open the token's (201 the first time, then 200), with a streamUrl.");
        api.MapGet("/conversations/{id}", Reconnect).WithName("DirectLineReconnect")
            .WithSummary("A fresh token and a streamUrl resuming after ?watermark=.");
        api.MapPost("/conversations/{id}/activities", PostActivity).WithName("DirectLinePostActivity")
            .WithSummary("Post an activity; answers {id}. Idempotent on channelData.clientActivityID.")
            .WithMetadata(new RateLimitedAs(RateCategory.Activities));
        api.MapGet("/conversations/{id}/activities", GetActivities).WithName("DirectLineGetActivities")
            .WithSummary("ActivitySet of what follows ?watermark= (page until activities is empty).");
        api.MapPost("/conversations/{id}/upload", Upload).WithName("DirectLineUpload")
            .WithSummary("multipart/form-data: an optional 'activity' part plus files, stored and sent as attachments.")
            .WithMetadata(new RateLimitedAs(RateCategory.Activities)).DisableAntiforgery();
        api.MapGet("/session/getsessionid", (HttpContext _) => Results.Json(new SessionAnswer(""), DirectLineJsonContext.Default.SessionAnswer))
            .WithName("DirectLineSessionId").WithSummary("No sessions here; an empty id, as clients tolerate.");
        return app;
    }

    // ---- tokens ----

    public static async Task<IResult> GenerateToken(HttpRequest request, [AsParameters] DirectLineServices services, CancellationToken ct)
    {
        var caller = DirectLineFilter.CallerOf(request.HttpContext);
        if (caller.Kind != CallerKinds.Channel)
        {
            return Error(StatusCodes.Status403Forbidden, "BadArgument", "tokens/generate needs the channel secret.");
        }
        var (conversationId, token, problem) = await StartWithSecretAsync(request, caller, services, ct);
        return problem ?? Results.Json(new TokenAnswer(conversationId.ToString(), token, TokenLifetimeSeconds), DirectLineJsonContext.Default.TokenAnswer);
    }

    public static IResult RefreshToken(HttpContext context, [AsParameters] DirectLineServices services)
    {
        var caller = DirectLineFilter.CallerOf(context);
        if (!caller.IsClient)
        {
            return Error(StatusCodes.Status403Forbidden, "BadArgument", "tokens/refresh needs a token; a secret does not expire.");
        }
        if (ChainTooOld(context.User))
        {
            return Error(StatusCodes.Status403Forbidden, "TokenExpired",
                $"This token's chain began more than {MaxTokenChain.TotalHours:0} hours ago; start again with the channel's secret.");
        }
        var token = Issue(services.Tokens, context.User, caller.TenantId, caller.UserId!, caller.ConversationId!.Value);
        return Results.Json(new TokenAnswer(caller.ConversationId.Value.ToString(), token, TokenLifetimeSeconds), DirectLineJsonContext.Default.TokenAnswer);
    }

    // ---- conversations ----

    public static async Task<IResult> StartConversation(HttpRequest request, [AsParameters] DirectLineServices services, CancellationToken ct)
    {
        var caller = DirectLineFilter.CallerOf(request.HttpContext);
        Guid conversationId;
        string token;
        int expiresIn;
        if (caller.IsClient)
        {
            conversationId = caller.ConversationId!.Value;
            token = BearerAuthenticationHandler.ReadBearer(request)!;
            var validation = await services.Tokens.ValidateAsync(token);
            expiresIn = (int)Math.Max(0, (validation.Claims!.ExpiresAt - DateTimeOffset.UtcNow).TotalSeconds);
            if (await services.Conversations.FindAsync(caller.TenantId, conversationId, null, ct) is not { Status: ConversationStatus.Active })
            {
                return NotFound();
            }
        }
        else
        {
            (conversationId, token, var problem) = await StartWithSecretAsync(request, caller, services, ct);
            if (problem is not null)
            {
                return problem;
            }
            expiresIn = TokenLifetimeSeconds;
        }
        var streamUrl = await StreamUrlAsync(services.Nodes, token, conversationId, null, ct);
        if (streamUrl is null)
        {
            return Error(StatusCodes.Status503ServiceUnavailable, "ServiceError", "No Realtime node is configured.");
        }
        var first = await services.Store.MarkStartedAsync(caller.TenantId, conversationId, ct);
        return Results.Json(new ConversationAnswer(conversationId.ToString(), token, expiresIn, streamUrl), DirectLineJsonContext.Default.ConversationAnswer,
            statusCode: first ? StatusCodes.Status201Created : StatusCodes.Status200OK);
    }

    /// <summary>
    /// A secret starts a conversation: the optional <c>{user:{id,name}}</c> body names the user (or the service names
    /// one), the conversation is created on the secret's channel, and a token for that user and conversation is issued.
    /// </summary>
    private static async Task<(Guid ConversationId, string Token, IResult? Problem)> StartWithSecretAsync(HttpRequest request, Caller caller,
        DirectLineServices services, CancellationToken ct)
    {
        var (body, problem) = await ReadJsonAsync(request, allowEmpty: true);
        if (problem is not null)
        {
            return (Guid.Empty, "", problem);
        }
        if (!TryUser(body, out var userId, out problem))
        {
            return (Guid.Empty, "", problem!);
        }
        var (outcome, conversation) = await services.Conversations.StartAsync(caller.TenantId, caller.ChannelId!.Value, ct);
        if (outcome != StartOutcome.Started)
        {
            return (Guid.Empty, "", Error(StatusCodes.Status403Forbidden, "Forbidden", "The channel is not active."));
        }
        return (conversation!.Id, Issue(services.Tokens, request.HttpContext.User, caller.TenantId, userId, conversation.Id), null);
    }

    public static async Task<IResult> Reconnect(string id, string? watermark, HttpContext context, [AsParameters] DirectLineServices services,
        CancellationToken ct)
    {
        var caller = DirectLineFilter.CallerOf(context);
        if (!TryReach(caller, id, out var conversationId))
        {
            return NotFound();
        }
        if (!TryWatermark(watermark, out var after))
        {
            return BadWatermark();
        }
        // A closed conversation is "ended" to Direct Line clients (404 stops their reconnect loop).
        if (await services.Conversations.FindAsync(caller.TenantId, conversationId, caller.ChannelScope, ct) is not { Status: ConversationStatus.Active })
        {
            return NotFound();
        }
        if (caller.IsClient && ChainTooOld(context.User))
        {
            return Error(StatusCodes.Status403Forbidden, "TokenExpired", "This token's chain is too old to reconnect; start again with the channel's secret.");
        }
        var token = Issue(services.Tokens, context.User, caller.TenantId, caller.UserId ?? SecretStreamUser, conversationId);
        var streamUrl = await StreamUrlAsync(services.Nodes, token, conversationId, string.IsNullOrEmpty(watermark) ? null : after, ct);
        return streamUrl is null
            ? Error(StatusCodes.Status503ServiceUnavailable, "ServiceError", "No Realtime node is configured.")
            : Results.Json(new ConversationAnswer(conversationId.ToString(), token, TokenLifetimeSeconds, streamUrl), DirectLineJsonContext.Default.ConversationAnswer);
    }

    // ---- activities ----

    public static async Task<IResult> PostActivity(string id, HttpRequest request, [AsParameters] DirectLineServices services, CancellationToken ct)
    {
        var caller = DirectLineFilter.CallerOf(request.HttpContext);
        if (!TryReach(caller, id, out var conversationId))
        {
            return NotFound();
        }
        var (body, problem) = await ReadJsonAsync(request, allowEmpty: false);
        if (problem is not null)
        {
            return problem;
        }
        if (!DirectLineActivities.TryRead(body!.Value, out var draft, out var error))
        {
            return Error(StatusCodes.Status400BadRequest, "BadArgument", error!);
        }
        return await AppendAsync(caller, conversationId, draft!, services, ct);
    }

    public static async Task<IResult> GetActivities(string id, string? watermark, HttpContext context, [AsParameters] DirectLineServices services,
        CancellationToken ct)
    {
        var caller = DirectLineFilter.CallerOf(context);
        if (!TryReach(caller, id, out var conversationId))
        {
            return NotFound();
        }
        if (!TryWatermark(watermark, out var after))
        {
            return BadWatermark();
        }
        if (await services.Conversations.FindAsync(caller.TenantId, conversationId, caller.ChannelScope, ct) is null)
        {
            return NotFound();
        }
        var activities = await services.Log.ReadAsync(caller.TenantId, conversationId, after, ConversationsApi.DefaultPageSize, ct);
        return Results.Bytes(DirectLineWire.ActivitySet(activities, activities.Count > 0 ? activities[^1].Seq!.Value : after), "application/json");
    }

    private static async Task<IResult> AppendAsync(Caller caller, Guid conversationId, ActivityDraft draft, DirectLineServices services, CancellationToken ct)
    {
        var (content, errors) = ActivityRules.Validate(draft, caller.IsClient ? caller.UserId : null);
        if (content is null)
        {
            return Error(StatusCodes.Status400BadRequest, "BadArgument", string.Join(" ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")));
        }
        var result = await services.Log.AppendAsync(caller.TenantId, conversationId, caller.ChannelScope, content, ct);
        return result.Outcome switch
        {
            AppendOutcome.Created or AppendOutcome.Duplicate or AppendOutcome.Published =>
                Results.Json(new ResourceResponse(result.Activity!.Id), DirectLineJsonContext.Default.ResourceResponse),
            AppendOutcome.ChannelInactive => Error(StatusCodes.Status403Forbidden, "Forbidden", "The channel is not active."),
            AppendOutcome.Closed => Error(StatusCodes.Status409Conflict, "ConversationEnded", "The conversation is closed."),
            _ => NotFound(),
        };
    }

    // ---- helpers ----

    /// <summary>
    /// How long a chain of refreshes (and token reconnects) may go on from the token a secret minted: refresh must not
    /// re-mint forever, or a leaked token would outlive every rotation of habits.
    /// </summary>
    public static readonly TimeSpan MaxTokenChain = TimeSpan.FromHours(24);

    private static bool ChainTooOld(ClaimsPrincipal user) =>
        Caller.FirstIssued(user) is { } first && DateTimeOffset.UtcNow - first > MaxTokenChain;

    private static string Issue(ClientTokens tokens, ClaimsPrincipal user, Guid tenantId, string userId, Guid conversationId) =>
        // "user" is the claim Direct Line JS and Web Chat take the user id from.
        // jti: a refresh within the same second still yields a new token.
        // The token carries the credential it descends from (dies with it) and its chain's start (refresh has a limit).
        tokens.Issue(tenantId, userId, conversationId, TokenLifetime, extraClaims: new Dictionary<string, object>
        {
            ["user"] = userId,
            ["jti"] = Credentials.Base64Url(Guid.NewGuid().ToByteArray()),
        }, issuedUnder: Caller.Origin(user), firstIssuedAt: Caller.FirstIssued(user));

    /// <summary>The Realtime node's Direct Line stream for this conversation, carrying the token (and watermark) in the query.</summary>
    private static async ValueTask<string?> StreamUrlAsync(RealtimeNodes nodes, string token, Guid conversationId, long? watermark, CancellationToken ct)
    {
        if (await nodes.NextStreamUrlAsync(token, ct) is not { } native)
        {
            return null;
        }
        var url = new UriBuilder(native);
        var basePath = url.Path.EndsWith("/v1/stream", StringComparison.Ordinal) ? url.Path[..^"/v1/stream".Length] : "";
        url.Path = $"{basePath}{Prefix}/conversations/{conversationId:D}/stream";
        url.Query = "t=" + Uri.EscapeDataString(token) + (watermark is { } w ? "&watermark=" + w.ToString(CultureInfo.InvariantCulture) : "");
        return url.Uri.AbsoluteUri;
    }

    private static bool TryReach(Caller caller, string id, out Guid conversationId) =>
        Guid.TryParse(id, out conversationId) && caller.Reaches(conversationId);

    /// <summary>Direct Line clients send <c>watermark=</c> (empty) when they have none.</summary>
    private static bool TryWatermark(string? watermark, out long after)
    {
        after = 0;
        if (string.IsNullOrEmpty(watermark))
        {
            return true;
        }
        if (long.TryParse(watermark, NumberStyles.None, CultureInfo.InvariantCulture, out after))
        {
            return true;
        }
        after = -1;
        return false;
    }

    private static bool TryUser(JsonElement? body, out string userId, out IResult? problem)
    {
        problem = null;
        userId = "";
        if (body is { ValueKind: JsonValueKind.Object } b && b.TryGetProperty("user", out var user) && user.ValueKind == JsonValueKind.Object &&
            user.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.String && idElement.GetString() is { Length: > 0 } given)
        {
            if (given.Length > ActivityRules.MaxIdLength)
            {
                problem = Error(StatusCodes.Status400BadRequest, "BadArgument", $"user.id is longer than {ActivityRules.MaxIdLength} characters.");
                return false;
            }
            userId = given;
            return true;
        }
        // As on Azure: no user given, so the service names one ("dl_" ids are reserved for the service).
        userId = "dl_" + Credentials.Base64Url(Guid.NewGuid().ToByteArray());
        return true;
    }

    private static async Task<(JsonElement? Body, IResult? Problem)> ReadJsonAsync(HttpRequest request, bool allowEmpty)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, DirectLineJsonContext.Default.JsonElement, allowEmpty);
        if (problem is not null)
        {
            var status = problem.StatusCode;
            return (null, Error(status, status == StatusCodes.Status413PayloadTooLarge ? "MessageSizeTooBig" : "BadArgument",
                problem.ProblemDetails.Detail ?? "The body is not valid JSON."));
        }
        return (body.ValueKind == JsonValueKind.Undefined ? null : body, null);
    }

    private static IResult NotFound() => Error(StatusCodes.Status404NotFound, "BadArgument", "Conversation not found.");

    private static IResult BadWatermark() => Error(StatusCodes.Status400BadRequest, "BadArgument", "watermark must be a watermark this service returned.");

    public static IResult Error(int status, string code, string message) =>
        Results.Json(new ErrorResponse(new ErrorBody(code, message)), DirectLineJsonContext.Default.ErrorResponse, statusCode: status);

    public static IResult Preflight(HttpContext context)
    {
        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length > 0)
        {
            var h = context.Response.Headers;
            h.AccessControlAllowOrigin = origin;
            h.AccessControlAllowMethods = "GET, POST, OPTIONS";
            h.AccessControlAllowHeaders = DirectLineFilter.AllowedHeaders;
            h.AccessControlMaxAge = "600";
            h.Vary = "Origin";
        }
        return Results.NoContent();
    }
}
