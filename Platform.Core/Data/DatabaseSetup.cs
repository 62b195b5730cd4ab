using Hangfire.PostgreSql;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Platform.Core.Data;

/// <summary>
/// Everything that needs the schema owner, in one place: the SQL migrations, the job storage's tables (Hangfire's own
/// installer, run here so the services never need DDL) and the services' login role. Runs as the owner
/// (<c>ConnectionStrings:platformdb-owner</c>); the services then connect as <see cref="ServiceRole"/> through
/// <c>ConnectionStrings:platformdb</c>.
/// </summary>
public sealed partial class DatabaseSetup(NpgsqlDataSource owner, ILogger logger)
{
    /// <summary>The group role holding every privilege the services have (created by a migration).</summary>
    public const string ServiceRole = "platform_service";

    /// <param name="service">The services' connection string: its user becomes a login of <see cref="ServiceRole"/>.</param>
    /// <param name="jobSchema">Hangfire's schema (<c>Platform:Jobs:Schema</c>).</param>
    public async Task RunAsync(string service, string jobSchema, CancellationToken ct)
    {
        await new MigrationRunner(owner, logger).ApplyAsync(ct);
        await InstallJobStorageAsync(jobSchema, ct);
        await EnsureServiceLoginAsync(service, ct);
    }

    private async Task InstallJobStorageAsync(string schema, CancellationToken ct)
    {
        await using (var conn = await owner.OpenConnectionAsync(ct))
        {
            // Hangfire's installer is idempotent and versioned (it records its own schema version).
            PostgreSqlObjectsInstaller.Install(conn, schema);
        }
        // Tables it created before the default privileges existed (an upgraded installation) get the grants here.
        var quoted = Identifier(schema);
        await ExecuteAsync($"""
            GRANT USAGE ON SCHEMA {quoted} TO {ServiceRole};
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {quoted} TO {ServiceRole};
            GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {quoted} TO {ServiceRole};
            """, ct);
    }

    /// <summary>
    /// Makes the user of <paramref name="service"/> a login of <see cref="ServiceRole"/> with that password, unless it
    /// already logs in (then nothing is changed, so many hosts starting at once do not race on the role). Skipped when the
    /// services use the owner's own user (a deployment that has not split the roles yet).
    /// </summary>
    public async Task EnsureServiceLoginAsync(string service, CancellationToken ct)
    {
        var csb = new NpgsqlConnectionStringBuilder(service);
        var ownerUser = new NpgsqlConnectionStringBuilder(owner.ConnectionString).Username;
        if (string.IsNullOrEmpty(csb.Username) || string.Equals(csb.Username, ownerUser, StringComparison.Ordinal))
        {
            LogSharedRole(logger, csb.Username ?? "(none)");
            return;
        }
        for (var attempt = 1; ; attempt++)
        {
            if (await CanLogInAsync(csb, ct))
            {
                return;
            }
            try
            {
                var user = Identifier(csb.Username);
                var password = Literal(csb.Password ?? "");
                var exists = await ScalarAsync("SELECT 1 FROM pg_roles WHERE rolname = $1", csb.Username, ct) is not null;
                await ExecuteAsync((exists ? $"ALTER ROLE {user}" : $"CREATE ROLE {user}") +
                    $" LOGIN PASSWORD {password} NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION;" +
                    (csb.Username == ServiceRole ? "" : $" GRANT {ServiceRole} TO {user};"), ct);
                LogServiceLogin(logger, csb.Username);
                return;
            }
            catch (PostgresException ex) when (attempt < 3 && ex.SqlState is PostgresErrorCodes.DuplicateObject or PostgresErrorCodes.InternalError)
            {
                // Another host created or altered the role at the same moment: look again.
            }
        }
    }

    private static async Task<bool> CanLogInAsync(NpgsqlConnectionStringBuilder service, CancellationToken ct)
    {
        var probe = new NpgsqlConnectionStringBuilder(service.ConnectionString) { Pooling = false, Timeout = 5 };
        try
        {
            await using var conn = new NpgsqlConnection(probe.ConnectionString);
            await conn.OpenAsync(ct);
            return true;
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification)
        {
            return false;
        }
    }

    private async Task ExecuteAsync(string sql, CancellationToken ct)
    {
        await using var cmd = owner.CreateCommand(sql);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private async Task<object?> ScalarAsync(string sql, string arg, CancellationToken ct)
    {
        await using var cmd = owner.CreateCommand(sql);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = arg });
        return await cmd.ExecuteScalarAsync(ct);
    }

    private static string Identifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    [LoggerMessage(Level = LogLevel.Information, Message = "Services log in as {User}, a member of platform_service")]
    private static partial void LogServiceLogin(ILogger logger, string user);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Services connect as the schema owner ({User}): set ConnectionStrings:platformdb-owner and give the services their own user so row-level security applies to them")]
    private static partial void LogSharedRole(ILogger logger, string user);
}
