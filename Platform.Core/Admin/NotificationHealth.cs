using Npgsql;
using NpgsqlTypes;
using Platform.Core.Data;

namespace Platform.Core.Admin;

/// <summary>Deliveries of one channel in a window, by state.</summary>
public sealed record ChannelDeliveries(string Channel, long Sent, long Failed, long Pending, long Suppressed);

/// <summary>The notification pipeline's health across tenants, as the operator's overview of it shows.</summary>
public sealed record NotificationHealthFigures(long PendingDeliveries, double? OldestPendingAgeSeconds, long OutboxLastDay,
    IReadOnlyList<ChannelDeliveries> LastDay, int DisabledWebhooks, DateTime At);

/// <summary>A webhook endpoint the dispatcher turned off after a streak of failed deliveries.</summary>
public sealed record DisabledWebhookRow(Guid Id, Guid TenantId, string TenantName, string Url, int FailureStreak, DateTime DisabledAt, DateTime CreatedAt);

/// <summary>
/// A person's email address that no longer receives mail (refused by the receiving server, or bounced later): the
/// address is shown masked (first character and domain), enough to recognise it without exposing it whole.
/// </summary>
public sealed record DisabledAddressRow(Guid TenantId, string TenantName, string UserId, string MaskedEmail, string? Reason, string? Source,
    DateTime DisabledAt);

/// <summary>
/// Operator reads of the notification tables across tenants (system scope, like <see cref="AdminReads"/>), and the
/// one operator action on them: turning an automatically disabled webhook endpoint back on.
/// </summary>
public static class NotificationHealth
{
    private const string OperatorScope = "operator's notification health across tenants";

    public static async Task<NotificationHealthFigures> FiguresAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        await using var conn = await db.OpenSystemScopeAsync(OperatorScope, ct);
        long pending;
        double? oldest;
        await using (var cmd = new NpgsqlCommand("""
            SELECT count(*), EXTRACT(EPOCH FROM now() - min(created_at))::float8
            FROM ops.notification_deliveries WHERE state = 'pending'
            """, conn))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            await reader.ReadAsync(ct);
            pending = reader.GetInt64(0);
            oldest = reader.IsDBNull(1) ? null : reader.GetDouble(1);
        }
        var channels = new List<ChannelDeliveries>();
        await using (var cmd = new NpgsqlCommand("""
            SELECT c.channel,
                   count(d.*) FILTER (WHERE d.state = 'sent'), count(d.*) FILTER (WHERE d.state = 'failed'),
                   count(d.*) FILTER (WHERE d.state = 'pending'), count(d.*) FILTER (WHERE d.state = 'suppressed')
            FROM unnest(ARRAY['email','in_app','web_push','webhook']) AS c(channel)
            LEFT JOIN ops.notification_deliveries d ON d.channel = c.channel AND d.created_at > now() - interval '24 hours'
            GROUP BY c.channel ORDER BY c.channel
            """, conn))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                channels.Add(new ChannelDeliveries(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4)));
            }
        }
        long outbox;
        int disabled;
        await using (var cmd = new NpgsqlCommand("""
            SELECT (SELECT count(*) FROM ops.notification_outbox WHERE created_at > now() - interval '24 hours'),
                   (SELECT count(*) FROM ops.webhook_endpoints WHERE status = 'disabled')::int
            """, conn))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            await reader.ReadAsync(ct);
            outbox = reader.GetInt64(0);
            disabled = reader.GetInt32(1);
        }
        return new NotificationHealthFigures(pending, oldest, outbox, channels, disabled, DateTime.UtcNow);
    }

    /// <summary>Disabled endpoints, most recently disabled first, keyset-paged on (disabled_at, id).</summary>
    public static async Task<Page<DisabledWebhookRow>> DisabledWebhooksAsync(NpgsqlDataSource db, string? cursor, int limit, CancellationToken ct)
    {
        var after = PageCursor.Decode(cursor);
        await using var cmd = await db.CreateSystemCommandAsync(OperatorScope, """
            SELECT w.id, w.tenant_id, COALESCE(t.name, ''), w.url, w.failure_streak, COALESCE(w.disabled_at, w.created_at), w.created_at
            FROM ops.webhook_endpoints w LEFT JOIN core.tenants t ON t.id = w.tenant_id
            WHERE w.status = 'disabled'
              AND ($1::timestamptz IS NULL OR (COALESCE(w.disabled_at, w.created_at), w.id) < ($1, $2))
            ORDER BY COALESCE(w.disabled_at, w.created_at) DESC, w.id DESC
            LIMIT $3
            """, ct);
        cmd.Parameters.Add(new() { Value = after is { } a ? a.CreatedAt : DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = after is { } b ? b.Id : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        cmd.Parameters.Add(new() { Value = limit + 1 });
        var rows = new List<DisabledWebhookRow>();
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                rows.Add(new DisabledWebhookRow(reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), reader.GetString(3),
                    reader.GetInt32(4), reader.GetDateTime(5), reader.GetDateTime(6)));
            }
        }
        if (rows.Count <= limit)
        {
            return new Page<DisabledWebhookRow>(rows, null);
        }
        rows.RemoveAt(rows.Count - 1);
        return new Page<DisabledWebhookRow>(rows, new PageCursor(rows[^1].DisabledAt, rows[^1].Id).Encode());
    }

    /// <summary>The most recently disabled email addresses of every tenant, with the source of the last disabling event.</summary>
    public static async Task<IReadOnlyList<DisabledAddressRow>> DisabledAddressesAsync(NpgsqlDataSource db, int limit, CancellationToken ct)
    {
        await using var cmd = await db.CreateSystemCommandAsync(OperatorScope, """
            SELECT p.tenant_id, COALESCE(t.name, ''), p.user_id, p.email, p.email_reason,
                   (SELECT e.source FROM ops.email_address_events e
                    WHERE e.tenant_id = p.tenant_id AND e.user_id = p.user_id AND e.event = 'disabled' ORDER BY e.id DESC LIMIT 1),
                   COALESCE(p.email_disabled_at, p.updated_at)
            FROM ops.notification_profiles p LEFT JOIN core.tenants t ON t.id = p.tenant_id
            WHERE p.email_status = 'disabled' AND p.email IS NOT NULL
            ORDER BY COALESCE(p.email_disabled_at, p.updated_at) DESC, p.tenant_id, p.user_id
            LIMIT $1
            """, ct);
        cmd.Parameters.Add(new() { Value = limit });
        var rows = new List<DisabledAddressRow>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new DisabledAddressRow(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), Mask(reader.GetString(3)),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5), reader.GetDateTime(6)));
        }
        return rows;
    }

    /// <summary><c>ada@example.org</c> → <c>a…@example.org</c>.</summary>
    public static string Mask(string email) => email.LastIndexOf('@') is > 0 and var at ? string.Concat(email.AsSpan(0, 1), "…", email.AsSpan(at)) : "…";

    /// <summary>Turns a disabled endpoint back on with a clean failure streak; false when it is not disabled (or absent).</summary>
    public static async Task<bool> ReenableWebhookAsync(NpgsqlDataSource db, Guid id, CancellationToken ct)
    {
        await using var cmd = await db.CreateSystemCommandAsync("operator re-enables a disabled webhook endpoint", """
            UPDATE ops.webhook_endpoints SET status = 'active', failure_streak = 0, disabled_at = NULL
            WHERE id = $1 AND status = 'disabled'
            """, ct);
        cmd.Parameters.Add(new() { Value = id });
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }
}
