using System.Security.Claims;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using Platform.Core.Identity;

namespace Platform.Api.Identity;

public static partial class IdentityEndpoints
{
    private const string ExternalCookie = "platform_identity_ext";

    /// <summary>What the browser carries (protected, 10 minutes) from the redirect to the upstream until it comes back.</summary>
    private sealed record ExternalFlow(string Provider, string State, string Nonce, string Verifier, string ReturnUrl)
    {
        public string Pack() => string.Join('\n', Provider, State, Nonce, Verifier, ReturnUrl);

        public static ExternalFlow? Unpack(string packed) =>
            packed.Split('\n') is [var provider, var state, var nonce, var verifier, var returnUrl]
                ? new ExternalFlow(provider, state, nonce, verifier, returnUrl)
                : null;
    }

    private static ITimeLimitedDataProtector ExternalProtector(HttpContext http) =>
        http.RequestServices.GetRequiredService<IDataProtectionProvider>().CreateProtector("platform.identity.external-sign-in").ToTimeLimitedDataProtector();

    /// <summary>
    /// Starts a sign-in with the tenant's upstream provider: authorization code with PKCE (S256), a state and a nonce kept in
    /// a protected, path-scoped cookie, the redirect back to this issuer's callback.
    /// </summary>
    private static async Task<IResult> ExternalStart(HttpContext http, string provider, string? returnUrl, ExternalProviders providers,
        IdentityOptions options, IdentityPagesRenderer pages)
    {
        var tenantId = http.IssuerTenant();
        var back = LocalReturnUrl(http, returnUrl);
        if (provider.Length > 40 || await providers.FindAsync(tenantId, provider, http.RequestAborted) is not { } found)
        {
            return await pages.MessageAsync(http, "Unknown provider", "This sign-in option does not exist.", StatusCodes.Status404NotFound, back);
        }
        ProviderMetadata metadata;
        try
        {
            metadata = await providers.DiscoverAsync(found.Provider.Issuer, http.RequestAborted);
        }
        catch (ExternalSignInException ex)
        {
            return await pages.MessageAsync(http, "Sign-in not available", ex.Message, StatusCodes.Status502BadGateway, back);
        }
        var flow = new ExternalFlow(found.Provider.Name, RandomToken(), RandomToken(), RandomToken(), back);
        http.Response.Cookies.Append(ExternalCookie,
            ExternalProtector(http).Protect(flow.Pack(), TimeSpan.FromMinutes(10)),
            new CookieOptions
            {
                HttpOnly = true, SameSite = SameSiteMode.Lax, Secure = http.Request.IsHttps, Path = http.Request.PathBase.Value,
                MaxAge = TimeSpan.FromMinutes(10),
            });
        var challenge = Base64UrlEncoder.Encode(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(flow.Verifier)));
        var query = new Dictionary<string, string?>
        {
            ["client_id"] = found.Provider.ClientId, ["response_type"] = "code", ["scope"] = "openid email profile",
            ["redirect_uri"] = ExternalRedirectUri(http, options), ["state"] = flow.State, ["nonce"] = flow.Nonce,
            ["code_challenge"] = challenge, ["code_challenge_method"] = "S256",
        };
        return Results.Redirect(Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString(metadata.AuthorizationEndpoint.AbsoluteUri, query));
    }

    /// <summary>
    /// The upstream's answer: the state must match the browser's protected cookie; the code is exchanged (with the PKCE
    /// verifier and the client secret), the ID token validated against the upstream's keys, and the upstream account
    /// linked to (or provisioned as) a local user, who is then signed in and sent on with the authorize request.
    /// </summary>
    private static async Task<IResult> ExternalCallback(HttpContext http, string? code, string? state, string? error, ExternalProviders providers,
        IdentityUsers users, IdentityOptions options, IdentityPagesRenderer pages, ILoggerFactory loggers)
    {
        var tenantId = http.IssuerTenant();
        ExternalFlow? flow = null;
        if (http.Request.Cookies[ExternalCookie] is { Length: > 0 } protectedFlow)
        {
            try
            {
                flow = ExternalFlow.Unpack(ExternalProtector(http).Unprotect(protectedFlow));
            }
            catch (System.Security.Cryptography.CryptographicException)
            {
                flow = null;
            }
        }
        http.Response.Cookies.Delete(ExternalCookie, new CookieOptions { Path = http.Request.PathBase.Value });
        if (flow is null || state is null || !System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.UTF8.GetBytes(flow.State), System.Text.Encoding.UTF8.GetBytes(state)))
        {
            return await pages.MessageAsync(http, "Sign-in interrupted",
                "This sign-in was started elsewhere or took too long. Start again from the sign-in page.", StatusCodes.Status400BadRequest);
        }
        if (error is not null || string.IsNullOrEmpty(code))
        {
            return await pages.MessageAsync(http, "Sign-in cancelled", "The provider did not sign you in.", StatusCodes.Status400BadRequest, flow.ReturnUrl);
        }
        if (await providers.FindAsync(tenantId, flow.Provider, http.RequestAborted) is not { } found)
        {
            return await pages.MessageAsync(http, "Unknown provider", "This sign-in option no longer exists.", StatusCodes.Status400BadRequest, flow.ReturnUrl);
        }
        Guid? userId;
        string idToken;
        try
        {
            var metadata = await providers.DiscoverAsync(found.Provider.Issuer, http.RequestAborted);
            idToken = await providers.RedeemCodeAsync(found.Provider, found.Secret, metadata, code, ExternalRedirectUri(http, options), flow.Verifier,
                http.RequestAborted);
            var identity = await providers.ValidateIdTokenAsync(found.Provider, metadata, idToken, flow.Nonce, http.RequestAborted);
            userId = await providers.SignInUserAsync(tenantId, found.Provider, identity, http.RequestAborted);
        }
        catch (ExternalSignInException ex)
        {
            return await pages.MessageAsync(http, "Sign-in failed", ex.Message, StatusCodes.Status400BadRequest, flow.ReturnUrl);
        }
        if (userId is null || await users.FindByIdAsync(tenantId, userId.Value, http.RequestAborted) is not { } user)
        {
            return await pages.MessageAsync(http, "Sign-in failed",
                "The provider did not confirm an e-mail address for this account, so it cannot be used here yet.", StatusCodes.Status400BadRequest,
                flow.ReturnUrl);
        }
        LogSignedInExternally(loggers.CreateLogger(typeof(IdentityEndpoints)), tenantId, user.Id, found.Provider.Name);
        // The upstream and its ID token stay with the session, so signing out here can end the upstream's session too.
        await SignInCookieAsync(http, tenantId, user.Id, user.Email, new Claim(UpstreamClaim, found.Provider.Name), new Claim(UpstreamIdTokenClaim, idToken));
        return Results.Redirect(LocalReturnUrl(http, flow.ReturnUrl));
    }

    private static string ExternalRedirectUri(HttpContext http, IdentityOptions options) =>
        PublicBase(http, options) + http.Request.PathBase + "/account/external/callback";

    private static string RandomToken() => Base64UrlEncoder.Encode(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    /// <summary>Api's public base URL: the configured one, else the request's own scheme and host.</summary>
    internal static string PublicBase(HttpContext http, IdentityOptions options) =>
        options.PublicBaseUrl is { Length: > 0 } configured ? configured.TrimEnd('/') : $"{http.Request.Scheme}://{http.Request.Host}";

    private const string UpstreamClaim = "upstream";
    private const string UpstreamIdTokenClaim = "upstream_id_token";

    private static ITimeLimitedDataProtector UpstreamSignOutProtector(HttpContext http) =>
        http.RequestServices.GetRequiredService<IDataProtectionProvider>().CreateProtector("platform.identity.upstream-sign-out").ToTimeLimitedDataProtector();

    /// <summary>
    /// A session that came from an upstream provider ends there too (OpenID Connect RP-initiated logout): when the upstream
    /// publishes an <c>end_session_endpoint</c>, the browser goes there with the upstream's ID token as the hint and comes
    /// back to <c>/account/external/signed-out</c>, which sends it on to where this sign-out was to end (the client's
    /// post-logout URI, validated by OpenIddict, or the signed-out page). Null: there is nothing to end upstream.
    /// </summary>
    private static async Task<string?> UpstreamSignOutAsync(HttpContext http, Guid tenantId, ClaimsPrincipal session, OpenIddictRequest request,
        ExternalProviders providers, IdentityOptions options)
    {
        if (session.FindFirstValue(UpstreamClaim) is not { } name || await providers.FindAsync(tenantId, name, http.RequestAborted) is not { } found)
        {
            return null;
        }
        ProviderMetadata metadata;
        try
        {
            metadata = await providers.DiscoverAsync(found.Provider.Issuer, http.RequestAborted);
        }
        catch (ExternalSignInException)
        {
            return null; // the upstream cannot be reached: the local sign-out stands on its own
        }
        if (metadata.EndSessionEndpoint is null)
        {
            return null;
        }
        var after = request.PostLogoutRedirectUri is { } uri
            ? (request.State is { } state ? Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString(uri, "state", state) : uri)
            : "";
        var query = new Dictionary<string, string?>
        {
            ["client_id"] = found.Provider.ClientId,
            ["post_logout_redirect_uri"] = PublicBase(http, options) + http.Request.PathBase + "/account/external/signed-out",
            ["state"] = UpstreamSignOutProtector(http).Protect(after, TimeSpan.FromMinutes(10)),
        };
        if (session.FindFirstValue(UpstreamIdTokenClaim) is { } hint)
        {
            query["id_token_hint"] = hint;
        }
        return Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString(metadata.EndSessionEndpoint.AbsoluteUri, query);
    }

    /// <summary>Back from the upstream's sign-out: on to the client's post-logout URI this sign-out began with, or the signed-out page.</summary>
    private static async Task<IResult> UpstreamSignedOut(HttpContext http, string? state, IdentityPagesRenderer pages)
    {
        string? after = null;
        if (state is { Length: > 0 and < 8192 })
        {
            try
            {
                after = UpstreamSignOutProtector(http).Unprotect(state);
            }
            catch (System.Security.Cryptography.CryptographicException)
            {
                after = null;
            }
        }
        return after is { Length: > 0 } ? Results.Redirect(after) : await pages.SignedOutAsync(http);
    }
}
