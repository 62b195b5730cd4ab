using System.Net.WebSockets;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Platform.Core.Messaging;
using Platform.Core.Security;
using Platform.Core.Tenancy;

namespace Platform.Realtime.Streaming;

/// <summary>What the stream endpoint needs, bundled for <c>[AsParameters]</c>.</summary>
public sealed record StreamServices(
    ClientTokens Tokens, CredentialLookup Credentials, Conversations Conversations, ActivityLog Log, ConversationFeeds Feeds,
    IOptions<StreamOptions> Options, TimeProvider Time, IHostApplicationLifetime Lifetime, ILoggerFactory Loggers, PresenceTracker Presence,
    SocketStandings Standings, Platform.Core.Identity.BearerTokens Bearer);

public static class StreamApi
{
    public static IEndpointRouteBuilder MapStreamApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/stream", Stream).WithName("Stream")
            .WithSummary("WebSocket stream of one conversation (?token=<client token>&watermark=N), or of a user's notifications (user-scoped token).")
            .WithTags("Streaming");
        return app;
    }

    /// <remarks>
    /// Not async, like <see cref="ServeAsync"/>: an async method's state machine would keep the token (and the rest of its
    /// locals) for as long as the socket stays open.
    /// </remarks>
    public static Task<IResult> Stream(HttpContext context, [AsParameters] StreamServices services)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            return Task.FromResult<IResult>(TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "WebSocket upgrade required",
                detail: "Connect to /v1/stream with a WebSocket client (ws:// or wss://)."));
        }
        long? watermark = null;
        if (context.Request.Query.TryGetValue("watermark", out var w) && !string.IsNullOrEmpty(w))
        {
            if (!long.TryParse(w, out var parsed) || parsed < 0)
            {
                return Task.FromResult<IResult>(TypedResults.ValidationProblem(new Dictionary<string, string[]>
                {
                    ["watermark"] = ["watermark must be a non-negative integer: the seq of the last activity you have."],
                }));
            }
            watermark = parsed;
        }
        Guid? requested = null;
        if (context.Request.Query.TryGetValue("conversationId", out var c) && !string.IsNullOrEmpty(c))
        {
            if (!Guid.TryParse(c, out var id))
            {
                return Task.FromResult<IResult>(TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["conversationId"] = ["conversationId is not an id."] }));
            }
            requested = id;
        }

        var token = context.Request.Query["token"].ToString();
        if (string.IsNullOrEmpty(token))
        {
            var header = context.Request.Headers.Authorization.ToString();
            token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : "";
        }
        return ServeAsync(context, services, token, requested, watermark, NativeFrameFormat.Instance);
    }

    /// <summary>
    /// Accepts the socket, checks the token and streams the conversation in the given frame shape. Shared by
    /// <c>/v1/stream</c> and the Direct Line stream so both get the same replay, live and gap-repair guarantees.
    /// </summary>
    /// <param name="watermark">Deliver everything after it; null means only what comes after the current end.</param>
    /// <remarks>
    /// Not async itself: the token is handed to validation here and not kept by the state machine that lives as long as
    /// the socket (a ~500-character token is ~1 KB per idle socket).
    /// </remarks>
    public static Task<IResult> ServeAsync(HttpContext context, StreamServices services, string token, Guid? requested, long? watermark,
        IStreamFrameFormat format)
    {
        ForgetCredentials(context);
        // The same validation as Api: a platform token, or a token of an issuer the tenant trusts (a user-scoped token).
        return ServeAsync(context, services, services.Bearer.ValidateAsync(token, context.RequestAborted), requested, watermark, format);
    }

    private static async Task<IResult> ServeAsync(HttpContext context, StreamServices services, Task<TokenValidation> validating, Guid? requested,
        long? watermark, IStreamFrameFormat format)
    {
        var validation = await validating;
        var options = services.Options.Value;

        // Refusals are close codes, not HTTP statuses, so every WebSocket client can read them.
        if (validation.Outcome != TokenValidationOutcome.Valid)
        {
            return await AcceptAndRefuseAsync(context, options, CloseCodes.Unauthorized,
                validation.Outcome == TokenValidationOutcome.Expired ? "token expired" : "invalid token");
        }
        var claims = validation.Claims!;
        if (claims.Kind == TokenKinds.Attendee)
        {
            return await AcceptAndRefuseAsync(context, options, CloseCodes.Forbidden, "an attendee token streams only /v1/events/stream");
        }
        // The token must still stand: the key or secret that minted it not revoked or rotated, tenant and channel active.
        if (await services.Credentials.StandingAsync(claims, context.RequestAborted) is { } lost)
        {
            return await AcceptAndRefuseAsync(context, options, lost.Revoked ? CloseCodes.Unauthorized : CloseCodes.Forbidden, lost.Reason);
        }
        if (claims.ConversationId is null && requested is null)
        {
            // A user-scoped token (no conversation): that user's notifications (NotificationStream.cs), which replays
            // everything unread, so nothing depends on when the handshake completes.
            using var userSocket = await AcceptAsync(context, options);
            await using var userPresence = services.Presence.Track(claims.TenantId, claims.UserId);
            using var userStanding = services.Standings.Track(claims);
            using var userStopping = CancellationTokenSource.CreateLinkedTokenSource(services.Lifetime.ApplicationStopping, userStanding.Ended);
            await NotificationStream.ServeAsync(context, userSocket, claims, options, Refuse, userStopping.Token, userStanding);
            return Results.Empty;
        }
        if (claims.ConversationId is not { } conversationId || (requested is { } r && r != conversationId))
        {
            return await AcceptAndRefuseAsync(context, options, CloseCodes.Forbidden, "the token does not grant this conversation");
        }
        var owner = await services.Credentials.FindConversationAsync(claims.TenantId, conversationId, context.RequestAborted);
        if (owner is null || !owner.TenantActive || !owner.ChannelActive)
        {
            return await AcceptAndRefuseAsync(context, options, CloseCodes.Forbidden,
                owner is null ? "conversation not found" : owner.TenantActive ? "channel inactive" : "tenant inactive");
        }

        // Presence: the user counts as online while this socket is open; registered in the background.
        await using var presence = services.Presence.Track(claims.TenantId, claims.UserId);
        // Ends the socket at token expiry or when a revocation concerning it arrives (4401/4403).
        using var standing = services.Standings.Track(claims, owner.ChannelId);
        using var ending = CancellationTokenSource.CreateLinkedTokenSource(services.Lifetime.ApplicationStopping, standing.Ended);
        var logger = services.Loggers.CreateLogger<StreamConnection>();
        var connection = new StreamConnection(claims.TenantId, conversationId, services.Log, options, services.Time, logger, format);
        StreamMetrics.Opened();
        try
        {
            var feed = await services.Feeds.JoinAsync(claims.TenantId, conversationId, connection, context.RequestAborted);
            try
            {
                var conversation = await services.Conversations.FindAsync(claims.TenantId, conversationId, null, context.RequestAborted);
                if (conversation is null)
                {
                    return await AcceptAndRefuseAsync(context, options, CloseCodes.Forbidden, "conversation not found");
                }
                // The handshake completes only now, after the feed is live and the position is read: a client that sees
                // its connection open (and, say, posts at once) receives everything committed from that moment on.
                // Accepting first would leave a window in which an activity committed before this read is neither
                // replayed (no watermark means "from the current end") nor delivered live.
                // A format with a keepalive frame of its own gets it from the node-wide timer, so its socket needs no ping timer.
                using var socket = await AcceptAsync(context, format.KeepAlive is null ? options.KeepAliveInterval : TimeSpan.Zero);
                await connection.RunAsync(socket, watermark ?? conversation.LastSeq, conversation.Status == ConversationStatus.Closed,
                    ending, standing);
            }
            finally
            {
                services.Feeds.Leave(feed, connection);
            }
        }
        finally
        {
            StreamMetrics.Closed();
        }
        return Results.Empty;
    }

    private static Task<WebSocket> AcceptAsync(HttpContext context, StreamOptions options) => AcceptAsync(context, options.KeepAliveInterval);

    private static Task<WebSocket> AcceptAsync(HttpContext context, TimeSpan keepAliveInterval) =>
        context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { KeepAliveInterval = keepAliveInterval });

    /// <summary>
    /// Drops the token from the request once it was read. Kestrel keeps an upgraded request for the socket's whole life,
    /// and with it the request line, the query string and its parsed form: three copies of a ~500-character token
    /// (~3 KB) per idle socket. It also keeps the token out of the request's completion log.
    /// </summary>
    private static void ForgetCredentials(HttpContext context)
    {
        context.Request.Query = QueryCollection.Empty; // the parsed query and the query string
        if (context.Features.Get<IHttpRequestFeature>() is { } request)
        {
            request.RawTarget = context.Request.Path.Value ?? "/";
        }
        context.Request.Headers.Authorization = default;
    }

    private static async Task<IResult> AcceptAndRefuseAsync(HttpContext context, StreamOptions options, int code, string reason)
    {
        using var socket = await AcceptAsync(context, options);
        await Refuse(socket, code, reason);
        return Results.Empty;
    }

    private static async Task Refuse(WebSocket socket, int code, string reason)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await socket.CloseAsync((WebSocketCloseStatus)code, reason, timeout.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            socket.Abort();
        }
    }
}
