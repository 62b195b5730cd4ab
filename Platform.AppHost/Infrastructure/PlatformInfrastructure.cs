using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;

namespace Platform.AppHost.Infrastructure;

/// <summary>
/// PostgreSQL (<c>postgres</c> with database <c>platformdb</c>) and Redis (<c>redis</c>): the standard Aspire containers
/// where a container runtime answers, otherwise executable resources from the machine's binaries.
/// <c>Platform:Infrastructure</c> = <c>auto</c> (default), <c>containers</c> or <c>executables</c> overrides the choice.
/// </summary>
public static class PlatformInfrastructure
{
    public sealed record Resources(
        IResourceBuilder<IResourceWithConnectionString> Database,
        IResourceBuilder<IResourceWithConnectionString> Redis,
        string Mode);

    public static Resources AddPlatformInfrastructure(this IDistributedApplicationBuilder builder, PlatformPorts ports, string dataRoot)
    {
        var postgresPassword = builder.AddParameter("postgres-password", Secret(32), secret: true, persist: true);
        var redisPassword = builder.AddParameter("redis-password", Secret(32), secret: true, persist: true);

        var mode = builder.Configuration["Platform:Infrastructure"]?.Trim().ToLowerInvariant() switch
        {
            null or "" or "auto" => ContainerRuntimeAnswers() ? "containers" : "executables",
            "containers" => "containers",
            "executables" => "executables",
            var other => throw new InvalidOperationException(
                $"Platform:Infrastructure is '{other}'; use 'auto', 'containers' or 'executables'."),
        };

        if (mode == "containers")
        {
            var postgres = builder.AddPostgres("postgres", password: postgresPassword, port: ports.Postgres).WithDataVolume();
            var redis = builder.AddRedis("redis", port: ports.Redis, password: redisPassword);
            return new(postgres.AddDatabase("platformdb"), redis, mode);
        }

        var server = builder.AddLocalPostgres("postgres", postgresPassword, ports.Postgres, Path.Combine(dataRoot, "postgres"));
        var localRedis = builder.AddLocalRedis("redis", redisPassword, ports.Redis, Path.Combine(dataRoot, "redis"));
        return new(server.AddDatabase("platformdb"), localRedis, mode);
    }

    /// <summary>Letters and digits only, so the value needs no quoting in connection strings, URLs or shell files.</summary>
    public static GenerateParameterDefault Secret(int length) => new() { MinLength = length, Special = false };

    /// <summary>
    /// Whether docker or podman reaches a running engine. A client without an engine (common on CI machines)
    /// does not count: its containers could never start.
    /// </summary>
    private static bool ContainerRuntimeAnswers()
    {
        foreach (var runtime in new[] { Environment.GetEnvironmentVariable("ASPIRE_CONTAINER_RUNTIME"), "docker", "podman" })
        {
            if (string.IsNullOrWhiteSpace(runtime))
            {
                continue;
            }
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                if (LocalServerCommands.RunAsync(runtime, ["info", "--format", "{{.ServerVersion}}"], cts.Token).GetAwaiter().GetResult() == 0)
                {
                    return true;
                }
            }
            catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or OperationCanceledException)
            {
                // not installed, or no answer in time
            }
        }
        return false;
    }
}

/// <summary>
/// Fixed host ports (<c>Platform:Ports:*</c>), so URLs stay the same between runs and every service listens directly,
/// with no proxy in the path of a request or a WebSocket frame. Tests pass free ports.
/// </summary>
public sealed record PlatformPorts(int Api, int[] Realtime, int Worker, int Admin, int Postgres, int Redis)
{
    public static PlatformPorts From(IConfiguration configuration)
    {
        var section = configuration.GetSection("Platform:Ports");
        int Port(string key, int fallback) => section.GetValue(key, fallback);
        var realtime = (section["Realtime"] ?? "5090,5091")
            .Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => int.Parse(p, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        if (realtime.Length < 2)
        {
            throw new InvalidOperationException("Platform:Ports:Realtime must name at least two ports: clients resume on another node.");
        }
        return new(Port("Api", 5080), realtime, Port("Worker", 5070), Port("Admin", 5050), Port("Postgres", 55432), Port("Redis", 56379));
    }
}
