using Npgsql;
using NpgsqlTypes;
using Platform.Core.Data;
using Platform.Core.Jobs;

namespace Platform.Core.Civic;

/// <summary>A tenant's cities with their sources and scan schedule, and the manual "scan now".</summary>
public sealed class CivicCities(NpgsqlDataSource db, IJobQueue jobs)
{
    /// <summary>Adds a city with its sources in one transaction; null when the tenant already has a city with this slug.</summary>
    public async Task<CityView?> CreateAsync(Guid tenant, string slug, string name, string? cron, IReadOnlyList<NewCitySource> sources, CancellationToken ct)
    {
        var cityId = Guid.CreateVersion7();
        await using var conn = await db.OpenForTenantAsync(tenant, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var cmd = new NpgsqlCommand(
            "INSERT INTO civic.cities (id, tenant_id, slug, name, cron, next_scan_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, slug) DO NOTHING", conn, tx))
        {
            cmd.Parameters.Add(new() { Value = cityId });
            cmd.Parameters.Add(new() { Value = tenant });
            cmd.Parameters.Add(new() { Value = slug });
            cmd.Parameters.Add(new() { Value = name });
            cmd.Parameters.Add(new() { Value = (object?)cron ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            cmd.Parameters.Add(new() { Value = cron is { } c ? (object?)CivicCron.Next(c, DateTimeOffset.UtcNow) ?? DBNull.Value : DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            if (await cmd.ExecuteNonQueryAsync(ct) == 0)
            {
                return null;
            }
        }
        foreach (var s in sources)
        {
            await using var cmd = new NpgsqlCommand("INSERT INTO civic.sources (id, city_id, kind, location) VALUES ($1, $2, $3, $4)", conn, tx);
            cmd.Parameters.Add(new() { Value = Guid.CreateVersion7() });
            cmd.Parameters.Add(new() { Value = cityId });
            cmd.Parameters.Add(new() { Value = s.Kind });
            cmd.Parameters.Add(new() { Value = s.Location });
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return (await ListAsync(tenant, cityId, ct)).Single();
    }

    /// <summary>The tenant's cities (or the one <paramref name="cityId"/>) by slug, each with its sources.</summary>
    public async Task<IReadOnlyList<CityView>> ListAsync(Guid tenant, Guid? cityId, CancellationToken ct)
    {
        await using var cmd = await db.CreateTenantCommandAsync(tenant, """
            SELECT c.id, c.slug, c.name, c.cron, c.next_scan_at, s.id, s.kind, s.location, s.last_checked_at, s.last_success_at, s.last_error
            FROM civic.cities c LEFT JOIN civic.sources s ON s.city_id = c.id
            WHERE c.tenant_id = $1 AND ($2::uuid IS NULL OR c.id = $2) ORDER BY c.slug, s.id
            """, ct);
        cmd.Parameters.Add(new() { Value = tenant });
        cmd.Parameters.Add(new() { Value = (object?)cityId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        var cities = new List<(CityView City, List<CitySourceView> Sources)>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            var id = r.GetGuid(0);
            if (cities.Count == 0 || cities[^1].City.Id != id)
            {
                var list = new List<CitySourceView>();
                cities.Add((new CityView(id, r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3),
                    r.IsDBNull(4) ? null : r.GetFieldValue<DateTimeOffset>(4), list), list));
            }
            if (!r.IsDBNull(5))
            {
                cities[^1].Sources.Add(new CitySourceView(r.GetGuid(5), r.GetString(6), r.GetString(7),
                    r.IsDBNull(8) ? null : r.GetFieldValue<DateTimeOffset>(8), r.IsDBNull(9) ? null : r.GetFieldValue<DateTimeOffset>(9),
                    r.IsDBNull(10) ? null : r.GetString(10)));
            }
        }
        return cities.Select(c => c.City).ToList();
    }

    public async Task<bool> ExistsAsync(Guid tenant, Guid cityId, CancellationToken ct)
    {
        await using var cmd = await db.CreateTenantCommandAsync(tenant, "SELECT 1 FROM civic.cities WHERE id = $1 AND tenant_id = $2", ct);
        cmd.Parameters.Add(new() { Value = cityId });
        cmd.Parameters.Add(new() { Value = tenant });
        return await cmd.ExecuteScalarAsync(ct) is not null;
    }

    /// <summary>
    /// Enqueues a scan of the city now (one per city at a time: a second request while one waits is the same job);
    /// null when the city is not in <paramref name="scope"/> (a tenant, or null for every tenant).
    /// </summary>
    public async Task<EnqueuedJob?> ScanNowAsync(Guid? scope, Guid cityId, CancellationToken ct)
    {
        Guid tenant;
        await using (var cmd = await CivicScope.CommandAsync(db, scope, "SELECT tenant_id FROM civic.cities WHERE id = $1 AND ($2::uuid IS NULL OR tenant_id = $2)", ct))
        {
            cmd.Parameters.Add(new() { Value = cityId });
            cmd.Parameters.Add(new() { Value = (object?)scope ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
            if (await cmd.ExecuteScalarAsync(ct) is not Guid found)
            {
                return null;
            }
            tenant = found;
        }
        var key = $"scan:{cityId}";
        return await jobs.EnqueueAsync(new CityScanArgs(tenant, cityId, "manual", key, CivicJobOptions.CurrentTraceId()),
            new JobOptions { UniqueKey = key, MaxAttempts = 3 }, ct);
    }
}
