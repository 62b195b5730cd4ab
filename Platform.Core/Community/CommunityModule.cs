using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Platform.Core.Ai;
using Platform.Core.Community;
using Platform.Core.Governance;

namespace Microsoft.Extensions.DependencyInjection;

public static class CommunityExtensions
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

    /// <summary>Convener: directory, signals, scoring, pulse, learning and innovation (settings: Platform:Community).</summary>
    public static IServiceCollection AddCommunity(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddGovernance();
        var options = new CommunityOptions();
        configuration.GetSection(CommunityOptions.Section).Bind(options);
        services.TryAddSingleton(options);
        services.TryAddSingleton<Members>();
        services.TryAddSingleton<Signals>();
        services.TryAddSingleton<ChampionScoring>();
        services.TryAddSingleton<ActivitySignals>();
        services.TryAddSingleton<Pulse>();
        services.TryAddSingleton<PulseSurveys>();
        services.TryAddSingleton<Innovation>();
        services.TryAddSingleton<LearningCatalysts>();
        services.TryAddSingleton<Nudges>();
        services.TryAddSingleton<LearningOutcomes>();
        services.AddModelClients();
        services.TryAddSingleton<Collaborators>();
        return services;
    }
}
