using Microsoft.Extensions.DependencyInjection.Extensions;
using Platform.Core.Ai;
using Platform.Core.Events;

namespace Microsoft.Extensions.DependencyInjection;

public static class EventsExtensions
{
    /// <summary>Conference intelligence: profiles, matchmaking, gatherings, presence, reports (Api and Worker).</summary>
    public static IServiceCollection AddEvents(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddModelClients();
        services.TryAddSingleton<EventsStore>();
        services.TryAddSingleton<Matchmaking>();
        services.TryAddSingleton<EventsBus>();
        services.TryAddSingleton<Gatherings>();
        services.TryAddSingleton<PresenceStore>();
        services.TryAddSingleton<IntelligenceReports>();
        services.TryAddSingleton<ConversationStarters>();
        return services;
    }
}
