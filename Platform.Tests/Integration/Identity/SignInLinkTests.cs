using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.IdentityModel.JsonWebTokens;
using MimeKit;
using Npgsql;
using Platform.Core.Data;

namespace Platform.Tests.Integration.Identity;

/// <summary>
/// Passwordless sign-in: the link arrives by e-mail through the notification outbox and the Worker's SMTP channel, works
/// once and only until it expires, is stored only as a hash, and the normal authorization code flow continues after it.
/// </summary>
public sealed partial class SignInLinkTests(IdentityLiveFixture fx) : IClassFixture<IdentityLiveFixture>
{
    private const string Password = "correct horse battery staple";

    [GeneratedRegex(@"https?://\S+/account/link/open\?token=[A-Za-z0-9_-]+")]
    private static partial Regex LinkPattern();

    /// <summary>Starts the code flow at the issuer and asks for a link on the sign-in page; returns the flow to finish.</summary>
    private async Task<(HttpResponseMessage Answer, string ReturnUrl, string Verifier)> AskForLinkAsync(Guid tenant, string clientId, string email)
    {
        var browser = fx.Browser();
        var (verifier, challenge) = IdentityFixture.Pkce();
        var toLogin = await browser.GetAsync(IdentityFixture.AuthorizeUrl(tenant, clientId, challenge));
        var login = toLogin.Headers.Location!.OriginalString;
        var returnUrl = Uri.UnescapeDataString(login[(login.IndexOf('=') + 1)..]);
        var html = await browser.GetStringAsync(login);
        Assert.Contains("E-mail me a sign-in link", html);
        var answer = await browser.PostAsync($"/t/{tenant}/account/link", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__af"] = IdentityFixture.AntiforgeryToken(html), ["email"] = email, ["returnUrl"] = returnUrl,
        }));
        return (answer, returnUrl, verifier);
    }

    private async Task<string> LinkInMailToAsync(string address)
    {
        var mail = await fx.Smtp.WaitForAsync(m => m.RcptTos.Contains(address, StringComparer.OrdinalIgnoreCase), $"a sign-in link reaches {address}");
        var text = mail.Message.TextBody;
        Assert.NotNull(text);
        Assert.Null(mail.Message.Headers[HeaderId.ListUnsubscribe]); // an account message, not a newsletter
        return LinkPattern().Match(text).Value is { Length: > 0 } link ? link : throw new Xunit.Sdk.XunitException("No link in:\n" + text);
    }

    /// <summary>Opens the e-mailed link in a (possibly other) browser: the page, then its button.</summary>
    private async Task<HttpResponseMessage> OpenLinkAsync(HttpClient browser, Guid tenant, string link)
    {
        var page = await browser.GetAsync(link);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        var token = Uri.UnescapeDataString(link[(link.IndexOf("token=", StringComparison.Ordinal) + 6)..]);
        return await browser.PostAsync($"/t/{tenant}/account/link/open", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__af"] = IdentityFixture.AntiforgeryToken(html), ["token"] = token,
        }));
    }

    [Fact]
    public async Task A_resident_signs_in_with_an_emailed_link_once_and_the_code_flow_continues()
    {
        var tenant = await fx.CreateTenantAsync("link-city");
        var clientId = await fx.RegisterClientAsync(tenant.ApiKey);
        var registered = await fx.SignInAsync(fx.Browser(), tenant.Id, clientId, "lisa@example.org", Password, register: true);
        var subject = new JsonWebToken(registered.GetProperty("access_token").GetString()!).Subject;

        var (answer, returnUrl, verifier) = await AskForLinkAsync(tenant.Id, clientId, "Lisa@Example.org");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Contains("a sign-in link is on its way", await answer.Content.ReadAsStringAsync());
        var link = await LinkInMailToAsync("lisa@example.org");

        // Only the token's hash is stored.
        var token = link[(link.IndexOf("token=", StringComparison.Ordinal) + 6)..];
        Assert.Equal(1, await fx.ScalarAsync("SELECT count(*) FROM identity.sign_in_links WHERE token_hash = $1",
            SHA256.HashData(Encoding.ASCII.GetBytes(token))));

        // Another browser (the phone the e-mail was read on) opens it and the sign-in continues at the authorize request.
        var phone = fx.Browser();
        var opened = await OpenLinkAsync(phone, tenant.Id, link);
        Assert.True(opened.StatusCode == HttpStatusCode.Redirect, await opened.Content.ReadAsStringAsync());
        Assert.Equal(returnUrl, opened.Headers.Location!.OriginalString);
        var tokens = await fx.CodeFlowAsync(phone, tenant.Id, clientId, returnUrl, verifier);
        var access = tokens.GetProperty("access_token").GetString()!;
        Assert.Equal(subject, new JsonWebToken(access).Subject);
        Assert.Equal(HttpStatusCode.OK, await fx.CallAsUserAsync(access));

        // The link works once.
        var again = await OpenLinkAsync(fx.Browser(), tenant.Id, link);
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.Contains("expired or was already used", await again.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task With_sign_up_by_link_on_a_link_for_an_unknown_address_creates_the_account_when_used()
    {
        var tenant = await fx.CreateTenantAsync("link-sign-up");
        var clientId = await fx.RegisterClientAsync(tenant.ApiKey);
        var api = fx.Client(tenant.ApiKey);
        Assert.False((await api.GetFromJsonAsync<System.Text.Json.JsonElement>("/v1/identity/sign-up")).GetProperty("linkSignUp").GetBoolean());
        foreach (var bad in new object[] { new { linkSignUp = "yes" }, new { } })
        {
            var refused = await api.PutAsJsonAsync("/v1/identity/sign-up", bad);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        }
        Assert.False((await api.GetFromJsonAsync<System.Text.Json.JsonElement>("/v1/identity/sign-up")).GetProperty("linkSignUp").GetBoolean());
        Assert.Equal(HttpStatusCode.NoContent, (await api.PutAsJsonAsync("/v1/identity/sign-up", new { linkSignUp = true })).StatusCode);
        Assert.True((await api.GetFromJsonAsync<System.Text.Json.JsonElement>("/v1/identity/sign-up")).GetProperty("linkSignUp").GetBoolean());

        // The page answers exactly as for an address with an account; no account exists until the link is used.
        var (answer, returnUrl, verifier) = await AskForLinkAsync(tenant.Id, clientId, "Ned@Example.org");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Contains("a sign-in link is on its way", await answer.Content.ReadAsStringAsync());
        var link = await LinkInMailToAsync("Ned@Example.org");
        Assert.Equal(0, await fx.ScalarAsync("SELECT count(*) FROM identity.users WHERE tenant_id = $1", tenant.Id));

        var phone = fx.Browser();
        var opened = await OpenLinkAsync(phone, tenant.Id, link);
        Assert.True(opened.StatusCode == HttpStatusCode.Redirect, await opened.Content.ReadAsStringAsync());
        Assert.Equal(returnUrl, opened.Headers.Location!.OriginalString);
        var tokens = await fx.CodeFlowAsync(phone, tenant.Id, clientId, returnUrl, verifier);
        var access = new JsonWebToken(tokens.GetProperty("access_token").GetString()!);
        Assert.Equal("Ned@Example.org", access.GetPayloadValue<string>("email"));
        Assert.Contains("member", access.Claims.Where(c => c.Type == "roles").Select(c => c.Value));
        Assert.Equal(HttpStatusCode.OK, await fx.CallAsUserAsync(access.EncodedToken));
        Assert.Equal(1, await fx.ScalarAsync("SELECT count(*) FROM identity.users WHERE tenant_id = $1 AND password_hash IS NULL", tenant.Id));

        // Once: a second use creates nothing and signs nobody in.
        var again = await OpenLinkAsync(fx.Browser(), tenant.Id, link);
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.Equal(1, await fx.ScalarAsync("SELECT count(*) FROM identity.users WHERE tenant_id = $1", tenant.Id));
    }

    [Fact]
    public async Task An_expired_link_is_refused()
    {
        var tenant = await fx.CreateTenantAsync("link-expiry");
        var clientId = await fx.RegisterClientAsync(tenant.ApiKey);
        await fx.SignInAsync(fx.Browser(), tenant.Id, clientId, "bart@example.org", Password, register: true);
        var (answer, _, _) = await AskForLinkAsync(tenant.Id, clientId, "bart@example.org");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var link = await LinkInMailToAsync("bart@example.org");
        await using (var cmd = await fx.Db.CreateSystemCommandAsync(NotificationsTestReads,
            "UPDATE identity.sign_in_links SET expires_at = now() - interval '1 second' WHERE tenant_id = $1"))
        {
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenant.Id });
            await cmd.ExecuteNonQueryAsync();
        }
        var opened = await OpenLinkAsync(fx.Browser(), tenant.Id, link);
        Assert.Equal(HttpStatusCode.BadRequest, opened.StatusCode);
    }

    [Fact]
    public async Task An_unknown_address_gets_the_same_answer_and_no_mail_and_each_address_is_rate_limited()
    {
        var tenant = await fx.CreateTenantAsync("link-limits");
        var clientId = await fx.RegisterClientAsync(tenant.ApiKey);
        await fx.SignInAsync(fx.Browser(), tenant.Id, clientId, "maggie@example.org", Password, register: true);

        var (unknown, _, _) = await AskForLinkAsync(tenant.Id, clientId, "nobody@example.org");
        Assert.Equal(HttpStatusCode.OK, unknown.StatusCode);
        Assert.Contains("a sign-in link is on its way", await unknown.Content.ReadAsStringAsync());

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await AskForLinkAsync(tenant.Id, clientId, "maggie@example.org")).Answer.StatusCode);
        }
        var (limited, _, _) = await AskForLinkAsync(tenant.Id, clientId, "maggie@example.org");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Contains("Too many links", await limited.Content.ReadAsStringAsync());
        // The limit counts unknown addresses alike, so it does not tell which addresses have accounts.
        for (var i = 0; i < 2; i++)
        {
            await AskForLinkAsync(tenant.Id, clientId, "nobody@example.org");
        }
        Assert.Equal(HttpStatusCode.TooManyRequests, (await AskForLinkAsync(tenant.Id, clientId, "nobody@example.org")).Answer.StatusCode);

        // Three links, three e-mails to the account; none to the unknown address, and nothing stored beyond the limit.
        await Eventually.TrueAsync(() => Task.FromResult(fx.Smtp.Received().Count(m => m.RcptTos.Contains("maggie@example.org")) == 3),
            TimeSpan.FromSeconds(30), "three links reach maggie");
        Assert.Equal(3, await fx.ScalarAsync(
            "SELECT count(*) FROM identity.sign_in_links WHERE tenant_id = $1 AND token_hash IS NOT NULL", tenant.Id));
        Assert.Equal(3, await fx.ScalarAsync(
            "SELECT count(*) FROM ops.notification_outbox WHERE tenant_id = $1 AND notification_type = 'identity.sign-in-link'", tenant.Id));
        Assert.DoesNotContain(fx.Smtp.Received(), m => m.RcptTos.Contains("nobody@example.org"));
    }

    [Fact]
    public async Task A_malformed_address_is_refused_on_the_page_and_nothing_is_stored()
    {
        var tenant = await fx.CreateTenantAsync("link-bad");
        var clientId = await fx.RegisterClientAsync(tenant.ApiKey);
        var (answer, _, _) = await AskForLinkAsync(tenant.Id, clientId, "not an address");
        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Contains("role=\"alert\"", await answer.Content.ReadAsStringAsync());
        Assert.Equal(0, await fx.ScalarAsync("SELECT count(*) FROM identity.sign_in_links WHERE tenant_id = $1", tenant.Id));
    }

    private const string NotificationsTestReads = Platform.Tests.Integration.Notifications.NotificationsFixture.TestReads;
}
