using System.Text.Json;
using Npgsql;
using Platform.Core.Data;

namespace Platform.Core.Notifications;

/// <summary>
/// A user's in-app notifications: those whose in-app delivery was sent (suppressed ones never appear).
/// Read by the inbox API and by Realtime to replay unread ones when a stream connects.
/// </summary>
public sealed class NotificationInbox(NpgsqlDataSource db)
{
    private const string Select = """
        SELECT o.id, o.notification_type, o.subject_id, o.payload::text, o.created_at, o.read_at
        FROM ops.notification_outbox o
        JOIN ops.notification_deliveries d ON d.outbox_id = o.id AND d.channel = 'in_app' AND d.state = 'sent'
        WHERE o.tenant_id = $1 AND o.user_id = $2
        """;

    /// <summary>Newest first; <paramref name="before"/> is the cursor (an id from the previous page).</summary>
    public Task<IReadOnlyList<InAppNotification>> PageAsync(Guid tenantId, string userId, long? before, int limit, CancellationToken ct = default) =>
        QueryAsync($"{Select} AND ($3::bigint IS NULL OR o.id < $3) ORDER BY o.id DESC LIMIT $4", tenantId, userId, before, limit, ct);

    /// <summary>Unread, oldest first (the order a stream replays them in).</summary>
    public Task<IReadOnlyList<InAppNotification>> UnreadAsync(Guid tenantId, string userId, int limit, CancellationToken ct = default) =>
        QueryAsync($"{Select} AND o.read_at IS NULL AND $3::bigint IS NULL ORDER BY o.id LIMIT $4", tenantId, userId, null, limit, ct);

    public async Task<bool> MarkReadAsync(Guid tenantId, string userId, long id, CancellationToken ct = default)
    {
        await using var cmd = await db.CreateTenantCommandAsync(tenantId, """
            UPDATE ops.notification_outbox o SET read_at = COALESCE(read_at, now())
            WHERE o.tenant_id = $1 AND o.user_id = $2 AND o.id = $3
              AND EXISTS (SELECT 1 FROM ops.notification_deliveries d WHERE d.outbox_id = o.id AND d.channel = 'in_app' AND d.state = 'sent')
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>Whether the tenant exists and is active (user tokens carry no other credential to check).</summary>
    public async Task<bool?> TenantActiveAsync(Guid tenantId, CancellationToken ct = default)
    {
        await using var cmd = db.CreateCommand("SELECT status = 'active' FROM core.tenants WHERE id = $1");
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        return await cmd.ExecuteScalarAsync(ct) is bool b ? b : null;
    }

    private async Task<IReadOnlyList<InAppNotification>> QueryAsync(string sql, Guid tenantId, string userId, long? cursor, int limit, CancellationToken ct)
    {
        await using var cmd = await db.CreateTenantCommandAsync(tenantId, sql, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)cursor ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        var list = new List<InAppNotification>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            using var payload = JsonDocument.Parse(r.GetString(3));
            list.Add(new InAppNotification(r.GetInt64(0), r.GetString(1), r.GetString(2), payload.RootElement.Clone(),
                r.GetFieldValue<DateTimeOffset>(4), r.IsDBNull(5) ? null : r.GetFieldValue<DateTimeOffset>(5)));
        }
        return list;
    }
}
