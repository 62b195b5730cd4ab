using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Antiforgery;
using Platform.Core.Identity;

namespace Platform.Api.Identity;

/// <summary>
/// The issuer's pages as plain HTML (no script): a language, a title naming the tenant, a label for every field, errors
/// announced (<c>role="alert"</c>) and linked to their field, the tenant's name, colour and logo.
/// </summary>
public sealed class IdentityPagesRenderer(IdentityBranding branding, IAntiforgery antiforgery)
{
    private static readonly HtmlEncoder Html = HtmlEncoder.Default;

    public Task<IResult> LoginAsync(HttpContext http, string returnUrl, string? email, string? error, int status = 200,
        IReadOnlyList<(string Id, string DisplayName)>? providers = null) =>
        FormAsync(http, "Sign in", "login", returnUrl, email, error, status, "current-password",
            $"""<p>New here? <a href="{Attr(http.Request.PathBase + "/account/register?returnUrl=" + Uri.EscapeDataString(returnUrl))}">Create an account</a></p>""",
            extra: tokens => ExternalProviders(http, returnUrl, providers) + $"""
            <h2>No password? Get a link by e-mail</h2>
            <form method="post" action="{Attr(http.Request.PathBase + "/account/link")}" novalidate>
              <input type="hidden" name="{Attr(tokens.FormFieldName)}" value="{Attr(tokens.RequestToken ?? "")}">
              <input type="hidden" name="returnUrl" value="{Attr(returnUrl)}">
              <label for="link-email">E-mail address</label>
              <input id="link-email" name="email" type="email" autocomplete="email" required value="{Attr(email ?? "")}">
              <button type="submit">E-mail me a sign-in link</button>
            </form>
            """);

    private static string ExternalProviders(HttpContext http, string returnUrl, IReadOnlyList<(string Id, string DisplayName)>? providers)
    {
        if (providers is not { Count: > 0 })
        {
            return "";
        }
        var items = string.Concat(providers.Select(p =>
            $"""<li><a class="provider" href="{Attr(http.Request.PathBase + "/account/external/" + Uri.EscapeDataString(p.Id) + "?returnUrl=" + Uri.EscapeDataString(returnUrl))}">Sign in with {Html.Encode(p.DisplayName)}</a></li>"""));
        return $"""<h2>Or use another account</h2><ul class="providers">{items}</ul>""";
    }

    /// <summary>After asking for a link: the same answer whether or not the address has an account.</summary>
    public async Task<IResult> LinkSentAsync(HttpContext http, string email, TimeSpan lifetime)
    {
        var brand = await branding.GetAsync(http.IssuerTenant(), http.RequestAborted);
        return Page(brand, "Check your e-mail", $"""
            <p role="status">If {Html.Encode(email)} has an account here, a sign-in link is on its way to it. The link works once, for {(int)Math.Round(lifetime.TotalMinutes)} minutes.</p>
            <p><a href="{Attr(http.Request.PathBase + "/account/login")}">Back to sign-in</a></p>
            """, 200);
    }

    /// <summary>A message page (an expired link, too many requests) with a way back to the sign-in page.</summary>
    public async Task<IResult> MessageAsync(HttpContext http, string heading, string message, int status, string? returnUrl = null)
    {
        var brand = await branding.GetAsync(http.IssuerTenant(), http.RequestAborted);
        var back = http.Request.PathBase + "/account/login" + (returnUrl is null ? "" : "?returnUrl=" + Uri.EscapeDataString(returnUrl));
        return Page(brand, heading, $"""
            <p role="alert" class="error">{Html.Encode(message)}</p>
            <p><a href="{Attr(back)}">Back to sign-in</a></p>
            """, status);
    }

    /// <summary>
    /// What an e-mailed link opens: a button that signs in (a POST), so a mail scanner that fetches the link does not use
    /// it up.
    /// </summary>
    public async Task<IResult> LinkOpenAsync(HttpContext http, string token)
    {
        var brand = await branding.GetAsync(http.IssuerTenant(), http.RequestAborted);
        var tokens = antiforgery.GetAndStoreTokens(http);
        return Page(brand, "Sign in", $"""
            <form method="post" action="{Attr(http.Request.PathBase + "/account/link/open")}">
              <input type="hidden" name="{Attr(tokens.FormFieldName)}" value="{Attr(tokens.RequestToken ?? "")}">
              <input type="hidden" name="token" value="{Attr(token)}">
              <p>Continue to sign in with the link from your e-mail.</p>
              <button type="submit">Sign in</button>
            </form>
            """, 200);
    }

    public Task<IResult> RegisterAsync(HttpContext http, string returnUrl, string? email, string? error, int status = 200) =>
        FormAsync(http, "Create an account", "register", returnUrl, email, error, status, "new-password",
            $"""<p>Already registered? <a href="{Attr(http.Request.PathBase + "/account/login?returnUrl=" + Uri.EscapeDataString(returnUrl))}">Sign in</a></p>""",
            $"""<p id="password-hint">At least {PasswordRules.MinLength} characters. Passwords found in leaks are refused.</p>""");

    public async Task<IResult> SignedOutAsync(HttpContext http)
    {
        var brand = await branding.GetAsync(http.IssuerTenant(), http.RequestAborted);
        return Page(brand, "Signed out", "<p role=\"status\">You are signed out.</p>", 200);
    }

    private async Task<IResult> FormAsync(HttpContext http, string heading, string action, string returnUrl, string? email, string? error,
        int status, string passwordAutocomplete, string footer, string? passwordHint = null, Func<AntiforgeryTokenSet, string>? extra = null)
    {
        var brand = await branding.GetAsync(http.IssuerTenant(), http.RequestAborted);
        var tokens = antiforgery.GetAndStoreTokens(http);
        var describedBy = (error is null ? "" : "form-error ") + (passwordHint is null ? "" : "password-hint");
        var body = new StringBuilder();
        if (error is not null)
        {
            body.Append($"""<p id="form-error" role="alert" class="error">{Html.Encode(error)}</p>""");
        }
        body.Append($"""
            <form method="post" action="{Attr(http.Request.PathBase + "/account/" + action)}" novalidate>
              <input type="hidden" name="{Attr(tokens.FormFieldName)}" value="{Attr(tokens.RequestToken ?? "")}">
              <input type="hidden" name="returnUrl" value="{Attr(returnUrl)}">
              <label for="email">E-mail address</label>
              <input id="email" name="email" type="email" autocomplete="email" required value="{Attr(email ?? "")}"{(error is null ? "" : " aria-invalid=\"true\" aria-describedby=\"form-error\"")}>
              <label for="password">Password</label>
              <input id="password" name="password" type="password" autocomplete="{passwordAutocomplete}" required{(describedBy.Length == 0 ? "" : $" aria-describedby=\"{describedBy.Trim()}\"")}>
              {passwordHint}
              <button type="submit">{Html.Encode(heading)}</button>
            </form>
            {footer}
            {extra?.Invoke(tokens)}
            """);
        return Page(brand, heading, body.ToString(), status);
    }

    private static IResult Page(Branding brand, string heading, string body, int status)
    {
        var logo = brand.LogoUrl is null ? "" : $"""<img src="{Attr(brand.LogoUrl)}" alt="{Attr(brand.DisplayName)}" height="48">""";
        var html = $$"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
              <meta charset="utf-8">
              <meta name="viewport" content="width=device-width, initial-scale=1">
              <title>{{Html.Encode(heading)}} – {{Html.Encode(brand.DisplayName)}}</title>
              <style>
                body { font-family: system-ui, sans-serif; margin: 0; color: #1a1a1a; background: #f6f7f9; }
                header { background: {{brand.PrimaryColor}}; color: #fff; padding: 1rem 1.5rem; display: flex; gap: 1rem; align-items: center; }
                main { max-width: 26rem; margin: 2rem auto; background: #fff; padding: 1.5rem; border-radius: 8px; }
                label { display: block; margin-top: 1rem; font-weight: 600; }
                input[type=email], input[type=password] { width: 100%; box-sizing: border-box; padding: .6rem; font-size: 1rem; border: 1px solid #555; border-radius: 4px; }
                input:focus, button:focus, a:focus { outline: 3px solid #ffbf47; outline-offset: 1px; }
                button { margin-top: 1.5rem; padding: .7rem 1.2rem; font-size: 1rem; background: {{brand.PrimaryColor}}; color: #fff; border: 0; border-radius: 4px; cursor: pointer; }
                .error { color: #a4000f; font-weight: 600; }
                h2 { font-size: 1.1rem; margin-top: 2rem; }
                ul.providers { list-style: none; padding: 0; }
                a.provider { display: inline-block; margin-top: .5rem; padding: .6rem 1rem; border: 1px solid #555; border-radius: 4px; text-decoration: none; }
                a { color: #0b4f8a; }
              </style>
            </head>
            <body>
              <header>{{logo}}<span>{{Html.Encode(brand.DisplayName)}}</span></header>
              <main>
                <h1>{{Html.Encode(heading)}}</h1>
                {{body}}
              </main>
            </body>
            </html>
            """;
        return Results.Content(html, "text/html; charset=utf-8", Encoding.UTF8, status);
    }

    private static string Attr(string value) => Html.Encode(value);
}
