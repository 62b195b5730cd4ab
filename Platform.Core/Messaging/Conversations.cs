using Npgsql;
using NpgsqlTypes;
using Platform.Core.Data;

namespace Platform.Core.Messaging;

public static class ConversationStatus
{
    public const string Active = "active";
    public const string Closed = "closed";
}

/// <summary>A conversation as the API shows it; <see cref="LastSeq"/> is the current watermark.</summary>
public sealed record Conversation(Guid Id, Guid ChannelId, string Status, long LastSeq, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? ClosedAt);

public enum StartOutcome { Started, ChannelNotFound, ChannelInactive }

/// <summary>
/// Conversations of one tenant. Every statement filters by tenant and runs in that tenant's database scope (row-level
/// security); a channel secret narrows to its channel.
/// </summary>
public sealed class Conversations(NpgsqlDataSource dataSource)
{
    private const string Columns = "id, channel_id, status, last_seq, created_at, updated_at, closed_at";

    public async Task<(StartOutcome Outcome, Conversation? Conversation)> StartAsync(Guid tenantId, Guid channelId, CancellationToken ct = default)
    {
        // Version 7: time-ordered ids keep the primary key index append-mostly.
        var id = Guid.CreateVersion7();
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, $"""
            INSERT INTO core.conversations (id, tenant_id, channel_id)
            SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM core.channels WHERE tenant_id = $2 AND id = $3 AND status = 'active')
            RETURNING {Columns}
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = channelId });
        var started = await SingleAsync(cmd.Command, ct);
        if (started is not null)
        {
            return (StartOutcome.Started, started);
        }
        await using var probe = await dataSource.CreateTenantCommandAsync(tenantId, "SELECT status FROM core.channels WHERE tenant_id = $1 AND id = $2", ct);
        probe.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        probe.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = channelId });
        return await probe.ExecuteScalarAsync(ct) is null ? (StartOutcome.ChannelNotFound, null) : (StartOutcome.ChannelInactive, null);
    }

    public async Task<Conversation?> FindAsync(Guid tenantId, Guid id, Guid? channelScope, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId,
            $"SELECT {Columns} FROM core.conversations WHERE id = $1 AND tenant_id = $2 AND ($3::uuid IS NULL OR channel_id = $3)", ct);
        AddKey(cmd.Command, tenantId, id, channelScope);
        return await SingleAsync(cmd.Command, ct);
    }

    /// <summary>Closes the conversation (idempotent: closing a closed one answers it unchanged).</summary>
    public async Task<Conversation?> CloseAsync(Guid tenantId, Guid id, Guid? channelScope, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, $"""
            UPDATE core.conversations
            SET status = 'closed', closed_at = coalesce(closed_at, now()), updated_at = CASE WHEN status = 'closed' THEN updated_at ELSE now() END
            WHERE id = $1 AND tenant_id = $2 AND ($3::uuid IS NULL OR channel_id = $3)
            RETURNING {Columns}
            """, ct);
        AddKey(cmd.Command, tenantId, id, channelScope);
        return await SingleAsync(cmd.Command, ct);
    }

    /// <summary>Whether the conversation's channel (and so the conversation) may be used: null when it is not the caller's.</summary>
    public async Task<bool?> ChannelActiveAsync(Guid tenantId, Guid id, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, """
            SELECT c.status = 'active' FROM core.conversations v JOIN core.channels c ON c.tenant_id = v.tenant_id AND c.id = v.channel_id
            WHERE v.id = $1 AND v.tenant_id = $2
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        return await cmd.ExecuteScalarAsync(ct) is bool b ? b : null;
    }

    private static void AddKey(NpgsqlCommand cmd, Guid tenantId, Guid id, Guid? channelScope)
    {
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)channelScope ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
    }

    private static async Task<Conversation?> SingleAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        await using var r = await cmd.ExecuteReaderAsync(ct);
        if (!await r.ReadAsync(ct))
        {
            return null;
        }
        return new Conversation(r.GetGuid(0), r.GetGuid(1), r.GetString(2), r.GetInt64(3), r.GetFieldValue<DateTimeOffset>(4),
            r.GetFieldValue<DateTimeOffset>(5), r.IsDBNull(6) ? null : r.GetFieldValue<DateTimeOffset>(6));
    }
}
