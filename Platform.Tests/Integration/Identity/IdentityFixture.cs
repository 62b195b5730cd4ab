using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;
using Platform.Core.Security;
using Platform.Tests.Integration.Conversations;

namespace Platform.Tests.Integration.Identity;

/// <summary>An Api holding an ES256 token key (the tenants' issuers sign with it) on a fresh database.</summary>
public class IdentityFixture : ConversationsFixture
{
    public const string RedirectUri = "http://127.0.0.1:48123/callback";
    public const string PostLogoutUri = "http://127.0.0.1:48123/signed-out";

    protected override void Configure(Dictionary<string, string?> settings)
    {
        base.Configure(settings);
        var (privatePem, _) = ClientTokens.GenerateKeyPair();
        settings["Platform:Jwt:Keys:0:Id"] = "idtest";
        settings["Platform:Jwt:Keys:0:PrivateKey"] = privatePem;
        // The trusted-issuer tests serve a JWKS from a stub on loopback.
        settings["Platform:Outbound:AllowedHosts:0"] = "127.0.0.1";
    }

    public static string AntiforgeryToken(string html) =>
        Regex.Match(html, "name=\"__af\" value=\"([^\"]+)\"").Groups[1].Value is { Length: > 0 } token
            ? WebUtility.HtmlDecode(token)
            : throw new Xunit.Sdk.XunitException("The page has no antiforgery field:\n" + html);

    public static (string Verifier, string Challenge) Pkce()
    {
        var verifier = Base64Url(RandomNumberGenerator.GetBytes(32));
        return (verifier, Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
    }

    public static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string AuthorizeUrl(Guid tenant, string clientId, string challenge, string state = "st4te", string redirectUri = RedirectUri) =>
        $"/t/{tenant}/connect/authorize?client_id={clientId}&response_type=code&scope={Uri.EscapeDataString("openid email roles offline_access")}" +
        $"&redirect_uri={Uri.EscapeDataString(redirectUri)}&code_challenge={challenge}&code_challenge_method=S256&state={state}";
}

/// <summary>The browser side of a tenant's issuer, for any fixture whose Api holds the ES256 key.</summary>
public static class IdentityFlow
{
    /// <summary>A browser-like client: keeps cookies, does not follow redirects (the test follows them).</summary>
    public static HttpClient Browser(this ApiFactory fx) => fx.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    public static async Task<string> RegisterClientAsync(this ApiFactory fx, string apiKey)
    {
        var response = await ConversationsFixture.ClientOf(fx, apiKey).PostAsJsonAsync("/v1/identity/clients",
            new { displayName = "Resident app", redirectUris = new[] { IdentityFixture.RedirectUri }, postLogoutRedirectUris = new[] { IdentityFixture.PostLogoutUri } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await ConversationsFixture.Json(response)).GetProperty("clientId").GetString()!;
    }

    /// <summary>Register (or sign in) through the pages and run the code flow with PKCE; returns the token response.</summary>
    public static async Task<JsonElement> SignInAsync(this ApiFactory fx, HttpClient browser, Guid tenant, string clientId, string email, string password, bool register)
    {
        var (verifier, challenge) = IdentityFixture.Pkce();
        var toLogin = await browser.GetAsync(IdentityFixture.AuthorizeUrl(tenant, clientId, challenge));
        Assert.Equal(HttpStatusCode.Redirect, toLogin.StatusCode);
        var login = toLogin.Headers.Location!.OriginalString;
        Assert.StartsWith($"/t/{tenant}/account/login?returnUrl=", login);
        var returnUrl = Uri.UnescapeDataString(login[(login.IndexOf('=') + 1)..]);
        var page = register ? login.Replace("/account/login", "/account/register") : login;
        var html = await browser.GetStringAsync(page);
        var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__af"] = IdentityFixture.AntiforgeryToken(html), ["email"] = email, ["password"] = password, ["returnUrl"] = returnUrl,
        });
        var posted = await browser.PostAsync(register ? $"/t/{tenant}/account/register" : $"/t/{tenant}/account/login", form);
        Assert.True(posted.StatusCode == HttpStatusCode.Redirect, await posted.Content.ReadAsStringAsync());
        Assert.Equal(returnUrl, posted.Headers.Location!.OriginalString);
        return await fx.CodeFlowAsync(browser, tenant, clientId, returnUrl, verifier);
    }

    public static async Task<JsonElement> CodeFlowAsync(this ApiFactory fx, HttpClient browser, Guid tenant, string clientId, string authorizeUrl, string verifier)
    {
        var toClient = await browser.GetAsync(authorizeUrl);
        Assert.True(toClient.StatusCode == HttpStatusCode.Redirect, await toClient.Content.ReadAsStringAsync());
        var callback = toClient.Headers.Location!;
        Assert.StartsWith(IdentityFixture.RedirectUri, callback.ToString());
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(callback.Query);
        Assert.Equal("st4te", query["state"].ToString());
        var token = await browser.PostAsync($"/t/{tenant}/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = query["code"].ToString(), ["redirect_uri"] = IdentityFixture.RedirectUri,
            ["client_id"] = clientId, ["code_verifier"] = verifier,
        }));
        var body = await token.Content.ReadAsStringAsync();
        Assert.True(token.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public static async Task<HttpResponseMessage> TokenRequestAsync(this ApiFactory fx, Guid tenant, Dictionary<string, string> form) =>
        await fx.CreateClient().PostAsync($"/t/{tenant}/connect/token", new FormUrlEncodedContent(form));

    public static async Task<HttpStatusCode> CallAsUserAsync(this ApiFactory fx, string accessToken)
    {
        var client = fx.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return (await client.GetAsync("/v1/me/notification-preferences")).StatusCode;
    }

    // The same, for the fixtures built on ConversationsFixture.
    public static HttpClient Browser(this ConversationsFixture fx) => fx.Api.Browser();

    public static Task<string> RegisterClientAsync(this ConversationsFixture fx, string apiKey) => fx.Api.RegisterClientAsync(apiKey);

    public static Task<JsonElement> SignInAsync(this ConversationsFixture fx, HttpClient browser, Guid tenant, string clientId, string email, string password,
        bool register) => fx.Api.SignInAsync(browser, tenant, clientId, email, password, register);

    public static Task<JsonElement> CodeFlowAsync(this ConversationsFixture fx, HttpClient browser, Guid tenant, string clientId, string authorizeUrl,
        string verifier) => fx.Api.CodeFlowAsync(browser, tenant, clientId, authorizeUrl, verifier);

    public static Task<HttpResponseMessage> TokenRequestAsync(this ConversationsFixture fx, Guid tenant, Dictionary<string, string> form) =>
        fx.Api.TokenRequestAsync(tenant, form);

    public static Task<HttpStatusCode> CallAsUserAsync(this ConversationsFixture fx, string accessToken) => fx.Api.CallAsUserAsync(accessToken);
}
