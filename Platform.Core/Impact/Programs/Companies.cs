using System.Text.Json;
using Npgsql;
using Platform.Core.Data;
using Platform.Core.Impact.Privacy;
using Platform.Core.Impact.Reporting;

namespace Platform.Core.Impact.Programs;

public sealed record Company(Guid Id, string Name, string? ExternalId, DateTimeOffset CreatedAt);

/// <summary>Corporate sponsors of a tenant. Every query is narrowed to the tenant; other tenants' ids are simply not found.</summary>
public sealed class Companies(NpgsqlDataSource dataSource)
{
    public async Task<(Company? Company, bool Conflict)> CreateAsync(Guid tenantId, string name, string? externalId, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, """
            INSERT INTO impact.companies (id, tenant_id, name, external_id) VALUES ($1, $2, $3, $4)
            ON CONFLICT (tenant_id, external_id) DO NOTHING RETURNING id, name, external_id, created_at
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = Guid.CreateVersion7() });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        cmd.Parameters.Add(Db.Nullable(externalId, NpgsqlTypes.NpgsqlDbType.Text));
        var list = await ReadAsync(cmd, ct);
        return list.Count == 1 ? (list[0], false) : (null, true);
    }

    public async Task<IReadOnlyList<Company>> ListAsync(Guid tenantId, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, "SELECT id, name, external_id, created_at FROM impact.companies WHERE tenant_id = $1 ORDER BY created_at, id", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        return await ReadAsync(cmd, ct);
    }

    public async Task<Company?> FindAsync(Guid tenantId, Guid id, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, "SELECT id, name, external_id, created_at FROM impact.companies WHERE tenant_id = $1 AND id = $2", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        return (await ReadAsync(cmd, ct)).FirstOrDefault();
    }

    public async Task<bool> SetSroiSettingsAsync(Guid tenantId, Guid id, SroiSettings settings, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, "UPDATE impact.companies SET sroi_inputs = $3::jsonb WHERE tenant_id = $1 AND id = $2", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = JsonSerializer.Serialize(settings, JsonSerializerOptions.Web) });
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    public async Task<SroiSettings?> SroiSettingsAsync(Guid tenantId, Guid id, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, "SELECT sroi_inputs::text FROM impact.companies WHERE tenant_id = $1 AND id = $2", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        return await cmd.ExecuteScalarAsync(ct) is string json ? JsonSerializer.Deserialize<SroiSettings>(json, JsonSerializerOptions.Web) : null;
    }

    private static async Task<List<Company>> ReadAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var list = new List<Company>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            list.Add(new Company(reader.GetGuid(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3)));
        }
        return list;
    }
}
