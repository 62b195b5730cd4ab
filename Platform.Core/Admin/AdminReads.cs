using System.Text;
using Npgsql;
using NpgsqlTypes;
using Platform.Core.Data;

namespace Platform.Core.Admin;

/// <summary>A keyset position: the (created_at, id) of the last row of the previous page.</summary>
public readonly record struct PageCursor(DateTime CreatedAt, Guid Id)
{
    public string Encode() => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{CreatedAt.Ticks}:{Id:N}"))
        .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>Reads a cursor; null for an absent or unreadable one (the first page).</summary>
    public static PageCursor? Decode(string? value)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Length > 100)
        {
            return null;
        }
        try
        {
            var padded = value.Replace('-', '+').Replace('_', '/');
            padded += new string('=', (4 - padded.Length % 4) % 4);
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(padded)).Split(':');
            return parts.Length == 2 && long.TryParse(parts[0], out var ticks) && Guid.TryParse(parts[1], out var id)
                   && ticks >= DateTime.MinValue.Ticks && ticks <= DateTime.MaxValue.Ticks
                ? new PageCursor(new DateTime(ticks, DateTimeKind.Utc), id)
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}

public sealed record Page<T>(IReadOnlyList<T> Items, string? Next);

public sealed record TenantRow(Guid Id, string Name, string Status, DateTime CreatedAt, DateTime UpdatedAt, int Channels, int ActiveKeys);

public sealed record ApiKeyRow(Guid Id, string Prefix, DateTime CreatedAt, DateTime? RevokedAt);

public sealed record ChannelRow(Guid Id, Guid TenantId, string Name, string Status, DateTime CreatedAt, DateTime UpdatedAt);

public sealed record ConversationRow(
    Guid Id, Guid TenantId, string TenantName, Guid ChannelId, string ChannelName, string Status,
    long Activities, DateTime CreatedAt, DateTime UpdatedAt, DateTime? ClosedAt);

public sealed record ActivityRow(
    string Id, long Seq, string Type, string FromId, string? FromName, string? Text, string? Name,
    int Attachments, string? ReplyToId, DateTime Timestamp);

public sealed record ActivitiesPage(IReadOnlyList<ActivityRow> Activities, long LastSeq);

public sealed record MinuteCount(DateTime Minute, long Count);

public sealed record OverviewFigures(
    int ActiveTenants, int InactiveTenants, long ActiveConversations, long ActivitiesLastMinute,
    IReadOnlyList<MinuteCount> ActivitiesPerMinute, long? FailedJobsLastHour, DateTime At, long? OpenConnections = null);

public sealed record CivicCityRow(Guid Id, Guid TenantId, string TenantName, string Slug, string Name, DateTime CreatedAt,
    string? LastRunStatus, DateTime? LastRunAt);

/// <summary>An open safety flag of any tenant; the text itself is read through the PII vault by the caller.</summary>
public sealed record SafetyFlagKey(Guid Id, Guid TenantId, string TenantName, DateTime CreatedAt);

/// <summary>
/// The operator's read side of the Admin panel: paged, keyset-ordered queries across tenants (an operator sees
/// every tenant, so these deliberately run without the per-tenant query filter). Every list is bounded by a
/// page size, so a tenant with millions of rows costs the same as one with ten.
/// </summary>
public static class AdminReads
{
    public const int MaxPageSize = 200;

    /// <summary>Why these reads run in the database's system scope: the operator sees every tenant.</summary>
    private const string OperatorScope = "operator's admin reads across tenants";

    public static int ClampPageSize(int? requested, int fallback = 25) => Math.Clamp(requested ?? fallback, 1, MaxPageSize);

    public static async Task<Page<TenantRow>> TenantsAsync(NpgsqlDataSource db, string? search, string? cursor, int limit, CancellationToken ct)
    {
        var after = PageCursor.Decode(cursor);
        await using var cmd = await db.CreateSystemCommandAsync(OperatorScope, """
            SELECT t.id, t.name, t.status, t.created_at, t.updated_at,
                   (SELECT count(*) FROM core.channels c WHERE c.tenant_id = t.id)::int,
                   (SELECT count(*) FROM core.api_keys k WHERE k.tenant_id = t.id AND k.revoked_at IS NULL)::int
            FROM core.tenants t
            WHERE ($1::text IS NULL OR t.name ILIKE '%' || $1 || '%' OR t.id::text = $1)
              AND ($2::timestamptz IS NULL OR (t.created_at, t.id) < ($2, $3))
            ORDER BY t.created_at DESC, t.id DESC
            LIMIT $4
            """, ct);
        AddSearch(cmd, search);
        AddCursor(cmd, after);
        cmd.Parameters.Add(new() { Value = limit + 1 });
        var rows = new List<TenantRow>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new TenantRow(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetDateTime(3),
                reader.GetDateTime(4), reader.GetInt32(5), reader.GetInt32(6)));
        }
        return ToPage(rows, limit, r => new PageCursor(r.CreatedAt, r.Id));
    }

    public static async Task<TenantRow?> TenantAsync(NpgsqlDataSource db, Guid id, CancellationToken ct)
    {
        await using var cmd = await db.CreateSystemCommandAsync(OperatorScope, """
            SELECT t.id, t.name, t.status, t.created_at, t.updated_at,
                   (SELECT count(*) FROM core.channels c WHERE c.tenant_id = t.id)::int,
                   (SELECT count(*) FROM core.api_keys k WHERE k.tenant_id = t.id AND k.revoked_at IS NULL)::int
            FROM core.tenants t WHERE t.id = $1
            """, ct);
        cmd.Parameters.Add(new() { Value = id });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? new TenantRow(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetDateTime(3),
                reader.GetDateTime(4), reader.GetInt32(5), reader.GetInt32(6))
            : null;
    }

    /// <summary>A tenant's keys, active first; bounded because revoked keys accumulate with every rotation.</summary>
    public static async Task<IReadOnlyList<ApiKeyRow>> ApiKeysAsync(NpgsqlDataSource db, Guid tenantId, CancellationToken ct)
    {
        await using var cmd = await db.CreateSystemCommandAsync(OperatorScope, """
            SELECT id, prefix, created_at, revoked_at FROM core.api_keys
            WHERE tenant_id = $1
            ORDER BY revoked_at IS NOT NULL, created_at DESC
            LIMIT 50
            """, ct);
        cmd.Parameters.Add(new() { Value = tenantId });
        var rows = new List<ApiKeyRow>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new ApiKeyRow(reader.GetGuid(0), reader.GetString(1), reader.GetDateTime(2),
                reader.IsDBNull(3) ? null : reader.GetDateTime(3)));
        }
        return rows;
    }

    public static async Task<Page<ChannelRow>> ChannelsAsync(NpgsqlDataSource db, Guid tenantId, string? search, string? cursor, int limit, CancellationToken ct)
    {
        var after = PageCursor.Decode(cursor);
        await using var cmd = await db.CreateSystemCommandAsync(OperatorScope, """
            SELECT id, tenant_id, name, status, created_at, updated_at
            FROM core.channels
            WHERE tenant_id = $4
              AND ($1::text IS NULL OR name ILIKE '%' || $1 || '%' OR id::text = $1)
              AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3))
            ORDER BY created_at DESC, id DESC
            LIMIT $5
            """, ct);
        AddSearch(cmd, search);
        AddCursor(cmd, after);
        cmd.Parameters.Add(new() { Value = tenantId });
        cmd.Parameters.Add(new() { Value = limit + 1 });
        var rows = new List<ChannelRow>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new ChannelRow(reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), reader.GetString(3),
                reader.GetDateTime(4), reader.GetDateTime(5)));
        }
        return ToPage(rows, limit, r => new PageCursor(r.CreatedAt, r.Id));
    }

    private const string ConversationSelect = """
        SELECT c.id, c.tenant_id, t.name, c.channel_id, ch.name, c.status, c.last_seq, c.created_at, c.updated_at, c.closed_at
        FROM core.conversations c
        JOIN core.channels ch ON ch.tenant_id = c.tenant_id AND ch.id = c.channel_id
        JOIN core.tenants t ON t.id = c.tenant_id
        """;

    /// <summary>
    /// A tenant's conversations, newest first. The activity count is <c>last_seq</c>: seq is contiguous from 1
    /// and only stored activities get one, so no count over the activity log is needed.
    /// </summary>
    public static async Task<Page<ConversationRow>> ConversationsAsync(
        NpgsqlDataSource db, Guid tenantId, Guid? channelId, string? status, string? cursor, int limit, CancellationToken ct)
    {
        var after = PageCursor.Decode(cursor);
        await using var cmd = await db.CreateSystemCommandAsync(OperatorScope, ConversationSelect + """

            WHERE c.tenant_id = $1
              AND ($4::uuid IS NULL OR c.channel_id = $4)
              AND ($5::text IS NULL OR c.status = $5)
              AND ($2::timestamptz IS NULL OR (c.created_at, c.id) < ($2, $3))
            ORDER BY c.created_at DESC, c.id DESC
            LIMIT $6
            """, ct);
        cmd.Parameters.Add(new() { Value = tenantId });
        AddCursor(cmd, after);
        cmd.Parameters.Add(new() { Value = (object?)channelId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        cmd.Parameters.Add(new() { Value = (object?)status ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = limit + 1 });
        var rows = new List<ConversationRow>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(ReadConversation(reader));
        }
        return ToPage(rows, limit, r => new PageCursor(r.CreatedAt, r.Id));
    }

    public static async Task<ConversationRow?> ConversationAsync(NpgsqlDataSource db, Guid id, CancellationToken ct)
    {
        await using var cmd = await db.CreateSystemCommandAsync(OperatorScope, ConversationSelect + "\nWHERE c.id = $1", ct);
        cmd.Parameters.Add(new() { Value = id });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? ReadConversation(reader) : null;
    }

    /// <summary>
    /// A window of a conversation's activities in seq order: those after <paramref name="after"/> (tailing), or
    /// else the newest ones before <paramref name="before"/> (default: the end of the conversation).
    /// </summary>
    public static async Task<ActivitiesPage?> ActivitiesAsync(NpgsqlDataSource db, Guid conversationId, long? after, long? before, int limit, CancellationToken ct)
    {
        await using var conn = await db.OpenSystemScopeAsync(OperatorScope, ct);
        long lastSeq;
        await using (var head = new NpgsqlCommand("SELECT last_seq FROM core.conversations WHERE id = $1", conn))
        {
            head.Parameters.Add(new() { Value = conversationId });
            if (await head.ExecuteScalarAsync(ct) is not long seq)
            {
                return null;
            }
            lastSeq = seq;
        }
        var forward = after is not null;
        await using var cmd = new NpgsqlCommand(forward
            ? """
              SELECT id, seq, type, from_id, from_name, text, name, COALESCE(jsonb_array_length(attachments), 0), reply_to_id, created_at
              FROM core.activities WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3
              """
            : """
              SELECT id, seq, type, from_id, from_name, text, name, COALESCE(jsonb_array_length(attachments), 0), reply_to_id, created_at
              FROM core.activities WHERE conversation_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3
              """, conn);
        cmd.Parameters.Add(new() { Value = conversationId });
        cmd.Parameters.Add(new() { Value = forward ? after!.Value : before ?? long.MaxValue });
        cmd.Parameters.Add(new() { Value = limit });
        var rows = new List<ActivityRow>();
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                rows.Add(new ActivityRow(reader.GetString(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3),
                    reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5),
                    reader.IsDBNull(6) ? null : reader.GetString(6), reader.GetInt32(7),
                    reader.IsDBNull(8) ? null : reader.GetString(8), reader.GetDateTime(9)));
            }
        }
        if (!forward)
        {
            rows.Reverse();
        }
        return new ActivitiesPage(rows, lastSeq);
    }

    /// <summary>Headline figures for the overview; every query is an index range or a small aggregate.</summary>
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

    private static ConversationRow ReadConversation(NpgsqlDataReader r) => new(
        r.GetGuid(0), r.GetGuid(1), r.GetString(2), r.GetGuid(3), r.GetString(4), r.GetString(5), r.GetInt64(6),
        r.GetDateTime(7), r.GetDateTime(8), r.IsDBNull(9) ? null : r.GetDateTime(9));

    /// <summary>Civic cities of every tenant, newest first, with their latest processing run.</summary>
    public static async Task<Page<CivicCityRow>> CivicCitiesAsync(NpgsqlDataSource db, string? cursor, int limit, CancellationToken ct)
    {
        var after = PageCursor.Decode(cursor);
        await using var cmd = await db.CreateSystemCommandAsync(OperatorScope, """
            SELECT c.id, c.tenant_id, t.name, c.slug, c.name, c.created_at, r.status, r.created_at
            FROM civic.cities c
            JOIN core.tenants t ON t.id = c.tenant_id
            LEFT JOIN LATERAL (SELECT status, created_at FROM civic.processing_runs p WHERE p.city_id = c.id
                               ORDER BY p.created_at DESC, p.id DESC LIMIT 1) r ON true
            WHERE ($1::timestamptz IS NULL OR (c.created_at, c.id) < ($1, $2))
            ORDER BY c.created_at DESC, c.id DESC
            LIMIT $3
            """, ct);
        AddCursor(cmd, after);
        cmd.Parameters.Add(new() { Value = limit + 1 });
        var rows = new List<CivicCityRow>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new CivicCityRow(reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                reader.GetDateTime(5), reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetDateTime(7)));
        }
        return ToPage(rows, limit, r => new PageCursor(r.CreatedAt, r.Id));
    }

    /// <summary>Open safety flags of every tenant, oldest first (the review queue's order).</summary>
    public static async Task<Page<SafetyFlagKey>> OpenSafetyFlagsAsync(NpgsqlDataSource db, string? cursor, int limit, CancellationToken ct)
    {
        var after = PageCursor.Decode(cursor);
        await using var cmd = await db.CreateSystemCommandAsync(OperatorScope, """
            SELECT f.id, f.tenant_id, t.name, f.created_at
            FROM impact.safety_flags f
            JOIN core.tenants t ON t.id = f.tenant_id
            WHERE f.status = 'open' AND ($1::timestamptz IS NULL OR (f.created_at, f.id) > ($1, $2))
            ORDER BY f.created_at, f.id
            LIMIT $3
            """, ct);
        AddCursor(cmd, after);
        cmd.Parameters.Add(new() { Value = limit + 1 });
        var rows = new List<SafetyFlagKey>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new SafetyFlagKey(reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), reader.GetDateTime(3)));
        }
        return ToPage(rows, limit, r => new PageCursor(r.CreatedAt, r.Id));
    }

    /// <summary>The tenant a safety flag belongs to; null when there is no such flag.</summary>
    public static async Task<Guid?> SafetyFlagTenantAsync(NpgsqlDataSource db, Guid flagId, CancellationToken ct)
    {
        await using var cmd = await db.CreateSystemCommandAsync(OperatorScope, "SELECT tenant_id FROM impact.safety_flags WHERE id = $1", ct);
        cmd.Parameters.Add(new() { Value = flagId });
        return await cmd.ExecuteScalarAsync(ct) is Guid tenant ? tenant : null;
    }

    private static void AddSearch(NpgsqlCommand cmd, string? search) =>
        cmd.Parameters.Add(new()
        {
            Value = string.IsNullOrWhiteSpace(search) ? DBNull.Value : EscapeLike(search.Trim()),
            NpgsqlDbType = NpgsqlDbType.Text,
        });

    private static void AddCursor(NpgsqlCommand cmd, PageCursor? after)
    {
        cmd.Parameters.Add(new() { Value = after is { } a ? a.CreatedAt : DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = after is { } b ? b.Id : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
    }

    // A search term is text, not a pattern: % and _ typed by an operator match themselves.
    private static string EscapeLike(string s) => s.Replace(@"\", @"\\").Replace("%", @"\%").Replace("_", @"\_");

    private static Page<T> ToPage<T>(List<T> rows, int limit, Func<T, PageCursor> key)
    {
        if (rows.Count <= limit)
        {
            return new Page<T>(rows, null);
        }
        rows.RemoveAt(rows.Count - 1);
        return new Page<T>(rows, key(rows[^1]).Encode());
    }
}
