using Npgsql;
using Platform.Core.Data;

namespace Platform.Core.Notifications;

/// <summary>One choice: is <paramref name="Channel"/> on for <paramref name="Type"/> (<c>*</c> = every type)?</summary>
public sealed record ChannelChoice(string Type, string Channel, bool Enabled);

/// <summary>A change: <c>Enabled = null</c> removes the choice, so the next level (or the tenant default) applies again.</summary>
public sealed record ChannelChoiceChange(string Type, string Channel, bool? Enabled);

/// <summary>
/// Per type × channel preferences. A person's choice wins over the tenant's default; a specific type wins over
/// <c>*</c>; with nothing chosen a channel is on. Resolution order for (type, channel): the user's (type, channel),
/// the user's (*, channel), the tenant's (type, channel), the tenant's (*, channel), on.
/// </summary>
public sealed class ChannelPreferences(NpgsqlDataSource db)
{
    public const string AnyType = "*";
    public const int MaxChangesPerRequest = 100;

    public static bool IsTypeOrAny(string? type) => type == AnyType || NotificationRules.IsType(type);

    public static bool IsChannel(string? channel) => channel is not null && ChannelNames.AllNames.Contains(channel);

    /// <summary>Whether <paramref name="channel"/> is on for this user and type now (the check made at send time).</summary>
    public async Task<bool> IsEnabledAsync(Guid tenantId, string userId, string type, string channel, CancellationToken ct = default)
    {
        await using var cmd = await db.CreateTenantCommandAsync(tenantId, Resolve, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = type });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = channel });
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>The one statement that decides; also used inside batches that hold a tenant-scoped connection.</summary>
    public const string Resolve = """
        SELECT coalesce(
          (SELECT enabled FROM ops.notification_channel_preferences WHERE tenant_id = $1 AND user_id = $2 AND notification_type = $3 AND channel = $4),
          (SELECT enabled FROM ops.notification_channel_preferences WHERE tenant_id = $1 AND user_id = $2 AND notification_type = '*' AND channel = $4),
          (SELECT enabled FROM ops.notification_channel_defaults WHERE tenant_id = $1 AND notification_type = $3 AND channel = $4),
          (SELECT enabled FROM ops.notification_channel_defaults WHERE tenant_id = $1 AND notification_type = '*' AND channel = $4),
          true)
        """;

    public async Task<IReadOnlyList<ChannelChoice>> UserChoicesAsync(Guid tenantId, string userId, CancellationToken ct = default)
    {
        await using var cmd = await db.CreateTenantCommandAsync(tenantId, """
            SELECT notification_type, channel, enabled FROM ops.notification_channel_preferences
            WHERE tenant_id = $1 AND user_id = $2 ORDER BY notification_type, channel
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        return await ReadAsync(cmd.Command, ct);
    }

    public async Task<IReadOnlyList<ChannelChoice>> TenantDefaultsAsync(Guid tenantId, CancellationToken ct = default)
    {
        await using var cmd = await db.CreateTenantCommandAsync(tenantId, """
            SELECT notification_type, channel, enabled FROM ops.notification_channel_defaults WHERE tenant_id = $1 ORDER BY notification_type, channel
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        return await ReadAsync(cmd.Command, ct);
    }

    /// <summary>Applies every change in one transaction (all or nothing); callers validate first.</summary>
    public Task SaveUserChoicesAsync(Guid tenantId, string userId, IReadOnlyList<ChannelChoiceChange> changes, CancellationToken ct = default) =>
        SaveAsync(tenantId, userId, changes, ct);

    public Task SaveTenantDefaultsAsync(Guid tenantId, IReadOnlyList<ChannelChoiceChange> changes, CancellationToken ct = default) =>
        SaveAsync(tenantId, null, changes, ct);

    private async Task SaveAsync(Guid tenantId, string? userId, IReadOnlyList<ChannelChoiceChange> changes, CancellationToken ct)
    {
        await using var conn = await db.OpenForTenantAsync(tenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        foreach (var c in changes)
        {
            var sql = (userId, c.Enabled) switch
            {
                (null, null) => "DELETE FROM ops.notification_channel_defaults WHERE tenant_id = $1 AND notification_type = $2 AND channel = $3",
                (null, _) => """
                    INSERT INTO ops.notification_channel_defaults (tenant_id, notification_type, channel, enabled) VALUES ($1, $2, $3, $4)
                    ON CONFLICT (tenant_id, notification_type, channel) DO UPDATE SET enabled = EXCLUDED.enabled, updated_at = now()
                    """,
                (_, null) => "DELETE FROM ops.notification_channel_preferences WHERE tenant_id = $1 AND notification_type = $2 AND channel = $3 AND user_id = $4",
                _ => """
                    INSERT INTO ops.notification_channel_preferences (tenant_id, notification_type, channel, enabled, user_id) VALUES ($1, $2, $3, $4, $5)
                    ON CONFLICT (tenant_id, user_id, notification_type, channel) DO UPDATE SET enabled = EXCLUDED.enabled, updated_at = now()
                    """,
            };
            await using var cmd = new NpgsqlCommand(sql, conn, tx);
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = c.Type });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = c.Channel });
            if (c.Enabled is { } enabled)
            {
                cmd.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = enabled });
            }
            if (userId is not null)
            {
                cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
            }
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
    }

    private static async Task<IReadOnlyList<ChannelChoice>> ReadAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var list = new List<ChannelChoice>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(new ChannelChoice(r.GetString(0), r.GetString(1), r.GetBoolean(2)));
        }
        return list;
    }
}
