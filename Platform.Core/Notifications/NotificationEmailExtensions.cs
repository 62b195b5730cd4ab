using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Platform.Core.Notifications;

public static class NotificationEmailExtensions
{
    /// <summary>Email settings (section and <c>ConnectionStrings:smtp</c>), profiles, branding, the sender and unsubscribe tokens.</summary>
    public static IHostApplicationBuilder AddNotificationEmail(this IHostApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        builder.Services.AddOptions<EmailOptions>().Configure(o => EmailOptions.Configure(o, configuration));
        builder.Services.AddSingleton<NotificationProfiles>();
        builder.Services.AddSingleton<NotificationBranding>();
        builder.Services.AddSingleton<EmailSender>();
        builder.Services.AddSingleton<EmailChannel>();
        builder.Services.AddSingleton<EmailBounces>();
        return builder;
    }
}
