using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Platform.Core.Data;

namespace Microsoft.Extensions.DependencyInjection;

public static class PlatformDataExtensions
{
    public const string DatabaseName = "platformdb";
    public const string RedisName = "redis";

    /// <summary>How many distinct statements each connection prepares automatically; 0 turns it off.</summary>
    public const string AutoPrepareSetting = "Platform:Database:AutoPrepareStatements";
    public const int DefaultAutoPrepare = 64;

    /// <summary>
    /// The <c>platformdb</c> data source (Aspire.Npgsql: health check, tracing, metrics), a pooled DbContext over
    /// the same data source (Aspire.Npgsql.EntityFrameworkCore.PostgreSQL: retrying execution strategy, telemetry)
    /// and a readiness check that the schema is current. This is the services' connection (the non-owner role).
    /// </summary>
    /// <param name="configureDataSource">A service's own data source settings (the Api bounds its pool with it).</param>
    public static IHostApplicationBuilder AddPlatformDb(this IHostApplicationBuilder builder, Action<NpgsqlDataSourceBuilder>? configureDataSource = null)
    {
        RequireConnectionString(builder, DatabaseName);
        TenantScope.RequireSessionReset(builder.Configuration.GetConnectionString(DatabaseName)!);
        var autoPrepare = builder.Configuration.GetValue(AutoPrepareSetting, DefaultAutoPrepare);
        if (autoPrepare < 0)
        {
            throw new InvalidOperationException($"{AutoPrepareSetting} must be 0 (off) or a positive number of statements, not {autoPrepare}.");
        }
        builder.AddNpgsqlDataSource(DatabaseName, configureDataSourceBuilder: dataSource =>
        {
            // Statements used twice on a physical connection are prepared there and kept across pool uses (Npgsql's
            // automatic preparation): PostgreSQL then parses and plans the append and the other hot statements once per
            // connection instead of on every call. Measured: that was about a third of PostgreSQL's CPU per append, most of
            // it the row-level-security rewrite (docs/performance.md). The pool's reset keeps prepared statements but still runs RESET ALL, so the
            // tenant scope of row-level security is cleared between uses as before.
            if (dataSource.ConnectionStringBuilder.MaxAutoPrepare == 0)
            {
                dataSource.ConnectionStringBuilder.MaxAutoPrepare = autoPrepare;
                dataSource.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
            }
            configureDataSource?.Invoke(dataSource);
        });
        builder.Services.AddPooledDbContextFactory<PlatformDb>((sp, options) => options
            .UseNpgsql(sp.GetRequiredService<NpgsqlDataSource>())
            .AddInterceptors(new TenantScopeInterceptor())
            .UseQueryTrackingBehavior(QueryTrackingBehavior.NoTracking));
        // The data source's check already proves the connection; the context adds retries and telemetry.
        builder.EnrichNpgsqlDbContext<PlatformDb>(settings => settings.DisableHealthChecks = true);
        builder.Services.AddScoped<TenantContext>();
        builder.Services.AddScoped(sp =>
        {
            var db = sp.GetRequiredService<IDbContextFactory<PlatformDb>>().CreateDbContext();
            db.TenantId = sp.GetRequiredService<TenantContext>().TenantId;
            db.SystemScope = null;
            return db;
        });
        builder.Services.AddSingleton<SchemaGate>();
        builder.Services.AddHealthChecks().AddCheck<SchemaHealthCheck>("schema", tags: ["ready"]);
        return builder;
    }

    /// <summary>
    /// The <c>redis</c> multiplexer (Aspire.StackExchange.Redis: health check, tracing), connecting lazily and
    /// reconnecting in the background, so a service starts while Redis is still down.
    /// </summary>
    public static IHostApplicationBuilder AddPlatformRedis(this IHostApplicationBuilder builder)
    {
        RequireConnectionString(builder, RedisName);
        builder.AddRedisClient(RedisName, configureOptions: options =>
        {
            options.AbortOnConnectFail = false;
            // While Redis is down, fail at once instead of queueing for the 5 s timeout: every Redis use here is best
            // effort with PostgreSQL as the truth (doorbells are repaired from PostgreSQL, rate limits fail open), and a
            // queued command would hold each request for seconds.
            options.BacklogPolicy = StackExchange.Redis.BacklogPolicy.FailFast;
            options.ClientName ??= builder.Environment.ApplicationName;
        });
        return builder;
    }

    private static void RequireConnectionString(IHostApplicationBuilder builder, string name)
    {
        if (string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString(name)))
        {
            throw new InvalidOperationException(
                $"ConnectionStrings:{name} is not set. Run the system through the AppHost (dotnet run --project Platform.AppHost " +
                $"or ./platform.sh up), which sets ConnectionStrings__{name}, or set it yourself.");
        }
    }
}

internal sealed class SchemaHealthCheck(SchemaGate gate) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            return await gate.CheckAsync(ct)
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy($"Database schema is older than version {MigrationCatalog.LatestVersion}.");
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("Schema version unknown: PostgreSQL is unreachable.", ex);
        }
    }
}
