using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.Playwright;
using Platform.Core.Identity;
using Platform.Tests.Integration.Identity;
using static Microsoft.Playwright.Assertions;

namespace Platform.Tests.EndToEnd;

/// <summary>
/// The other ways to sign in, in Chromium: an e-mailed link (sent by the Worker to an SMTP server on loopback, opened in a
/// second browser) and an upstream OpenID provider (a real OpenIddict server on 127.0.0.1).
/// </summary>
public sealed partial class IdentityBrowserLinkTests(IdentityBrowserFixture fx) : IClassFixture<IdentityBrowserFixture>
{
    [GeneratedRegex(@"https?://\S+/account/link/open\?token=[A-Za-z0-9_-]+")]
    private static partial Regex LinkPattern();

    private async Task<IPage> PageAsync(IBrowserContext context)
    {
        context.SetDefaultTimeout(20_000);
        return await context.NewPageAsync();
    }

    [Fact]
    public async Task A_resident_asks_for_a_link_opens_it_in_another_browser_and_the_app_gets_their_token()
    {
        await using var tenant = await fx.TenantWithAppAsync("Shelbyville", "Town of Shelbyville");
        var users = fx.Api.Services.GetRequiredService<IdentityUsers>();
        var registered = await users.RegisterAsync(tenant.Id, "lisa@example.org", passwordHash: null, default);
        Assert.NotNull(registered);

        await using var laptop = await fx.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = fx.ApiAddress.ToString() });
        var page = await PageAsync(laptop);
        var (verifier, challenge) = IdentityFixture.Pkce();
        await page.GotoAsync(IdentityFixture.AuthorizeUrl(tenant.Id, tenant.ClientId, challenge, redirectUri: tenant.RedirectUri));
        await Expect(page).ToHaveTitleAsync("Sign in – Town of Shelbyville");
        await page.Locator("#link-email").FillAsync("Lisa@Example.org");
        await page.ScreenshotAsync(new() { Path = IdentityBrowserFixture.Screenshot("link-1-sign-in-page"), FullPage = true });
        await page.GetByRole(AriaRole.Button, new() { Name = "E-mail me a sign-in link" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("a sign-in link is on its way");
        await Expect(page).ToHaveTitleAsync("Check your e-mail – Town of Shelbyville");
        await page.ScreenshotAsync(new() { Path = IdentityBrowserFixture.Screenshot("link-2-check-your-email"), FullPage = true });

        var mail = await fx.Smtp.WaitForAsync(m => m.RcptTos.Contains("lisa@example.org"), "the sign-in link reaches lisa");
        var link = LinkPattern().Match(mail.Message.TextBody ?? "").Value;
        Assert.StartsWith($"{fx.ApiAddress.AbsoluteUri}t/{tenant.Id}/account/link/open?token=", link);

        // The phone the e-mail is read on: opening the link shows a button (a mail scanner's fetch does not use it up).
        await using var phone = await fx.Browser.NewContextAsync();
        var onPhone = await PageAsync(phone);
        await onPhone.GotoAsync(link);
        await Expect(onPhone).ToHaveTitleAsync("Sign in – Town of Shelbyville");
        await onPhone.ScreenshotAsync(new() { Path = IdentityBrowserFixture.Screenshot("link-3-opened"), FullPage = true });
        await onPhone.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        var tokens = await tenant.TokensAsync(await tenant.CallbackAsync(1, onPhone), verifier);
        var access = tokens.GetProperty("access_token").GetString()!;
        Assert.Equal(registered.Value.ToString(), new JsonWebToken(access).Subject);
        Assert.Equal(HttpStatusCode.OK, (await fx.Client(access).GetAsync("/v1/me/notification-preferences")).StatusCode);

        // The link works once: opened again (another device), its button says to ask for a new one.
        await using var third = await fx.Browser.NewContextAsync();
        var again = await PageAsync(third);
        await again.GotoAsync(link);
        await again.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(again.GetByRole(AriaRole.Alert)).ToContainTextAsync("expired or was already used");
        await again.ScreenshotAsync(new() { Path = IdentityBrowserFixture.Screenshot("link-4-used"), FullPage = true });
        Assert.Single(tenant.Callbacks);
    }

    [Fact]
    public async Task A_resident_signs_in_with_the_upstream_provider_and_the_app_gets_their_token()
    {
        await using var upstream = await UpstreamProvider.StartAsync();
        await using var tenant = await fx.TenantWithAppAsync("Ogdenville", "Ogdenville");
        var set = await fx.Client(tenant.ApiKey).PutAsJsonAsync("/v1/identity/providers/upstream", new
        {
            displayName = "Upstream ID", issuer = upstream.Issuer, clientId = UpstreamProvider.ClientId, clientSecret = UpstreamProvider.ClientSecret,
        });
        Assert.Equal(HttpStatusCode.NoContent, set.StatusCode);
        var providers = JsonDocument.Parse(await fx.Client(tenant.ApiKey).GetStringAsync("/v1/identity/providers")).RootElement;
        upstream.ExpectedRedirectUri = providers.GetProperty("providers")[0].GetProperty("redirectUri").GetString()!;
        upstream.ExpectedPostLogoutRedirectUri = providers.GetProperty("providers")[0].GetProperty("postLogoutRedirectUri").GetString()!;
        Assert.Equal($"{fx.ApiAddress.AbsoluteUri}t/{tenant.Id}/account/external/callback", upstream.ExpectedRedirectUri);
        upstream.Account = ("upstream-sub-7", "apu@example.org", true);

        await using var context = await fx.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = fx.ApiAddress.ToString() });
        var page = await PageAsync(context);
        var (verifier, challenge) = IdentityFixture.Pkce();
        await page.GotoAsync(IdentityFixture.AuthorizeUrl(tenant.Id, tenant.ClientId, challenge, redirectUri: tenant.RedirectUri));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Or use another account" })).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = IdentityBrowserFixture.Screenshot("federation-1-sign-in-page"), FullPage = true });
        await page.GetByRole(AriaRole.Link, new() { Name = "Sign in with Upstream ID" }).ClickAsync();

        // The upstream signs the browser in and sends it back; the tenant's issuer finishes its own code flow.
        var callback = await tenant.CallbackAsync(1, page);
        Assert.Equal(1, upstream.CodesRedeemed);
        var tokens = await tenant.TokensAsync(callback, verifier);
        var access = new JsonWebToken(tokens.GetProperty("access_token").GetString()!);
        Assert.Equal("apu@example.org", access.GetPayloadValue<string>("email"));
        Assert.Equal(HttpStatusCode.OK, (await fx.Client(access.EncodedToken).GetAsync("/v1/me/notification-preferences")).StatusCode);

        // The browser is now signed in at the issuer: a second authorize goes straight back to the app, no upstream trip.
        var (_, challenge2) = IdentityFixture.Pkce();
        await page.GotoAsync(IdentityFixture.AuthorizeUrl(tenant.Id, tenant.ClientId, challenge2, redirectUri: tenant.RedirectUri));
        await tenant.CallbackAsync(2, page);
        Assert.Equal(1, upstream.CodesRedeemed);

        // Signing out at the app ends the upstream session too (RP-initiated logout with the upstream's ID token as the
        // hint), then the browser comes back to the app's post-logout URI with its state, and the token is dead.
        await page.GotoAsync($"/t/{tenant.Id}/connect/endsession?client_id={tenant.ClientId}&post_logout_redirect_uri={Uri.EscapeDataString(tenant.PostLogoutUri)}&state=bye");
        var signedOut = await tenant.CallbackAsync(3, page);
        Assert.Equal("/signed-out", signedOut.AbsolutePath);
        Assert.Equal("bye", Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(signedOut.Query)["state"].ToString());
        var ended = Assert.Single(upstream.EndSessions);
        Assert.Equal(UpstreamProvider.ClientId, ended.ClientId);
        Assert.Equal("upstream-sub-7", new JsonWebToken(ended.IdTokenHint!).Subject);
        Assert.Equal(HttpStatusCode.Unauthorized, (await fx.Client(access.EncodedToken).GetAsync("/v1/me/notification-preferences")).StatusCode);
    }
}
