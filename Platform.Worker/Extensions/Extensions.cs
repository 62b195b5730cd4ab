using Platform.Core.Civic;
using Platform.Core.Community;
using Platform.Core.DirectLine;
using Platform.Core.Impact;
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

        // Hangfire servers (one per queue), the outbox relay and the schedules (settings: Platform:Jobs; docs/jobs.md).
        builder.AddJobWorker();
        var jobs = builder.Configuration.GetSection(JobWorkerOptions.Section).Get<JobWorkerOptions>() ?? new JobWorkerOptions();
        builder.Services.PostConfigure<HostOptions>(o => o.ShutdownTimeout = o.ShutdownTimeout < jobs.HostShutdownTimeout ? jobs.HostShutdownTimeout : o.ShutdownTimeout);
        builder.Services.AddJobHandler<CanaryArgs, CanaryHandler>();

        // Civic meeting digests: city.scan → meeting.ingest → extract → summarize → publish (docs/civic.md).
        builder.AddCivic();
        // Convener: scoring, activity → signal extraction, nudges and the weekly pulse digests.
        builder.AddCommunity();
        // Conference intelligence.
        builder.Services.AddEvents();
        builder.Services.AddJobHandler<Platform.Core.Events.MatchCalculationArgs, MatchCalculationHandler>();
        builder.Services.AddJobHandler<Platform.Core.Events.IntelligenceReportArgs, IntelligenceReportHandler>();
        // The evening before: tomorrow's gatherings and matches by email, due per attendee at 18:00 local.
        builder.Services.AddJobHandler<Platform.Core.Events.DayAheadDigestSweepArgs, Platform.Core.Events.DayAheadDigestSweepHandler>();
        builder.Services.AddRecurringJob("events.day-ahead-digests", "0 */5 * * * ?", new Platform.Core.Events.DayAheadDigestSweepArgs());
        builder.AddNotificationDelivery();
        builder.AddImpact();
        // Direct Line uploads past their retention are deleted hourly.
        builder.Services.AddDirectLineJobs(builder.Configuration);
        // Per-tenant keep periods per data class, applied hourly in bounded batches (docs/retention.md).
        Platform.Core.Retention.RetentionExtensions.AddRetentionJobs(builder.Services);
        // Expired and revoked sign-ins, tokens and sign-in links are pruned hourly (docs/identity.md).
        builder.Services.AddIdentityPruning();
        // Export and erasure of community members, conference attendees and civic residents.
        Platform.Core.Privacy.PrivacyExtensions.AddSubjectRequestJobs(builder.Services);
    }
}
