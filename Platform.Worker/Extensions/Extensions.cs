using Platform.Core.Impact;
using Platform.Core.Jobs;
using Platform.Worker.Jobs;

namespace Microsoft.Extensions.DependencyInjection;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddPlatformDb();
        builder.AddPlatformRedis();

        // The job engine (settings: Platform:Jobs) and the handlers this worker runs.
        builder.AddJobWorker();
        builder.Services.AddJobHandler<CanaryArgs, CanaryHandler>();
        builder.Services.AddImpactJobHandlers();
    }
}
