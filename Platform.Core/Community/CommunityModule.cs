using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Platform.Core.Ai;
using Platform.Core.Governance;
using Platform.Core.Jobs;

namespace Platform.Core.Community;

public static class CommunityModule
{
    /// <summary>Governance (consent, approvals, provenance) — shared by every module that exposes people.</summary>
    public static IServiceCollection AddGovernance(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ProvenanceLedger>();
        services.TryAddSingleton<Consents>();
        services.TryAddSingleton<Approvals>();
        return services;
    }

    /// <summary>
    /// Convener (settings: <c>Platform:Community</c>): directory, signals, scoring, pulse, learning and innovation, with the
    /// scoring, signal extraction, nudge and pulse digest jobs and their schedules. Api and Worker both call this; only the
    /// Worker runs job handlers and schedules, so in the Api they are registrations nothing resolves.
    /// </summary>
    public static IHostApplicationBuilder AddCommunity(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddGovernance();
        var options = new CommunityOptions();
        builder.Configuration.GetSection(CommunityOptions.Section).Bind(options);
        services.TryAddSingleton(options);
        services.TryAddSingleton<Members>();
        services.TryAddSingleton<Signals>();
        services.TryAddSingleton<ChampionScoring>();
        services.TryAddSingleton<ChampionDiscovery>();
        services.TryAddSingleton<ActivitySignals>();
        services.TryAddSingleton<Pulse>();
        services.TryAddSingleton<PulseSurveys>();
        services.TryAddSingleton<Innovation>();
        services.TryAddSingleton<LearningCatalysts>();
        services.TryAddSingleton<Nudges>();
        services.TryAddSingleton<LearningOutcomes>();
        services.AddModelClients();
        services.TryAddSingleton<Collaborators>();

        // Scoring hourly (and on POST /v1/champions/refresh), and activity → signal extraction.
        services.AddJobHandler<ScoreChampionsArgs, ScoreChampionsHandler>();
        services.AddJobHandler<ExtractActivitySignalsArgs, ExtractActivitySignalsHandler>();
        services.AddJobHandler<ExecuteNudgeArgs, ExecuteNudgeHandler>();
        services.AddRecurringJob("community.score-champions", options.ScoringCron, new ScoreChampionsArgs());
        // Every 30 s: a fire is skipped while the previous extraction still runs (one at a time, no pile-up).
        services.AddRecurringJob("community.extract-activity-signals", options.ExtractionCron, new ExtractActivitySignalsArgs());
        // Weekly pulse and champions email for managers and team leads, due per person at their local digest time.
        services.AddJobHandler<PulseDigestSweepArgs, PulseDigestSweepHandler>();
        services.AddRecurringJob("community.pulse-digests", "0 */5 * * * ?", new PulseDigestSweepArgs());
        return builder;
    }
}
