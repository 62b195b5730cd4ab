using Npgsql;
using Platform.Core.Data;
using NpgsqlTypes;

namespace Platform.Core.Community;

/// <summary>Roles a user token carries in this module.</summary>
public static class CommunityRoles
{
    public const string Member = "member";
    public const string TeamLead = "team_lead";
    public const string CommunityManager = "community_manager";
    public const string ComplianceOfficer = "compliance_officer";

    public static readonly IReadOnlyList<string> All = [Member, TeamLead, CommunityManager, ComplianceOfficer];
}

public sealed record MemberProfile(string UserId, string DisplayName, string? Team, string? Org, string? Cohort, IReadOnlyList<string> Skills,
    IReadOnlyList<string> Roles, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>The member directory: who is who, in which team, org and cohort.</summary>
public sealed class Members(NpgsqlDataSource dataSource)
{
    public const string Columns = "user_id, display_name, team, org, cohort, skills, roles, created_at, updated_at";

    public async Task<(MemberProfile Member, bool Created)> UpsertAsync(Guid tenantId, string userId, string displayName, string? team, string? org,
        string? cohort, IReadOnlyList<string> skills, IReadOnlyList<string> roles, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, $"""
            INSERT INTO community.members (tenant_id, user_id, display_name, team, org, cohort, skills, roles)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            ON CONFLICT (tenant_id, user_id) DO UPDATE SET display_name = EXCLUDED.display_name, team = EXCLUDED.team, org = EXCLUDED.org,
                cohort = EXCLUDED.cohort, skills = EXCLUDED.skills, roles = EXCLUDED.roles, updated_at = now()
            RETURNING {Columns}, (xmax = 0)
            """, ct);
        var p = cmd.Parameters;
        p.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        p.Add(new NpgsqlParameter<string> { TypedValue = userId });
        p.Add(new NpgsqlParameter<string> { TypedValue = displayName });
        p.Add(Text(team));
        p.Add(Text(org));
        p.Add(Text(cohort));
        p.Add(new NpgsqlParameter<string[]> { TypedValue = [.. skills] });
        p.Add(new NpgsqlParameter<string[]> { TypedValue = [.. roles] });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        await r.ReadAsync(ct);
        return (Read(r), r.GetBoolean(9));
    }

    public async Task<MemberProfile?> FindAsync(Guid tenantId, string userId, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, $"SELECT {Columns} FROM community.members WHERE tenant_id = $1 AND user_id = $2", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? Read(r) : null;
    }

    /// <summary>A page of the directory in user id order, optionally one team's.</summary>
    public async Task<(IReadOnlyList<MemberProfile> Items, string? Next)> ListAsync(Guid tenantId, string? team, string? after, int limit, CancellationToken ct = default)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, $"""
            SELECT {Columns} FROM community.members
            WHERE tenant_id = $1 AND ($2::text IS NULL OR team = $2) AND ($3::text IS NULL OR user_id > $3)
            ORDER BY user_id LIMIT $4
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(Text(team));
        cmd.Parameters.Add(Text(after));
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit + 1 });
        var list = new List<MemberProfile>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(Read(r));
        }
        string? next = null;
        if (list.Count > limit)
        {
            list.RemoveAt(list.Count - 1);
            next = list[^1].UserId;
        }
        return (list, next);
    }

    public static MemberProfile Read(NpgsqlDataReader r) => new(r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2),
        r.IsDBNull(3) ? null : r.GetString(3), r.IsDBNull(4) ? null : r.GetString(4), r.GetFieldValue<string[]>(5), r.GetFieldValue<string[]>(6),
        r.GetFieldValue<DateTimeOffset>(7), r.GetFieldValue<DateTimeOffset>(8));

    internal static NpgsqlParameter Text(string? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };
}
