using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Platform.Core.Data;

namespace Platform.Tests.Integration;

public sealed class MigrationRunnerTests
{
    private static MigrationRunner Runner(NpgsqlDataSource ds) => new(ds, NullLogger<MigrationRunner>.Instance);

    private static async Task<long> CountAsync(NpgsqlDataSource ds, string sql)
    {
        await using var cmd = ds.CreateCommand(sql);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Applying_twice_is_a_no_op()
    {
        await using var ds = NpgsqlDataSource.Create(await TestEnvironment.CreateEmptyDatabaseAsync("mig_twice"));

        var first = await Runner(ds).ApplyAsync();
        var second = await Runner(ds).ApplyAsync();

        Assert.Equal(MigrationCatalog.All.Count, first.Count);
        Assert.Empty(second);
        Assert.Equal(MigrationCatalog.All.Count, await CountAsync(ds, "SELECT count(*) FROM ops.schema_migrations"));
        Assert.Equal(MigrationCatalog.LatestVersion, await MigrationRunner.CurrentVersionAsync(ds));
    }

    [Fact]
    public async Task An_edited_applied_migration_is_refused_with_a_clear_error()
    {
        await using var ds = NpgsqlDataSource.Create(await TestEnvironment.CreateEmptyDatabaseAsync("mig_edit"));
        var original = MigrationCatalog.Create(9001, "widgets", "CREATE TABLE public.widgets (id int);");
        await Runner(ds).ApplyAsync([original]);

        var edited = MigrationCatalog.Create(9001, "widgets", "CREATE TABLE public.widgets (id bigint);");
        var error = await Assert.ThrowsAsync<MigrationChecksumMismatchException>(() => Runner(ds).ApplyAsync([edited]));

        Assert.Contains("9001_widgets was edited after it was applied", error.Message);
        Assert.Contains("add a new numbered file", error.Message);
    }

    [Fact]
    public async Task A_database_migrated_before_the_header_comments_were_rewritten_starts_and_gets_the_current_checksums()
    {
        await using var ds = NpgsqlDataSource.Create(await TestEnvironment.CreateEmptyDatabaseAsync("mig_comments"));
        await Runner(ds).ApplyAsync();
        // As a database migrated by an earlier build records them: the checksums of the files before their comments changed.
        foreach (var (version, earlier) in MigrationCatalog.CommentOnlyRewrites)
        {
            await using var cmd = ds.CreateCommand("UPDATE ops.schema_migrations SET checksum = $2 WHERE version = $1");
            cmd.Parameters.Add(new() { Value = version });
            cmd.Parameters.Add(new() { Value = earlier });
            Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
        }

        Assert.Empty(await Runner(ds).ApplyAsync());
        foreach (var version in MigrationCatalog.CommentOnlyRewrites.Keys)
        {
            var current = MigrationCatalog.All.Single(m => m.Version == version).Checksum;
            Assert.Equal(1, await CountAsync(ds, $"SELECT count(*) FROM ops.schema_migrations WHERE version = {version} AND checksum = '{current}'"));
        }

        // Any other checksum on those versions is still an edit.
        await using (var other = ds.CreateCommand("UPDATE ops.schema_migrations SET checksum = repeat('0', 64) WHERE version = 10"))
        {
            await other.ExecuteNonQueryAsync();
        }
        await Assert.ThrowsAsync<MigrationChecksumMismatchException>(() => Runner(ds).ApplyAsync());
    }

    [Theory]
    [InlineData(1, "5b6f11d343ee6504653b4469eda9f9429e177d9a336a8c851f5d6a20b9aab158")]
    [InlineData(10, "8d01d2c9b064e475d755d2dd24147ab4bfd42a2e1afd64858a706223cd397fed")]
    [InlineData(20, "fd3b709f253a0c412aeb7ad90de20899eddf4f548424e3805a4e7a71b2a1505c")]
    [InlineData(30, "41799689baf0dc88756cf8891d92c5244bd3268677913de96f17be63b3bf325e")]
    [InlineData(50, "704d0fea378ba75f68785ce7e7dad911267171f7b523faa441a8499dca6f76c6")]
    [InlineData(51, "fba94f78bfb579ca70b75630973577c13b1f54264cf9065f17f51cc360524ba9")]
    [InlineData(70, "53f307f500760b95d208aad54c3888265cfd438d7eb0f3eaca9f89c9cbbba8a1")]
    [InlineData(80, "76474f37d0b4a800c9a7af103d47b5ade0193dcb2847fe3e636a05b90f13efaa")]
    [InlineData(90, "a9370b70ff413a25c6606d6e27aa76a67021d7aae5f2297e7832d03e9a2ea4dd")]
    public void A_migration_accepted_under_its_earlier_checksum_still_has_the_statements_it_had(int version, string statementsSha256)
    {
        // The SHA-256 of each file without its comment lines, taken from the text it was first applied with.
        var sql = MigrationCatalog.All.Single(m => m.Version == version).Sql;
        var statements = string.Join('\n', sql.Split('\n').Where(line => !line.TrimStart().StartsWith("--", StringComparison.Ordinal)));
        Assert.Equal(statementsSha256, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(statements))));
        Assert.Contains(version, MigrationCatalog.CommentOnlyRewrites.Keys);
    }

    [Fact]
    public async Task A_failing_migration_leaves_nothing_half_applied()
    {
        await using var ds = NpgsqlDataSource.Create(await TestEnvironment.CreateEmptyDatabaseAsync("mig_fail"));
        var broken = MigrationCatalog.Create(9002, "broken", "CREATE TABLE public.half (id int); SELECT 1/0;");

        await Assert.ThrowsAsync<PostgresException>(() => Runner(ds).ApplyAsync([broken]));

        Assert.Equal(0, await CountAsync(ds, "SELECT count(*) FROM pg_tables WHERE tablename = 'half'"));
        Assert.Equal(0, await CountAsync(ds, "SELECT count(*) FROM ops.schema_migrations"));
    }

    [Fact]
    public async Task Concurrent_starters_apply_each_file_exactly_once()
    {
        var cs = await TestEnvironment.CreateEmptyDatabaseAsync("mig_race");
        // A file that fails if it runs twice (no IF NOT EXISTS), and one that counts its own runs.
        var migrations = MigrationCatalog.All.Concat(
        [
            MigrationCatalog.Create(9101, "once", "CREATE TABLE public.once (id int); CREATE TABLE public.runs (n int);"),
            MigrationCatalog.Create(9102, "count", "INSERT INTO public.runs VALUES (1);"),
        ]).ToList();

        // Eight independent pools stand for eight processes starting at the same moment.
        var sources = Enumerable.Range(0, 8).Select(_ => NpgsqlDataSource.Create(cs)).ToList();
        try
        {
            using var start = new ManualResetEventSlim();
            var tasks = sources.Select(ds => Task.Run(async () =>
            {
                start.Wait();
                return await Runner(ds).ApplyAsync(migrations);
            })).ToList();
            start.Set();
            var results = await Task.WhenAll(tasks);

            Assert.Equal(migrations.Count, results.Sum(r => r.Count));
            Assert.Equal(1, await CountAsync(sources[0], "SELECT count(*) FROM public.runs"));
            Assert.Equal(migrations.Count, await CountAsync(sources[0], "SELECT count(*) FROM ops.schema_migrations"));
        }
        finally
        {
            foreach (var ds in sources)
            {
                await ds.DisposeAsync();
            }
        }
    }
}
