using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace Platform.AppHost.Infrastructure;

/// <summary>Redis run from the machine's binary as an executable resource (no container runtime needed).</summary>
public sealed class LocalRedisResource(string name, string command, string dataRoot, ParameterResource password)
    : ExecutableResource(name, command, dataRoot), IResourceWithConnectionString
{
    public ParameterResource Password { get; } = password;
    public string DataRoot { get; } = dataRoot;
    public string ConfigFile => Path.Combine(DataRoot, "redis.conf");
    public EndpointReference Endpoint => new(this, "tcp");

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"127.0.0.1:{Endpoint.Property(EndpointProperty.Port)},password={Password}");
}

public static class LocalRedisBuilderExtensions
{
    /// <summary>
    /// redis-server on loopback with a password, no persistence (Redis holds only what PostgreSQL can rebuild).
    /// The password goes into a config file readable only by its owner, not onto the command line.
    /// </summary>
    public static IResourceBuilder<LocalRedisResource> AddLocalRedis(this IDistributedApplicationBuilder builder,
        string name, IResourceBuilder<ParameterResource> password, int port, string dataRoot)
    {
        var resource = new LocalRedisResource(name, LocalServerCommands.RedisServerBinary(), dataRoot, password.Resource);
        var healthKey = $"{name}_check";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(healthKey,
            _ => new RedisCheck(() => resource.ConnectionStringExpression.GetValueAsync(CancellationToken.None)), null, null));

        var redis = builder.AddResource(resource)
            .WithArgs(resource.ConfigFile)
            .WithEndpoint(port: port, targetPort: port, scheme: "tcp", name: "tcp", isProxied: false)
            .WithHealthCheck(healthKey)
            .ExcludeFromManifest();
        redis.OnBeforeResourceStarted(async (r, _, ct) =>
        {
            Directory.CreateDirectory(r.DataRoot);
            await File.WriteAllTextAsync(r.ConfigFile, LocalServerCommands.RedisConfig(port, r.DataRoot, await r.Password.GetValueAsync(ct)), ct);
            File.SetUnixFileMode(r.ConfigFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        });
        return redis;
    }

    private sealed class RedisCheck(Func<ValueTask<string?>> connectionString) : IHealthCheck, IDisposable
    {
        private ConnectionMultiplexer? _redis;

        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
        {
            try
            {
                if (_redis is null)
                {
                    var options = ConfigurationOptions.Parse(await connectionString() ?? "");
                    options.AbortOnConnectFail = false;
                    options.ConnectTimeout = 3000;
                    _redis = await ConnectionMultiplexer.ConnectAsync(options);
                }
                await _redis.GetDatabase().PingAsync().WaitAsync(TimeSpan.FromSeconds(3), ct);
                return HealthCheckResult.Healthy();
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                return HealthCheckResult.Unhealthy(ex.Message, ex);
            }
        }

        public void Dispose() => _redis?.Dispose();
    }
}
