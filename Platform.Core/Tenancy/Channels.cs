using Npgsql;
using NpgsqlTypes;
using Platform.Core.Security;

namespace Platform.Core.Tenancy;

public sealed record Channel(Guid Id, string Name, string Status, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>Channels of one tenant, each with one secret (stored hashed; rotating replaces it, so the old one stops at once).</summary>
public sealed class Channels(NpgsqlDataSource dataSource, Revocations revocations)
{
    public const int MaxNameLength = 200;
    private const string Columns = "id, name, status, created_at, updated_at";

    public async Task<(Channel Channel, string Secret)> CreateAsync(Guid tenantId, string name, CancellationToken ct = default)
    {
        var secret = Credentials.Generate(Credentials.ChannelSecretPrefix);
        await using var cmd = dataSource.CreateCommand(
            $"INSERT INTO core.channels (id, tenant_id, name, secret_hash) VALUES ($1, $2, $3, $4) RETURNING {Columns}");
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = Guid.CreateVersion7() });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Credentials.Hash(secret) });
        return ((await ReadAllAsync(cmd, ct))[0], secret);
    }

    public async Task<IReadOnlyList<Channel>> ListAsync(Guid tenantId, int limit, Guid? after, CancellationToken ct = default)
    {
        await using var cmd = dataSource.CreateCommand($"""
            SELECT {Columns} FROM core.channels
            WHERE tenant_id = $1
              AND ($2::uuid IS NULL OR (created_at, id) > (SELECT created_at, id FROM core.channels WHERE tenant_id = $1 AND id = $2))
            ORDER BY created_at, id LIMIT $3
            """);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)after ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        return await ReadAllAsync(cmd, ct);
    }

    public async Task<Channel?> FindAsync(Guid tenantId, Guid id, CancellationToken ct = default)
    {
        await using var cmd = dataSource.CreateCommand($"SELECT {Columns} FROM core.channels WHERE tenant_id = $1 AND id = $2");
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        return (await ReadAllAsync(cmd, ct)).FirstOrDefault();
    }

    public async Task<Channel?> UpdateAsync(Guid tenantId, Guid id, string? name, string? status, CancellationToken ct = default)
    {
        await using var cmd = dataSource.CreateCommand($"""
            UPDATE core.channels SET name = coalesce($3, name), status = coalesce($4, status), updated_at = now()
            WHERE tenant_id = $1 AND id = $2 RETURNING {Columns}
            """);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)name ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)status ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        var channel = (await ReadAllAsync(cmd, ct)).FirstOrDefault();
        if (channel is not null && status is not null)
        {
            await revocations.PublishAsync(Revocations.ChannelOf(id));
        }
        return channel;
    }

    /// <summary>Replaces the channel's secret; the old one fails from the next request on. Null when no such channel.</summary>
    public async Task<string?> RotateSecretAsync(Guid tenantId, Guid id, CancellationToken ct = default)
    {
        var secret = Credentials.Generate(Credentials.ChannelSecretPrefix);
        await using var cmd = dataSource.CreateCommand(
            "UPDATE core.channels SET secret_hash = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2");
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Credentials.Hash(secret) });
        if (await cmd.ExecuteNonQueryAsync(ct) != 1)
        {
            return null;
        }
        await revocations.PublishAsync(Revocations.ChannelOf(id)); // tokens minted with the old secret die
        return secret;
    }

    private static async Task<List<Channel>> ReadAllAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var list = new List<Channel>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(new Channel(r.GetGuid(0), r.GetString(1), r.GetString(2), r.GetFieldValue<DateTimeOffset>(3), r.GetFieldValue<DateTimeOffset>(4)));
        }
        return list;
    }
}
