using Platform.Core.Identity;
using Platform.Core.Messaging;
using Platform.Core.Notifications;
using Platform.Core.Security;
using Platform.Core.Tenancy;
using Platform.Realtime.Streaming;

namespace Microsoft.Extensions.DependencyInjection;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddPlatformDb();
        builder.AddPlatformRedis();

        builder.AddMessaging();
        builder.Services.AddSingleton<ClientTokens>();
        builder.Services.AddTrustedIssuerTokens();
        builder.Services.AddSingleton<CredentialLookup>();
        builder.Services.AddSingleton<SocketStandings>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SocketStandings>());

        builder.Services.AddOptions<StreamOptions>().BindConfiguration(StreamOptions.Section);
        builder.Services.AddSingleton<ConversationFeeds>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ConversationFeeds>());
        builder.Services.AddSingleton<NotificationInbox>();
        builder.Services.AddSingleton<NotificationFeeds>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<NotificationFeeds>());

        // Presence and the conference stream.
        builder.Services.AddOptions<PresenceOptions>().BindConfiguration(PresenceOptions.Section);
        builder.Services.AddSingleton<Platform.Core.Events.EventsStore>();
        builder.Services.AddSingleton<Platform.Core.Events.EventsBus>();
        builder.Services.AddSingleton<Platform.Core.Events.PresenceStore>();
        builder.Services.AddSingleton<PresenceTracker>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PresenceTracker>());

        // Closing 1012 on shutdown needs the connections to finish within the host's shutdown window.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
    }
}
