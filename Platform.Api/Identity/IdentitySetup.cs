using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using Platform.Core.Data;
using Platform.Core.Identity;
using Platform.Core.Security;
using Platform.Core.Tenancy;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Platform.Api.Identity;

/// <summary>Settings of the tenants' OpenID Connect issuers (<c>Platform:Identity</c>).</summary>
public sealed class IdentityOptions
{
    /// <summary>Set when Api holds the ES256 token key (the issuers sign with it); without it the issuers are off.</summary>
    public bool Enabled { get; set; }
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(15);
    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(30);
    /// <summary>How long a redeemed refresh token may be presented again (concurrent refreshes); after it, reuse revokes the sign-in.</summary>
    public TimeSpan RefreshTokenReuseLeeway { get; set; } = TimeSpan.Zero;
    /// <summary>Wrong passwords in a row that lock an account, and for how long.</summary>
    public int LockoutAttempts { get; set; } = 5;
    public TimeSpan LockoutDuration { get; set; } = TimeSpan.FromMinutes(15);
    /// <summary>How long an e-mailed sign-in link works, and how many links one address may ask for per window.</summary>
    public TimeSpan SignInLinkLifetime { get; set; } = TimeSpan.FromMinutes(15);
    public int SignInLinkLimit { get; set; } = 3;
    public TimeSpan SignInLinkWindow { get; set; } = TimeSpan.FromMinutes(15);
    /// <summary>
    /// Api's public URL (<c>https://api.example.org</c>) for links in e-mails and for the redirect back from an external
    /// provider. Without it the request's own scheme and host are used, which then must be restricted by
    /// <c>AllowedHosts</c> so a forged Host header cannot put another site into a sign-in link.
    /// </summary>
    public string? PublicBaseUrl { get; set; }
    /// <summary>Plain http issuers (development and tests only): OpenIddict refuses them otherwise.</summary>
    public bool AllowHttp { get; set; }
}

public static class IdentitySetup
{
    public const string CookieScheme = "PlatformIdentity";
    public const string IssuerTenantItem = "platform:issuer-tenant";

    /// <summary>
    /// Platform as an OpenID Connect provider per tenant (OpenIddict, on Api): the issuer of tenant T is
    /// <c>{api}/t/{T}/</c>, with discovery, JWKS, authorization code + PKCE, refresh tokens (rolling, reuse revokes the
    /// sign-in), revocation and sign-out. Access tokens are ES256 JWTs signed with the client-token key, shaped like
    /// today's user tokens (tid, knd, roles, crd), so Api and Realtime accept them unchanged.
    /// </summary>
    public static IHostApplicationBuilder AddPlatformIdentity(this IHostApplicationBuilder builder)
    {
        var options = new IdentityOptions { AllowHttp = builder.Environment.IsDevelopment() || builder.Environment.IsEnvironment("Testing") };
        builder.Configuration.GetSection("Platform:Identity").Bind(options);
        var keys = new ClientTokens(builder.Configuration);
        options.Enabled = keys.AsymmetricSigningKey is not null;
        builder.Services.AddSingleton(options);
        // The module (stores, trusted issuers, pruning job); this adds the issuer's endpoints, cookies and pages on top.
        builder.AddIdentity();
        // The cookies' and antiforgery tokens' keys, shared by every Api replica through PostgreSQL.
        builder.Services.AddSharedKeyRing(builder.Configuration);
        builder.Services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "platform_identity_af";
            o.FormFieldName = "__af";
        });
        builder.Services.AddAuthentication().AddCookie(CookieScheme, o =>
        {
            o.Cookie.Name = "platform_identity";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.ExpireTimeSpan = TimeSpan.FromHours(8);
            o.SlidingExpiration = true;
            // The pages redirect themselves; the handler must not send API callers anywhere.
            o.Events = new CookieAuthenticationEvents
            {
                OnRedirectToLogin = c => { c.Response.StatusCode = StatusCodes.Status401Unauthorized; return Task.CompletedTask; },
                OnRedirectToAccessDenied = c => { c.Response.StatusCode = StatusCodes.Status403Forbidden; return Task.CompletedTask; },
            };
        });
        if (!options.Enabled)
        {
            return builder;
        }
        builder.Services.AddOpenIddict().AddServer(o =>
        {
            // Relative URIs: OpenIddict resolves them against the request's base (PathBase = /t/{tenant}), and with no
            // issuer set it infers the issuer from that base, so every tenant has its own issuer on one server.
            o.SetAuthorizationEndpointUris("connect/authorize")
                .SetTokenEndpointUris("connect/token")
                .SetRevocationEndpointUris("connect/revoke")
                .SetEndSessionEndpointUris("connect/endsession")
                .SetConfigurationEndpointUris(".well-known/openid-configuration")
                .SetJsonWebKeySetEndpointUris(".well-known/jwks");
            o.AllowAuthorizationCodeFlow().RequireProofKeyForCodeExchange().AllowRefreshTokenFlow();
            o.RegisterScopes(OpenIddictConstants.Scopes.OpenId, OpenIddictConstants.Scopes.Email, OpenIddictConstants.Scopes.Profile,
                OpenIddictConstants.Scopes.Roles, OpenIddictConstants.Scopes.OfflineAccess);
            o.AddSigningKey(keys.AsymmetricSigningKey!);
            o.AddEncryptionKey(new SymmetricSecurityKey(keys.DeriveKey("platform identity: codes and refresh tokens")) { KeyId = "enc1" });
            // Access tokens stay signed JWTs (not encrypted) so Api and Realtime validate them like client tokens.
            o.DisableAccessTokenEncryption();
            o.SetAccessTokenLifetime(options.AccessTokenLifetime).SetRefreshTokenLifetime(options.RefreshTokenLifetime)
                .SetRefreshTokenReuseLeeway(options.RefreshTokenReuseLeeway);
            var aspnet = o.UseAspNetCore().EnableAuthorizationEndpointPassthrough().EnableEndSessionEndpointPassthrough()
                .EnableTokenEndpointPassthrough();
            if (options.AllowHttp)
            {
                aspnet.DisableTransportSecurityRequirement();
            }
            o.AddEventHandler<HandleRevocationRequestContext>(b => b.UseScopedHandler<RevokeSignInWithToken>().SetOrder(int.MaxValue - 100_000));
        });
        return builder;
    }

    /// <summary>
    /// Serves <c>/t/{tenant}/…</c> as that tenant's issuer: the tenant must exist and be active (404 otherwise), the
    /// prefix becomes the request's PathBase (so OpenIddict infers the issuer and the cookies are scoped to it), and the
    /// tenant becomes the request's tenant (row-level security of the identity stores). The OpenID endpoints answer only
    /// under a tenant.
    /// </summary>
    public static WebApplication UseTenantIssuers(this WebApplication app)
    {
        app.Use(async (http, next) =>
        {
            var path = http.Request.Path;
            if (path.StartsWithSegments("/t", out var rest) && rest.HasValue)
            {
                var value = rest.Value!;
                var end = value.IndexOf('/', 1);
                var segment = end < 0 ? value[1..] : value[1..end];
                if (Guid.TryParse(segment, out var tenantId) && http.RequestServices.GetRequiredService<IdentityOptions>() is { } options)
                {
                    var active = await http.RequestServices.GetRequiredService<CredentialLookup>().FindTenantActiveAsync(tenantId, http.RequestAborted);
                    if (active is not true || !options.Enabled)
                    {
                        await Results.Problem(statusCode: StatusCodes.Status404NotFound, type: Platform.Api.Security.ProblemTypes.NotFound,
                            title: "No such issuer.", detail: "This tenant has no active sign-in.").ExecuteAsync(http);
                        return;
                    }
                    http.Request.PathBase = http.Request.PathBase.Add($"/t/{tenantId:D}");
                    http.Request.Path = end < 0 ? PathString.Empty : new PathString(value[end..]);
                    http.RequestServices.GetRequiredService<TenantContext>().TenantId = tenantId;
                    http.Items[IssuerTenantItem] = tenantId;
                }
            }
            else if (path.StartsWithSegments("/connect") || path.StartsWithSegments("/.well-known"))
            {
                http.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }
            await next(http);
        });
        return app;
    }

    public static Guid IssuerTenant(this HttpContext http) => http.Items[IssuerTenantItem] is Guid id ? id : Guid.Empty;
}

/// <summary>
/// Revoking a refresh or access token ends the whole sign-in it belongs to: the authorization is revoked, so every
/// access token issued under it (they carry <c>crd = a:{authorization}</c>) is refused by Api and Realtime at once.
/// </summary>
public sealed class RevokeSignInWithToken(IOpenIddictAuthorizationManager authorizations, Revocations revocations)
    : IOpenIddictServerHandler<HandleRevocationRequestContext>
{
    public async ValueTask HandleAsync(HandleRevocationRequestContext context)
    {
        if (context.GenericTokenPrincipal?.GetAuthorizationId() is not { } id)
        {
            return;
        }
        if (await authorizations.FindByIdAsync(id) is { } authorization)
        {
            await authorizations.TryRevokeAsync(authorization);
        }
        if (Guid.TryParse(id, out var guid))
        {
            await revocations.PublishAsync(Revocations.Authorization(guid));
        }
    }
}
