using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Platform.Core.Events;
using Platform.Core.Security;
using StackExchange.Redis;

namespace Platform.Realtime.Streaming;

/// <summary>What the conference stream endpoint needs, bundled for <c>[AsParameters]</c>.</summary>
public sealed record ConferenceStreamServices(ClientTokens Tokens, EventsStore Store, PresenceTracker Presence, IConnectionMultiplexer Redis,
    IOptions<StreamOptions> Options, IHostApplicationLifetime Lifetime, Platform.Core.Tenancy.CredentialLookup Credentials, SocketStandings Standings);

/// <summary>
/// <c>/v1/events/stream?token=&amp;conferenceId=</c>: an attendee's live conference feed — gathering changes of
/// that conference and presence changes of the tenant, one JSON <see cref="EventUpdate"/> per text frame. The
/// connection itself keeps the attendee online. Refusals are the stream's close codes (docs/api.md).
/// </summary>
public static class ConferenceStreamApi
{
    public static IEndpointRouteBuilder MapConferenceStreamApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/events/stream", Stream).WithName("ConferenceStream")
            .WithSummary("WebSocket: presence and gathering updates of a conference: ?token=<attendee token>&conferenceId=.").WithTags("Streaming");
        app.MapGet("/v1/gatherings/live/{gatheringId}", GatheringStream).WithName("GatheringStream")
            .WithSummary("WebSocket: one gathering's snapshot, changes and invitees' presence: ?token=<attendee token>.").WithTags("Streaming");
        return app;
    }

    public static async Task<IResult> Stream(HttpContext context, [AsParameters] ConferenceStreamServices services)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "WebSocket upgrade required",
                detail: "Connect to /v1/events/stream with a WebSocket client.");
        }
        if (!Guid.TryParse(context.Request.Query["conferenceId"], out var conferenceId))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["conferenceId"] = ["conferenceId is required: a conference id."] });
        }
        var validation = await services.Tokens.ValidateAsync(context.Request.Query["token"].ToString());
        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { KeepAliveInterval = services.Options.Value.KeepAliveInterval });
        if (await RefuseAsync(socket, validation, services, context.RequestAborted) is not { } claims)
        {
            return Results.Empty;
        }
        if (await services.Store.FindAttendeeAsync(claims.TenantId, conferenceId, claims.UserId, context.RequestAborted) is null)
        {
            await CloseAsync(socket, CloseCodes.Forbidden, "not an attendee of this conference");
            return Results.Empty;
        }

        await ServeAsync(socket, services, claims, update => update.ConferenceId is null || update.ConferenceId == conferenceId, null);
        return Results.Empty;
    }

    /// <summary>
    /// <c>/v1/gatherings/live/{gatheringId}?token=</c>: one gathering's live feed for an attendee of its conference — first a
    /// <c>gathering.snapshot</c>, then that gathering's changes (invitations, RSVPs) and the presence changes of the people
    /// invited to it. Authorized like the conference stream: an attendee token, a tenant in good standing, and the token's
    /// user an attendee of the gathering's conference (else 4401 / 4403).
    /// </summary>
    public static async Task<IResult> GatheringStream(string gatheringId, HttpContext context, [AsParameters] ConferenceStreamServices services)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "WebSocket upgrade required",
                detail: "Connect to /v1/gatherings/live/{gatheringId} with a WebSocket client.");
        }
        if (!Guid.TryParse(gatheringId, out var id))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["gatheringId"] = ["gatheringId must be a gathering id."] });
        }
        var validation = await services.Tokens.ValidateAsync(context.Request.Query["token"].ToString());
        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { KeepAliveInterval = services.Options.Value.KeepAliveInterval });
        if (await RefuseAsync(socket, validation, services, context.RequestAborted) is not { } claims)
        {
            return Results.Empty;
        }
        // Another tenant's gathering is not found in this tenant's scope: refused like an unknown one.
        var gathering = await Gatherings.ReadAsync(services.Store, claims.TenantId, id, context.RequestAborted);
        if (gathering is null)
        {
            await CloseAsync(socket, CloseCodes.Forbidden, "unknown gathering");
            return Results.Empty;
        }
        if (await services.Store.FindAttendeeAsync(claims.TenantId, gathering.ConferenceId, claims.UserId, context.RequestAborted) is null)
        {
            await CloseAsync(socket, CloseCodes.Forbidden, "not an attendee of this gathering's conference");
            return Results.Empty;
        }
        var invited = new HashSet<string>(gathering.Invitations.Select(i => i.UserId), StringComparer.Ordinal);
        var gate = new Lock();
        bool Accept(EventUpdate update)
        {
            lock (gate)
            {
                if (update.Gathering?.Id == id)
                {
                    invited = new HashSet<string>(update.Gathering.Invitations.Select(i => i.UserId), StringComparer.Ordinal);
                    return true;
                }
                return update.Type == "presence" && update.UserId is { } user && invited.Contains(user);
            }
        }
        var snapshot = JsonSerializer.Serialize(new EventUpdate("gathering.snapshot", gathering.ConferenceId, null, null, gathering), EventsJsonContext.Default.EventUpdate);
        await ServeAsync(socket, services, claims, Accept, snapshot);
        return Results.Empty;
    }

    /// <summary>The checks every attendee stream makes before subscribing; the claims when the socket may stay, else null (closed).</summary>
    private static async Task<ClientTokenClaims?> RefuseAsync(WebSocket socket, TokenValidation validation, ConferenceStreamServices services, CancellationToken ct)
    {
        if (validation.Outcome != TokenValidationOutcome.Valid)
        {
            await CloseAsync(socket, CloseCodes.Unauthorized, validation.Outcome == TokenValidationOutcome.Expired ? "token expired" : "invalid token");
            return null;
        }
        var claims = validation.Claims!;
        // Only attendee tokens (minted for this purpose) stream a conference; a conversation or user token does not.
        if (claims.Kind != TokenKinds.Attendee && !(claims.ConversationId is null && claims.Roles.Contains("attendee")))
        {
            await CloseAsync(socket, CloseCodes.Forbidden, "only an attendee token streams a conference");
            return null;
        }
        if (await services.Credentials.StandingAsync(claims, ct) is { } lost)
        {
            await CloseAsync(socket, lost.Revoked ? CloseCodes.Unauthorized : CloseCodes.Forbidden, lost.Reason);
            return null;
        }
        return claims;
    }

    /// <summary>Forwards the tenant's events-channel updates that <paramref name="accept"/> takes, until either side ends; keeps the user present.</summary>
    private static async Task ServeAsync(WebSocket socket, ConferenceStreamServices services, ClientTokenClaims claims,
        Func<EventUpdate, bool> accept, string? first)
    {
        var outbox = Channel.CreateBounded<string>(new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        if (first is not null)
        {
            outbox.Writer.TryWrite(first);
        }
        Action<RedisChannel, RedisValue> onMessage = (_, value) =>
        {
            var json = (string?)value;
            if (json is null)
            {
                return;
            }
            var update = JsonSerializer.Deserialize(json, EventsJsonContext.Default.EventUpdate);
            if (update is not null && accept(update))
            {
                outbox.Writer.TryWrite(json);
            }
        };
        var channel = new RedisChannel(EventsBus.ChannelOf(claims.TenantId), RedisChannel.PatternMode.Literal);
        var subscriber = services.Redis.GetSubscriber();
        await subscriber.SubscribeAsync(channel, onMessage);
        await using var presence = services.Presence.Track(claims.TenantId, claims.UserId);
        using var standing = services.Standings.Track(claims);
        using var gone = CancellationTokenSource.CreateLinkedTokenSource(services.Lifetime.ApplicationStopping, standing.Ended);
        var receiving = ReceiveUntilClosedAsync(socket, gone);
        try
        {
            await foreach (var json in outbox.Reader.ReadAllAsync(gone.Token))
            {
                await socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, true, gone.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
        }
        finally
        {
            await subscriber.UnsubscribeAsync(channel, onMessage);
            if (standing.EndedBy is { } ended)
            {
                await CloseAsync(socket, ended.Code, ended.Reason);
            }
            else if (services.Lifetime.ApplicationStopping.IsCancellationRequested)
            {
                await CloseAsync(socket, CloseCodes.ServiceRestart, "server restarting: reconnect");
            }
            else if (socket.State == WebSocketState.CloseReceived)
            {
                await CloseAsync(socket, (int)WebSocketCloseStatus.NormalClosure, "bye");
            }
            await gone.CancelAsync();
            await receiving;
        }
    }

    private static async Task ReceiveUntilClosedAsync(WebSocket socket, CancellationTokenSource gone)
    {
        var buffer = new byte[1024];
        try
        {
            while (socket.State is WebSocketState.Open)
            {
                if ((await socket.ReceiveAsync(buffer, gone.Token)).MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }
        await gone.CancelAsync();
    }

    private static async Task CloseAsync(WebSocket socket, int code, string reason)
    {
        if (socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return;
        }
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await socket.CloseOutputAsync((WebSocketCloseStatus)code, reason, timeout.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            socket.Abort();
        }
    }
}
