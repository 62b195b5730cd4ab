using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Platform.Core.Data;
using Platform.Core.Notifications;
using Platform.Core.Security;
using StackExchange.Redis;

namespace Platform.Realtime.Streaming;

/// <summary>
/// User-scoped streams (a client token with a user and no conversation): that user's in-app notifications as
/// <c>{"notifications": [...]}</c> frames. One Redis subscription per user per node on
/// <c>platform:{tenantId}:user:{userId}</c>; subscribe first, then replay unread from PostgreSQL, then go live,
/// dropping ids already sent — so a notification delivered around the connect is sent once.
/// </summary>
public sealed partial class NotificationFeeds(IConnectionMultiplexer redis, ILogger<NotificationFeeds> logger)
{
    private readonly Dictionary<string, UserFeed> _feeds = [];
    private readonly Lock _gate = new();

    public async Task<UserFeed> JoinAsync(Guid tenantId, string userId, NotificationConnection connection, CancellationToken ct)
    {
        UserFeed feed;
        lock (_gate)
        {
            var key = UserDoorbell.Channel(tenantId, userId);
            if (!_feeds.TryGetValue(key, out feed!))
            {
                feed = new UserFeed(key);
                _feeds[key] = feed;
                feed.Subscription = SubscribeAsync(feed);
            }
            feed.Add(connection);
        }
        await feed.Subscription!.WaitAsync(ct);
        return feed;
    }

    public void Leave(UserFeed feed, NotificationConnection connection)
    {
        lock (_gate)
        {
            if (!feed.Remove(connection) || !_feeds.Remove(feed.Channel))
            {
                return;
            }
        }
        _ = UnsubscribeAsync(feed);
    }

    private async Task SubscribeAsync(UserFeed feed)
    {
        try
        {
            await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(feed.Channel), feed.OnMessage).WaitAsync(TimeSpan.FromSeconds(5));
            feed.IsSubscribed = true;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Without Redis the user still gets unread notifications from PostgreSQL on the next connect.
            LogSubscribeFailed(logger, feed.Channel, ex.Message);
        }
    }

    private async Task UnsubscribeAsync(UserFeed feed)
    {
        if (!feed.IsSubscribed)
        {
            return;
        }
        try
        {
            await redis.GetSubscriber().UnsubscribeAsync(RedisChannel.Literal(feed.Channel), feed.OnMessage);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            LogSubscribeFailed(logger, feed.Channel, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis subscription for {Channel} failed ({Reason})")]
    private static partial void LogSubscribeFailed(ILogger logger, string channel, string reason);
}

public sealed class UserFeed(string channel)
{
    private volatile NotificationConnection[] _members = [];

    public string Channel { get; } = channel;
    public Task? Subscription { get; set; }
    public volatile bool IsSubscribed;

    internal void Add(NotificationConnection c) => _members = [.. _members, c];

    internal bool Remove(NotificationConnection c)
    {
        _members = [.. _members.Where(m => m != c)];
        return _members.Length == 0;
    }

    public void OnMessage(RedisChannel channel, RedisValue value)
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
        if (doorbell is null)
        {
            return;
        }
        // Encoded once per node, shared by every local connection of the user.
        var frame = JsonSerializer.SerializeToUtf8Bytes(new NotificationFrame([doorbell.Notification]), NotificationJsonContext.Default.NotificationFrame);
        foreach (var member in _members)
        {
            member.Offer(doorbell.Notification.Id, frame);
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
