using Npgsql;
using Platform.Core.Data;

namespace Platform.Core.Retention;

/// <summary>Per-tenant keep periods: a stored row overrides the class's default; no row means the default.</summary>
public sealed class RetentionSettings(NpgsqlDataSource dataSource)
{
    /// <summary>Whether the tenant exists (the operator API answers 404 for keep periods of an unknown tenant).</summary>
    public async Task<bool> TenantExistsAsync(Guid tenant, CancellationToken ct = default)
    {
        await using var cmd = dataSource.CreateCommand("SELECT 1 FROM core.tenants WHERE id = $1");
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenant });
        return await cmd.ExecuteScalarAsync(ct) is not null;
    }

    public async Task<IReadOnlyList<RetentionSetting>> ListAsync(Guid tenantId, CancellationToken ct)
    {
        var stored = new Dictionary<string, (int Days, DateTimeOffset At, string By)>();
        await using (var cmd = await dataSource.CreateTenantCommandAsync(tenantId,
            "SELECT data_class, keep_days, updated_at, updated_by FROM governance.retention_settings WHERE tenant_id = $1", ct))
        {
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                stored[r.GetString(0)] = (r.GetInt32(1), r.GetFieldValue<DateTimeOffset>(2), r.GetString(3));
            }
        }
        return [.. RetentionClasses.All.Select(c => stored.TryGetValue(c.Name, out var s)
            ? new RetentionSetting(c.Name, s.Days, c.DefaultDays, false, c.MinDays, c.MaxDays, c.Action, c.Description, s.At, s.By)
            : new RetentionSetting(c.Name, c.DefaultDays, c.DefaultDays, true, c.MinDays, c.MaxDays, c.Action, c.Description, null, null))];
    }

    /// <summary>Sets a class's keep period (null: back to the default). The caller has validated the class and the value.</summary>
    public async Task<RetentionSetting> SetAsync(Guid tenantId, RetentionClass dataClass, int? keepDays, string actor, CancellationToken ct)
    {
        await using (var cmd = await dataSource.CreateTenantCommandAsync(tenantId, keepDays is null
            ? "DELETE FROM governance.retention_settings WHERE tenant_id = $1 AND data_class = $2"
            : """
              INSERT INTO governance.retention_settings (tenant_id, data_class, keep_days, updated_by) VALUES ($1, $2, $3, $4)
              ON CONFLICT (tenant_id, data_class) DO UPDATE SET keep_days = EXCLUDED.keep_days, updated_by = EXCLUDED.updated_by, updated_at = now()
              """, ct))
        {
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = dataClass.Name });
            if (keepDays is { } days)
            {
                cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = days });
                cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = actor });
            }
            await cmd.ExecuteNonQueryAsync(ct);
        }
        return (await ListAsync(tenantId, ct)).Single(s => s.DataClass == dataClass.Name);
    }

    /// <summary>The ledger, newest first; <paramref name="tenantId"/> null = every tenant (the operator's view).</summary>
    public async Task<RetentionRunPage> RunsAsync(Guid? tenantId, string? cursor, int limit, CancellationToken ct)
    {
        var (beforeAt, beforeId) = DecodeCursor(cursor);
        const string Sql = """
            SELECT id, tenant_id, data_class, action, keep_days, horizon, rows_affected, batches, complete, started_at, finished_at
              FROM governance.retention_runs
             WHERE ($1::uuid IS NULL OR tenant_id = $1) AND ($2::timestamptz IS NULL OR (started_at, id) < ($2, $3))
             ORDER BY started_at DESC, id DESC LIMIT $4
            """;
        await using var cmd = tenantId is { } t
            ? await dataSource.CreateTenantCommandAsync(t, Sql, ct)
            : await dataSource.CreateSystemCommandAsync("operator reads the retention ledger of every tenant", Sql, ct);
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)tenantId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)beforeAt ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)beforeId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit + 1 });
        var items = new List<RetentionRun>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            items.Add(new RetentionRun(r.GetGuid(0), r.GetGuid(1), r.GetString(2), r.GetString(3), r.GetInt32(4), r.GetFieldValue<DateTimeOffset>(5),
                r.GetInt64(6), r.GetInt32(7), r.GetBoolean(8), r.GetFieldValue<DateTimeOffset>(9), r.GetFieldValue<DateTimeOffset>(10)));
        }
        string? next = null;
        if (items.Count > limit)
        {
            items.RemoveAt(limit);
            var last = items[^1];
            next = $"{last.StartedAt.UtcTicks}.{last.Id:N}";
        }
        return new RetentionRunPage(items, next);
    }

    /// <summary>A cursor is "ticks.id" of the last row seen; anything else is rejected by the caller through <see cref="IsCursor"/>.</summary>
    public static bool IsCursor(string? cursor) => cursor is null || DecodeCursor(cursor).At is not null;

    private static (DateTimeOffset? At, Guid? Id) DecodeCursor(string? cursor)
    {
        if (cursor is null)
        {
            return (null, null);
        }
        var parts = cursor.Split('.');
        return parts.Length == 2 && long.TryParse(parts[0], System.Globalization.CultureInfo.InvariantCulture, out var ticks)
               && ticks > 0 && ticks < DateTimeOffset.MaxValue.UtcTicks && Guid.TryParseExact(parts[1], "N", out var id)
            ? (new DateTimeOffset(ticks, TimeSpan.Zero), id)
            : (null, null);
    }
}
