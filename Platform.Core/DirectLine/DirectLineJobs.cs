using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Platform.Core.Jobs;

namespace Platform.Core.DirectLine;

/// <summary>Deletes Direct Line uploads older than the retention (<see cref="DirectLineUploadOptions.Retention"/>).</summary>
public sealed record PruneDirectLineUploadsArgs : IJobArgs
{
    public static string Kind => "directline.uploads-prune";
}

public sealed class PruneDirectLineUploadsHandler(DirectLineStore store) : IJobHandler<PruneDirectLineUploadsArgs>
{
    public async Task HandleAsync(PruneDirectLineUploadsArgs args, JobContext context) => await store.PruneExpiredAsync(context.CancellationToken);
}

public static class DirectLineJobs
{
    /// <summary>The Direct Line jobs (Worker): hourly, expired uploads are deleted.</summary>
    public static IServiceCollection AddDirectLineJobs(this IServiceCollection services, IConfiguration configuration)
    {
        var uploads = new DirectLineUploadOptions();
        configuration.GetSection(DirectLineUploadOptions.Section).Bind(uploads);
        services.AddSingleton(uploads);
        services.AddSingleton<DirectLineStore>();
        services.AddJobHandler<PruneDirectLineUploadsArgs, PruneDirectLineUploadsHandler>();
        services.AddRecurringJob("directline.uploads-prune", "0 25 * * * ?", new PruneDirectLineUploadsArgs());
        return services;
    }
}
