using Npgsql;
using Platform.Core.Security;

namespace Platform.Core.Tenancy;

/// <summary>Who a tenant API key or channel secret belongs to, and whether they are active right now.</summary>
public sealed record CredentialOwner(Guid TenantId, bool TenantActive, Guid? ChannelId, bool ChannelActive, Guid? ApiKeyId);

/// <summary>
/// Resolves presented credentials by their SHA-256 hash on every request. Deliberately uncached: revocation,
/// rotation and deactivation must take effect on the very next request, and the lookup is one indexed read.
/// </summary>
public sealed class CredentialLookup(NpgsqlDataSource dataSource)
{
    public async Task<CredentialOwner?> FindApiKeyAsync(string apiKey, CancellationToken ct = default)
    {
        await using var cmd = dataSource.CreateCommand("""
            SELECT k.tenant_id, t.status = 'active', k.id FROM core.api_keys k JOIN core.tenants t ON t.id = k.tenant_id
            WHERE k.key_hash = $1 AND k.revoked_at IS NULL
            """);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Credentials.Hash(apiKey) });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? new CredentialOwner(r.GetGuid(0), r.GetBoolean(1), null, true, r.GetGuid(2)) : null;
    }

    public async Task<CredentialOwner?> FindChannelSecretAsync(string secret, CancellationToken ct = default)
    {
        await using var cmd = dataSource.CreateCommand("""
            SELECT c.tenant_id, t.status = 'active', c.id, c.status = 'active' FROM core.channels c JOIN core.tenants t ON t.id = c.tenant_id
            WHERE c.secret_hash = $1
            """);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Credentials.Hash(secret) });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? new CredentialOwner(r.GetGuid(0), r.GetBoolean(1), r.GetGuid(2), r.GetBoolean(3), null) : null;
    }

    /// <summary>For a client token: the state of its conversation's tenant and channel (null if the conversation is gone).</summary>
    public async Task<CredentialOwner?> FindConversationAsync(Guid tenantId, Guid conversationId, CancellationToken ct = default)
    {
        await using var cmd = dataSource.CreateCommand("""
            SELECT t.status = 'active', c.id, c.status = 'active'
            FROM core.conversations v
            JOIN core.channels c ON c.tenant_id = v.tenant_id AND c.id = v.channel_id
            JOIN core.tenants t ON t.id = v.tenant_id
            WHERE v.id = $1 AND v.tenant_id = $2
            """);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conversationId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? new CredentialOwner(tenantId, r.GetBoolean(0), r.GetGuid(1), r.GetBoolean(2), null) : null;
    }

    /// <summary>For a user-scoped token: whether its tenant is active (null if the tenant does not exist).</summary>
    public async Task<bool?> FindTenantActiveAsync(Guid tenantId, CancellationToken ct = default)
    {
        await using var cmd = dataSource.CreateCommand("SELECT status = 'active' FROM core.tenants WHERE id = $1");
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        return await cmd.ExecuteScalarAsync(ct) is bool active ? active : null;
    }
}
