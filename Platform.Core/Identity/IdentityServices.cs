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
        services.AddTrustedIssuerTokens();
        services.AddOpenIddictStores();
        services.AddSingleton<IdentityUsers>();
        services.AddSingleton<SignInLinks>();
        services.TryAddSingleton<Platform.Core.Impact.Privacy.PiiVault>();
        services.AddSingleton<ExternalProviders>();
        services.AddSingleton<IdentityBranding>();
        return services;
    }

    private static IServiceCollection AddOpenIddictStores(this IServiceCollection services)
    {
        services.AddDbContext<IdentityDb>((sp, options) => options
            .UseNpgsql(sp.GetRequiredService<NpgsqlDataSource>())
            .AddInterceptors(new IdentityScopeInterceptor()));
        services.AddOpenIddict().AddCore(o => o.UseEntityFrameworkCore()
            .UseDbContext<IdentityDb>()
            .ReplaceDefaultEntities<IdentityClient, IdentityAuthorization, IdentityScope, IdentityToken, Guid>());
        return services;
    }

    /// <summary>
    /// The Worker's hourly pruning of the identity tables (<see cref="IdentityPruning"/>): OpenIddict's stores and the job.
    /// </summary>
    public static IServiceCollection AddIdentityPruning(this IServiceCollection services)
    {
        services.AddOpenIddictStores();
        services.AddSingleton<IdentityPruning>();
        services.AddJobHandler<PruneIdentityArgs, PruneIdentityHandler>();
        services.AddRecurringJob("identity.prune", "0 35 * * * ?", new PruneIdentityArgs());
        return services;
    }

    /// <summary>
    /// What validating end-user tokens needs (Api and Realtime, which register <see cref="ClientTokens"/> themselves): platform tokens and tokens of the issuers tenants trust,
    /// checked by the same <see cref="BearerTokens"/>.
    /// </summary>
    public static IServiceCollection AddTrustedIssuerTokens(this IServiceCollection services)
    {
        services.TryAddSingleton(sp => OutboundOptions.From(sp.GetRequiredService<IConfiguration>()));
        services.TryAddSingleton<TrustedIssuers>();
        services.TryAddSingleton<BearerTokens>();
        return services;
    }
}
