using Npgsql;
using Platform.Core.Data;

namespace Platform.Core.Identity;

/// <summary>A person who signs in at a tenant's issuer (the password hash is opaque here: Api hashes and verifies).</summary>
public sealed record IdentityUser(Guid Id, string Email, string? PasswordHash, int FailedAttempts, DateTimeOffset? LockedUntil);

/// <summary>One entry of the role audit: who gave or took which role of whom, when.</summary>
public sealed record RoleChange(Guid UserId, string? Email, string Action, string Role, string? ScopeId, string Actor, DateTimeOffset ChangedAt);

/// <summary>A role of a user in a tenant; <see cref="ScopeId"/> names the company or conference of a scoped role.</summary>
public sealed record Membership(string Role, string? ScopeId)
{
    /// <summary>How the role travels in a token's <c>roles</c> claim: <c>member</c>, <c>company_user:{companyId}</c>.</summary>
    public string Claim => ScopeId is null ? Role : $"{Role}:{ScopeId}";
}

/// <summary>The roles of the platform. <see cref="Scoped"/> roles need a scope (a company id, a conference id).</summary>
public static class Roles
{
    public const string Member = "member";
    public const string TeamLead = "team_lead";
    public const string CommunityManager = "community_manager";
    public const string ComplianceOfficer = "compliance_officer";
    public const string Ops = "ops";
    public const string CompanyUser = "company_user";
    public const string Attendee = "attendee";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
        { Member, TeamLead, CommunityManager, ComplianceOfficer, Ops, CompanyUser, Attendee };

    public static readonly IReadOnlySet<string> Scoped = new HashSet<string>(StringComparer.Ordinal) { CompanyUser, Attendee };

    /// <summary>The scopes a token's roles give for <paramref name="role"/> (e.g. the companies of company_user).</summary>
    public static IEnumerable<string> ScopesOf(IEnumerable<string> claims, string role) =>
        claims.Where(c => c.StartsWith(role + ":", StringComparison.Ordinal)).Select(c => c[(role.Length + 1)..]);
}

/// <summary>Users and their memberships, per tenant, behind row-level security (every call opens the tenant's scope).</summary>
public sealed class IdentityUsers(NpgsqlDataSource dataSource)
{
    public static string Normalize(string email) => email.Trim().ToUpperInvariant();

    /// <summary>Creates a user with the member role; null when the e-mail is already registered in this tenant.</summary>
    public async Task<Guid?> RegisterAsync(Guid tenantId, string email, string? passwordHash, CancellationToken ct)
    {
        var id = Guid.CreateVersion7();
        await using var conn = await dataSource.OpenForTenantAsync(tenantId, ct);
        await using var batch = new NpgsqlBatch(conn)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("""
                    INSERT INTO identity.users (tenant_id, id, email, email_normalized, password_hash) VALUES ($1, $2, $3, $4, $5)
                    ON CONFLICT (tenant_id, email_normalized) DO NOTHING
                    """),
                new NpgsqlBatchCommand("""
                    INSERT INTO identity.memberships (tenant_id, user_id, role)
                    SELECT $1, $2, 'member' WHERE EXISTS (SELECT 1 FROM identity.users WHERE tenant_id = $1 AND id = $2)
                    """),
            },
        };
        var insert = batch.BatchCommands[0].Parameters;
        insert.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        insert.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        insert.Add(new NpgsqlParameter<string> { TypedValue = email.Trim() });
        insert.Add(new NpgsqlParameter<string> { TypedValue = Normalize(email) });
        insert.Add(new NpgsqlParameter { Value = (object?)passwordHash ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        batch.BatchCommands[1].Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        batch.BatchCommands[1].Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        await using var tx = await conn.BeginTransactionAsync(ct);
        batch.Transaction = tx;
        await using (var reader = await batch.ExecuteReaderAsync(ct))
        {
            if (reader.RecordsAffected == 0)
            {
                return null;
            }
        }
        await tx.CommitAsync(ct);
        return id;
    }

    public async Task<IdentityUser?> FindByEmailAsync(Guid tenantId, string email, CancellationToken ct) =>
        await FindAsync(tenantId, "email_normalized = $2", Normalize(email), ct);

    public async Task<IdentityUser?> FindByIdAsync(Guid tenantId, Guid id, CancellationToken ct) =>
        await FindAsync(tenantId, "id = $2", id, ct);

    private async Task<IdentityUser?> FindAsync<T>(Guid tenantId, string where, T value, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, $"""
            SELECT id, email, password_hash, failed_attempts, locked_until FROM identity.users WHERE tenant_id = $1 AND {where}
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<T> { TypedValue = value });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct)
            ? new IdentityUser(r.GetGuid(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), r.GetInt32(3),
                r.IsDBNull(4) ? null : r.GetFieldValue<DateTimeOffset>(4))
            : null;
    }

    /// <summary>Counts a failed password; the <paramref name="limit"/>-th in a row locks the account for <paramref name="lockFor"/>.</summary>
    public async Task RecordFailureAsync(Guid tenantId, Guid id, int limit, TimeSpan lockFor, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, """
            UPDATE identity.users
            SET failed_attempts = CASE WHEN failed_attempts + 1 >= $3 THEN 0 ELSE failed_attempts + 1 END,
                locked_until = CASE WHEN failed_attempts + 1 >= $3 THEN now() + $4 ELSE locked_until END
            WHERE tenant_id = $1 AND id = $2
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        cmd.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = lockFor });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>A successful sign-in: clears the failure count and stores a rehashed password when the hasher asks for it.</summary>
    public async Task RecordSuccessAsync(Guid tenantId, Guid id, string? rehashed, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, """
            UPDATE identity.users SET failed_attempts = 0, locked_until = NULL, password_hash = coalesce($3, password_hash)
            WHERE tenant_id = $1 AND id = $2
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)rehashed ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public async Task<IReadOnlyList<Membership>> MembershipsAsync(Guid tenantId, Guid userId, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, """
            SELECT role, scope_id FROM identity.memberships WHERE tenant_id = $1 AND user_id = $2 ORDER BY role, scope_id
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = userId });
        var list = new List<Membership>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(new Membership(r.GetString(0), r.GetString(1) is { Length: > 0 } s ? s : null));
        }
        return list;
    }

    /// <summary>
    /// Grants a role and records who did it (<paramref name="actor"/>) in the role audit, in one statement; false when the
    /// user does not exist in this tenant. Granting a role the user holds changes and records nothing.
    /// </summary>
    public async Task<bool> GrantAsync(Guid tenantId, Guid userId, Membership membership, string actor, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, """
            WITH granted AS (
              INSERT INTO identity.memberships (tenant_id, user_id, role, scope_id)
              SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM identity.users WHERE tenant_id = $1 AND id = $2)
              ON CONFLICT DO NOTHING RETURNING user_id)
            INSERT INTO identity.role_changes (tenant_id, user_id, action, role, scope_id, actor)
            SELECT $1, user_id, 'grant', $3, $4, $5 FROM granted
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = userId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = membership.Role });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = membership.ScopeId ?? "" });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = actor });
        await cmd.ExecuteNonQueryAsync(ct);
        return await FindByIdAsync(tenantId, userId, ct) is not null;
    }

    /// <summary>Removes a role and records who did it in the role audit; false when the user did not hold it.</summary>
    public async Task<bool> RevokeAsync(Guid tenantId, Guid userId, Membership membership, string actor, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, """
            WITH removed AS (
              DELETE FROM identity.memberships WHERE tenant_id = $1 AND user_id = $2 AND role = $3 AND scope_id = $4 RETURNING user_id)
            INSERT INTO identity.role_changes (tenant_id, user_id, action, role, scope_id, actor)
            SELECT $1, user_id, 'remove', $3, $4, $5 FROM removed
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = userId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = membership.Role });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = membership.ScopeId ?? "" });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = actor });
        return await cmd.ExecuteNonQueryAsync(ct) > 0;
    }

    /// <summary>A tenant's users with their roles, by e-mail, a page at a time (keyset on the normalized address).</summary>
    public async Task<(IReadOnlyList<(IdentityUser User, IReadOnlyList<Membership> Roles)> Items, string? Next)> ListAsync(Guid tenantId,
        string? after, int limit, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, """
            SELECT u.id, u.email, u.email_normalized,
                   coalesce(array_agg(m.role ORDER BY m.role, m.scope_id) FILTER (WHERE m.role IS NOT NULL), '{}'),
                   coalesce(array_agg(m.scope_id ORDER BY m.role, m.scope_id) FILTER (WHERE m.role IS NOT NULL), '{}')
            FROM identity.users u LEFT JOIN identity.memberships m ON m.tenant_id = u.tenant_id AND m.user_id = u.id
            WHERE u.tenant_id = $1 AND ($2::text IS NULL OR u.email_normalized > $2)
            GROUP BY u.id, u.email, u.email_normalized ORDER BY u.email_normalized LIMIT $3
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)after ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit + 1 });
        var items = new List<(IdentityUser, IReadOnlyList<Membership>, string)>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            var roles = r.GetFieldValue<string[]>(3);
            var scopes = r.GetFieldValue<string[]>(4);
            items.Add((new IdentityUser(r.GetGuid(0), r.GetString(1), null, 0, null),
                [.. roles.Select((role, i) => new Membership(role, scopes[i] is { Length: > 0 } s ? s : null))], r.GetString(2)));
        }
        var next = items.Count > limit ? items[limit - 1].Item3 : null;
        return ([.. items.Take(limit).Select(i => (i.Item1, i.Item2))], next);
    }

    /// <summary>The newest role changes of a tenant (the audit), newest first.</summary>
    public async Task<IReadOnlyList<RoleChange>> RoleChangesAsync(Guid tenantId, int limit, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, """
            SELECT c.user_id, u.email, c.action, c.role, c.scope_id, c.actor, c.changed_at
            FROM identity.role_changes c LEFT JOIN identity.users u ON u.tenant_id = c.tenant_id AND u.id = c.user_id
            WHERE c.tenant_id = $1 ORDER BY c.id DESC LIMIT $2
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        var list = new List<RoleChange>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(new RoleChange(r.GetGuid(0), r.IsDBNull(1) ? null : r.GetString(1), r.GetString(2), r.GetString(3),
                r.GetString(4) is { Length: > 0 } s ? s : null, r.GetString(5), r.GetFieldValue<DateTimeOffset>(6)));
        }
        return list;
    }

    /// <summary>
    /// Revokes every sign-in of a user in this tenant (sign-out, or an administrator's lock-out): their authorizations and
    /// tokens. Returns the authorization ids revoked, so live sockets can be told.
    /// </summary>
    public async Task<IReadOnlyList<Guid>> RevokeSessionsAsync(Guid tenantId, string subject, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenForTenantAsync(tenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var ids = new List<Guid>();
        await using (var cmd = new NpgsqlCommand("""
            UPDATE identity.authorizations SET status = 'revoked', concurrency_token = gen_random_uuid()::text
            WHERE tenant_id = $1 AND subject = $2 AND status = 'valid' RETURNING id
            """, conn, tx))
        {
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = subject });
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                ids.Add(r.GetGuid(0));
            }
        }
        await using (var cmd = new NpgsqlCommand("""
            UPDATE identity.tokens SET status = 'revoked', concurrency_token = gen_random_uuid()::text
            WHERE tenant_id = $1 AND subject = $2 AND status IN ('valid', 'inactive')
            """, conn, tx))
        {
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = subject });
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return ids;
    }
}

/// <summary>What a tenant's sign-in pages show.</summary>
public sealed record Branding(string DisplayName, string PrimaryColor, string? LogoUrl);

/// <summary>Per-tenant branding of the sign-in pages; the tenant's name and a neutral colour when unset.</summary>
public sealed class IdentityBranding(NpgsqlDataSource dataSource)
{
    public const string DefaultColor = "#1f4e79";

    public async Task<Branding> GetAsync(Guid tenantId, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, """
            SELECT coalesce(b.display_name, t.name), coalesce(b.primary_color, $2), b.logo_url
            FROM core.tenants t LEFT JOIN identity.branding b ON b.tenant_id = t.id WHERE t.id = $1
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = DefaultColor });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct)
            ? new Branding(r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2))
            : new Branding("Sign in", DefaultColor, null);
    }

    public async Task SetAsync(Guid tenantId, string? displayName, string? primaryColor, string? logoUrl, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, """
            INSERT INTO identity.branding (tenant_id, display_name, primary_color, logo_url) VALUES ($1, $2, $3, $4)
            ON CONFLICT (tenant_id) DO UPDATE SET display_name = $2, primary_color = $3, logo_url = $4, updated_at = now()
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)displayName ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)primaryColor ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)logoUrl ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
