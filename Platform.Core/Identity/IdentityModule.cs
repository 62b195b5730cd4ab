using Microsoft.EntityFrameworkCore;
using Npgsql;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Platform.Core.Jobs;
using Platform.Core.Security;

namespace Platform.Core.Identity;

public static class IdentityModule
{
    /// <summary>
    /// End-user identity: OpenIddict's core with its Entity Framework Core stores on <see cref="IdentityDb"/> (schema
    /// <c>identity</c>; a scoped context per request takes the request's tenant), the module's own stores (users,
    /// memberships, sign-in links, upstream providers, branding) and the hourly pruning job. Api (whose
    /// <c>AddPlatformIdentity</c> adds the issuer's endpoints and pages on top) and Worker both call this; only the
    /// Worker runs the job. Validating tokens is <see cref="AddTrustedIssuerTokens"/>, called by Api and Realtime.
    /// </summary>
    public static IHostApplicationBuilder AddIdentity(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOpenIddictStores();
        services.AddSingleton<IdentityUsers>();
        services.AddSingleton<SignInLinks>();
        services.TryAddSingleton<Platform.Core.Impact.Privacy.PiiVault>();
        services.AddSingleton<ExternalProviders>();
        services.AddSingleton<IdentityBranding>();
        services.AddSingleton<IdentityPruning>();
        services.AddJobHandler<PruneIdentityArgs, PruneIdentityHandler>();
        services.AddRecurringJob("identity.prune", "0 35 * * * ?", new PruneIdentityArgs());
        return builder;
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
