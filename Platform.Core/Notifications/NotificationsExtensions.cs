using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Platform.Core.Impact.Privacy;
using Platform.Core.Jobs;
using Platform.Core.Security;

namespace Platform.Core.Notifications;

public static class NotificationsExtensions
{
    /// <summary>Producer API, preferences, subscriptions, webhooks, inbox and replay (Api and any producer).</summary>
    public static IHostApplicationBuilder AddNotifications(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<NotificationOptions>().BindConfiguration(NotificationOptions.Section);
        builder.Services.TryAddSingleton(OutboundOptions.From(builder.Configuration));
        // Webhook signing secrets are sealed with the vault key (WebhookSecrets).
        builder.Services.TryAddSingleton<PiiVault>();
        builder.Services.AddSingleton<NotificationOutbox>();
        builder.Services.AddSingleton<NotificationPreferences>();
        builder.Services.AddSingleton<ChannelPreferences>();
        builder.Services.AddSingleton<SafetyContacts>();
        builder.AddNotificationEmail();
        builder.Services.AddSingleton<EmailVerifications>();
        builder.Services.AddSingleton<PushSubscriptions>();
        builder.Services.AddSingleton<WebhookEndpoints>();
        builder.Services.AddSingleton<NotificationInbox>();
        builder.Services.AddSingleton<NotificationReplay>();
        return builder;
    }

    /// <summary>Delivery: the in-app relay and the fan-out and send job handlers (Worker).</summary>
    public static IHostApplicationBuilder AddNotificationDelivery(this IHostApplicationBuilder builder)
    {
        builder.AddNotifications();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<NotificationHttp>();
        builder.Services.AddSingleton<NotificationDeliverer>();
        builder.Services.AddOptions<InAppRelayOptions>().BindConfiguration(InAppRelayOptions.Section);
        builder.Services.AddHostedService<InAppRelay>();
        builder.Services.AddJobHandler<NotificationFanoutArgs, NotificationFanoutHandler>();
        builder.Services.AddJobHandler<NotificationSendArgs, NotificationSendHandler>();
        builder.Services.AddJobHandler<SafetyEscalationArgs, SafetyEscalationHandler>();
        builder.Services.AddJobHandler<NotificationDigestSweepArgs, NotificationDigestSweepHandler>();
        builder.Services.AddRecurringJob("notifications.digests", "0 * * * * ?", new NotificationDigestSweepArgs());
        return builder;
    }
}
