using Npgsql;
using Platform.Core.Data;

namespace Platform.Core.Notifications;

public sealed record PushSubscription(Guid Id, string Endpoint, string P256dh, string Auth, string Status, string? Reason, DateTimeOffset CreatedAt);

/// <summary>A user's Web Push subscriptions (the browser's <c>PushSubscription.toJSON()</c>).</summary>
public sealed class PushSubscriptions(NpgsqlDataSource db)
{
    /// <summary>Registering the same endpoint again refreshes its keys and reactivates it.</summary>
    public async Task<PushSubscription> AddAsync(Guid tenantId, string userId, string endpoint, string p256dh, string auth, CancellationToken ct = default)
    {
        await using var cmd = await db.CreateTenantCommandAsync(tenantId, """
            INSERT INTO ops.push_subscriptions (id, tenant_id, user_id, endpoint, p256dh, auth)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (tenant_id, user_id, endpoint) DO UPDATE
              SET p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth, status = 'active', reason = NULL
            RETURNING id, endpoint, p256dh, auth, status, reason, created_at
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = Guid.CreateVersion7() });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = endpoint });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = p256dh });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = auth });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        await r.ReadAsync(ct);
        return Read(r);
    }

    public async Task<IReadOnlyList<PushSubscription>> ListAsync(Guid tenantId, string userId, CancellationToken ct = default)
    {
        await using var cmd = await db.CreateTenantCommandAsync(tenantId, """
            SELECT id, endpoint, p256dh, auth, status, reason, created_at FROM ops.push_subscriptions
            WHERE tenant_id = $1 AND user_id = $2 ORDER BY created_at, id
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        var list = new List<PushSubscription>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(Read(r));
        }
        return list;
    }

    public async Task<bool> DeleteAsync(Guid tenantId, string userId, Guid id, CancellationToken ct = default)
    {
        await using var cmd = await db.CreateTenantCommandAsync(tenantId, "DELETE FROM ops.push_subscriptions WHERE tenant_id = $1 AND user_id = $2 AND id = $3", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    private static PushSubscription Read(NpgsqlDataReader r) => new(r.GetGuid(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4),
        r.IsDBNull(5) ? null : r.GetString(5), r.GetFieldValue<DateTimeOffset>(6));
}
