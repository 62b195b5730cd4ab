using System.Collections.Immutable;
using System.Net.Mail;
using System.Security.Claims;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using Platform.Core.Identity;
using Platform.Core.Security;
using static OpenIddict.Abstractions.OpenIddictConstants;
using AspNetIdentity = Microsoft.AspNetCore.Identity;

namespace Platform.Api.Identity;

/// <summary>
/// The browser side of a tenant's issuer: the sign-in and registration pages (plain server-rendered HTML), and the
/// authorization, token and end-session endpoints OpenIddict passes through after validating the protocol.
/// </summary>
public static partial class IdentityEndpoints
{
    private const string TenantClaim = "tid";
    private const string KindClaim = "knd";
    private const string OriginClaim = "crd";
    private const string RolesClaim = "roles";

    private static readonly AspNetIdentity.PasswordHasher<IdentityUser> Hasher = new();
    /// <summary>Verified against when the e-mail is unknown, so the answer takes as long as for a wrong password.</summary>
    private static readonly string DummyHash = Hasher.HashPassword(null!, "not a password of anyone: timing only");

    public static IEndpointRouteBuilder MapIdentityPages(this IEndpointRouteBuilder app)
    {
        // Matched on the full path (routing runs before the issuer prefix becomes the PathBase).
        var issuer = app.MapGroup("/t/{tenant:guid}").AllowAnonymous().ExcludeFromDescription();
        issuer.MapGet("/account/login", LoginPage);
        issuer.MapPost("/account/login", Login);
        issuer.MapGet("/account/register", RegisterPage);
        issuer.MapPost("/account/register", Register);
        issuer.MapPost("/account/link", RequestLink);
        issuer.MapGet("/account/link/open", OpenLinkPage);
        issuer.MapPost("/account/link/open", OpenLink);
        issuer.MapGet("/account/external/callback", ExternalCallback);
        issuer.MapGet("/account/external/{provider}", ExternalStart);
        issuer.MapMethods("/connect/authorize", ["GET", "POST"], Authorize);
        issuer.MapPost("/connect/token", Token);
        issuer.MapMethods("/connect/endsession", ["GET", "POST"], EndSession);
        return app;
    }

    private static async Task<IResult> LoginPage(HttpContext http, IdentityPagesRenderer pages, ExternalProviders providers, string? returnUrl) =>
        await pages.LoginAsync(http, LocalReturnUrl(http, returnUrl), email: null, error: null,
            providers: [.. (await providers.ListAsync(http.IssuerTenant(), http.RequestAborted)).Select(p => (p.Name, p.DisplayName))]);

    private static async Task<IResult> RegisterPage(HttpContext http, IdentityPagesRenderer pages, string? returnUrl) =>
        await pages.RegisterAsync(http, LocalReturnUrl(http, returnUrl), email: null, error: null);

    private static async Task<IResult> Login(HttpContext http, IAntiforgery antiforgery, IdentityUsers users, IdentityOptions options,
        IdentityPagesRenderer pages, ILoggerFactory loggers)
    {
        if (await ReadFormAsync(http, antiforgery) is not { } form)
        {
            return Results.BadRequest();
        }
        var tenantId = http.IssuerTenant();
        var email = form["email"].ToString().Trim();
        var password = form["password"].ToString();
        var returnUrl = LocalReturnUrl(http, form["returnUrl"]);
        const string Wrong = "The e-mail address or the password is not right.";
        var user = email.Length is > 0 and <= 254 ? await users.FindByEmailAsync(tenantId, email, http.RequestAborted) : null;
        if (user?.LockedUntil is { } until && until > DateTimeOffset.UtcNow)
        {
            return await pages.LoginAsync(http, returnUrl, email,
                $"Too many wrong passwords: this account is locked until {until:HH:mm} UTC. Try again then.", StatusCodes.Status429TooManyRequests);
        }
        var verdict = Hasher.VerifyHashedPassword(user!, user?.PasswordHash ?? DummyHash, password);
        if (user?.PasswordHash is null || verdict == AspNetIdentity.PasswordVerificationResult.Failed)
        {
            if (user is not null)
            {
                await users.RecordFailureAsync(tenantId, user.Id, options.LockoutAttempts, options.LockoutDuration, http.RequestAborted);
                LogSignInFailed(loggers.CreateLogger(typeof(IdentityEndpoints)), tenantId, user.Id);
            }
            return await pages.LoginAsync(http, returnUrl, email, Wrong, StatusCodes.Status400BadRequest);
        }
        var rehashed = verdict == AspNetIdentity.PasswordVerificationResult.SuccessRehashNeeded ? Hasher.HashPassword(user, password) : null;
        await users.RecordSuccessAsync(tenantId, user.Id, rehashed, http.RequestAborted);
        await SignInCookieAsync(http, tenantId, user.Id, user.Email);
        return Results.Redirect(returnUrl);
    }

    private static async Task<IResult> Register(HttpContext http, IAntiforgery antiforgery, IdentityUsers users, IdentityPagesRenderer pages)
    {
        if (await ReadFormAsync(http, antiforgery) is not { } form)
        {
            return Results.BadRequest();
        }
        var tenantId = http.IssuerTenant();
        var email = form["email"].ToString().Trim();
        var password = form["password"].ToString();
        var returnUrl = LocalReturnUrl(http, form["returnUrl"]);
        if (!IsEmail(email))
        {
            return await pages.RegisterAsync(http, returnUrl, email, "Enter an e-mail address such as name@example.org.", StatusCodes.Status400BadRequest);
        }
        if (PasswordRules.Check(password, email) is { } weak)
        {
            return await pages.RegisterAsync(http, returnUrl, email, weak, StatusCodes.Status400BadRequest);
        }
        var id = await users.RegisterAsync(tenantId, email, Hasher.HashPassword(null!, password), http.RequestAborted);
        if (id is null)
        {
            return await pages.RegisterAsync(http, returnUrl, email,
                "This e-mail address is already registered: sign in instead.", StatusCodes.Status409Conflict);
        }
        await SignInCookieAsync(http, tenantId, id.Value, email);
        return Results.Redirect(returnUrl);
    }

    /// <summary>
    /// Asks for a sign-in link by e-mail. The answer is the same whether or not the address has an account; over the
    /// per-address limit nothing is stored or sent and the page says to wait.
    /// </summary>
    private static async Task<IResult> RequestLink(HttpContext http, IAntiforgery antiforgery, SignInLinks links, IdentityOptions options,
        IdentityBranding branding, IdentityPagesRenderer pages)
    {
        if (await ReadFormAsync(http, antiforgery) is not { } form)
        {
            return Results.BadRequest();
        }
        var tenantId = http.IssuerTenant();
        var email = form["email"].ToString().Trim();
        var returnUrl = LocalReturnUrl(http, form["returnUrl"]);
        if (!IsEmail(email))
        {
            return await pages.LoginAsync(http, returnUrl, email, "Enter an e-mail address such as name@example.org.", StatusCodes.Status400BadRequest);
        }
        var brand = await branding.GetAsync(tenantId, http.RequestAborted);
        var linkBase = PublicBase(http, options) + http.Request.PathBase + "/account/link/open?token=";
        var outcome = await links.RequestAsync(tenantId, email, returnUrl,
            new SignInLinkPolicy(options.SignInLinkLifetime, options.SignInLinkLimit, options.SignInLinkWindow),
            token => linkBase + token, brand.DisplayName, http.RequestAborted);
        if (outcome == SignInLinkOutcome.RateLimited)
        {
            http.Response.Headers.RetryAfter = ((int)options.SignInLinkWindow.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return await pages.MessageAsync(http, "Too many links",
                $"Several sign-in links were sent to this address lately. Use the newest one, or ask again in {(int)Math.Round(options.SignInLinkWindow.TotalMinutes)} minutes.",
                StatusCodes.Status429TooManyRequests, returnUrl);
        }
        return await pages.LinkSentAsync(http, email, options.SignInLinkLifetime);
    }

    private static async Task<IResult> OpenLinkPage(HttpContext http, IdentityPagesRenderer pages, string? token) =>
        string.IsNullOrEmpty(token) || token.Length > 100
            ? await pages.MessageAsync(http, "Link not valid", "This sign-in link is not complete. Ask for a new one.", StatusCodes.Status400BadRequest)
            : await pages.LinkOpenAsync(http, token);

    /// <summary>Uses a sign-in link: once, before it expires; then the sign-in continues where it was asked for.</summary>
    private static async Task<IResult> OpenLink(HttpContext http, IAntiforgery antiforgery, SignInLinks links, IdentityUsers users,
        IdentityPagesRenderer pages, ILoggerFactory loggers)
    {
        if (await ReadFormAsync(http, antiforgery) is not { } form)
        {
            return Results.BadRequest();
        }
        var tenantId = http.IssuerTenant();
        var redeemed = await links.RedeemAsync(tenantId, form["token"].ToString(), http.RequestAborted);
        if (redeemed is not { } link || await users.FindByIdAsync(tenantId, link.UserId, http.RequestAborted) is not { } user)
        {
            return await pages.MessageAsync(http, "Link not valid",
                "This sign-in link has expired or was already used. Ask for a new one on the sign-in page.", StatusCodes.Status400BadRequest);
        }
        LogSignedInWithLink(loggers.CreateLogger(typeof(IdentityEndpoints)), tenantId, user.Id);
        await SignInCookieAsync(http, tenantId, user.Id, user.Email);
        return Results.Redirect(LocalReturnUrl(http, link.ReturnUrl));
    }

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
        try
        {
            var metadata = await providers.DiscoverAsync(found.Provider.Issuer, http.RequestAborted);
            var idToken = await providers.RedeemCodeAsync(found.Provider, found.Secret, metadata, code, ExternalRedirectUri(http, options), flow.Verifier,
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
        await SignInCookieAsync(http, tenantId, user.Id, user.Email);
        return Results.Redirect(LocalReturnUrl(http, flow.ReturnUrl));
    }

    private static string ExternalRedirectUri(HttpContext http, IdentityOptions options) =>
        PublicBase(http, options) + http.Request.PathBase + "/account/external/callback";

    private static string RandomToken() => Base64UrlEncoder.Encode(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    /// <summary>Api's public base URL: the configured one, else the request's own scheme and host.</summary>
    internal static string PublicBase(HttpContext http, IdentityOptions options) =>
        options.PublicBaseUrl is { Length: > 0 } configured ? configured.TrimEnd('/') : $"{http.Request.Scheme}://{http.Request.Host}";

    /// <summary>The authorization endpoint, after OpenIddict validated the request (client, redirect URI, PKCE).</summary>
    private static async Task<IResult> Authorize(HttpContext http, IdentityUsers users, IOpenIddictApplicationManager applications,
        IOpenIddictAuthorizationManager authorizations)
    {
        var request = http.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("Not an OpenID Connect request.");
        var tenantId = http.IssuerTenant();
        var signedIn = await SignedInUserAsync(http, users, tenantId);
        if (signedIn is null)
        {
            if (request.HasPromptValue(PromptValues.None))
            {
                return Results.Forbid(Error(Errors.LoginRequired, "The user is not signed in."), [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
            }
            var here = http.Request.PathBase + http.Request.Path + QueryWithoutPrompt(http.Request.Query);
            return Results.Redirect($"{http.Request.PathBase}/account/login?returnUrl={Uri.EscapeDataString(here)}");
        }
        var application = await applications.FindByClientIdAsync(request.ClientId!, http.RequestAborted)
            ?? throw new InvalidOperationException("OpenIddict validated a client that does not exist.");
        var identity = await PrincipalAsync(users, tenantId, signedIn, http.RequestAborted);
        identity.SetScopes(request.GetScopes());
        var authorization = await authorizations.CreateAsync(new ClaimsPrincipal(identity), signedIn.Id.ToString(),
            (await applications.GetIdAsync(application, http.RequestAborted))!, AuthorizationTypes.AdHoc, identity.GetScopes(), http.RequestAborted);
        var authorizationId = (await authorizations.GetIdAsync(authorization, http.RequestAborted))!;
        identity.SetAuthorizationId(authorizationId);
        identity.SetClaim(OriginClaim, TokenOrigins.Authorization(Guid.Parse(authorizationId)));
        identity.SetDestinations(Destinations);
        return Results.SignIn(new ClaimsPrincipal(identity), null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    /// <summary>
    /// The token endpoint, after OpenIddict validated the code (and PKCE) or the refresh token (rolling: a redeemed one
    /// presented again revokes the sign-in). The user must still exist; roles are read again, so a refresh carries the
    /// roles the tenant manages now.
    /// </summary>
    private static async Task<IResult> Token(HttpContext http, IdentityUsers users)
    {
        var request = http.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("Not an OpenID Connect request.");
        if (!request.IsAuthorizationCodeGrantType() && !request.IsRefreshTokenGrantType())
        {
            return Results.Forbid(Error(Errors.UnsupportedGrantType, "Only authorization_code and refresh_token are supported."),
                [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
        }
        var result = await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        var principal = result.Principal!;
        var tenantId = http.IssuerTenant();
        if (!Guid.TryParse(principal.GetClaim(Claims.Subject), out var userId)
            || principal.GetClaim(TenantClaim) != tenantId.ToString()
            || await users.FindByIdAsync(tenantId, userId, http.RequestAborted) is null)
        {
            return Results.Forbid(Error(Errors.InvalidGrant, "The user no longer exists."), [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
        }
        var identity = (ClaimsIdentity)principal.Identity!;
        var roles = await users.MembershipsAsync(tenantId, userId, http.RequestAborted);
        identity.SetClaims(RolesClaim, [.. roles.Select(m => m.Claim)]);
        identity.SetDestinations(Destinations);
        return Results.SignIn(principal, null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    /// <summary>
    /// Sign-out: ends the browser session and every sign-in of the user at this issuer (all their tokens are refused from
    /// now on, live sockets are closed), then returns to the client's registered post-logout URI when it named one.
    /// </summary>
    private static async Task<IResult> EndSession(HttpContext http, IdentityUsers users, Revocations revocations, IdentityPagesRenderer pages)
    {
        var request = http.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("Not an OpenID Connect request.");
        var tenantId = http.IssuerTenant();
        var subject = (await http.AuthenticateAsync(IdentitySetup.CookieScheme)).Principal is { } cookie && cookie.FindFirstValue(TenantClaim) == tenantId.ToString()
            ? cookie.FindFirstValue(Claims.Subject)
            : null;
        subject ??= (await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)).Principal?.GetClaim(Claims.Subject);
        if (subject is not null)
        {
            foreach (var id in await users.RevokeSessionsAsync(tenantId, subject, http.RequestAborted))
            {
                await revocations.PublishAsync(Revocations.Authorization(id));
            }
        }
        await http.SignOutAsync(IdentitySetup.CookieScheme);
        if (request.PostLogoutRedirectUri is null)
        {
            return await pages.SignedOutAsync(http);
        }
        return Results.SignOut(null, [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
    }

    private static async Task<ClaimsIdentity> PrincipalAsync(IdentityUsers users, Guid tenantId, IdentityUser user, CancellationToken ct)
    {
        var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, user.Id.ToString())
            .SetClaim(Claims.Email, user.Email)
            .SetClaim(TenantClaim, tenantId.ToString())
            .SetClaim(KindClaim, TokenKinds.User);
        var roles = await users.MembershipsAsync(tenantId, user.Id, ct);
        identity.SetClaims(RolesClaim, [.. roles.Select(m => m.Claim)]);
        identity.SetResources(ClientTokens.Audience);
        return identity;
    }

    private static IEnumerable<string> Destinations(Claim claim) => claim.Type switch
    {
        Claims.Subject => [OpenIddictConstants.Destinations.AccessToken, OpenIddictConstants.Destinations.IdentityToken],
        Claims.Email when claim.Subject?.HasScope(Scopes.Email) == true =>
            [OpenIddictConstants.Destinations.AccessToken, OpenIddictConstants.Destinations.IdentityToken],
        RolesClaim when claim.Subject?.HasScope(Scopes.Roles) == true =>
            [OpenIddictConstants.Destinations.AccessToken, OpenIddictConstants.Destinations.IdentityToken],
        TenantClaim or KindClaim or OriginClaim or RolesClaim => [OpenIddictConstants.Destinations.AccessToken],
        _ => [],
    };

    private static AuthenticationProperties Error(string error, string description) => new(new Dictionary<string, string?>
    {
        [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
        [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
    });

    private static async Task<IdentityUser?> SignedInUserAsync(HttpContext http, IdentityUsers users, Guid tenantId)
    {
        var cookie = await http.AuthenticateAsync(IdentitySetup.CookieScheme);
        if (!cookie.Succeeded || cookie.Principal.FindFirstValue(TenantClaim) != tenantId.ToString()
            || !Guid.TryParse(cookie.Principal.FindFirstValue(Claims.Subject), out var userId))
        {
            return null;
        }
        return await users.FindByIdAsync(tenantId, userId, http.RequestAborted);
    }

    private static Task SignInCookieAsync(HttpContext http, Guid tenantId, Guid userId, string email) =>
        http.SignInAsync(IdentitySetup.CookieScheme, new ClaimsPrincipal(new ClaimsIdentity(
        [
            new Claim(Claims.Subject, userId.ToString()),
            new Claim(TenantClaim, tenantId.ToString()),
            new Claim(Claims.Email, email),
        ], IdentitySetup.CookieScheme)));

    private static async Task<IFormCollection?> ReadFormAsync(HttpContext http, IAntiforgery antiforgery)
    {
        if (!http.Request.HasFormContentType)
        {
            return null;
        }
        try
        {
            await antiforgery.ValidateRequestAsync(http);
        }
        catch (AntiforgeryValidationException)
        {
            return null;
        }
        return await http.Request.ReadFormAsync(http.RequestAborted);
    }

    /// <summary>Only a path under this issuer may be returned to (no open redirect); otherwise the issuer's start page.</summary>
    internal static string LocalReturnUrl(HttpContext http, string? returnUrl)
    {
        var home = http.Request.PathBase + "/account/login";
        var prefix = http.Request.PathBase.Value + "/";
        return returnUrl is { Length: > 0 and < 4096 } r && r.StartsWith(prefix, StringComparison.Ordinal) && !r.Contains("//", StringComparison.Ordinal)
            && !r.Contains('\\', StringComparison.Ordinal) && !r.Any(char.IsControl)
            ? r
            : home;
    }

    private static string QueryWithoutPrompt(IQueryCollection query) =>
        QueryString.Create(query.Where(q => q.Key != Parameters.Prompt).SelectMany(q => q.Value.Select(v => KeyValuePair.Create(q.Key, v)))).ToUriComponent();

    internal static bool IsEmail(string email) =>
        email.Length is >= 3 and <= 254 && MailAddress.TryCreate(email, out var parsed) && parsed.Address == email && email.Contains('.', StringComparison.Ordinal);

    [LoggerMessage(Level = LogLevel.Information, Message = "User {UserId} of tenant {TenantId} signed in with external provider {Provider}")]
    private static partial void LogSignedInExternally(ILogger logger, Guid tenantId, Guid userId, string provider);

    [LoggerMessage(Level = LogLevel.Information, Message = "User {UserId} of tenant {TenantId} signed in with an e-mailed link")]
    private static partial void LogSignedInWithLink(ILogger logger, Guid tenantId, Guid userId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Wrong password for user {UserId} of tenant {TenantId}")]
    private static partial void LogSignInFailed(ILogger logger, Guid tenantId, Guid userId);
}

/// <summary>
/// Password rules after NIST SP 800-63B: at least 10 characters and at most 256 (long passphrases welcome, no composition
/// rules), not one of the passwords most often seen in breaches, and not the e-mail address itself.
/// </summary>
public static class PasswordRules
{
    public const int MinLength = 10;
    public const int MaxLength = 256;

    /// <summary>The most common passwords of public breach corpora that are 10 characters or longer.</summary>
    private static readonly ImmutableHashSet<string> Breached = ImmutableHashSet.Create(StringComparer.OrdinalIgnoreCase,
        "1234567890", "12345678910", "123456789a", "0123456789", "1q2w3e4r5t", "qwertyuiop", "1qaz2wsx3edc", "password12",
        "password123", "password1234", "iloveyou12", "qwerty1234", "qwerty123456", "1234qwer", "abcdefghij", "abc1234567",
        "football123", "princess12", "passw0rd123", "welcome123", "sunshine12", "letmein123", "administrator", "1111111111",
        "0000000000", "9876543210", "1234512345", "aaaaaaaaaa", "asdfghjkl1", "zxcvbnm123", "changeme123", "qazwsxedc123");

    public static string? Check(string password, string email)
    {
        var length = new System.Globalization.StringInfo(password).LengthInTextElements;
        if (length < MinLength)
        {
            return $"Choose a password of at least {MinLength} characters; a few words together make a good one.";
        }
        if (password.Length > MaxLength)
        {
            return $"A password may have at most {MaxLength} characters.";
        }
        if (Breached.Contains(password) || password.Distinct().Count() <= 2)
        {
            return "This password appears in lists of leaked passwords; choose another.";
        }
        if (string.Equals(password.Trim(), email.Trim(), StringComparison.OrdinalIgnoreCase))
        {
            return "The password must not be your e-mail address.";
        }
        return null;
    }
}
