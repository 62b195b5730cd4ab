using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Npgsql;

namespace Platform.Core.Data;

/// <summary>
/// The database wall: tables with a <c>tenant_id</c> have row-level security forced, and their policies let a connection
/// see and write only the rows of the tenant in <see cref="TenantSetting"/>, or every row when <see cref="SystemSetting"/>
/// is on. A connection with neither (a plain <c>OpenConnectionAsync</c>) sees no row of those tables: forgetting the
/// scope fails closed, and a query that forgets its <c>tenant_id</c> predicate still sees one tenant only.
/// </summary>
/// <remarks>
/// The settings are session settings of the physical connection, written in the first round trip after the pool hands
/// the connection out, always both together (so a connection never keeps one scope while taking the other). They cannot
/// reach the next user of the pooled connection: when a connection goes back to the pool Npgsql resets the session
/// (<c>DISCARD ALL</c>, sent before the next user's first statement), which clears every <c>set_config</c>.
/// <see cref="RequireSessionReset"/> refuses the connection settings that would turn that reset off (<c>No Reset On
/// Close</c>, multiplexing).
/// </remarks>
public static class TenantScope
{
    public const string TenantSetting = "platform.tenant_id";
    public const string SystemSetting = "platform.system";

    private const string SetSql = $"SELECT set_config('{TenantSetting}', $1, false), set_config('{SystemSetting}', $2, false)";

    /// <summary>A connection that sees and writes <paramref name="tenantId"/>'s rows only.</summary>
    public static async Task<NpgsqlConnection> OpenForTenantAsync(this NpgsqlDataSource dataSource, Guid tenantId, CancellationToken ct = default)
    {
        if (tenantId == Guid.Empty)
        {
            throw new ArgumentException("A tenant scope needs a tenant.", nameof(tenantId));
        }
        var conn = await dataSource.OpenConnectionAsync(ct);
        await ApplyAsync(conn, tenantId.ToString(), "", ct);
        return conn;
    }

    /// <summary>
    /// A connection that sees every tenant's rows, for work that is cross-tenant by nature: operator and admin reads,
    /// resolving a credential before its tenant is known, worker scans over all tenants. Every use is a call of this
    /// method (grep <c>OpenSystemScopeAsync</c>/<c>CreateSystemCommandAsync</c>/<c>CreateForSystemAsync</c>) and says why
    /// in <paramref name="reason"/>, which becomes the value of <see cref="SystemSetting"/> (<c>SHOW platform.system</c>).
    /// </summary>
    public static async Task<NpgsqlConnection> OpenSystemScopeAsync(this NpgsqlDataSource dataSource, string reason, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        var conn = await dataSource.OpenConnectionAsync(ct);
        await ApplyAsync(conn, "", reason, ct);
        return conn;
    }

    /// <summary>A command on its own connection in a tenant scope; the connection goes back to the pool with the command.</summary>
    public static async Task<ScopedCommand> CreateTenantCommandAsync(this NpgsqlDataSource dataSource, Guid tenantId, string sql, CancellationToken ct = default) =>
        new(await dataSource.OpenForTenantAsync(tenantId, ct), sql);

    /// <summary>A command on its own connection in the system scope (see <see cref="OpenSystemScopeAsync"/>).</summary>
    public static async Task<ScopedCommand> CreateSystemCommandAsync(this NpgsqlDataSource dataSource, string reason, string sql, CancellationToken ct = default) =>
        new(await dataSource.OpenSystemScopeAsync(reason, ct), sql);

    /// <summary>
    /// The statement that puts a plain connection into <paramref name="tenantId"/>'s scope, to lead a batch, so the hot
    /// path pays no extra round trip. Inside a transaction the setting follows the transaction: a rollback undoes it.
    /// </summary>
    public static NpgsqlBatchCommand ForTenantCommand(Guid tenantId)
    {
        if (tenantId == Guid.Empty)
        {
            throw new ArgumentException("A tenant scope needs a tenant.", nameof(tenantId));
        }
        var cmd = new NpgsqlBatchCommand(SetSql);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = tenantId.ToString() });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = "" });
        return cmd;
    }

    /// <summary>Puts an open connection into <paramref name="tenantId"/>'s scope (one round trip).</summary>
    public static Task SetTenantAsync(NpgsqlConnection conn, Guid tenantId, CancellationToken ct = default) =>
        tenantId == Guid.Empty ? throw new ArgumentException("A tenant scope needs a tenant.", nameof(tenantId)) : ApplyAsync(conn, tenantId.ToString(), "", ct);

    internal static async Task ApplyAsync(NpgsqlConnection conn, string tenant, string system, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(SetSql, conn);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = tenant });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = system });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Throws when the connection string would keep session settings across pooled uses.</summary>
    public static void RequireSessionReset(string connectionString)
    {
        var csb = new NpgsqlConnectionStringBuilder(connectionString);
        if (csb.NoResetOnClose || csb.Multiplexing)
        {
            throw new InvalidOperationException(
                "ConnectionStrings:platformdb must not set 'No Reset On Close' or 'Multiplexing': the tenant scope of row-level " +
                "security is a session setting that the pool's reset clears between uses.");
        }
    }
}

/// <summary>An <see cref="NpgsqlCommand"/> that owns the scoped connection it runs on.</summary>
public sealed class ScopedCommand : IAsyncDisposable
{
    internal ScopedCommand(NpgsqlConnection connection, string sql)
    {
        Connection = connection;
        Command = new NpgsqlCommand(sql, connection);
    }

    public NpgsqlConnection Connection { get; }
    public NpgsqlCommand Command { get; }
    public NpgsqlParameterCollection Parameters => Command.Parameters;

    /// <summary>Lets helpers that take an <see cref="NpgsqlCommand"/> take this one.</summary>
    public static implicit operator NpgsqlCommand(ScopedCommand scoped) => scoped.ToNpgsqlCommand();

    public NpgsqlCommand ToNpgsqlCommand() => Command;

    public Task<NpgsqlDataReader> ExecuteReaderAsync(CancellationToken ct = default) => Command.ExecuteReaderAsync(ct);
    public Task<object?> ExecuteScalarAsync(CancellationToken ct = default) => Command.ExecuteScalarAsync(ct);
    public Task<int> ExecuteNonQueryAsync(CancellationToken ct = default) => Command.ExecuteNonQueryAsync(ct);

    public async ValueTask DisposeAsync()
    {
        await Command.DisposeAsync();
        await Connection.DisposeAsync();
    }
}

/// <summary>
/// Gives every connection a <see cref="PlatformDb"/> opens the context's scope: its <see cref="PlatformDb.TenantId"/>,
/// or the system scope when <see cref="PlatformDb.SystemScope"/> is set, or none (no tenant-owned row) otherwise.
/// </summary>
internal sealed class TenantScopeInterceptor : DbConnectionInterceptor
{
    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken ct = default)
    {
        if (eventData.Context is PlatformDb db && connection is NpgsqlConnection npgsql)
        {
            await TenantScope.ApplyAsync(npgsql, db.TenantId == Guid.Empty ? "" : db.TenantId.ToString(), db.SystemScope ?? "", ct);
        }
    }

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        if (eventData.Context is PlatformDb db && connection is NpgsqlConnection npgsql)
        {
            TenantScope.ApplyAsync(npgsql, db.TenantId == Guid.Empty ? "" : db.TenantId.ToString(), db.SystemScope ?? "", CancellationToken.None)
                .GetAwaiter().GetResult();
        }
    }
}
