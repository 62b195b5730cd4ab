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
public sealed partial class ConversationFeeds : BackgroundService
{
    private readonly RedisFeeds<Feed, StreamConnection> _feeds;
    private readonly IConnectionMultiplexer _redis;
    private readonly NpgsqlDataSource _db;
    private readonly IOptions<StreamOptions> _options;
    private readonly ILogger<ConversationFeeds> _logger;
    private readonly SemaphoreSlim _wake = new(0);

    public ConversationFeeds(IConnectionMultiplexer redis, NpgsqlDataSource db, IOptions<StreamOptions> options, ILogger<ConversationFeeds> logger)
    {
        (_redis, _db, _options, _logger) = (redis, db, options, logger);
        _feeds = new RedisFeeds<Feed, StreamConnection>(redis, logger) { SubscriptionsChanged = d => StreamMetrics.Subscriptions.Add(d) };
        // After Redis returns, doorbells published during the outage are gone: check positions at once.
        _feeds.Restored += () => _wake.Release();
    }

    public int Count => _feeds.Count;

    /// <summary>Adds a connection to its conversation's feed and returns once the Redis subscription is in place.</summary>
    public Task<Feed> JoinAsync(Guid tenantId, Guid conversationId, StreamConnection connection, CancellationToken ct) =>
        // Subscribe before reading PostgreSQL: whatever commits from now on is either in the read or in the buffer.
        _feeds.JoinAsync(Doorbell.Channel(tenantId, conversationId), channel => new Feed(channel, conversationId), connection, ct);

    public void Leave(Feed feed, StreamConnection connection) => _feeds.Leave(feed, connection);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var keepingAlive = KeepAliveAsync(stoppingToken);
        var interval = _options.Value.IdleCheckInterval;
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
                break;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or RedisException)
            {
                LogCheckFailed(_logger, ex.Message);
            }
        }
        await keepingAlive;
    }

    private static readonly FeedEvent KeepAliveEvent = new() { Kind = FeedEventKind.KeepAlive };

    /// <summary>
    /// One timer for the whole node instead of one per socket: every <see cref="StreamOptions.KeepAliveInterval"/> each
    /// connection is offered a keepalive, which those whose frame format has a keepalive frame send (the others ignore it).
    /// Independent of the position check, so keepalives go on while PostgreSQL is unreachable.
    /// </summary>
    private async Task KeepAliveAsync(CancellationToken ct)
    {
        var interval = _options.Value.KeepAliveInterval;
        if (interval <= TimeSpan.Zero)
        {
            return;
        }
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                foreach (var feed in _feeds.Snapshot())
                {
                    feed.Offer(KeepAliveEvent);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static readonly string NodeId = Environment.MachineName + ":" + Environment.ProcessId;

    /// <summary>The node's heartbeat into a Redis hash (field: node id, value: "count|unixMs"); Api sums the fresh entries for the overview.</summary>
    private async Task ReportConnectionsAsync()
    {
        try
        {
            await _redis.GetDatabase().HashSetAsync(Platform.Core.Admin.AdminReads.RealtimeConnectionsKey, NodeId,
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
        var feeds = _feeds.Snapshot();
        if (feeds.Length == 0)
        {
            return;
        }
        _feeds.ResubscribeMissing();
        var byId = feeds.ToDictionary(f => f.ConversationId);
        // One poll for every conversation this node streams, whatever their tenants: cross-tenant by nature.
        await using var cmd = await _db.CreateSystemCommandAsync("realtime catch-up poll over this node's conversations",
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Idle position check failed: {Reason}")]
    private static partial void LogCheckFailed(ILogger logger, string reason);
}

/// <summary>One watched conversation on this node and its local connections.</summary>
public sealed class Feed(string channel, Guid conversationId) : RedisFeed<StreamConnection>(channel)
{
    public Guid ConversationId { get; } = conversationId;

    /// <summary>Redis callback: decode and encode once, then hand the same frame to every local client.</summary>
    public override void OnMessage(RedisChannel channel, RedisValue value)
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
            span?.SetTag("platform.stream.recipients", Members.Length);
            Offer(e);
        }
    }

    internal void Offer(FeedEvent e)
    {
        foreach (var member in Members)
        {
            member.Offer(e);
        }
    }
}
