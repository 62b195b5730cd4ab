using Microsoft.AspNetCore.Antiforgery;
using Platform.Core.Identity;

namespace Platform.Api.Identity;

public static partial class IdentityEndpoints
{
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
        var link = await links.RedeemAsync(tenantId, form["token"].ToString(), http.RequestAborted);
        var userId = link?.UserId;
        if (link is { UserId: null, SignUpEmail: { } address })
        {
            // A sign-up link: the account is created now, when the address has proved to be the person's.
            userId = await users.RegisterAsync(tenantId, address, passwordHash: null, http.RequestAborted)
                ?? (await users.FindByEmailAsync(tenantId, address, http.RequestAborted))?.Id;
            if (userId is { } created)
            {
                LogSignedUpWithLink(loggers.CreateLogger(typeof(IdentityEndpoints)), tenantId, created);
            }
        }
        if (link is null || userId is null || await users.FindByIdAsync(tenantId, userId.Value, http.RequestAborted) is not { } user)
        {
            return await pages.MessageAsync(http, "Link not valid",
                "This sign-in link has expired or was already used. Ask for a new one on the sign-in page.", StatusCodes.Status400BadRequest);
        }
        LogSignedInWithLink(loggers.CreateLogger(typeof(IdentityEndpoints)), tenantId, user.Id);
        await SignInCookieAsync(http, tenantId, user.Id, user.Email);
        return Results.Redirect(LocalReturnUrl(http, link.ReturnUrl));
    }
}
