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
