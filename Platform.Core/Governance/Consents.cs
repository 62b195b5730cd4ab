using Npgsql;
using Platform.Core.Data;

namespace Platform.Core.Governance;

/// <summary>Purposes a person consents to, each separately.</summary>
public static class ConsentPurposes
{
    /// <summary>Named in champion/connector lists and recognition.</summary>
    public const string Recognition = "recognition";
    /// <summary>Own activity and survey answers counted in pulse aggregates.</summary>
    public const string Pulse = "pulse";
    /// <summary>Recommendations made about or to the person.</summary>
    public const string Recommendations = "recommendations";
    /// <summary>Directory profile visible to other members.</summary>
    public const string ShareProfile = "share_profile";

    public static readonly IReadOnlyList<string> All = [Recognition, Pulse, Recommendations, ShareProfile];
}

public sealed record Consent(string Purpose, bool Granted, DateTimeOffset? UpdatedAt);

/// <summary>
/// Consent per user and purpose, opt-in: a purpose nobody recorded is not granted. The policy check
/// (<see cref="GrantedAsync"/>) is what every read exposing a person goes through.
/// </summary>
public sealed class Consents(NpgsqlDataSource dataSource)
{
    public async Task<Consent> SetAsync(Guid tenantId, string userId, string purpose, bool granted, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, """
            INSERT INTO governance.consents (tenant_id, user_id, purpose, granted) VALUES ($1, $2, $3, $4)
            ON CONFLICT (tenant_id, user_id, purpose) DO UPDATE SET granted = EXCLUDED.granted, updated_at = now()
            RETURNING updated_at
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = purpose });
        cmd.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = granted });
        var at = (DateTime)(await cmd.ExecuteScalarAsync(ct))!;
        return new Consent(purpose, granted, new DateTimeOffset(at, TimeSpan.Zero));
    }

    /// <summary>Every purpose for one user, absent ones as not granted.</summary>
    public async Task<IReadOnlyList<Consent>> OfAsync(Guid tenantId, string userId, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, "SELECT purpose, granted, updated_at FROM governance.consents WHERE tenant_id = $1 AND user_id = $2", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        var found = new Dictionary<string, Consent>();
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                found[r.GetString(0)] = new Consent(r.GetString(0), r.GetBoolean(1), r.GetFieldValue<DateTimeOffset>(2));
            }
        }
        return [.. ConsentPurposes.All.Select(p => found.GetValueOrDefault(p) ?? new Consent(p, false, null))];
    }

    /// <summary>The users among <paramref name="userIds"/> (all of the tenant's when null) who granted <paramref name="purpose"/>.</summary>
    public async Task<HashSet<string>> GrantedAsync(Guid tenantId, string purpose, IReadOnlyCollection<string>? userIds = null, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, """
            SELECT user_id FROM governance.consents
            WHERE tenant_id = $1 AND purpose = $2 AND granted AND ($3::text[] IS NULL OR user_id = ANY($3))
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = purpose });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)userIds?.ToArray() ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text });
        var set = new HashSet<string>(StringComparer.Ordinal);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            set.Add(r.GetString(0));
        }
        return set;
    }

    public async Task<bool> IsGrantedAsync(Guid tenantId, string userId, string purpose, CancellationToken ct = default) =>
        (await GrantedAsync(tenantId, purpose, [userId], ct)).Contains(userId);
}
