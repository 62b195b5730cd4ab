using Platform.Core.Civic;
using Platform.Core.Jobs;
using Platform.Core.Notifications;
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

        // Civic meeting digests: city.scan → meeting.ingest → extract → summarize → publish (docs/civic.md).
        builder.AddCivicPipeline();
        builder.AddNotificationDelivery();
    }
}
