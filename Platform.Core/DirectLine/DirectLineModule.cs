using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
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

public static class DirectLineModule
{
    /// <summary>
    /// Direct Line 3.0: upload limits and retention (<c>Platform:DirectLine:Uploads</c>), the store, and the hourly job
    /// that deletes uploads past their retention. Api (whose endpoints are mapped by <c>MapDirectLineApi</c>) and Worker
    /// both call this; only the Worker runs the job.
    /// </summary>
    public static IHostApplicationBuilder AddDirectLine(this IHostApplicationBuilder builder)
    {
        var uploads = new DirectLineUploadOptions();
        builder.Configuration.GetSection(DirectLineUploadOptions.Section).Bind(uploads);
        builder.Services.AddSingleton(uploads);
        builder.Services.AddSingleton<DirectLineStore>();
        builder.Services.AddJobHandler<PruneDirectLineUploadsArgs, PruneDirectLineUploadsHandler>();
        builder.Services.AddRecurringJob("directline.uploads-prune", "0 25 * * * ?", new PruneDirectLineUploadsArgs());
        return builder;
    }
}
