using Npgsql;
using Platform.Core.Data;
using Platform.Core.Security;

namespace Platform.Core.DirectLine;

/// <summary>An uploaded file as the attachment URL serves it.</summary>
public sealed record DirectLineUpload(string Name, string ContentType, byte[] Content);

/// <summary>
/// What Direct Line needs beyond the activity log: uploaded files (PostgreSQL bytea, see 0090_directline.sql),
/// per-channel allowed origins for browser clients, and which conversations a client has started.
/// </summary>
public sealed class DirectLineStore(NpgsqlDataSource dataSource)
{
    /// <summary>Largest file one upload part may carry.</summary>
    public const int MaxFileBytes = 4 * 1024 * 1024;

    /// <summary>Stores a file and returns its id (256 random bits: the capability in the contentUrl).</summary>
    public async Task<string> SaveUploadAsync(Guid tenantId, Guid conversationId, string name, string contentType, byte[] content,
        CancellationToken ct = default)
    {
        var id = Credentials.Generate("up_");
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, """
            INSERT INTO core.directline_uploads (id, tenant_id, conversation_id, name, content_type, size_bytes, content)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conversationId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = contentType });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = content.Length });
        cmd.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = content });
        await cmd.ExecuteNonQueryAsync(ct);
        return id;
    }

    public async Task<DirectLineUpload?> FindUploadAsync(string id, CancellationToken ct = default)
    {
        // The download URL is the capability (256 random bits) and names no tenant: the lookup is cross-tenant by nature.
        await using var cmd = await dataSource.CreateSystemCommandAsync("upload fetched by its capability id",
            "SELECT name, content_type, content FROM core.directline_uploads WHERE id = $1", ct);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? new DirectLineUpload(r.GetString(0), r.GetString(1), r.GetFieldValue<byte[]>(2)) : null;
    }

    /// <summary>The origins a channel's browser clients may call from; empty means any origin.</summary>
    public async Task<string[]> AllowedOriginsAsync(Guid tenantId, Guid channelId, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, "SELECT allowed_origins FROM core.channels WHERE tenant_id = $1 AND id = $2", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = channelId });
        return await cmd.ExecuteScalarAsync(ct) as string[] ?? [];
    }

    /// <summary>Marks the conversation started by a Direct Line client; true the first time.</summary>
    public async Task<bool> MarkStartedAsync(Guid tenantId, Guid conversationId, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId,
            "INSERT INTO core.directline_conversations (conversation_id, tenant_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conversationId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }
}
