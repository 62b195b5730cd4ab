using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Platform.Core.Data;

/// <summary>One numbered SQL file embedded in Platform.Core.</summary>
public sealed record Migration(int Version, string Name, string Sql, string Checksum);

/// <summary>The migrations this build carries, in order. <see cref="LatestVersion"/> is the schema this build needs.</summary>
public static partial class MigrationCatalog
{
    public static IReadOnlyList<Migration> All { get; } = Load(typeof(MigrationCatalog).Assembly);

    public static int LatestVersion => All.Count == 0 ? 0 : All[^1].Version;

    public static IReadOnlyList<Migration> Load(Assembly assembly)
    {
        var list = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            var match = FileName().Match(resource);
            if (!match.Success)
            {
                continue;
            }
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            list.Add(Create(int.Parse(match.Groups[1].Value), match.Groups[2].Value, reader.ReadToEnd()));
        }
        list.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (var i = 1; i < list.Count; i++)
        {
            if (list[i].Version == list[i - 1].Version)
            {
                throw new InvalidOperationException(
                    $"Two migrations share number {list[i].Version}: '{list[i - 1].Name}' and '{list[i].Name}'.");
            }
        }
        return list;
    }

    public static Migration Create(int version, string name, string sql)
    {
        // Line endings are normalised so a checkout with CRLF does not look like an edited file.
        var normalized = sql.Replace("\r\n", "\n", StringComparison.Ordinal);
        var checksum = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(normalized)));
        return new Migration(version, name, normalized, checksum);
    }

    /// <summary>
    /// Checksums migrations had before a change that rewrote only comment lines (headers that pointed at documents
    /// outside the repository now state their reason). A database that applied the earlier text has the same schema, so
    /// the runner records the current checksum for it instead of refusing to start. Only these versions with exactly
    /// these earlier checksums are accepted; any other difference is still an edited migration.
    /// </summary>
    public static IReadOnlyDictionary<int, string> CommentOnlyRewrites { get; } = new Dictionary<int, string>
    {
        [1] = "2c7438fa8c27deb97f55d58609957398e0a597245fb06409c1d78daac349fccd",
        [10] = "681c16f1a3ffb0e58746a72373431638ab82aa577c1bd5f1cf417c65e0afbfad",
        [20] = "0676f37b11510d0c71a1c2172741ef042a053c26fb8179ee72c2ab0d5e88ff14",
        [30] = "cded4ae4e9c5ed170ddbb018432cbb2422ff935df7c99a38cf12eace4464fc39",
        [50] = "37c504af982453e88132289f253a857e43bee19d54de1b2a8271e083c3ed2e5d",
        [51] = "ac55d54e9e80ee30d112bdac70a914d8e586254fb1b3f562e59cdb19c784678a",
        [70] = "415b5ab48af8ff1540ef93a99cca5edc97448f69d42e8186c4b40a3a5c658bf8",
        [80] = "d8ef78d3749188e9774fd90d4e1f68aa0f223a755d7d993025272a50257a8129",
        [90] = "ff78cfe982305deeb1a94e9d98abddcea4fb8cdde92327bf785985a77b961aff",
    };

    [GeneratedRegex(@"^migrations/(\d{4})_([A-Za-z0-9_\-]+)\.sql$")]
    private static partial Regex FileName();
}

public sealed class MigrationChecksumMismatchException(Migration migration, string appliedChecksum)
    : InvalidOperationException(
        $"Migration {migration.Version:D4}_{migration.Name} was edited after it was applied " +
        $"(applied checksum {appliedChecksum[..12]}…, file checksum {migration.Checksum[..12]}…). " +
        "Applied migrations are immutable: revert the edit and add a new numbered file instead.")
{
    public Migration Migration { get; } = migration;
}

/// <summary>
/// Applies the embedded migrations: under a session advisory lock (so concurrent starters apply each file
/// once), one transaction per file, recorded with a checksum in <c>ops.schema_migrations</c>.
/// </summary>
public sealed partial class MigrationRunner(NpgsqlDataSource dataSource, ILogger logger)
{
    /// <summary>Arbitrary constant identifying the platform's migration lock.</summary>
    public const long AdvisoryLockKey = 0x504C_4154_4D49_47; // "PLATMIG"

    public Task<IReadOnlyList<Migration>> ApplyAsync(CancellationToken ct = default) => ApplyAsync(MigrationCatalog.All, ct);

    /// <returns>The migrations this call applied (empty when the database was already current).</returns>
    public async Task<IReadOnlyList<Migration>> ApplyAsync(IReadOnlyList<Migration> migrations, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await Execute(conn, $"SELECT pg_advisory_lock({AdvisoryLockKey})", ct);
        try
        {
            // Only when missing: CREATE ... IF NOT EXISTS still needs the privilege to create, which a role that may
            // only check the schema (a deployment that migrates separately) does not have.
            await Execute(conn, """
                DO $$ BEGIN IF to_regclass('ops.schema_migrations') IS NULL THEN
                CREATE SCHEMA IF NOT EXISTS ops;
                CREATE TABLE IF NOT EXISTS ops.schema_migrations (
                    version    integer PRIMARY KEY,
                    name       text        NOT NULL,
                    checksum   text        NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                );
                END IF; END $$;
                """, ct);

            var applied = new Dictionary<int, string>();
            await using (var cmd = new NpgsqlCommand("SELECT version, checksum FROM ops.schema_migrations", conn))
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    applied[reader.GetInt32(0)] = reader.GetString(1);
                }
            }

            var done = new List<Migration>();
            foreach (var migration in migrations)
            {
                if (applied.TryGetValue(migration.Version, out var checksum))
                {
                    if (checksum != migration.Checksum)
                    {
                        if (MigrationCatalog.CommentOnlyRewrites.GetValueOrDefault(migration.Version) != checksum)
                        {
                            throw new MigrationChecksumMismatchException(migration, checksum);
                        }
                        await using var update = new NpgsqlCommand("UPDATE ops.schema_migrations SET checksum = $2 WHERE version = $1", conn);
                        update.Parameters.Add(new() { Value = migration.Version });
                        update.Parameters.Add(new() { Value = migration.Checksum });
                        await update.ExecuteNonQueryAsync(ct);
                        LogCommentsRewritten(logger, migration.Version, migration.Name);
                    }
                    continue;
                }
                await using var tx = await conn.BeginTransactionAsync(ct);
                await using (var cmd = new NpgsqlCommand(migration.Sql, conn, tx))
                {
                    cmd.CommandTimeout = 600;
                    await cmd.ExecuteNonQueryAsync(ct);
                }
                await using (var cmd = new NpgsqlCommand(
                    "INSERT INTO ops.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", conn, tx))
                {
                    cmd.Parameters.Add(new() { Value = migration.Version });
                    cmd.Parameters.Add(new() { Value = migration.Name });
                    cmd.Parameters.Add(new() { Value = migration.Checksum });
                    await cmd.ExecuteNonQueryAsync(ct);
                }
                await tx.CommitAsync(ct);
                LogApplied(logger, migration.Version, migration.Name);
                done.Add(migration);
            }
            return done;
        }
        finally
        {
            await Execute(conn, $"SELECT pg_advisory_unlock({AdvisoryLockKey})", CancellationToken.None);
        }
    }

    /// <summary>The highest applied version, or 0 when nothing (or not even the table) exists yet.</summary>
    public static async Task<int> CurrentVersionAsync(NpgsqlDataSource dataSource, CancellationToken ct = default)
    {
        await using var cmd = dataSource.CreateCommand(
            "SELECT CASE WHEN to_regclass('ops.schema_migrations') IS NULL THEN 0 " +
            "ELSE (SELECT coalesce(max(version), 0) FROM ops.schema_migrations) END");
        return Convert.ToInt32(await cmd.ExecuteScalarAsync(ct));
    }

    private static async Task Execute(NpgsqlConnection conn, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied migration {Version:D4}_{Name}")]
    private static partial void LogApplied(ILogger logger, int version, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "Migration {Version:D4}_{Name} was applied before its comments were rewritten; its checksum is brought up to date")]
    private static partial void LogCommentsRewritten(ILogger logger, int version, string name);
}
