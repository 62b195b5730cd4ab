using Platform.Core.DirectLine;
using Platform.Core.Messaging;

namespace Platform.Realtime.Streaming;

/// <summary>
/// Direct Line 3.0 frames: every frame an ActivitySet with the watermark as a string, activities in the Direct
/// Line shape (<c>conversation</c>, <c>channelId</c>, <c>channelData["webchat:sequence-id"]</c>), and an empty
/// text frame as keepalive. A live activity is re-shaped once per node and the bytes shared by every local
/// Direct Line client (cached on the feed event).
/// </summary>
public sealed class DirectLineFrameFormat : IStreamFrameFormat
{
    public static readonly DirectLineFrameFormat Instance = new();

    /// <summary>Direct Line clients treat empty messages as keepalives; Azure sends them too.</summary>
    private static readonly byte[] Empty = [];

    public byte[] Live(FeedEvent e) => e.AlternateFrame ??= DirectLineWire.ActivitySetFromNative(e.ActivityJson.Span);

    public byte[] Typing(FeedEvent e) => e.AlternateFrame ??= DirectLineWire.ActivitySetFromNative(e.ActivityJson.Span);

    public byte[] Page(IReadOnlyList<Activity> activities, long watermark) => DirectLineWire.ActivitySet(activities, watermark);

    public byte[]? KeepAlive => Empty;
}

/// <summary>
/// <c>GET /v3/directline/conversations/{id}/stream?t=&lt;token&gt;&amp;watermark=N</c>: the <c>streamUrl</c> the Api hands
/// Direct Line clients. Same machinery as <c>/v1/stream</c> (replay from PostgreSQL, then live with nextExpected),
/// so resuming with a watermark loses nothing and repeats nothing; several sockets per conversation are fine.
/// Without a watermark the conversation is replayed from its start.
/// </summary>
public static class DirectLineStreamApi
{
    public static IEndpointRouteBuilder MapDirectLineStream(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v3/directline/conversations/{id}/stream", Stream).WithName("DirectLineStream")
            .WithSummary("Direct Line 3.0 WebSocket stream: ?t=<token>&watermark=N (optional).")
            .WithTags("DirectLine");
        return app;
    }

    /// <remarks>Not async: its state machine would keep the token <paramref name="t"/> for as long as the socket stays open.</remarks>
    public static Task<IResult> Stream(string id, string? t, string? watermark, HttpContext context, [AsParameters] StreamServices services)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            return Task.FromResult<IResult>(TypedResults.Json(new DirectLineErrorBody(new DirectLineError("BadArgument", "Connect with a WebSocket client.")),
                statusCode: StatusCodes.Status400BadRequest));
        }
        if (!Guid.TryParse(id, out var conversationId))
        {
            return Task.FromResult<IResult>(TypedResults.Json(new DirectLineErrorBody(new DirectLineError("BadArgument", "Unknown conversation id.")),
                statusCode: StatusCodes.Status404NotFound));
        }
        long after = 0;
        if (!string.IsNullOrEmpty(watermark) && (!long.TryParse(watermark, out after) || after < 0))
        {
            return Task.FromResult<IResult>(TypedResults.Json(new DirectLineErrorBody(new DirectLineError("BadArgument", "watermark must be the watermark of an ActivitySet.")),
                statusCode: StatusCodes.Status400BadRequest));
        }
        return StreamApi.ServeAsync(context, services, t ?? "", conversationId, after, DirectLineFrameFormat.Instance);
    }
}

public sealed record DirectLineError(string Code, string Message);

public sealed record DirectLineErrorBody(DirectLineError Error);
