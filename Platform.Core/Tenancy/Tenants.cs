using Npgsql;
using Platform.Core.Security;

namespace Platform.Core.Tenancy;

/// <summary>Status of a tenant or a channel. Inactive ones keep their data but every call on them is refused (403).</summary>
public static class ActivationStatus
{
    public const string Active = "active";
    public const string Inactive = "inactive";

    public static bool IsValid(string? status) => status is Active or Inactive;
}

public sealed record Tenant(Guid Id, string Name, string Status, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>A freshly issued tenant API key: <see cref="ApiKey"/> is shown this once and stored only as a hash.</summary>
public sealed record IssuedApiKey(Guid Id, string ApiKey);

/// <summary>Tenants and their API keys: the operator's side of tenancy.</summary>
public sealed class Tenants(NpgsqlDataSource dataSource, Revocations revocations)
{
    public const int MaxNameLength = 200;
    private const string Columns = "id, name, status, created_at, updated_at";

    /// <summary>Creates a tenant together with its first API key, in one transaction.</summary>
    public async Task<(Tenant Tenant, IssuedApiKey Key)> CreateAsync(string name, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        Tenant tenant;
        await using (var cmd = new NpgsqlCommand($"INSERT INTO core.tenants (id, name) VALUES ($1, $2) RETURNING {Columns}", conn, tx))
        {
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = Guid.CreateVersion7() });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
            tenant = (await ReadAllAsync(cmd, ct))[0];
        }
        var key = await InsertKeyAsync(conn, tx, tenant.Id, ct);
        await tx.CommitAsync(ct);
        return (tenant, key);
    }

    /// <summary>Tenants in creation order, after the tenant <paramref name="after"/> (keyset paging).</summary>
    public async Task<IReadOnlyList<Tenant>> ListAsync(int limit, Guid? after, CancellationToken ct = default)
    {
        await using var cmd = dataSource.CreateCommand($"""
            SELECT {Columns} FROM core.tenants
            WHERE $1::uuid IS NULL OR (created_at, id) > (SELECT created_at, id FROM core.tenants WHERE id = $1)
            ORDER BY created_at, id LIMIT $2
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)after ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        return await ReadAllAsync(cmd, ct);
    }

    public async Task<Tenant?> FindAsync(Guid id, CancellationToken ct = default)
    {
        await using var cmd = dataSource.CreateCommand($"SELECT {Columns} FROM core.tenants WHERE id = $1");
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        return (await ReadAllAsync(cmd, ct)).FirstOrDefault();
    }

    /// <summary>Changes name and/or status; null leaves a field as it is.</summary>
    public async Task<Tenant?> UpdateAsync(Guid id, string? name, string? status, CancellationToken ct = default)
    {
        await using var cmd = dataSource.CreateCommand($"""
            UPDATE core.tenants SET name = coalesce($2, name), status = coalesce($3, status), updated_at = now()
            WHERE id = $1 RETURNING {Columns}
            """);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)name ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)status ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        var tenant = (await ReadAllAsync(cmd, ct)).FirstOrDefault();
        if (tenant is not null && status is not null)
        {
            await revocations.PublishAsync(Revocations.Tenant(id)); // live sockets of a deactivated tenant close
        }
        return tenant;
    }

    /// <summary>Adds an API key (keys live side by side, so rotation is: issue new, switch callers, revoke old).</summary>
    public async Task<IssuedApiKey?> IssueApiKeyAsync(Guid tenantId, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var exists = new NpgsqlCommand("SELECT 1 FROM core.tenants WHERE id = $1 FOR SHARE", conn, tx))
        {
            exists.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            if (await exists.ExecuteScalarAsync(ct) is null)
            {
                return null;
            }
        }
        var key = await InsertKeyAsync(conn, tx, tenantId, ct);
        await tx.CommitAsync(ct);
        return key;
    }

    /// <summary>Revokes a key at once (the next request with it is 401). False when the tenant has no such key.</summary>
    public async Task<bool> RevokeApiKeyAsync(Guid tenantId, Guid keyId, CancellationToken ct = default)
    {
        await using var cmd = dataSource.CreateCommand(
            "UPDATE core.api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 AND tenant_id = $2");
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = keyId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        if (await cmd.ExecuteNonQueryAsync(ct) != 1)
        {
            return false;
        }
        await revocations.PublishAsync(Revocations.ApiKey(keyId)); // tokens it minted die, live sockets included
        return true;
    }

    private static async Task<IssuedApiKey> InsertKeyAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid tenantId, CancellationToken ct)
    {
        var value = Credentials.Generate(Credentials.TenantKeyPrefix);
        var id = Guid.CreateVersion7();
        await using var cmd = new NpgsqlCommand("INSERT INTO core.api_keys (id, tenant_id, key_hash, prefix) VALUES ($1, $2, $3, $4)", conn, tx);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Credentials.Hash(value) });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = value[..10] });
        await cmd.ExecuteNonQueryAsync(ct);
        return new IssuedApiKey(id, value);
    }

    private static async Task<List<Tenant>> ReadAllAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var list = new List<Tenant>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(new Tenant(r.GetGuid(0), r.GetString(1), r.GetString(2), r.GetFieldValue<DateTimeOffset>(3), r.GetFieldValue<DateTimeOffset>(4)));
        }
        return list;
    }
}
