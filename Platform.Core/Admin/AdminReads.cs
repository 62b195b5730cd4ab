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
public static partial class AdminReads
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

    private static ConversationRow ReadConversation(NpgsqlDataReader r) => new(
        r.GetGuid(0), r.GetGuid(1), r.GetString(2), r.GetGuid(3), r.GetString(4), r.GetString(5), r.GetInt64(6),
        r.GetDateTime(7), r.GetDateTime(8), r.IsDBNull(9) ? null : r.GetDateTime(9));

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
