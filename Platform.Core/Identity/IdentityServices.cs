using Microsoft.EntityFrameworkCore;
using Npgsql;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Platform.Core.Identity;
using Platform.Core.Security;

namespace Microsoft.Extensions.DependencyInjection;

public static class IdentityServiceExtensions
{
    /// <summary>
    /// OpenIddict's core with its Entity Framework Core stores on <see cref="IdentityDb"/> (schema <c>identity</c>), and
    /// the module's own stores (users, memberships). A scoped context per request: it takes the request's tenant.
    /// </summary>
    public static IServiceCollection AddIdentityStores(this IServiceCollection services)
    {
        services.AddDbContext<IdentityDb>((sp, options) => options
            .UseNpgsql(sp.GetRequiredService<NpgsqlDataSource>())
            .AddInterceptors(new IdentityScopeInterceptor()));
        services.AddOpenIddict().AddCore(o => o.UseEntityFrameworkCore()
            .UseDbContext<IdentityDb>()
            .ReplaceDefaultEntities<IdentityClient, IdentityAuthorization, IdentityScope, IdentityToken, Guid>());
        services.AddSingleton<IdentityUsers>();
        services.AddSingleton<IdentityBranding>();
        services.TryAddSingleton(sp => OutboundOptions.From(sp.GetRequiredService<IConfiguration>()));
        services.AddSingleton<TrustedIssuers>();
        return services;
    }
}
