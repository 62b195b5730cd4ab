using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Platform.Core.Ai;
using Platform.Core.Jobs;

namespace Platform.Core.Events;

public static class EventsModule
{
    /// <summary>
    /// Conference intelligence: profiles, matchmaking, gatherings, presence and reports, with the match-calculation and
    /// report jobs and the evening sweep of day-ahead digests (due per attendee at 18:00 local). Api and Worker both
    /// call this; only the Worker runs job handlers and schedules.
    /// </summary>
    public static IHostApplicationBuilder AddEvents(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.AddModelClients();
        services.TryAddSingleton<EventsStore>();
        services.TryAddSingleton<Matchmaking>();
        services.TryAddSingleton<EventsBus>();
        services.TryAddSingleton<Gatherings>();
        services.TryAddSingleton<PresenceStore>();
        services.TryAddSingleton<IntelligenceReports>();
        services.TryAddSingleton<ConversationStarters>();

        services.AddJobHandler<MatchCalculationArgs, MatchCalculationHandler>();
        services.AddJobHandler<IntelligenceReportArgs, IntelligenceReportHandler>();
        services.AddJobHandler<DayAheadDigestSweepArgs, DayAheadDigestSweepHandler>();
        services.AddRecurringJob("events.day-ahead-digests", "0 */5 * * * ?", new DayAheadDigestSweepArgs());
        return builder;
    }
}
