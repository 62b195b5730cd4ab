using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Core.Data;

namespace Platform.Tests.Integration.Conversations;

/// <summary>
/// The database wall under the hand-written tenant predicates: the services' role cannot skip row-level security, every
/// table with a <c>tenant_id</c> has it forced with the one policy, and a query with no predicate at all, run in tenant
/// A's scope, sees nothing of tenant B (nor anything without a scope, nor after the pool hands the connection on).
/// </summary>
public sealed class DatabaseIsolationTests(ConversationsFixture fx) : IClassFixture<ConversationsFixture>
{
    private NpgsqlDataSource ServiceData => fx.Api.Services.GetRequiredService<NpgsqlDataSource>();

    [Fact]
    public async Task Services_connect_as_a_role_that_is_no_superuser_cannot_bypass_row_security_and_cannot_change_the_schema()
    {
        await using var conn = await ServiceData.OpenConnectionAsync();
        await using (var cmd = new NpgsqlCommand($"""
            SELECT current_user::text, rolsuper, rolbypassrls, pg_has_role(current_user, '{DatabaseSetup.ServiceRole}', 'MEMBER'), rolcreaterole, rolcreatedb
            FROM pg_roles WHERE rolname = current_user
            """, conn))
        await using (var r = await cmd.ExecuteReaderAsync())
        {
            Assert.True(await r.ReadAsync());
            Assert.Equal(TestEnvironment.ServiceUser, r.GetString(0));
            Assert.False(r.GetBoolean(1), "superuser");
            Assert.False(r.GetBoolean(2), "bypasses row-level security");
            Assert.True(r.GetBoolean(3), "member of the services' role");
            Assert.False(r.GetBoolean(4), "may create roles");
            Assert.False(r.GetBoolean(5), "may create databases");
        }
        await using var ddl = new NpgsqlCommand("CREATE TABLE core.intruder (id int)", conn);
        var refused = await Assert.ThrowsAsync<PostgresException>(() => ddl.ExecuteNonQueryAsync());
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
    }

    [Fact]
    public async Task Every_table_with_a_tenant_id_has_row_level_security_forced_with_the_tenant_policy()
    {
        var tables = await TenantTablesAsync();
        Assert.NotEmpty(tables);
        // Every one, whatever the module: a table added later without ops.protect_tenant_table fails here.
        var failures = tables
            .Where(t => !(t.Enabled && t.Forced && t.Policies.Contains("tenant_isolation") && t.Policies.Contains("system_scope")))
            .Select(t => $"{t.Name}: row security enabled={t.Enabled} forced={t.Forced} policies=[{string.Join(',', t.Policies)}]")
            .ToList();
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Superset(ModuleTables, tables.Select(t => t.Name).ToHashSet());

        // The policies are the ones ops.protect_tenant_table writes: tenant from the scope, writes checked too.
        await using var conn = new NpgsqlConnection(fx.Database);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("""
            SELECT schemaname || '.' || tablename, policyname, permissive, qual, with_check FROM pg_policies
            WHERE policyname IN ('tenant_isolation', 'system_scope')
            """, conn);
        await using var r = await cmd.ExecuteReaderAsync();
        var seen = 0;
        while (await r.ReadAsync())
        {
            seen++;
            Assert.Equal("PERMISSIVE", r.GetString(2));
            var expected = r.GetString(1) == "tenant_isolation" ? "(tenant_id = ops.current_tenant())" : "ops.system_scope()";
            Assert.Equal(expected, r.GetString(3));
            Assert.Equal(expected, r.GetString(4));
        }
        Assert.Equal(2 * tables.Count, seen);
    }

    [Fact]
    public async Task An_unfiltered_query_in_tenant_A_scope_sees_none_of_tenant_B_rows_in_any_protected_table()
    {
        var a = await fx.CreateWorldAsync("rls-a");
        var b = await fx.CreateWorldAsync("rls-b");
        foreach (var world in new[] { a, b })
        {
            var posted = await fx.Client(world.Tenant.ApiKey).PostAsJsonAsync($"/v1/conversations/{world.Conversation}/activities",
                ConversationsFixture.Message("private to " + world.Tenant.Id));
            Assert.Equal(HttpStatusCode.Created, posted.StatusCode);
            await SeedDirectLineRowsAsync(world);
            await SeedModuleRowsAsync(world);
        }

        var failures = new List<string>();
        var covered = new List<string>();
        foreach (var table in (await TenantTablesAsync()).Select(t => t.Name))
        {
            // Only where the owner (a superuser in tests) sees rows of both tenants is there something to leak; the
            // tables this world does not fill carry the same policy, which the catalog test checks.
            var all = await TenantIdsAsync(new NpgsqlConnection(fx.Database), table, open: true);
            if (!all.Contains(a.Tenant.Id) || !all.Contains(b.Tenant.Id))
            {
                continue;
            }
            covered.Add(table);

            await using var scoped = await ServiceData.OpenForTenantAsync(a.Tenant.Id);
            var seenByA = await TenantIdsAsync(scoped, table, open: false);
            if (!seenByA.SetEquals([a.Tenant.Id]))
            {
                failures.Add($"{table}: tenant A's scope saw tenants [{string.Join(", ", seenByA)}]");
            }

            await using var unscoped = await ServiceData.OpenConnectionAsync();
            var seenWithoutScope = await TenantIdsAsync(unscoped, table, open: false);
            if (seenWithoutScope.Count != 0)
            {
                failures.Add($"{table}: a connection without a scope saw tenants [{string.Join(", ", seenWithoutScope)}]");
            }

            await using var system = await ServiceData.OpenSystemScopeAsync("test: the system scope sees every tenant");
            var seenBySystem = await TenantIdsAsync(system, table, open: false);
            if (!seenBySystem.IsSupersetOf([a.Tenant.Id, b.Tenant.Id]))
            {
                failures.Add($"{table}: the system scope saw only [{string.Join(", ", seenBySystem)}]");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Superset(ConvergerTables, covered.ToHashSet());
        Assert.Superset(SeededModuleTables, covered.ToHashSet());
    }

    /// <summary>The messaging and Direct Line hot path: the world this test builds fills every one of them.</summary>
    private static readonly HashSet<string> ConvergerTables =
    [
        "core.api_keys", "core.channels", "core.conversations", "core.activities", "core.directline_uploads", "core.directline_conversations",
    ];

    /// <summary>One table of every module, filled for both tenants by <see cref="SeedModuleRowsAsync"/>.</summary>
    private static readonly HashSet<string> SeededModuleTables =
    [
        "civic.cities", "civic.profiles", "governance.consents", "impact.companies", "impact.webhook_rejections",
        "ops.notification_preferences", "ops.webhook_endpoints",
    ];

    /// <summary>Tables of every module that must be among those the catalog test found (and so checked).</summary>
    private static readonly HashSet<string> ModuleTables =
    [
        .. ConvergerTables, .. SeededModuleTables,
        "civic.artifacts", "civic.meetings", "civic.processing_runs",
        "governance.approvals", "governance.provenance_events", "governance.pii_access_log",
        "impact.people", "impact.person_keys", "impact.external_ids", "impact.enrollments", "impact.sessions", "impact.texts",
        "impact.course_progress", "impact.outcome_scores", "impact.evidence_snippets", "impact.metrics_company_period", "impact.imports",
        "impact.webhook_sources", "impact.domain_events", "impact.safety_flags", "impact.privacy_requests",
        "ops.notification_outbox", "ops.notification_deliveries", "ops.notification_attempts", "ops.push_subscriptions",
        "community.members", "events.conferences",
        "identity.clients", "identity.scopes", "identity.authorizations", "identity.tokens", "identity.users", "identity.memberships",
        "identity.branding",
    ];

    [Fact]
    public async Task A_write_of_another_tenants_row_is_refused_in_a_tenant_scope()
    {
        var a = await fx.CreateWorldAsync("rls-write-a");
        var b = await fx.CreateWorldAsync("rls-write-b");
        await using var conn = await ServiceData.OpenForTenantAsync(a.Tenant.Id);

        await using var insert = new NpgsqlCommand("INSERT INTO core.conversations (id, tenant_id, channel_id) VALUES ($1, $2, $3)", conn);
        insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = Guid.CreateVersion7() });
        insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = b.Tenant.Id });
        insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = b.Channel.Id });
        var refused = await Assert.ThrowsAsync<PostgresException>(() => insert.ExecuteNonQueryAsync());
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);

        // An update without a tenant predicate touches A's rows only: B's channel keeps its name.
        await using var update = new NpgsqlCommand("UPDATE core.channels SET name = 'renamed-by-a'", conn);
        Assert.Equal(1, await update.ExecuteNonQueryAsync());
        await using var owner = new NpgsqlConnection(fx.Database);
        await owner.OpenAsync();
        await using var name = new NpgsqlCommand("SELECT name FROM core.channels WHERE id = $1", owner);
        name.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = b.Channel.Id });
        Assert.NotEqual("renamed-by-a", (string?)await name.ExecuteScalarAsync());
    }

    /// <param name="autoPrepare">0: no statement is prepared, so the pool resets with DISCARD ALL; 64 (the services'
    /// default): statements stay prepared across uses and the pool resets without DISCARD ALL — the scope must still go.</param>
    [Theory]
    [InlineData(0)]
    [InlineData(PlatformDataExtensions.DefaultAutoPrepare)]
    public async Task A_pooled_connection_does_not_carry_a_tenant_scope_to_its_next_user(int autoPrepare)
    {
        var a = await fx.CreateWorldAsync($"rls-pool-a-{autoPrepare}");
        // One physical connection, so the second open is certainly the first one handed on.
        await using var single = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(TestEnvironment.AsService(fx.Database))
        {
            MaxPoolSize = 1,
            MaxAutoPrepare = autoPrepare,
            AutoPrepareMinUsages = 2,
        }.ConnectionString);
        int backend;
        await using (var first = await single.OpenForTenantAsync(a.Tenant.Id))
        {
            backend = first.ProcessID;
            // Twice: the second run of the same statement is the one automatic preparation prepares.
            Assert.NotEmpty(await TenantIdsAsync(first, "core.channels", open: false));
            Assert.NotEmpty(await TenantIdsAsync(first, "core.channels", open: false));
        }
        await using var next = await single.OpenConnectionAsync();
        Assert.Equal(backend, next.ProcessID);
        await using (var prepared = new NpgsqlCommand("SELECT count(*) FROM pg_prepared_statements", next))
        {
            var kept = (long)(await prepared.ExecuteScalarAsync())!;
            Assert.True(autoPrepare == 0 ? kept == 0 : kept > 0, $"{kept} prepared statements kept across the pool's reset");
        }
        await using var setting = new NpgsqlCommand($"SELECT coalesce(current_setting('{TenantScope.TenantSetting}', true), '')", next);
        Assert.Equal("", (string?)await setting.ExecuteScalarAsync());
        Assert.Empty(await TenantIdsAsync(next, "core.channels", open: false));
        Assert.Empty(await TenantIdsAsync(next, "core.channels", open: false));
    }

    [Fact]
    public void Connection_settings_that_would_keep_session_state_across_pooled_uses_are_refused()
    {
        Assert.Throws<InvalidOperationException>(() => TenantScope.RequireSessionReset("Host=127.0.0.1;No Reset On Close=true"));
        Assert.Throws<InvalidOperationException>(() => TenantScope.RequireSessionReset("Host=127.0.0.1;Multiplexing=true"));
        TenantScope.RequireSessionReset("Host=127.0.0.1");
    }

    private async Task SeedDirectLineRowsAsync(World world)
    {
        await using var conn = new NpgsqlConnection(fx.Database);
        await conn.OpenAsync();
        await using var batch = new NpgsqlBatch(conn)
        {
            BatchCommands =
            {
                new("INSERT INTO core.directline_conversations (conversation_id, tenant_id) VALUES ($1, $2)"),
                new("""
                    INSERT INTO core.directline_uploads (id, tenant_id, conversation_id, name, content_type, size_bytes, content)
                    VALUES ('up_' || $1::text, $2, $1, 'a.txt', 'text/plain', 1, '\x41'::bytea)
                    """),
            },
        };
        foreach (var command in batch.BatchCommands)
        {
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = world.Conversation });
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = world.Tenant.Id });
        }
        await batch.ExecuteNonQueryAsync();
    }

    /// <summary>A row of each module's seeded table for this world's tenant, written as the owner (the test's own access).</summary>
    private async Task SeedModuleRowsAsync(World world)
    {
        await using var conn = new NpgsqlConnection(fx.Database);
        await conn.OpenAsync();
        await using var batch = new NpgsqlBatch(conn)
        {
            BatchCommands =
            {
                new("INSERT INTO civic.cities (id, tenant_id, slug, name) VALUES (gen_random_uuid(), $1, 'rls-' || $2, 'RLS city')"),
                new("INSERT INTO civic.profiles (tenant_id, user_id) VALUES ($1, 'rls-' || $2)"),
                new("INSERT INTO governance.consents (tenant_id, user_id, purpose, granted) VALUES ($1, 'rls-' || $2, 'pulse', true)"),
                new("INSERT INTO impact.companies (id, tenant_id, name) VALUES (gen_random_uuid(), $1, 'RLS company ' || $2)"),
                new("INSERT INTO impact.webhook_rejections (tenant_id, source, reason, window_start) VALUES ($1, 'rls', 'test ' || $2, now())"),
                new("INSERT INTO ops.notification_preferences (tenant_id, user_id) VALUES ($1, 'rls-' || $2)"),
                new("INSERT INTO ops.webhook_endpoints (id, tenant_id, url, secret) VALUES (gen_random_uuid(), $1, 'https://example.com/rls', 'x')"),
            },
        };
        foreach (var command in batch.BatchCommands)
        {
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = world.Tenant.Id });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = world.Tenant.Id.ToString("N") });
        }
        await batch.ExecuteNonQueryAsync();
    }

    /// <summary>Deliberately unfiltered: every tenant the connection can see in <paramref name="table"/>.</summary>
    private static async Task<HashSet<Guid>> TenantIdsAsync(NpgsqlConnection conn, string table, bool open)
    {
        if (open)
        {
            await conn.OpenAsync();
        }
        try
        {
            await using var cmd = new NpgsqlCommand($"SELECT DISTINCT tenant_id FROM {table}", conn);
            await using var r = await cmd.ExecuteReaderAsync();
            var ids = new HashSet<Guid>();
            while (await r.ReadAsync())
            {
                ids.Add(r.GetGuid(0));
            }
            return ids;
        }
        finally
        {
            if (open)
            {
                await conn.DisposeAsync();
            }
        }
    }

    private sealed record TenantTable(string Name, bool Enabled, bool Forced, string[] Policies);

    private async Task<List<TenantTable>> TenantTablesAsync()
    {
        await using var conn = new NpgsqlConnection(fx.Database);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("""
            SELECT n.nspname || '.' || c.relname, c.relrowsecurity, c.relforcerowsecurity,
                   coalesce((SELECT array_agg(p.polname::text ORDER BY p.polname) FROM pg_policy p WHERE p.polrelid = c.oid), '{}')
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid
            WHERE c.relkind IN ('r', 'p') AND a.attname = 'tenant_id' AND NOT a.attisdropped
              AND n.nspname NOT IN ('pg_catalog', 'information_schema')
            ORDER BY 1
            """, conn);
        await using var r = await cmd.ExecuteReaderAsync();
        var list = new List<TenantTable>();
        while (await r.ReadAsync())
        {
            list.Add(new TenantTable(r.GetString(0), r.GetBoolean(1), r.GetBoolean(2), r.GetFieldValue<string[]>(3)));
        }
        return list;
    }
}
