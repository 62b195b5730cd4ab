using System.Text;
using Npgsql;
using NpgsqlTypes;
using Platform.Core.Data;

namespace Platform.Core.Admin;

/// <summary>The overview page: open connections (from Redis) and the headline figures.</summary>
public static partial class AdminReads
{
    /// <summary>
    /// Open stream connections across the Realtime nodes: the sum of the counts the nodes write to Redis every couple of
    /// seconds (<c>platform:realtime:connections</c>), counting only nodes heard from in the last 15 s. Null when Redis is
    /// unreachable.
    /// </summary>
    public const string RealtimeConnectionsKey = "platform:realtime:connections";

    public static async Task<long?> OpenConnectionsAsync(StackExchange.Redis.IConnectionMultiplexer redis)
    {
        try
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            long total = 0;
            foreach (var entry in await redis.GetDatabase().HashGetAllAsync(RealtimeConnectionsKey))
            {
                var parts = ((string?)entry.Value ?? "").Split('|');
                if (parts.Length == 2 && long.TryParse(parts[0], out var count) && long.TryParse(parts[1], out var at) && now - at < 15_000)
                {
                    total += count;
                }
            }
            return total;
        }
        catch (Exception ex) when (ex is StackExchange.Redis.RedisException or TimeoutException)
        {
            return null;
        }
    }

    /// <summary>Headline figures for the overview; every query is an index range or a small aggregate.</summary>
    public static async Task<OverviewFigures> OverviewAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        await using var conn = await db.OpenSystemScopeAsync(OperatorScope, ct);
        int active = 0, inactive = 0;
        await using (var cmd = new NpgsqlCommand("SELECT status, count(*)::int FROM core.tenants GROUP BY status", conn))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                if (reader.GetString(0) == "active")
                {
                    active = reader.GetInt32(1);
                }
                else
                {
                    inactive += reader.GetInt32(1);
                }
            }
        }

        long activeConversations;
        await using (var cmd = new NpgsqlCommand("SELECT count(*) FROM core.conversations WHERE status = 'active'", conn))
        {
            activeConversations = (long)(await cmd.ExecuteScalarAsync(ct))!;
        }

        // The last 15 whole minutes plus the current one, zero-filled, so the sparkline has a fixed width.
        var perMinute = new List<MinuteCount>();
        await using (var cmd = new NpgsqlCommand("""
            SELECT m.minute, COALESCE(a.n, 0)
            FROM generate_series(date_trunc('minute', now()) - interval '15 minutes', date_trunc('minute', now()), interval '1 minute') AS m(minute)
            LEFT JOIN (
                SELECT date_trunc('minute', created_at) AS minute, count(*) AS n
                FROM core.activities
                WHERE created_at >= date_trunc('minute', now()) - interval '15 minutes'
                GROUP BY 1
            ) a ON a.minute = m.minute
            ORDER BY m.minute
            """, conn))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                perMinute.Add(new MinuteCount(reader.GetDateTime(0), reader.GetInt64(1)));
            }
        }

        long lastMinute;
        await using (var cmd = new NpgsqlCommand("SELECT count(*) FROM core.activities WHERE created_at > now() - interval '1 minute'", conn))
        {
            lastMinute = (long)(await cmd.ExecuteScalarAsync(ct))!;
        }

        return new OverviewFigures(active, inactive, activeConversations, lastMinute, perMinute, null, DateTime.UtcNow);
    }
}
