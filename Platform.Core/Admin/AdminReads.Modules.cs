using System.Text;
using Npgsql;
using NpgsqlTypes;
using Platform.Core.Data;

namespace Platform.Core.Admin;

/// <summary>Module queues an operator works through: civic cities with their latest run, open safety flags.</summary>
public static partial class AdminReads
{
    /// <summary>Civic cities of every tenant, newest first, with their latest processing run.</summary>
    public static async Task<Page<CivicCityRow>> CivicCitiesAsync(NpgsqlDataSource db, string? cursor, int limit, CancellationToken ct)
    {
        var after = PageCursor.Decode(cursor);
        await using var cmd = await db.CreateSystemCommandAsync(OperatorScope, """
            SELECT c.id, c.tenant_id, t.name, c.slug, c.name, c.created_at, r.status, r.created_at
            FROM civic.cities c
            JOIN core.tenants t ON t.id = c.tenant_id
            LEFT JOIN LATERAL (SELECT status, created_at FROM civic.processing_runs p WHERE p.city_id = c.id
                               ORDER BY p.created_at DESC, p.id DESC LIMIT 1) r ON true
            WHERE ($1::timestamptz IS NULL OR (c.created_at, c.id) < ($1, $2))
            ORDER BY c.created_at DESC, c.id DESC
            LIMIT $3
            """, ct);
        AddCursor(cmd, after);
        cmd.Parameters.Add(new() { Value = limit + 1 });
        var rows = new List<CivicCityRow>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new CivicCityRow(reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                reader.GetDateTime(5), reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetDateTime(7)));
        }
        return ToPage(rows, limit, r => new PageCursor(r.CreatedAt, r.Id));
    }

    /// <summary>Open safety flags of every tenant, oldest first (the review queue's order).</summary>
    public static async Task<Page<SafetyFlagKey>> OpenSafetyFlagsAsync(NpgsqlDataSource db, string? cursor, int limit, CancellationToken ct)
    {
        var after = PageCursor.Decode(cursor);
        await using var cmd = await db.CreateSystemCommandAsync(OperatorScope, """
            SELECT f.id, f.tenant_id, t.name, f.created_at
            FROM impact.safety_flags f
            JOIN core.tenants t ON t.id = f.tenant_id
            WHERE f.status = 'open' AND ($1::timestamptz IS NULL OR (f.created_at, f.id) > ($1, $2))
            ORDER BY f.created_at, f.id
            LIMIT $3
            """, ct);
        AddCursor(cmd, after);
        cmd.Parameters.Add(new() { Value = limit + 1 });
        var rows = new List<SafetyFlagKey>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new SafetyFlagKey(reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), reader.GetDateTime(3)));
        }
        return ToPage(rows, limit, r => new PageCursor(r.CreatedAt, r.Id));
    }

    /// <summary>The tenant a safety flag belongs to; null when there is no such flag.</summary>
    public static async Task<Guid?> SafetyFlagTenantAsync(NpgsqlDataSource db, Guid flagId, CancellationToken ct)
    {
        await using var cmd = await db.CreateSystemCommandAsync(OperatorScope, "SELECT tenant_id FROM impact.safety_flags WHERE id = $1", ct);
        cmd.Parameters.Add(new() { Value = flagId });
        return await cmd.ExecuteScalarAsync(ct) is Guid tenant ? tenant : null;
    }
}
