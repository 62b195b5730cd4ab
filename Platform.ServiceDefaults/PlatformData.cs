using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Platform.Core.Data;
using StackExchange.Redis;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// What Aspire's AddNpgsqlDbContext / AddRedisClient would register, rebuilt with the packages that restore:
/// a pooled DbContext with a retrying execution strategy, an <see cref="NpgsqlDataSource"/> for raw SQL,
/// one lazily connected multiplexer, and readiness checks for both.
/// </summary>
public static class PlatformDataExtensions
{
    public const string DatabaseName = "platformdb";
    public const string RedisName = "redis";

    public static IHostApplicationBuilder AddPlatformDb(this IHostApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString(DatabaseName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                $"ConnectionStrings:{DatabaseName} is not set. Set ConnectionStrings__{DatabaseName} (the AppHost and ./platform.sh do).");
        }

        builder.Services.AddSingleton(_ => new NpgsqlDataSourceBuilder(connectionString) { Name = DatabaseName }.Build());
        builder.Services.AddPooledDbContextFactory<PlatformDb>((sp, options) => options
            .UseNpgsql(sp.GetRequiredService<NpgsqlDataSource>(), npgsql => npgsql.EnableRetryOnFailure())
            .UseQueryTrackingBehavior(QueryTrackingBehavior.NoTracking));
        builder.Services.AddScoped<TenantContext>();
        builder.Services.AddScoped(sp =>
        {
            var db = sp.GetRequiredService<IDbContextFactory<PlatformDb>>().CreateDbContext();
            db.TenantId = sp.GetRequiredService<TenantContext>().TenantId;
            return db;
        });
        builder.Services.AddSingleton<SchemaGate>();
        builder.Services.AddSingleton<MigrationRunner>();

        builder.Services.AddHealthChecks()
            .AddCheck<PostgresHealthCheck>("postgres", tags: ["ready"])
            .AddCheck<SchemaHealthCheck>("schema", tags: ["ready"]);
        return builder;
    }

    public static IHostApplicationBuilder AddPlatformRedis(this IHostApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString(RedisName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                $"ConnectionStrings:{RedisName} is not set. Set ConnectionStrings__{RedisName} (the AppHost and ./platform.sh do).");
        }
        var options = ConfigurationOptions.Parse(connectionString);
        options.AbortOnConnectFail = false; // start even while Redis is down; reconnect in the background
        options.ClientName ??= builder.Environment.ApplicationName;

        // Lazy: the first consumer connects, not the container build.
        builder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(options));
        builder.Services.AddHealthChecks().AddCheck<RedisHealthCheck>("redis", tags: ["ready"]);
        return builder;
    }
}

internal sealed class PostgresHealthCheck(NpgsqlDataSource dataSource) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            await using var cmd = dataSource.CreateCommand("SELECT 1");
            await cmd.ExecuteScalarAsync(timeout.Token);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or System.Net.Sockets.SocketException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("PostgreSQL is unreachable.", ex);
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

internal sealed class RedisHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            using var _ = RedisTelemetry.Start("PING");
            await redis.GetDatabase().PingAsync().WaitAsync(TimeSpan.FromSeconds(3), ct);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("Redis is unreachable.", ex);
        }
    }
}
