using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Npgsql;
using Platform.Core.Data;
using Platform.Core.Notifications;
using Platform.Core.Security;
using StackExchange.Redis;

namespace Platform.Realtime.Streaming;

/// <summary>
/// User-scoped streams (a client token with a user and no conversation): that user's in-app notifications as
/// <c>{"notifications": [...]}</c> frames. One Redis subscription per user per node on
/// <c>platform:{tenantId}:user:{userId}</c>; subscribe first, then replay unread from PostgreSQL, then go live,
/// dropping ids already sent — so a notification delivered around the connect is sent once. When Redis returns after
/// an outage every watched user's unread notifications are offered again from PostgreSQL (connections drop the ones
/// they sent), so one published while the node could not hear it arrives without waiting for a reconnect.
/// </summary>
public sealed partial class NotificationFeeds : BackgroundService
{
    private readonly RedisFeeds<UserFeed, NotificationConnection> _feeds;
    private readonly NotificationInbox _inbox;
    private readonly IOptions<StreamOptions> _options;
    private readonly ILogger<NotificationFeeds> _logger;
    private int _catchingUp;

    public NotificationFeeds(IConnectionMultiplexer redis, NotificationInbox inbox, IOptions<StreamOptions> options, ILogger<NotificationFeeds> logger)
    {
        (_inbox, _options, _logger) = (inbox, options, logger);
        _feeds = new RedisFeeds<UserFeed, NotificationConnection>(redis, logger);
        _feeds.Restored += () => _ = CatchUpAsync();
    }

    public Task<UserFeed> JoinAsync(Guid tenantId, string userId, NotificationConnection connection, CancellationToken ct) =>
        _feeds.JoinAsync(UserDoorbell.Channel(tenantId, userId), channel => new UserFeed(channel, tenantId, userId), connection, ct);

    public void Leave(UserFeed feed, NotificationConnection connection) => _feeds.Leave(feed, connection);

    /// <summary>Retries subscriptions that failed while Redis was away, at the idle-check pace of conversation streams.</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.Value.IdleCheckInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false) is true)
        {
            _feeds.ResubscribeMissing();
        }
    }

    /// <summary>Offers every watched user's unread notifications again; one pass at a time, one user after another.</summary>
    internal async Task CatchUpAsync()
    {
        if (Interlocked.Exchange(ref _catchingUp, 1) == 1)
        {
            return;
        }
        try
        {
            foreach (var feed in _feeds.Snapshot())
            {
                var unread = await _inbox.UnreadAsync(feed.TenantId, feed.UserId, _options.Value.ReplayPageSize);
                foreach (var n in unread)
                {
                    feed.Offer(n);
                }
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            LogCatchUpFailed(_logger, ex.Message);
        }
        finally
        {
            Volatile.Write(ref _catchingUp, 0);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Catching up user streams after Redis returned failed: {Reason}")]
    private static partial void LogCatchUpFailed(ILogger logger, string reason);
}

/// <summary>One user watched on this node and that user's local connections.</summary>
public sealed class UserFeed(string channel, Guid tenantId, string userId) : RedisFeed<NotificationConnection>(channel)
{
    public Guid TenantId { get; } = tenantId;
    public string UserId { get; } = userId;

    public override void OnMessage(RedisChannel channel, RedisValue value)
    {
        UserDoorbell? doorbell;
        try
        {
            doorbell = JsonSerializer.Deserialize((byte[])value!, NotificationJsonContext.Default.UserDoorbell);
        }
        catch (JsonException)
        {
            return;
        }
        if (doorbell is not null)
        {
            Offer(doorbell.Notification);
        }
    }

    internal void Offer(InAppNotification notification)
    {
        // Encoded once per node, shared by every local connection of the user.
        var frame = JsonSerializer.SerializeToUtf8Bytes(new NotificationFrame([notification]), NotificationJsonContext.Default.NotificationFrame);
        foreach (var member in Members)
        {
            member.Offer(notification.Id, frame);
        }
    }
}

/// <summary>One user's stream connection: bounded queue, unread replay, dedupe by notification id.</summary>
public sealed class NotificationConnection(WebSocket socket, StreamOptions options)
{
    private readonly Channel<(long Id, byte[] Frame)> _queue = Channel.CreateBounded<(long, byte[])>(new BoundedChannelOptions(options.SendQueueCapacity)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });
    private readonly HashSet<long> _sent = [];
    private volatile bool _overflowed;

    public void Offer(long id, byte[] frame)
    {
        if (!_queue.Writer.TryWrite((id, frame)) && !_overflowed)
        {
            _overflowed = true;
            _queue.Writer.TryComplete();
        }
    }

    public async Task RunAsync(IReadOnlyList<InAppNotification> unread, CancellationToken stopping, SocketStanding? standing = null)
    {
        using var clientGone = new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, clientGone.Token);
        var ct = linked.Token;
        var receiving = ReceiveUntilClosedAsync(clientGone);
        try
        {
            foreach (var n in unread)
            {
                _sent.Add(n.Id);
            }
            // Always one first frame (possibly empty): the client knows it is live.
            await SendAsync(JsonSerializer.SerializeToUtf8Bytes(new NotificationFrame(unread), NotificationJsonContext.Default.NotificationFrame), ct);
            await foreach (var (id, frame) in _queue.Reader.ReadAllAsync(ct))
            {
                if (_sent.Add(id))
                {
                    await SendAsync(frame, ct);
                }
            }
            if (_overflowed)
            {
                await CloseAsync(CloseCodes.SlowConsumer, "slow consumer");
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            var (code, reason) = standing?.CloseFor(CloseCodes.ServiceRestart, "server restarting") ?? (CloseCodes.ServiceRestart, "server restarting");
            await CloseAsync(code, reason);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            // client gone
        }
        finally
        {
            if (socket.State == WebSocketState.CloseSent)
            {
                // Let the client answer our close frame: cancelling the receive now would abort the socket and lose the code.
                await Task.WhenAny(receiving, Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None));
            }
            await clientGone.CancelAsync();
            await receiving;
        }
    }

    private async Task SendAsync(byte[] frame, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.SendTimeout);
        await socket.SendAsync(frame, WebSocketMessageType.Text, true, timeout.Token);
    }

    private async Task ReceiveUntilClosedAsync(CancellationTokenSource clientGone)
    {
        var buffer = new byte[1024];
        try
        {
            while (socket.State == WebSocketState.Open)
            {
                var result = await socket.ReceiveAsync(buffer, clientGone.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
        }
        await clientGone.CancelAsync();
    }

    private async Task CloseAsync(int code, string reason)
    {
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

public static class NotificationStream
{
    /// <summary>Serves a user-scoped token's stream on an accepted socket.</summary>
    public static async Task ServeAsync(HttpContext context, WebSocket socket, ClientTokenClaims claims, StreamOptions options,
        Func<WebSocket, int, string, Task> refuse, CancellationToken stopping, SocketStanding? standing = null)
    {
        var services = context.RequestServices;
        var inbox = services.GetRequiredService<NotificationInbox>();
        var active = await inbox.TenantActiveAsync(claims.TenantId, context.RequestAborted);
        if (active is not true)
        {
            await refuse(socket, CloseCodes.Forbidden, active is null ? "tenant not found" : "tenant inactive");
            return;
        }
        var feeds = services.GetRequiredService<NotificationFeeds>();
        var connection = new NotificationConnection(socket, options);
        StreamMetrics.Opened();
        try
        {
            var feed = await feeds.JoinAsync(claims.TenantId, claims.UserId, connection, context.RequestAborted);
            try
            {
                // Subscribed before this read: whatever is sent from now on is in the read or in the queue (or both; deduped).
                var unread = await inbox.UnreadAsync(claims.TenantId, claims.UserId, options.ReplayPageSize, context.RequestAborted);
                await connection.RunAsync(unread, stopping, standing);
            }
            finally
            {
                feeds.Leave(feed, connection);
            }
        }
        finally
        {
            StreamMetrics.Closed();
        }
    }
}
