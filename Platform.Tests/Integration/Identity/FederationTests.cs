using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Platform.Tests.Integration.Identity;

/// <summary>
/// An upstream OpenID provider on loopback: a minimal OpenIddict server (authorization code + PKCE, RS256 ID tokens,
/// discovery and JWKS) that signs in whoever the test names. It checks the client id, the client secret and the redirect URI.
/// </summary>
public sealed class UpstreamProvider : IAsyncDisposable
{
    public const string ClientId = "platform-tenant";
    public const string ClientSecret = "upstream-client-secret";

    private readonly StubServer _server;

    private UpstreamProvider(StubServer server) => _server = server;

    /// <summary>The account the next authorize request signs in as.</summary>
    public (string Subject, string Email, bool Verified) Account { get; set; } = ("up-1", "someone@example.org", true);
    public string ExpectedRedirectUri { get; set; } = "";
    public string ExpectedPostLogoutRedirectUri { get; set; } = "";

    /// <summary>The sign-outs (RP-initiated logout) the upstream was asked for: the ID token hint and the client.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<(string? IdTokenHint, string? ClientId)> EndSessions { get; } = new();
    private int _codesRedeemed;

    /// <summary>How many authorization codes the token endpoint redeemed.</summary>
    public int CodesRedeemed => Volatile.Read(ref _codesRedeemed);

    public string Issuer => _server.BaseAddress.AbsoluteUri;

    public static async Task<UpstreamProvider> StartAsync()
    {
        UpstreamProvider? self = null;
        var server = await StubServer.StartAsync(app =>
        {
            app.UseAuthentication();
            app.MapMethods("/connect/authorize", ["GET", "POST"], (HttpContext http) =>
            {
                var request = http.GetOpenIddictServerRequest()!;
                var (subject, email, verified) = self!.Account;
                var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
                identity.SetClaim(Claims.Subject, subject).SetClaim(Claims.Email, email);
                identity.AddClaim(new Claim(Claims.EmailVerified, verified ? "true" : "false", ClaimValueTypes.Boolean));
                identity.SetScopes(request.GetScopes());
                identity.SetDestinations(_ => [Destinations.AccessToken, Destinations.IdentityToken]);
                return Results.SignIn(new ClaimsPrincipal(identity), null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
            });
            app.MapMethods("/connect/endsession", ["GET", "POST"], (HttpContext http) =>
            {
                var request = http.GetOpenIddictServerRequest()!;
                self!.EndSessions.Enqueue((request.IdTokenHint, request.ClientId));
                return Results.SignOut(null, [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
            });
            app.MapPost("/connect/token", async (HttpContext http) =>
            {
                var principal = (await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)).Principal!;
                Interlocked.Increment(ref self!._codesRedeemed);
                return Results.SignIn(principal, null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
            });
        }, builder => builder.Services.AddOpenIddict().AddServer(o =>
        {
            o.SetAuthorizationEndpointUris("connect/authorize").SetTokenEndpointUris("connect/token")
                .SetConfigurationEndpointUris(".well-known/openid-configuration").SetJsonWebKeySetEndpointUris(".well-known/jwks")
                .SetEndSessionEndpointUris("connect/endsession");
            o.AllowAuthorizationCodeFlow().RequireProofKeyForCodeExchange();
            o.RegisterScopes(Scopes.OpenId, Scopes.Email, Scopes.Profile);
            o.AddEphemeralEncryptionKey().AddEphemeralSigningKey();
            o.DisableAccessTokenEncryption();
            o.EnableDegradedMode();
            o.UseAspNetCore().EnableAuthorizationEndpointPassthrough().EnableTokenEndpointPassthrough().EnableEndSessionEndpointPassthrough()
                .DisableTransportSecurityRequirement();
            // Degraded mode: the client registry is these two checks.
            o.AddEventHandler<ValidateAuthorizationRequestContext>(b => b.UseInlineHandler(context =>
            {
                if (context.ClientId != ClientId || context.Request.RedirectUri != self!.ExpectedRedirectUri)
                {
                    context.Reject(Errors.InvalidClient, "unknown client or redirect_uri");
                }
                return default;
            }));
            o.AddEventHandler<ValidateEndSessionRequestContext>(b => b.UseInlineHandler(context =>
            {
                if (context.PostLogoutRedirectUri is { } uri && uri != self!.ExpectedPostLogoutRedirectUri)
                {
                    context.Reject(Errors.InvalidRequest, "unknown post_logout_redirect_uri");
                }
                return default;
            }));
            o.AddEventHandler<ValidateTokenRequestContext>(b => b.UseInlineHandler(context =>
            {
                if (context.ClientId != ClientId || context.Request.ClientSecret != ClientSecret)
                {
                    context.Reject(Errors.InvalidClient, "wrong client credentials");
                }
                return default;
            }));
        }));
        self = new UpstreamProvider(server);
        // Its first answers are cold (OpenIddict's handler pipeline, the ephemeral keys) and take seconds on a busy
        // machine, while the Api gives a provider 10 s: ask once here so the Api's fetch meets a warm server.
        using var warm = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        (await warm.GetAsync(new Uri(new Uri(self.Issuer), ".well-known/openid-configuration"))).EnsureSuccessStatusCode();
        (await warm.GetAsync(new Uri(new Uri(self.Issuer), ".well-known/jwks"))).EnsureSuccessStatusCode();
        return self;
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}

/// <summary>
/// Federation: a tenant configures an upstream OpenID provider (client secret sealed); its users sign in there with code +
/// PKCE, the ID token is validated against the upstream's published keys, and the upstream account is linked to the
/// local user with the same verified address or provisioned as a new one. Then the tenant's own code flow continues.
/// </summary>
public sealed class FederationTests(IdentityFixture fx) : IClassFixture<IdentityFixture>
{
    private const string Password = "correct horse battery staple";

    /// <summary>The browser's way to the upstream (a real loopback socket; the Api's test client cannot leave the test server).</summary>
    private static readonly HttpClient ToUpstream = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });

    private async Task<(Guid Tenant, string ClientId)> TenantWithProviderAsync(UpstreamProvider upstream, string name)
    {
        // The upstream publishes its discovery document and keys (what the tenant's issuer will read).
        var discovery = await ToUpstream.GetAsync(new Uri(new Uri(upstream.Issuer), ".well-known/openid-configuration"));
        var discoveryBody = await discovery.Content.ReadAsStringAsync();
        Assert.True(discovery.IsSuccessStatusCode, $"{(int)discovery.StatusCode} {discoveryBody}");
        Assert.Equal(upstream.Issuer, JsonDocument.Parse(discoveryBody).RootElement.GetProperty("issuer").GetString());
        var tenant = await fx.CreateTenantAsync(name);
        var clientId = await fx.RegisterClientAsync(tenant.ApiKey);
        var set = await fx.Client(tenant.ApiKey).PutAsJsonAsync("/v1/identity/providers/upstream", new
        {
            displayName = "Upstream ID", issuer = upstream.Issuer, clientId = UpstreamProvider.ClientId, clientSecret = UpstreamProvider.ClientSecret,
        });
        Assert.Equal(HttpStatusCode.NoContent, set.StatusCode);
        var list = JsonDocument.Parse(await fx.Client(tenant.ApiKey).GetStringAsync("/v1/identity/providers")).RootElement;
        var provider = Assert.Single(list.GetProperty("providers").EnumerateArray());
        Assert.True(provider.GetProperty("hasClientSecret").GetBoolean());
        Assert.False(provider.TryGetProperty("clientSecret", out _));
        upstream.ExpectedRedirectUri = provider.GetProperty("redirectUri").GetString()!;
        Assert.Equal($"http://localhost/t/{tenant.Id}/account/external/callback", upstream.ExpectedRedirectUri);
        return (tenant.Id, clientId);
    }

    /// <summary>Authorize at the tenant, pick the upstream on the sign-in page, sign in there, come back: the answer of the callback.</summary>
    private static async Task<(HttpResponseMessage Callback, string ReturnUrl, string Verifier)> FederateAsync(HttpClient browser, Guid tenant, string clientId)
    {
        var (verifier, challenge) = IdentityFixture.Pkce();
        var toLogin = await browser.GetAsync(IdentityFixture.AuthorizeUrl(tenant, clientId, challenge));
        var login = toLogin.Headers.Location!.OriginalString;
        var returnUrl = Uri.UnescapeDataString(login[(login.IndexOf('=') + 1)..]);
        var page = await browser.GetStringAsync(login);
        var start = System.Text.RegularExpressions.Regex.Match(page, "href=\"([^\"]*/account/external/upstream[^\"]*)\"").Groups[1].Value;
        Assert.Contains("Sign in with Upstream ID", page);
        var toUpstream = await browser.GetAsync(System.Net.WebUtility.HtmlDecode(start));
        Assert.True(toUpstream.StatusCode == HttpStatusCode.Redirect, await toUpstream.Content.ReadAsStringAsync());
        var authorize = toUpstream.Headers.Location!;
        Assert.Contains("code_challenge_method=S256", authorize.Query);
        var back = await ToUpstream.GetAsync(authorize);
        Assert.True(back.StatusCode == HttpStatusCode.Redirect, await back.Content.ReadAsStringAsync());
        var callback = await browser.GetAsync(back.Headers.Location!.PathAndQuery);
        return (callback, returnUrl, verifier);
    }

    [Fact]
    public async Task A_resident_signs_in_with_the_upstream_and_is_provisioned_once_then_recognised()
    {
        await using var upstream = await UpstreamProvider.StartAsync();
        var (tenant, clientId) = await TenantWithProviderAsync(upstream, "fed-city");
        upstream.Account = ("google-sub-1", "apu@example.org", true);

        var browser = fx.Browser();
        var (callback, returnUrl, verifier) = await FederateAsync(browser, tenant, clientId);
        Assert.True(callback.StatusCode == HttpStatusCode.Redirect, await callback.Content.ReadAsStringAsync());
        Assert.Equal(returnUrl, callback.Headers.Location!.OriginalString);
        var tokens = await fx.CodeFlowAsync(browser, tenant, clientId, returnUrl, verifier);
        var access = new JsonWebToken(tokens.GetProperty("access_token").GetString()!);
        Assert.Equal("apu@example.org", access.GetPayloadValue<string>("email"));
        Assert.Contains("member", access.Claims.Where(c => c.Type == "roles").Select(c => c.Value));
        Assert.Equal(HttpStatusCode.OK, await fx.CallAsUserAsync(access.EncodedToken));
        Assert.Equal(1, upstream.CodesRedeemed);

        // Again, from another browser: the same local user (linked by the upstream's subject).
        var again = fx.Browser();
        var second = await FederateAsync(again, tenant, clientId);
        Assert.Equal(HttpStatusCode.Redirect, second.Callback.StatusCode);
        var tokens2 = await fx.CodeFlowAsync(again, tenant, clientId, second.ReturnUrl, second.Verifier);
        Assert.Equal(access.Subject, new JsonWebToken(tokens2.GetProperty("access_token").GetString()!).Subject);
    }

    [Fact]
    public async Task An_upstream_account_with_the_verified_address_of_a_password_user_signs_in_as_that_user()
    {
        await using var upstream = await UpstreamProvider.StartAsync();
        var (tenant, clientId) = await TenantWithProviderAsync(upstream, "fed-link");
        var byPassword = await fx.SignInAsync(fx.Browser(), tenant, clientId, "moe@example.org", Password, register: true);
        upstream.Account = ("ms-oid-9", "Moe@Example.org", true);

        var browser = fx.Browser();
        var (callback, returnUrl, verifier) = await FederateAsync(browser, tenant, clientId);
        Assert.Equal(HttpStatusCode.Redirect, callback.StatusCode);
        var tokens = await fx.CodeFlowAsync(browser, tenant, clientId, returnUrl, verifier);
        Assert.Equal(new JsonWebToken(byPassword.GetProperty("access_token").GetString()!).Subject,
            new JsonWebToken(tokens.GetProperty("access_token").GetString()!).Subject);
    }

    [Fact]
    public async Task An_unverified_address_is_not_linked_and_a_forged_state_is_refused()
    {
        await using var upstream = await UpstreamProvider.StartAsync();
        var (tenant, clientId) = await TenantWithProviderAsync(upstream, "fed-refuse");
        await fx.SignInAsync(fx.Browser(), tenant, clientId, "barney@example.org", Password, register: true);
        upstream.Account = ("attacker-1", "barney@example.org", false);

        var (callback, _, _) = await FederateAsync(fx.Browser(), tenant, clientId);
        Assert.Equal(HttpStatusCode.BadRequest, callback.StatusCode);
        Assert.Contains("did not confirm an e-mail address", await callback.Content.ReadAsStringAsync());

        // A callback this browser did not start (no flow cookie) is refused before the code is used.
        var redeemed = upstream.CodesRedeemed;
        var forged = await fx.Browser().GetAsync($"/t/{tenant}/account/external/callback?code=stolen&state=guess");
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Contains("Start again", await forged.Content.ReadAsStringAsync());
        Assert.Equal(redeemed, upstream.CodesRedeemed);
    }

    [Fact]
    public async Task Bad_provider_settings_are_problems_and_nothing_is_stored()
    {
        var tenant = await fx.CreateTenantAsync("fed-bad");
        var client = fx.Client(tenant.ApiKey);
        foreach (var (name, body) in new (string, object)[]
        {
            ("callback", new { displayName = "X", issuer = "https://accounts.example.org", clientId = "c" }),
            ("Google", new { displayName = "X", issuer = "https://accounts.example.org", clientId = "c" }),
            ("google", new { displayName = "", issuer = "https://accounts.example.org", clientId = "c" }),
            ("google", new { displayName = "Google", issuer = "http://accounts.example.org", clientId = "c" }),
            ("google", new { displayName = "Google", issuer = "https://10.0.0.5", clientId = "c" }),
            ("google", new { displayName = "Google", issuer = "https://accounts.example.org", clientId = "" }),
        })
        {
            var response = await client.PutAsJsonAsync($"/v1/identity/providers/{name}", body);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        var list = JsonDocument.Parse(await client.GetStringAsync("/v1/identity/providers")).RootElement;
        Assert.Empty(list.GetProperty("providers").EnumerateArray());
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync("/v1/identity/providers/google")).StatusCode);
    }
}
