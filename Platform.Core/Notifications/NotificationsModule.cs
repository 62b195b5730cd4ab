using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Platform.Core.Impact.Privacy;
using Platform.Core.Jobs;
using Platform.Core.Security;

namespace Platform.Core.Notifications;

public static class NotificationsModule
{
    /// <summary>
    /// Notifications: the producer API (outbox), preferences and channels, subscriptions, webhooks, email, inbox and
    /// replay, with the fan-out, send, safety-escalation and digest jobs. Api and Worker both call this; only the Worker
    /// runs job handlers and schedules.
    /// </summary>
    public static IHostApplicationBuilder AddNotifications(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<NotificationOptions>().BindConfiguration(NotificationOptions.Section);
        builder.Services.TryAddSingleton(OutboundOptions.From(builder.Configuration));
        builder.Services.TryAddSingleton(TimeProvider.System);
        // Webhook signing secrets are sealed with the vault key (WebhookSecrets).
        builder.Services.TryAddSingleton<PiiVault>();
        builder.Services.AddSingleton<NotificationOutbox>();
        builder.Services.AddSingleton<NotificationPreferences>();
        builder.Services.AddSingleton<ChannelPreferences>();
        builder.Services.AddSingleton<SafetyContacts>();
        AddEmail(builder);
        builder.Services.AddSingleton<EmailVerifications>();
        builder.Services.AddSingleton<PushSubscriptions>();
        builder.Services.AddSingleton<WebhookEndpoints>();
        builder.Services.AddSingleton<NotificationInbox>();
        builder.Services.AddSingleton<NotificationReplay>();
        builder.Services.AddSingleton<NotificationHttp>();
        builder.Services.AddSingleton<NotificationDeliverer>();

        builder.Services.AddJobHandler<NotificationFanoutArgs, NotificationFanoutHandler>();
        builder.Services.AddJobHandler<NotificationSendArgs, NotificationSendHandler>();
        builder.Services.AddJobHandler<SafetyEscalationArgs, SafetyEscalationHandler>();
        builder.Services.AddJobHandler<NotificationDigestSweepArgs, NotificationDigestSweepHandler>();
        builder.Services.AddRecurringJob("notifications.digests", "0 * * * * ?", new NotificationDigestSweepArgs());
        return builder;
    }

    /// <summary>
    /// The in-app relay: a loop, not a registration, so only the process that delivers runs it (the Worker). It claims
    /// in-app delivery rows at commit and publishes them to the user streams.
    /// </summary>
    public static IHostApplicationBuilder AddInAppRelay(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<InAppRelayOptions>().BindConfiguration(InAppRelayOptions.Section);
        builder.Services.AddHostedService<InAppRelay>();
        return builder;
    }

    /// <summary>Email settings (section and <c>ConnectionStrings:smtp</c>), profiles, branding, the sender and unsubscribe tokens.</summary>
    private static void AddEmail(IHostApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        builder.Services.AddOptions<EmailOptions>().Configure(o => EmailOptions.Configure(o, configuration));
        builder.Services.AddSingleton<NotificationProfiles>();
        builder.Services.AddSingleton<NotificationBranding>();
        builder.Services.AddSingleton<EmailSender>();
        builder.Services.AddSingleton<EmailChannel>();
        builder.Services.AddSingleton<EmailBounces>();
    }
}
