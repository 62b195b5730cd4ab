using Npgsql;
using Platform.Core.Data;

namespace Platform.Core.Notifications;

public sealed record NotificationPreference(bool Enabled, DateTimeOffset? PauseUntil, IReadOnlyList<string> OptedOutTypes)
{
    public static readonly NotificationPreference Default = new(true, null, []);

    /// <summary>Why a user-facing delivery of this type is suppressed now, or null to send it.</summary>
    public string? SuppressionReason(string notificationType, DateTimeOffset now) =>
        !Enabled ? SuppressionReasons.UserDisabled
        : PauseUntil > now ? SuppressionReasons.Paused
        : OptedOutTypes.Contains(notificationType) ? SuppressionReasons.OptedOut
        : null;
}

/// <summary>Per-user preferences; a user without a row has the defaults (enabled, not paused, no opt-outs).</summary>
public sealed class NotificationPreferences(NpgsqlDataSource db)
{
    public async Task<NotificationPreference> GetAsync(Guid tenantId, string userId, CancellationToken ct = default)
    {
        await using var cmd = await db.CreateTenantCommandAsync(tenantId, 
            "SELECT enabled, pause_until, opted_out_types FROM ops.notification_preferences WHERE tenant_id = $1 AND user_id = $2", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct)
            ? new NotificationPreference(r.GetBoolean(0), r.IsDBNull(1) ? null : r.GetFieldValue<DateTimeOffset>(1), r.GetFieldValue<string[]>(2))
            : NotificationPreference.Default;
    }

    public async Task<NotificationPreference> SaveAsync(Guid tenantId, string userId, NotificationPreference p, CancellationToken ct = default)
    {
        await using var cmd = await db.CreateTenantCommandAsync(tenantId, """
            INSERT INTO ops.notification_preferences (tenant_id, user_id, enabled, pause_until, opted_out_types)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (tenant_id, user_id) DO UPDATE
              SET enabled = EXCLUDED.enabled, pause_until = EXCLUDED.pause_until, opted_out_types = EXCLUDED.opted_out_types, updated_at = now()
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        cmd.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = p.Enabled });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)p.PauseUntil ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. p.OptedOutTypes.Distinct()] });
        await cmd.ExecuteNonQueryAsync(ct);
        return p;
    }
}
