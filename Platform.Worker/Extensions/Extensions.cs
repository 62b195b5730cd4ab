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

        // Conference intelligence (issue 12).
        builder.Services.AddEvents();
        builder.Services.AddJobHandler<Platform.Core.Events.MatchCalculationArgs, MatchCalculationHandler>();
        builder.Services.AddJobHandler<Platform.Core.Events.IntelligenceReportArgs, IntelligenceReportHandler>();
        builder.AddNotificationDelivery();
    }
}
