using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Platform.Core.Data;
using Platform.Core.Messaging;
using StackExchange.Redis;

namespace Platform.Realtime.Streaming;

/// <summary>
/// The conversations this node watches: one Redis subscription per conversation however many local clients
/// stream it (dropped when the last one leaves), and an idle position check that compares every watched
/// conversation's <c>last_seq</c> with what was delivered, so a lost doorbell (Redis pub/sub is at-most-once)
/// is repaired within <see cref="StreamOptions.IdleCheckInterval"/>.
/// </summary>
public sealed partial class ConversationFeeds(
    IConnectionMultiplexer redis, NpgsqlDataSource db, IOptions<StreamOptions> options, ILogger<ConversationFeeds> logger) : BackgroundService
{
    private readonly Dictionary<string, Feed> _feeds = [];
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _wake = new(0);
    private bool _hooked;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _feeds.Count;
            }
        }
    }

    /// <summary>Adds a connection to its conversation's feed and returns once the Redis subscription is in place.</summary>
    public async Task<Feed> JoinAsync(Guid tenantId, Guid conversationId, StreamConnection connection, CancellationToken ct)
    {
        HookConnectionEvents();
        Feed feed;
        lock (_gate)
        {
            var key = Doorbell.Channel(tenantId, conversationId);
            if (!_feeds.TryGetValue(key, out feed!))
            {
                feed = new Feed(key, conversationId);
                _feeds[key] = feed;
                feed.Subscription = SubscribeAsync(feed);
            }
            feed.Add(connection);
        }
        // Subscribe before reading PostgreSQL: whatever commits from now on is either in the read or in the buffer.
        await feed.Subscription!.WaitAsync(ct);
        return feed;
    }

    public void Leave(Feed feed, StreamConnection connection)
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

    private async Task SubscribeAsync(Feed feed)
    {
        try
        {
            await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(feed.Channel), feed.OnMessage).WaitAsync(TimeSpan.FromSeconds(5));
            feed.IsSubscribed = true;
            StreamMetrics.Subscriptions.Add(1);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Redis is down: the client is still served from PostgreSQL by the idle check; we retry the subscription there.
            LogSubscribeFailed(logger, feed.Channel, ex.Message);
        }
    }

    private async Task UnsubscribeAsync(Feed feed)
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
        finally
        {
            StreamMetrics.Subscriptions.Add(-1);
        }
    }

    private void HookConnectionEvents()
    {
        if (_hooked)
        {
            return;
        }
        lock (_gate)
        {
            if (_hooked)
            {
                return;
            }
            // After Redis returns, doorbells published during the outage are gone: check positions at once.
            redis.ConnectionRestored += (_, _) => _wake.Release();
            _hooked = true;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.IdleCheckInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _wake.WaitAsync(interval, stoppingToken);
                await CheckPositionsAsync(stoppingToken);
                await ReportConnectionsAsync();
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or RedisException)
            {
                LogCheckFailed(logger, ex.Message);
            }
        }
    }

    private static readonly string NodeId = Environment.MachineName + ":" + Environment.ProcessId;

    /// <summary>The node's heartbeat into a Redis hash (field: node id, value: "count|unixMs"); Api sums the fresh entries for the overview.</summary>
    private async Task ReportConnectionsAsync()
    {
        try
        {
            await redis.GetDatabase().HashSetAsync(Platform.Core.Admin.AdminReads.RealtimeConnectionsKey, NodeId,
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{StreamMetrics.Open}|{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}"));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Only the operators' figure goes stale; streaming does not depend on it.
        }
    }

    /// <summary>One query for every watched conversation on this node, then a position event to each feed.</summary>
    internal async Task CheckPositionsAsync(CancellationToken ct)
    {
        Feed[] feeds;
        lock (_gate)
        {
            feeds = [.. _feeds.Values];
        }
        if (feeds.Length == 0)
        {
            return;
        }
        foreach (var feed in feeds.Where(f => !f.IsSubscribed && f.Subscription is { IsCompleted: true }))
        {
            feed.Subscription = SubscribeAsync(feed);
        }
        var byId = feeds.ToDictionary(f => f.ConversationId);
        // One poll for every conversation this node streams, whatever their tenants: cross-tenant by nature.
        await using var cmd = await db.CreateSystemCommandAsync("realtime catch-up poll over this node's conversations",
            "SELECT id, last_seq, status = 'closed' FROM core.conversations WHERE id = ANY($1)", ct);
        cmd.Parameters.Add(new NpgsqlParameter { Value = byId.Keys.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            if (byId.TryGetValue(reader.GetGuid(0), out var feed))
            {
                feed.Offer(new FeedEvent { Kind = FeedEventKind.Position, Seq = reader.GetInt64(1), Closed = reader.GetBoolean(2) });
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis subscription for {Channel} failed ({Reason}); serving from PostgreSQL until it returns")]
    private static partial void LogSubscribeFailed(ILogger logger, string channel, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Idle position check failed: {Reason}")]
    private static partial void LogCheckFailed(ILogger logger, string reason);
}

/// <summary>One watched conversation on this node and its local connections.</summary>
public sealed class Feed(string channel, Guid conversationId)
{
    private volatile StreamConnection[] _members = [];

    public string Channel { get; } = channel;
    public Guid ConversationId { get; } = conversationId;
    public Task? Subscription { get; set; }
    public volatile bool IsSubscribed;

    internal void Add(StreamConnection c) => _members = [.. _members, c];

    /// <returns>True when the feed has no member left.</returns>
    internal bool Remove(StreamConnection c)
    {
        _members = [.. _members.Where(m => m != c)];
        return _members.Length == 0;
    }

    /// <summary>Redis callback: decode and encode once, then hand the same frame to every local client.</summary>
    public void OnMessage(RedisChannel channel, RedisValue value)
    {
        FeedEvent? e;
        try
        {
            e = Frames.FromDoorbell((byte[])value!);
        }
        catch (System.Text.Json.JsonException)
        {
            return; // not a doorbell; PostgreSQL remains the truth
        }
        if (e is not null)
        {
            // One span per doorbell on this node, a child of the request that posted the activity: the
            // dashboard then shows api → PostgreSQL → Redis publish → this node's hand-over to its clients.
            System.Diagnostics.ActivityContext.TryParse(e.TraceParent, null, out var parent);
            using var span = StreamMetrics.Source.StartActivity("realtime fan-out", System.Diagnostics.ActivityKind.Consumer, parent);
            span?.SetTag("messaging.system", "redis");
            span?.SetTag("messaging.destination.name", Channel);
            span?.SetTag("platform.conversation.seq", e.Seq);
            span?.SetTag("platform.stream.recipients", _members.Length);
            Offer(e);
        }
    }

    internal void Offer(FeedEvent e)
    {
        foreach (var member in _members)
        {
            member.Offer(e);
        }
    }
}
