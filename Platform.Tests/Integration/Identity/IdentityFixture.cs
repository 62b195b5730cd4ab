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

    /// <summary>A browser-like client: keeps cookies, does not follow redirects (the test follows them).</summary>
    public HttpClient Browser() => Api.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    public async Task<string> RegisterClientAsync(string apiKey)
    {
        var response = await Client(apiKey).PostAsJsonAsync("/v1/identity/clients",
            new { displayName = "Resident app", redirectUris = new[] { RedirectUri }, postLogoutRedirectUris = new[] { PostLogoutUri } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await Json(response)).GetProperty("clientId").GetString()!;
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

    /// <summary>Register (or sign in) through the pages and run the code flow with PKCE; returns the token response.</summary>
    public async Task<JsonElement> SignInAsync(HttpClient browser, Guid tenant, string clientId, string email, string password, bool register)
    {
        var (verifier, challenge) = Pkce();
        var toLogin = await browser.GetAsync(AuthorizeUrl(tenant, clientId, challenge));
        Assert.Equal(HttpStatusCode.Redirect, toLogin.StatusCode);
        var login = toLogin.Headers.Location!.OriginalString;
        Assert.StartsWith($"/t/{tenant}/account/login?returnUrl=", login);
        var returnUrl = Uri.UnescapeDataString(login[(login.IndexOf('=') + 1)..]);
        var page = register ? login.Replace("/account/login", "/account/register") : login;
        var html = await browser.GetStringAsync(page);
        var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__af"] = AntiforgeryToken(html), ["email"] = email, ["password"] = password, ["returnUrl"] = returnUrl,
        });
        var posted = await browser.PostAsync(register ? $"/t/{tenant}/account/register" : $"/t/{tenant}/account/login", form);
        Assert.True(posted.StatusCode == HttpStatusCode.Redirect, await posted.Content.ReadAsStringAsync());
        Assert.Equal(returnUrl, posted.Headers.Location!.OriginalString);
        return await CodeFlowAsync(browser, tenant, clientId, returnUrl, verifier);
    }

    public async Task<JsonElement> CodeFlowAsync(HttpClient browser, Guid tenant, string clientId, string authorizeUrl, string verifier)
    {
        var toClient = await browser.GetAsync(authorizeUrl);
        Assert.True(toClient.StatusCode == HttpStatusCode.Redirect, await toClient.Content.ReadAsStringAsync());
        var callback = toClient.Headers.Location!;
        Assert.StartsWith(RedirectUri, callback.ToString());
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(callback.Query);
        Assert.Equal("st4te", query["state"].ToString());
        var token = await browser.PostAsync($"/t/{tenant}/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = query["code"].ToString(), ["redirect_uri"] = RedirectUri,
            ["client_id"] = clientId, ["code_verifier"] = verifier,
        }));
        var body = await token.Content.ReadAsStringAsync();
        Assert.True(token.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public async Task<HttpResponseMessage> TokenRequestAsync(Guid tenant, Dictionary<string, string> form) =>
        await Client().PostAsync($"/t/{tenant}/connect/token", new FormUrlEncodedContent(form));

    public async Task<HttpStatusCode> CallAsUserAsync(string accessToken)
    {
        var client = Client();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return (await client.GetAsync("/v1/me/notification-preferences")).StatusCode;
    }
}
