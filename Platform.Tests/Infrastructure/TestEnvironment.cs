using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Platform.Core.Data;

namespace Platform.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL and Redis every integration test uses: from <c>ConnectionStrings__platformdb</c> /
/// <c>ConnectionStrings__redis</c> when set (./platform.sh test sets them), otherwise throwaway servers
/// started once per test run. Databases are cloned per test class from a migrated template.
/// </summary>
public static class TestEnvironment
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static Task<Servers>? _servers;

    private sealed record Servers(string PostgresAdmin, string Redis, string Template);

    private static Task<Servers> GetServersAsync() => LazyInitializer.EnsureInitialized(ref _servers, StartServersAsync);

    public static async Task<string> RedisAsync() => (await GetServersAsync()).Redis;

    /// <summary>
    /// The services' login on test servers: a member of <see cref="DatabaseSetup.ServiceRole"/> (created by the migration
    /// host's setup), never that role itself, so tests pointed at a running system's server do not reset the password
    /// its services log in with.
    /// </summary>
    public const string ServiceUser = "platform_service_tests";

    public const string ServicePassword = "platform_service_tests";

    /// <summary>
    /// <paramref name="ownerConnection"/>'s database as the services' role (non-owner, no RLS bypass): what the
    /// services get in tests, so the tests prove its grants are enough and that row-level security holds for it.
    /// </summary>
    public static string AsService(string ownerConnection) => new NpgsqlConnectionStringBuilder(ownerConnection)
    {
        Username = ServiceUser,
        Password = ServicePassword,
    }.ConnectionString;

    /// <summary>Creates a fresh, migrated database and returns its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync(string purpose)
    {
        var servers = await GetServersAsync();
        var name = $"t_{Sanitize(purpose)}_{Guid.NewGuid():N}".ToLowerInvariant();
        await Gate.WaitAsync();
        try
        {
            await using var conn = new NpgsqlConnection(servers.PostgresAdmin);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\" TEMPLATE \"{servers.Template}\"", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        finally
        {
            Gate.Release();
        }
        return new NpgsqlConnectionStringBuilder(servers.PostgresAdmin) { Database = name, Pooling = true, MaxPoolSize = 60 }.ConnectionString;
    }

    /// <summary>Creates an empty database (no migrations) for tests of the migration runner itself.</summary>
    public static async Task<string> CreateEmptyDatabaseAsync(string purpose)
    {
        var servers = await GetServersAsync();
        var name = $"e_{Sanitize(purpose)}_{Guid.NewGuid():N}".ToLowerInvariant();
        await using var conn = new NpgsqlConnection(servers.PostgresAdmin);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", conn);
        await cmd.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(servers.PostgresAdmin) { Database = name }.ConnectionString;
    }

    private static string Sanitize(string s)
    {
        var letters = new string(s.Where(char.IsLetterOrDigit).ToArray());
        return letters.Length > 16 ? letters[..16] : letters;
    }

    private static async Task<Servers> StartServersAsync()
    {
        var pg = Environment.GetEnvironmentVariable("ConnectionStrings__platformdb");
        var redis = Environment.GetEnvironmentVariable("ConnectionStrings__redis");
        if (string.IsNullOrWhiteSpace(pg))
        {
            LocalPostgres.RemoveAbandonedClusters();
            var local = await LocalPostgres.StartAsync();
            // Dispose, not just stop: each run's cluster is hundreds of megabytes and must not pile up in /tmp.
            AppDomain.CurrentDomain.ProcessExit += (_, _) => local.DisposeAsync().AsTask().GetAwaiter().GetResult();
            pg = local.ConnectionString("postgres");
        }
        if (string.IsNullOrWhiteSpace(redis))
        {
            var local = await LocalRedis.StartAsync();
            AppDomain.CurrentDomain.ProcessExit += (_, _) => local.DisposeAsync().AsTask().GetAwaiter().GetResult();
            redis = local.ConnectionString;
        }

        var admin = new NpgsqlConnectionStringBuilder(pg) { Database = "postgres", Pooling = false }.ConnectionString;
        // The template name carries the schema's fingerprint, so a changed migration set gets a new template.
        var fingerprint = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes(string.Join("|", MigrationCatalog.All.Select(m => m.Checksum)))))[..12];
        var template = $"platform_template_{fingerprint}";

        await using (var conn = new NpgsqlConnection(admin))
        {
            await conn.OpenAsync();
            await using var lockCmd = new NpgsqlCommand("SELECT pg_advisory_lock(77001)", conn);
            await lockCmd.ExecuteNonQueryAsync();
            await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", conn);
            exists.Parameters.Add(new() { Value = template });
            if (await exists.ExecuteScalarAsync() is null)
            {
                var building = template + "_building";
                await using (var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{building}\"", conn))
                {
                    await drop.ExecuteNonQueryAsync();
                }
                await using (var create = new NpgsqlCommand($"CREATE DATABASE \"{building}\"", conn))
                {
                    await create.ExecuteNonQueryAsync();
                }
                var cs = new NpgsqlConnectionStringBuilder(admin) { Database = building }.ConnectionString;
                await using (var ds = NpgsqlDataSource.Create(cs))
                {
                    await new DatabaseSetup(ds, NullLogger.Instance).RunAsync(AsService(cs), new Platform.Core.Jobs.JobWorkerOptions().Schema, CancellationToken.None);
                }
                NpgsqlConnection.ClearAllPools();
                await using var rename = new NpgsqlCommand($"ALTER DATABASE \"{building}\" RENAME TO \"{template}\"", conn);
                await rename.ExecuteNonQueryAsync();
            }
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock(77001)", conn);
            await unlock.ExecuteNonQueryAsync();
        }
        return new Servers(admin, redis!, template);
    }
}

/// <summary>Waiting with a deadline on a condition, never a bare sleep.</summary>
public static class Eventually
{
    public static async Task<T> ReturnsAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan? timeout = null, string? because = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        T last;
        while (true)
        {
            last = await probe();
            if (done(last))
            {
                return last;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Condition not met within {timeout ?? TimeSpan.FromSeconds(20)}: {because}. Last value: {last}");
            }
            await Task.Delay(50);
        }
    }

    public static Task TrueAsync(Func<Task<bool>> probe, TimeSpan? timeout = null, string? because = null) =>
        ReturnsAsync(probe, b => b, timeout, because);
}
