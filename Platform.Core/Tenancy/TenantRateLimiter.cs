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
}

public enum RateCategory { Requests, Activities }

public readonly record struct RateDecision(bool Allowed, long Count, int Limit, int RetryAfterSeconds);

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
/// A fixed-window counter per tenant and category in Redis: INCR and EXPIRE in one MULTI/EXEC (no Lua, which
/// the old StackExchange.Redis 1.2.6 client would also allow, but a transaction is enough), so every Api
/// replica counts against the same number. If Redis is unreachable the request is let through: availability of
/// messaging matters more than throttling, and the failure is logged and counted.
/// </summary>
public sealed partial class TenantRateLimiter(IConnectionMultiplexer redis, TenantRateLimitOptions options, TimeProvider time, ILogger<TenantRateLimiter> logger)
{
    public TenantRateLimitOptions Options => options;

    public async Task<RateDecision> AcquireAsync(Guid tenantId, RateCategory category)
    {
        var limit = category == RateCategory.Activities ? options.ActivitiesPerWindow : options.RequestsPerWindow;
        if (!options.Enabled || limit <= 0)
        {
            return new RateDecision(true, 0, limit, 0);
        }
        var (index, secondsLeft) = FixedWindow.At(time.GetUtcNow(), options.WindowSeconds);
        var key = $"platform:{tenantId:D}:ratelimit:{(category == RateCategory.Activities ? "activities" : "requests")}:{index}";
        try
        {
            var tx = redis.GetDatabase().CreateTransaction();
            var count = tx.StringIncrementAsync(key);
            // Longer than the window, so a key never expires before its window ends on a skewed replica.
            _ = tx.KeyExpireAsync(key, TimeSpan.FromSeconds(options.WindowSeconds + 5));
            await tx.ExecuteAsync();
            return FixedWindow.Decide(await count, limit, secondsLeft);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or TaskCanceledException)
        {
            LogUnavailable(logger, ex.Message);
            return new RateDecision(true, 0, limit, 0);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rate limit not enforced: Redis unavailable ({Reason})")]
    private static partial void LogUnavailable(ILogger logger, string reason);
}
