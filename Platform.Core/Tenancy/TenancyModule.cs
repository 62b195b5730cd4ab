using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Platform.Core.Tenancy;

public static class TenancyModule
{
    /// <summary>Tenants with their API keys, and channels with their secrets (Api).</summary>
    public static IHostApplicationBuilder AddTenancy(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<Tenants>();
        builder.Services.AddSingleton<Channels>();
        return builder;
    }
}
