using Npgsql;
using Platform.Core.Data;
using Platform.Core.Security;

namespace Platform.Core.Tenancy;

/// <summary>Who a tenant API key or channel secret belongs to, and whether they are active right now.</summary>
public sealed record CredentialOwner(Guid TenantId, bool TenantActive, Guid? ChannelId, bool ChannelActive, Guid? ApiKeyId)
{
    /// <summary>What a client token minted with this credential carries (<see cref="TokenOrigins"/>).</summary>
    public string? Origin { get; init; }
}

/// <summary>Why a client token no longer stands: <see cref="Revoked"/> (the credential behind it is gone: 4401) or inactive (4403).</summary>
public sealed record TokenStanding(bool Revoked, string Reason);

/// <summary>
/// Resolves presented credentials by their SHA-256 hash. Uncached itself: the Api keeps resolved API keys in
/// <see cref="ApiKeyCache"/>, which a NOTIFY on every revocation and tenant status change empties.
/// </summary>
public sealed class CredentialLookup(NpgsqlDataSource dataSource)
{
    /// <summary>Why credential lookups by hash run in the system scope: the credential is what tells us the tenant.</summary>
    private const string CredentialScope = "credential resolved before its tenant is known";

    public Task<CredentialOwner?> FindApiKeyAsync(string apiKey, CancellationToken ct = default) =>
        FindApiKeyByHashAsync(Credentials.Hash(apiKey), ct);

    /// <summary>An API key by its SHA-256 hash (<see cref="Credentials.Hash"/>).</summary>
    public async Task<CredentialOwner?> FindApiKeyByHashAsync(string keyHash, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateSystemCommandAsync(CredentialScope, """
            SELECT k.tenant_id, t.status = 'active', k.id FROM core.api_keys k JOIN core.tenants t ON t.id = k.tenant_id
            WHERE k.key_hash = $1 AND k.revoked_at IS NULL
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = keyHash });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct)
            ? new CredentialOwner(r.GetGuid(0), r.GetBoolean(1), null, true, r.GetGuid(2)) { Origin = TokenOrigins.ApiKey(r.GetGuid(2)) }
            : null;
    }

    public async Task<CredentialOwner?> FindChannelSecretAsync(string secret, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateSystemCommandAsync(CredentialScope, """
            SELECT c.tenant_id, t.status = 'active', c.id, c.status = 'active' FROM core.channels c JOIN core.tenants t ON t.id = c.tenant_id
            WHERE c.secret_hash = $1
            """, ct);
        var hash = Credentials.Hash(secret);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = hash });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct)
            ? new CredentialOwner(r.GetGuid(0), r.GetBoolean(1), r.GetGuid(2), r.GetBoolean(3), null) { Origin = TokenOrigins.ChannelSecret(r.GetGuid(2), hash) }
            : null;
    }

    /// <summary>For a client token: the state of its conversation's tenant and channel (null if the conversation is gone).</summary>
    public async Task<CredentialOwner?> FindConversationAsync(Guid tenantId, Guid conversationId, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, """
            SELECT t.status = 'active', c.id, c.status = 'active'
            FROM core.conversations v
            JOIN core.channels c ON c.tenant_id = v.tenant_id AND c.id = v.channel_id
            JOIN core.tenants t ON t.id = v.tenant_id
            WHERE v.id = $1 AND v.tenant_id = $2
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conversationId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? new CredentialOwner(tenantId, r.GetBoolean(0), r.GetGuid(1), r.GetBoolean(2), null) : null;
    }

    /// <summary>
    /// Whether a valid client token still stands: null when it does; otherwise revoked (the key that minted it was
    /// revoked or the channel secret rotated) or inactive (tenant or channel deactivated, conversation gone).
    /// One indexed read; tokens minted before tokens carried their origin are judged by tenant and channel only.
    /// </summary>
    public async Task<TokenStanding?> StandingAsync(ClientTokenClaims claims, CancellationToken ct = default)
    {
        Guid? keyId = null, channelId = null, authorizationId = null;
        string? version = null;
        var origin = claims.IssuedUnder?.Split(':');
        if (origin is ["k", var k] && Guid.TryParse(k, out var key))
        {
            keyId = key;
        }
        else if (origin is ["c", var c, var v] && Guid.TryParse(c, out var channel))
        {
            (channelId, version) = (channel, v);
        }
        else if (origin is ["a", var a] && Guid.TryParse(a, out var authorization))
        {
            authorizationId = authorization;
        }
        await using var cmd = await dataSource.CreateTenantCommandAsync(claims.TenantId, """
            SELECT t.status = 'active',
                   CASE WHEN $2::uuid IS NULL THEN true ELSE EXISTS (SELECT 1 FROM core.api_keys k WHERE k.tenant_id = t.id AND k.id = $2 AND k.revoked_at IS NULL) END,
                   CASE WHEN $3::uuid IS NULL THEN true ELSE EXISTS (SELECT 1 FROM core.channels c WHERE c.tenant_id = t.id AND c.id = $3 AND left(c.secret_hash, 16) = $4) END,
                   CASE WHEN $5::uuid IS NULL THEN true ELSE EXISTS (SELECT 1 FROM core.conversations v JOIN core.channels c ON c.tenant_id = v.tenant_id AND c.id = v.channel_id
                                                                     WHERE v.tenant_id = t.id AND v.id = $5 AND c.status = 'active') END,
                   CASE WHEN $6::uuid IS NULL THEN true ELSE EXISTS (SELECT 1 FROM identity.authorizations a WHERE a.tenant_id = t.id AND a.id = $6 AND a.status = 'valid')
                        -- a revoked token in the sign-in (revocation, or a used refresh token presented again) ends all of it
                        AND NOT EXISTS (SELECT 1 FROM identity.tokens x WHERE x.authorization_id = $6 AND x.tenant_id = t.id AND x.status = 'revoked') END
            FROM core.tenants t WHERE t.id = $1
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = claims.TenantId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)keyId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)channelId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)version ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)claims.ConversationId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)authorizationId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        if (!await r.ReadAsync(ct))
        {
            return new TokenStanding(true, "tenant not found");
        }
        if (!r.GetBoolean(1))
        {
            return new TokenStanding(true, "the key that issued this token was revoked");
        }
        if (!r.GetBoolean(2))
        {
            return new TokenStanding(true, "the channel secret that issued this token was rotated");
        }
        if (!r.GetBoolean(4))
        {
            return new TokenStanding(true, "the sign-in that issued this token was revoked or signed out");
        }
        if (!r.GetBoolean(0))
        {
            return new TokenStanding(false, "tenant inactive");
        }
        return r.GetBoolean(3) ? null : new TokenStanding(false, "channel inactive or conversation gone");
    }

    /// <summary>For a user-scoped token: whether its tenant is active (null if the tenant does not exist).</summary>
    public async Task<bool?> FindTenantActiveAsync(Guid tenantId, CancellationToken ct = default)
    {
        await using var cmd = dataSource.CreateCommand("SELECT status = 'active' FROM core.tenants WHERE id = $1");
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        return await cmd.ExecuteScalarAsync(ct) is bool active ? active : null;
    }
}
