using System.Net.Mail;
using System.Security.Claims;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
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
        issuer.MapGet("/account/external/signed-out", UpstreamSignedOut);
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
    private static async Task<IResult> EndSession(HttpContext http, IdentityUsers users, Revocations revocations, IdentityPagesRenderer pages,
        ExternalProviders providers, IdentityOptions options)
    {
        var request = http.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("Not an OpenID Connect request.");
        var tenantId = http.IssuerTenant();
        var session = (await http.AuthenticateAsync(IdentitySetup.CookieScheme)).Principal is { } cookie && cookie.FindFirstValue(TenantClaim) == tenantId.ToString()
            ? cookie
            : null;
        var subject = session?.FindFirstValue(Claims.Subject);
        subject ??= (await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)).Principal?.GetClaim(Claims.Subject);
        if (subject is not null)
        {
            foreach (var id in await users.RevokeSessionsAsync(tenantId, subject, http.RequestAborted))
            {
                await revocations.PublishAsync(Revocations.Authorization(id));
            }
        }
        await http.SignOutAsync(IdentitySetup.CookieScheme);
        if (session is not null && await UpstreamSignOutAsync(http, tenantId, session, request, providers, options) is { } upstream)
        {
            return Results.Redirect(upstream);
        }
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

    private static Task SignInCookieAsync(HttpContext http, Guid tenantId, Guid userId, string email, params Claim[] more) =>
        http.SignInAsync(IdentitySetup.CookieScheme, new ClaimsPrincipal(new ClaimsIdentity(
        [
            new Claim(Claims.Subject, userId.ToString()),
            new Claim(TenantClaim, tenantId.ToString()),
            new Claim(Claims.Email, email),
            .. more,
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

    [LoggerMessage(Level = LogLevel.Information, Message = "User {UserId} of tenant {TenantId} signed up with an e-mailed link")]
    private static partial void LogSignedUpWithLink(ILogger logger, Guid tenantId, Guid userId);

    [LoggerMessage(Level = LogLevel.Information, Message = "User {UserId} of tenant {TenantId} signed in with an e-mailed link")]
    private static partial void LogSignedInWithLink(ILogger logger, Guid tenantId, Guid userId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Wrong password for user {UserId} of tenant {TenantId}")]
    private static partial void LogSignInFailed(ILogger logger, Guid tenantId, Guid userId);
}
