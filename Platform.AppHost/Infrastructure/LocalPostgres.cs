using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Platform.AppHost.Infrastructure;

/// <summary>PostgreSQL run from the machine's binaries as an executable resource (no container runtime needed).</summary>
public sealed class LocalPostgresServerResource(string name, string command, string workingDirectory, ParameterResource password, string dataRoot)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public ParameterResource Password { get; } = password;

    /// <summary>Holds <c>data/</c> (the cluster) and <c>socket/</c> (the Unix socket, reachable only by its owner).</summary>
    public string DataRoot { get; } = dataRoot;

    public string DataDirectory => Path.Combine(DataRoot, "data");
    public string SocketDirectory => Path.Combine(DataRoot, "socket");

    public EndpointReference Endpoint => new(this, "tcp");

    // Loopback by address: the server listens on 127.0.0.1 only, and "localhost" may resolve to ::1 first.
    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Host=127.0.0.1;Port={Endpoint.Property(EndpointProperty.Port)};Username=postgres;Password={Password}");

    /// <summary>A superuser connection over the Unix socket (trusted locally), independent of the TCP password.</summary>
    internal string SocketConnectionString(int port, string database) => new NpgsqlConnectionStringBuilder
    {
        Host = SocketDirectory, Port = port, Username = "postgres", Database = database, Pooling = false, Timeout = 5,
    }.ConnectionString;
}

/// <summary>A database on a <see cref="LocalPostgresServerResource"/>, created once the server is ready.</summary>
public sealed class LocalPostgresDatabaseResource(string name, string databaseName, LocalPostgresServerResource parent)
    : Resource(name), IResourceWithParent<LocalPostgresServerResource>, IResourceWithConnectionString
{
    public string DatabaseName { get; } = databaseName;
    public LocalPostgresServerResource Parent { get; } = parent;

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create($"{Parent};Database={DatabaseName}");
}

public static class LocalPostgresBuilderExtensions
{
    /// <summary>
    /// PostgreSQL from Debian's binaries: initdb on first start (data under <paramref name="dataRoot"/>), run as the
    /// postgres account when the AppHost is root, loopback only, scram-sha-256 over TCP with the password parameter.
    /// </summary>
    public static IResourceBuilder<LocalPostgresServerResource> AddLocalPostgres(this IDistributedApplicationBuilder builder,
        string name, IResourceBuilder<ParameterResource> password, int port, string dataRoot)
    {
        var binDir = LocalServerCommands.PostgresBinDirectory();
        var resource = new LocalPostgresServerResource(name, "postgres", dataRoot, password.Resource, dataRoot);
        var (command, args) = LocalServerCommands.AsPostgresAccount(Path.Combine(binDir, "postgres"),
            LocalServerCommands.PostgresArgs(resource.DataDirectory, resource.SocketDirectory, port, durable: true));

        var healthKey = $"{name}_socket_check";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(healthKey,
            _ => new PostgresCheck(() => Task.FromResult(resource.SocketConnectionString(port, "postgres"))), null, null));

        var server = builder.AddResource(resource)
            .WithCommand(command)
            .WithArgs([.. args])
            .WithEndpoint(port: port, targetPort: port, scheme: "tcp", name: "tcp", isProxied: false)
            .WithHealthCheck(healthKey)
            .ExcludeFromManifest();

        server.OnBeforeResourceStarted(async (r, e, ct) =>
        {
            var log = e.Services.GetRequiredService<ResourceLoggerService>().GetLogger(r);
            await InitialiseAsync(r, binDir, await r.Password.GetValueAsync(ct) ?? "", log, ct);
        });
        server.OnResourceReady(async (r, _, ct) =>
        {
            // The password parameter may have been regenerated (user secrets cleared): the TCP password follows it.
            await using var conn = new NpgsqlConnection(r.SocketConnectionString(port, "postgres"));
            await conn.OpenAsync(ct);
            await using var cmd = new NpgsqlCommand($"ALTER ROLE postgres PASSWORD {Literal(await r.Password.GetValueAsync(ct) ?? "")}", conn);
            await cmd.ExecuteNonQueryAsync(ct);
        });
        return server;
    }

    public static IResourceBuilder<LocalPostgresDatabaseResource> AddDatabase(this IResourceBuilder<LocalPostgresServerResource> server,
        string name, string? databaseName = null)
    {
        var database = new LocalPostgresDatabaseResource(name, databaseName ?? name, server.Resource);
        var healthKey = $"{name}_check";
        server.ApplicationBuilder.Services.AddHealthChecks().Add(new HealthCheckRegistration(healthKey,
            _ => new PostgresCheck(async () => await database.ConnectionStringExpression.GetValueAsync(CancellationToken.None) ?? ""), null, null));

        // Created after the server is ready and its password set; its own check (a TCP login to it) gates WaitFor.
        server.OnResourceReady(async (r, e, ct) =>
        {
            await using var conn = new NpgsqlConnection(r.SocketConnectionString(Port(r), "postgres"));
            await conn.OpenAsync(ct);
            await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", conn);
            exists.Parameters.Add(new() { Value = database.DatabaseName });
            if (await exists.ExecuteScalarAsync(ct) is null)
            {
                await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database.DatabaseName.Replace("\"", "\"\"")}\"", conn);
                await create.ExecuteNonQueryAsync(ct);
            }
            // Aspire carries a parent's state to its children only for containers; an executable's database says
            // itself that it is running, which starts its health check and so releases whoever waits for it.
            await e.Services.GetRequiredService<ResourceNotificationService>().PublishUpdateAsync(database, snapshot => snapshot with
            {
                State = KnownResourceStates.Running,
                StartTimeStamp = DateTime.UtcNow,
            });
        });
        return server.ApplicationBuilder.AddResource(database)
            .WithInitialState(new CustomResourceSnapshot
            {
                ResourceType = "PostgresDatabase",
                State = KnownResourceStates.Waiting,
                Properties = [],
            })
            .WithHealthCheck(healthKey)
            .ExcludeFromManifest();
    }

    private static int Port(LocalPostgresServerResource r) =>
        r.Annotations.OfType<EndpointAnnotation>().Single(a => a.Name == "tcp").Port!.Value;

    private static async Task InitialiseAsync(LocalPostgresServerResource r, string binDir, string password, ILogger log, CancellationToken ct)
    {
        Directory.CreateDirectory(r.DataRoot);
        Directory.CreateDirectory(r.SocketDirectory);
        File.SetUnixFileMode(r.SocketDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (!File.Exists(Path.Combine(r.DataDirectory, "PG_VERSION")))
        {
            log.LogInformation("Initialising a new PostgreSQL cluster in {Directory}", r.DataDirectory);
            var passwordFile = Path.Combine(r.DataRoot, ".initdb-password");
            await File.WriteAllTextAsync(passwordFile, password, ct);
            File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            try
            {
                await LocalServerCommands.PrepareForPostgresAccountAsync(r.DataRoot, ct);
                var (command, args) = LocalServerCommands.AsPostgresAccount(Path.Combine(binDir, "initdb"),
                    LocalServerCommands.InitDbArgs(r.DataDirectory, passwordFile, durable: true));
                var output = "";
                if (await LocalServerCommands.RunAsync(command, args, ct, o => output = o) != 0)
                {
                    throw new InvalidOperationException($"initdb failed in {r.DataDirectory}: {output}");
                }
            }
            finally
            {
                File.Delete(passwordFile);
            }
        }
        // A stale pid file from a killed run would stop the server from starting; PostgreSQL checks it itself, but
        // only the owner may read the directory, so ownership is re-applied on every start.
        await LocalServerCommands.PrepareForPostgresAccountAsync(r.DataRoot, ct);
    }

    private static string Literal(string value) => "'" + value.Replace("'", "''") + "'";

    private sealed class PostgresCheck(Func<Task<string>> connectionString) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
        {
            try
            {
                var cs = new NpgsqlConnectionStringBuilder(await connectionString()) { Pooling = false, Timeout = 3 }.ConnectionString;
                await using var conn = new NpgsqlConnection(cs);
                await conn.OpenAsync(ct);
                await using var cmd = new NpgsqlCommand("SELECT 1", conn);
                await cmd.ExecuteScalarAsync(ct);
                return HealthCheckResult.Healthy();
            }
            catch (Exception ex) when (ex is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException or InvalidOperationException)
            {
                return HealthCheckResult.Unhealthy(ex.Message, ex);
            }
        }
    }
}
