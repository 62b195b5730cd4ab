using StackExchange.Redis;

namespace Platform.Core.Events;

/// <summary>
/// Online/away status in Redis. Each live Realtime connection is a member of the sorted set
/// <c>presence:{tenant}:{user}</c> scored with its expiry (unix ms); the node refreshes it while the socket is
/// open and removes it when the socket closes. A node that dies stops refreshing, so its connections lapse on
/// their own after <see cref="Ttl"/> — nobody has to clean up. Status: <c>online</c> while any member is
/// unexpired, <c>away</c> within <see cref="AwayFor"/> of the last one going, else <c>offline</c>.
/// </summary>
public sealed class PresenceStore(IConnectionMultiplexer redis, TimeProvider time)
{
    public const string Online = "online", Away = "away", Offline = "offline";

    public TimeSpan Ttl { get; init; } = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan AwayFor = TimeSpan.FromMinutes(5);

    private static RedisKey Key(Guid tenantId, string userId) => $"presence:{tenantId:N}:{userId}";
    private static RedisKey SeenKey(Guid tenantId, string userId) => $"presence:{tenantId:N}:{userId}:seen";

    /// <summary>Adds or refreshes a connection; true when the user just came online (publish the change).</summary>
    public async Task<bool> TouchAsync(Guid tenantId, string userId, string connectionId, TimeSpan? ttl = null)
    {
        var db = redis.GetDatabase();
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var life = ttl ?? Ttl;
        var key = Key(tenantId, userId);
        var batch = db.CreateBatch();
        var prune = batch.SortedSetRemoveRangeByScoreAsync(key, double.NegativeInfinity, now, Exclude.None);
        var before = batch.SortedSetLengthAsync(key);
        var add = batch.SortedSetAddAsync(key, connectionId, now + life.TotalMilliseconds);
        var expire = batch.KeyExpireAsync(key, life);
        var seen = batch.StringSetAsync(SeenKey(tenantId, userId), now, AwayFor + life);
        batch.Execute();
        await Task.WhenAll(prune, before, add, expire, seen);
        return await before == 0;
    }

    /// <summary>Removes a connection that closed; true when it was the user's last one (publish the change).</summary>
    public async Task<bool> LeaveAsync(Guid tenantId, string userId, string connectionId)
    {
        var db = redis.GetDatabase();
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var key = Key(tenantId, userId);
        var batch = db.CreateBatch();
        var remove = batch.SortedSetRemoveAsync(key, connectionId);
        var prune = batch.SortedSetRemoveRangeByScoreAsync(key, double.NegativeInfinity, now, Exclude.None);
        var left = batch.SortedSetLengthAsync(key);
        var seen = batch.StringSetAsync(SeenKey(tenantId, userId), now, AwayFor);
        batch.Execute();
        await Task.WhenAll(remove, prune, left, seen);
        return await left == 0;
    }

    public async Task<PresenceStatus> GetAsync(Guid tenantId, string userId)
    {
        var db = redis.GetDatabase();
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var live = db.SortedSetLengthAsync(Key(tenantId, userId), now, double.PositiveInfinity, Exclude.Start);
        var seen = db.StringGetAsync(SeenKey(tenantId, userId));
        await Task.WhenAll(live, seen);
        DateTimeOffset? lastSeen = (await seen).TryParse(out long ms) ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;
        var connections = (int)await live;
        var status = connections > 0 ? Online
            : lastSeen is { } at && time.GetUtcNow() - at < AwayFor ? Away
            : Offline;
        return new PresenceStatus(userId, status, connections, lastSeen);
    }
}
