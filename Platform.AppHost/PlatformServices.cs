using Microsoft.Extensions.Configuration;
using Aspire.Hosting.ApplicationModel;

namespace Platform.AppHost;

internal static class PlatformServices
{
    /// <summary>
    /// A Platform project on a fixed port it listens on itself (no proxy in front), in the AppHost's environment,
    /// with the health endpoint every service maps.
    /// </summary>
    public static IResourceBuilder<ProjectResource> AddPlatformService<TProject>(this IDistributedApplicationBuilder builder, string name, int port)
        where TProject : IProjectMetadata, new() =>
        builder.AddProject<TProject>(name, launchProfileName: null)
            .WithHttpEndpoint(port: port, isProxied: false)
            .WithEnvironment("ASPNETCORE_ENVIRONMENT", builder.Environment.EnvironmentName)
            .WithHttpHealthCheck("/health")
            .WithExternalHttpEndpoints();

    /// <summary>
    /// Publishes several resources as one logical service for Microsoft.Extensions.ServiceDiscovery
    /// (<c>services__{service}__http__{n}</c>), which <c>WithReference</c> cannot do: it names each resource apart.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithServiceEndpoints(this IResourceBuilder<ProjectResource> target,
        string service, IEnumerable<IResourceBuilder<ProjectResource>> nodes)
    {
        var i = 0;
        foreach (var node in nodes)
        {
            target.WithEnvironment($"services__{service}__http__{i++}", node.GetEndpoint("http"));
        }
        return target;
    }

    /// <summary>
    /// The demo data of every module (seeds/load.sh), loaded through the public API once the system is up, on the
    /// first run only (a marker in the state directory). <c>Platform:Seeds=false</c> skips it.
    /// </summary>
    public static void AddSeeds(this IDistributedApplicationBuilder builder, IResourceBuilder<ProjectResource> api,
        IResourceBuilder<ProjectResource> worker, ReferenceExpression operatorKey, string state)
    {
        if (!builder.Configuration.GetValue("Platform:Seeds", true))
        {
            return;
        }
        var root = Path.GetFullPath(Path.Combine(builder.AppHostDirectory, ".."));
        // The static site behind the demo city's http source (a city that publishes a JSON feed of its minutes).
        var feedPort = builder.Configuration.GetValue("Platform:Ports:CivicFeed", 5098);
        var civicFeed = builder.AddExecutable("civic-feed", "python3", root,
                "-m", "http.server", feedPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--bind", "127.0.0.1", "--directory", Path.Combine(root, "seeds", "civic", "lakeshore"))
            .WithHttpEndpoint(port: feedPort, isProxied: false)
            .WithHttpHealthCheck("/feed.json")
            .ExcludeFromManifest();
        builder.AddExecutable("seeds", "bash", root, Path.Combine(root, "seeds", "load.sh"))
            .WithEnvironment("API_URL", api.GetEndpoint("http"))
            .WithEnvironment("CIVIC_FEED_URL", civicFeed.GetEndpoint("http"))
            .WithEnvironment("OPERATOR_KEY", operatorKey)
            .WithEnvironment("PLATFORM_STATE_DIR", state)
            .WaitFor(api).WaitFor(worker).WaitFor(civicFeed)
            .ExcludeFromManifest();
    }
}
