using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Logging;
using Platform.Core.Data;
using StackExchange.Redis;

namespace Platform.Core.Tenancy;

/// <summary>
/// Per-tenant limits (<c>Platform:RateLimits</c>). Defaults: 6000 calls and 3000 activity posts per tenant per
/// 60 s window, across all Api replicas. Sized for the PRD's 10 M messages/day (≈116/s across all tenants)
/// with a 10× peak for one busy tenant, while capping a runaway integration long before it hurts others.
/// </summary>
public sealed class TenantRateLimitOptions
{
    public bool Enabled { get; set; } = true;
    public int WindowSeconds { get; set; } = 60;
    /// <summary>Every call made with one of the tenant's credentials, except activity posts.</summary>
    public int RequestsPerWindow { get; set; } = 6000;
    /// <summary><c>POST …/activities</c>, typing included.</summary>
    public int ActivitiesPerWindow { get; set; } = 3000;
    /// <summary>
    /// Requests per minute from one client address to an endpoint that takes a body without a credential (the impact
    /// webhook receiver), counted on each node in memory before the body is read.
    /// </summary>
    public int AnonymousPerIpPerMinute { get; set; } = 120;
    /// <summary>
    /// Calls per window by one end user (a client token's user) of a tenant, except activity posts: one person's
    /// script cannot spend the whole tenant's budget. 600 per minute is ten a second, far above any client's polling.
    /// </summary>
    public int UserRequestsPerWindow { get; set; } = 600;
    /// <summary>Activity posts (typing included) per window by one end user: two a second sustained.</summary>
    public int UserActivitiesPerWindow { get; set; } = 120;
}

public enum RateCategory { Requests, Activities }

/// <param name="PerUser">True when the end user's own limit refused the call (the tenant's budget may still have room).</param>
public readonly record struct RateDecision(bool Allowed, long Count, int Limit, int RetryAfterSeconds, bool PerUser = false);

/// <summary>Fixed-window arithmetic, kept pure so it is unit-tested without Redis.</summary>
public static class FixedWindow
{
    /// <summary>The window <paramref name="now"/> falls in and the whole seconds until it ends (at least 1).</summary>
    public static (long Index, int SecondsLeft) At(DateTimeOffset now, int windowSeconds)
    {
        var ms = now.ToUnixTimeMilliseconds();
        var windowMs = windowSeconds * 1000L;
        var index = ms / windowMs;
        var leftMs = (index + 1) * windowMs - ms;
        return (index, (int)Math.Max(1, (leftMs + 999) / 1000));
    }

    public static RateDecision Decide(long count, int limit, int secondsLeft) =>
        new(count <= limit, count, limit, count <= limit ? 0 : secondsLeft);
}

/// <summary>
/// Fixed-window counters per tenant and category, and per (tenant, end user) and category for calls made with an end
/// user's client token, in Redis: INCR and EXPIRE in one MULTI/EXEC, so every Api replica counts against the same
/// numbers. If Redis is unreachable the same limits are counted in this process instead (System.Threading.RateLimiting
/// fixed windows): with N replicas a tenant or user gets at most N times its budget until Redis is back, rather than
/// no limit at all, and messaging stays available. The fallback is logged.
/// </summary>
public sealed partial class TenantRateLimiter(IConnectionMultiplexer redis, TenantRateLimitOptions options, TimeProvider time, ILogger<TenantRateLimiter> logger)
    : IDisposable
{
    private readonly PartitionedRateLimiter<LocalBudget> _local = PartitionedRateLimiter.Create<LocalBudget, string>(budget =>
        RateLimitPartition.GetFixedWindowLimiter(budget.Key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = budget.Limit,
            Window = TimeSpan.FromSeconds(Math.Max(1, options.WindowSeconds)),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    private readonly record struct LocalBudget(string Key, int Limit);

    public TenantRateLimitOptions Options => options;

    /// <summary>Spends one unit of the tenant's budget.</summary>
    public Task<RateDecision> AcquireAsync(Guid tenantId, RateCategory category) => AcquireAsync(tenantId, null, category);

    /// <summary>Spends one unit of the tenant's budget and, for an end user's call, one of that user's budget.</summary>
    public async Task<RateDecision> AcquireAsync(Guid tenantId, string? userId, RateCategory category)
    {
        var activities = category == RateCategory.Activities;
        var limit = activities ? options.ActivitiesPerWindow : options.RequestsPerWindow;
        var userLimit = userId is null ? 0 : activities ? options.UserActivitiesPerWindow : options.UserRequestsPerWindow;
        if (!options.Enabled || (limit <= 0 && userLimit <= 0))
        {
            return new RateDecision(true, 0, limit, 0);
        }
        var (index, secondsLeft) = FixedWindow.At(time.GetUtcNow(), options.WindowSeconds);
        var name = activities ? "activities" : "requests";
        var tenantKey = $"platform:{tenantId:D}:ratelimit:{name}:{index}";
        var userKey = userLimit > 0 ? $"platform:{tenantId:D}:ratelimit:user:{UserKey(userId!)}:{name}:{index}" : null;
        try
        {
            var tx = redis.GetDatabase().CreateTransaction();
            var expiry = TimeSpan.FromSeconds(options.WindowSeconds + 5);
            // Longer than the window, so a key never expires before its window ends on a skewed replica.
            var count = limit > 0 ? tx.StringIncrementAsync(tenantKey) : null;
            if (count is not null)
            {
                _ = tx.KeyExpireAsync(tenantKey, expiry);
            }
            var userCount = userKey is not null ? tx.StringIncrementAsync(userKey) : null;
            if (userCount is not null)
            {
                _ = tx.KeyExpireAsync(userKey, expiry);
            }
            await tx.ExecuteAsync();
            if (count is not null && FixedWindow.Decide(await count, limit, secondsLeft) is { Allowed: false } tenantRefusal)
            {
                return tenantRefusal;
            }
            if (userCount is not null && FixedWindow.Decide(await userCount, userLimit, secondsLeft) is { Allowed: false } userRefusal)
            {
                return userRefusal with { PerUser = true };
            }
            return new RateDecision(true, count is null ? 0 : await count, limit, 0);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or TaskCanceledException)
        {
            LogUnavailable(logger, ex.Message);
            return Local(tenantId, userId, name, limit, userLimit, secondsLeft);
        }
    }

    /// <summary>The same limits counted in this process, while Redis cannot count them for every replica.</summary>
    private RateDecision Local(Guid tenantId, string? userId, string name, int limit, int userLimit, int secondsLeft)
    {
        if (limit > 0 && !Lease(new LocalBudget($"t:{tenantId:N}:{name}", limit), secondsLeft, out var retry))
        {
            return new RateDecision(false, limit + 1, limit, retry);
        }
        if (userLimit > 0 && !Lease(new LocalBudget($"u:{tenantId:N}:{UserKey(userId!)}:{name}", userLimit), secondsLeft, out retry))
        {
            return new RateDecision(false, userLimit + 1, userLimit, retry, PerUser: true);
        }
        return new RateDecision(true, 0, limit, 0);
    }

    private bool Lease(LocalBudget budget, int secondsLeft, out int retryAfterSeconds)
    {
        using var lease = _local.AttemptAcquire(budget);
        retryAfterSeconds = lease.IsAcquired ? 0
            : lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)) : secondsLeft;
        return lease.IsAcquired;
    }

    /// <summary>User ids are the tenant's own strings (any length, any character): keys carry a digest of them.</summary>
    private static string UserKey(string userId) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(userId)))[..32];

    public void Dispose() => _local.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rate limits counted in this process only: Redis unavailable ({Reason})")]
    private static partial void LogUnavailable(ILogger logger, string reason);
}
