using StackExchange.Redis;

namespace Platform.Realtime.Streaming;

/// <summary>
/// One Redis channel watched by this node and the local connections that follow it. Subclasses decode a message once
/// and hand the result to every member.
/// </summary>
public abstract class RedisFeed<TMember>(string channel) where TMember : class
{
    private volatile TMember[] _members = [];

    public string Channel { get; } = channel;
    internal Task? Subscription { get; set; }
    internal volatile bool IsSubscribed;

    protected TMember[] Members => _members;

    internal void Add(TMember member) => _members = [.. _members, member];

    /// <returns>True when the feed has no member left.</returns>
    internal bool Remove(TMember member)
    {
        _members = [.. _members.Where(m => m != member)];
        return _members.Length == 0;
    }

    /// <summary>The Redis callback for this feed's channel.</summary>
    public abstract void OnMessage(RedisChannel channel, RedisValue value);
}

/// <summary>
/// The Redis subscriptions of one kind of stream on this node: one subscription per channel however many local
/// clients follow it, made before <see cref="JoinAsync"/> returns (so a caller can read PostgreSQL next and miss
/// nothing committed in between), dropped when the last member leaves. A subscription that failed because Redis was
/// down is retried by <see cref="ResubscribeMissing"/>, and <see cref="Restored"/> tells the owner that messages
/// published during an outage are gone, so it can catch up from PostgreSQL.
/// </summary>
public sealed partial class RedisFeeds<TFeed, TMember>(IConnectionMultiplexer redis, ILogger logger)
    where TFeed : RedisFeed<TMember> where TMember : class
{
    private readonly Dictionary<string, TFeed> _feeds = [];
    private readonly Lock _gate = new();
    private int _hooked;

    /// <summary>Raised when the connection to Redis comes back.</summary>
    public event Action? Restored;

    /// <summary>Counts subscriptions made and dropped (the Realtime node's metric), if the owner wants it.</summary>
    public Action<int>? SubscriptionsChanged { get; init; }

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

    /// <summary>The feeds as they are now.</summary>
    public TFeed[] Snapshot()
    {
        lock (_gate)
        {
            return [.. _feeds.Values];
        }
    }

    /// <summary>Adds a member to its channel's feed (made by <paramref name="create"/> if new); returns once subscribed or once subscribing failed.</summary>
    public async Task<TFeed> JoinAsync(string channel, Func<string, TFeed> create, TMember member, CancellationToken ct)
    {
        if (Interlocked.Exchange(ref _hooked, 1) == 0)
        {
            redis.ConnectionRestored += (_, _) =>
            {
                ResubscribeMissing();
                Restored?.Invoke();
            };
        }
        TFeed feed;
        lock (_gate)
        {
            if (!_feeds.TryGetValue(channel, out feed!))
            {
                feed = create(channel);
                _feeds[channel] = feed;
                feed.Subscription = SubscribeAsync(feed);
            }
            feed.Add(member);
        }
        await feed.Subscription!.WaitAsync(ct);
        return feed;
    }

    public void Leave(TFeed feed, TMember member)
    {
        lock (_gate)
        {
            if (!feed.Remove(member) || !_feeds.Remove(feed.Channel))
            {
                return;
            }
        }
        _ = UnsubscribeAsync(feed);
    }

    /// <summary>Subscribes again every feed whose subscription failed (and is not being retried already).</summary>
    public void ResubscribeMissing()
    {
        lock (_gate)
        {
            foreach (var feed in _feeds.Values.Where(f => !f.IsSubscribed && f.Subscription is { IsCompleted: true }))
            {
                feed.Subscription = SubscribeAsync(feed);
            }
        }
    }

    private async Task SubscribeAsync(TFeed feed)
    {
        try
        {
            await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(feed.Channel), feed.OnMessage).WaitAsync(TimeSpan.FromSeconds(5));
            feed.IsSubscribed = true;
            SubscriptionsChanged?.Invoke(1);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Redis is down: the owner serves from PostgreSQL meanwhile; the subscription is retried when Redis returns.
            LogSubscribeFailed(logger, feed.Channel, ex.Message);
        }
    }

    private async Task UnsubscribeAsync(TFeed feed)
    {
        if (feed.Subscription is { } pending)
        {
            await pending; // never faults: failures are caught inside
        }
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
            feed.IsSubscribed = false;
            SubscriptionsChanged?.Invoke(-1);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis subscription for {Channel} failed ({Reason}); serving from PostgreSQL until it returns")]
    private static partial void LogSubscribeFailed(ILogger logger, string channel, string reason);
}
