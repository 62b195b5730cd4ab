using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Platform.Core.Messaging;

public static class MessagingModule
{
    /// <summary>
    /// Conversations and their strictly ordered activities (<see cref="ActivityLog"/>, <see cref="Conversations"/>).
    /// Api writes and reads through them, every Realtime node replays from them; both need an NpgsqlDataSource and an
    /// IConnectionMultiplexer.
    /// </summary>
    public static IHostApplicationBuilder AddMessaging(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<ActivityLog>();
        builder.Services.TryAddSingleton<Conversations>();
        return builder;
    }
}
