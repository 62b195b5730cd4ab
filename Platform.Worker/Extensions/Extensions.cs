using Platform.Core.Civic;
using Platform.Core.Community;
using Platform.Core.DirectLine;
using Platform.Core.Events;
using Platform.Core.Identity;
using Platform.Core.Impact;
using Platform.Core.Jobs;
using Platform.Core.Notifications;
using Platform.Core.Privacy;
using Platform.Core.Retention;
using Platform.Worker.Jobs;

namespace Microsoft.Extensions.DependencyInjection;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddPlatformDb();
        builder.AddPlatformRedis();

        // Hangfire servers (one per queue), the outbox relay and the schedules (settings: Platform:Jobs; docs/jobs.md).
        builder.AddJobWorker();
        var jobs = builder.Configuration.GetSection(JobWorkerOptions.Section).Get<JobWorkerOptions>() ?? new JobWorkerOptions();
        builder.Services.PostConfigure<HostOptions>(o => o.ShutdownTimeout = o.ShutdownTimeout < jobs.HostShutdownTimeout ? jobs.HostShutdownTimeout : o.ShutdownTimeout);
        builder.Services.AddJobHandler<CanaryArgs, CanaryHandler>();

        // The modules: each registers its services, job handlers and schedules (docs/architecture.md, "Modules").
        builder.AddCivic();
        builder.AddCommunity();
        builder.AddEvents();
        builder.AddNotifications();
        builder.AddImpact();
        builder.AddDirectLine();
        builder.AddRetention();
        builder.AddIdentity();
        builder.AddPrivacy();

        // In-app notifications are claimed at commit and published to the user streams from here.
        builder.AddInAppRelay();
    }
}
