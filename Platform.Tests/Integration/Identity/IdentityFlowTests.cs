using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Platform.Tests.Integration.Identity;

/// <summary>
/// A tenant's OpenID Connect issuer end to end over HTTP: discovery and keys, a registered client, registration and
/// sign-in on the pages, authorization code with PKCE, tokens Api accepts like user tokens, refresh rotation with reuse
/// detection, revocation, sign-out, lockout and password rules.
/// </summary>
public sealed class IdentityFlowTests(IdentityFixture fx) : IClassFixture<IdentityFixture>
{
    private const string Password = "correct horse battery staple";

    [Fact]
    public async Task Each_tenant_has_its_own_issuer_with_discovery_and_keys_and_no_issuer_answers_without_a_tenant()
    {
        var a = await fx.CreateTenantAsync("city-a");
        var client = fx.Client();
        var discovery = JsonDocument.Parse(await client.GetStringAsync($"/t/{a.Id}/.well-known/openid-configuration")).RootElement;
        Assert.Equal($"http://localhost/t/{a.Id}", discovery.GetProperty("issuer").GetString());
        Assert.Equal($"http://localhost/t/{a.Id}/connect/authorize", discovery.GetProperty("authorization_endpoint").GetString());
        Assert.Contains("S256", discovery.GetProperty("code_challenge_methods_supported").EnumerateArray().Select(e => e.GetString()));
        var jwks = JsonDocument.Parse(await client.GetStringAsync(discovery.GetProperty("jwks_uri").GetString())).RootElement;
        var key = Assert.Single(jwks.GetProperty("keys").EnumerateArray());
        Assert.Equal("EC", key.GetProperty("kty").GetString());
        Assert.False(key.TryGetProperty("d", out _)); // never the private half

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/.well-known/openid-configuration")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/t/{Guid.NewGuid()}/.well-known/openid-configuration")).StatusCode);
    }

    [Fact]
    public async Task A_resident_registers_signs_in_with_pkce_and_calls_the_api_with_their_own_token()
    {
        var tenant = await fx.CreateTenantAsync("civic");
        var clientId = await fx.RegisterClientAsync(tenant.ApiKey);
        var tokens = await fx.SignInAsync(fx.Browser(), tenant.Id, clientId, "resident@example.org", Password, register: true);

        var access = tokens.GetProperty("access_token").GetString()!;
        var jwt = new JsonWebToken(access);
        Assert.Equal("ES256", jwt.Alg);
        Assert.Equal($"http://localhost/t/{tenant.Id}", jwt.Issuer);
        Assert.Equal(tenant.Id.ToString(), jwt.GetPayloadValue<string>("tid"));
        Assert.Equal("user", jwt.GetPayloadValue<string>("knd"));
        Assert.Contains("member", jwt.Claims.Where(c => c.Type == "roles").Select(c => c.Value));
        Assert.True(tokens.TryGetProperty("refresh_token", out _));
        Assert.True(tokens.TryGetProperty("id_token", out _));
        Assert.Equal(HttpStatusCode.OK, await fx.CallAsUserAsync(access));

        // The same user signing in again (no registration) gets in too, and the id is the same subject.
        var again = await fx.SignInAsync(fx.Browser(), tenant.Id, clientId, "Resident@Example.org", Password, register: false);
        Assert.Equal(jwt.Subject, new JsonWebToken(again.GetProperty("access_token").GetString()!).Subject);
    }

    [Fact]
    public async Task A_client_of_one_tenant_is_unknown_at_another_tenants_issuer()
    {
        var a = await fx.CreateTenantAsync("a");
        var b = await fx.CreateTenantAsync("b");
        var clientOfA = await fx.RegisterClientAsync(a.ApiKey);
        var (_, challenge) = IdentityFixture.Pkce();
        var response = await fx.Browser().GetAsync(IdentityFixture.AuthorizeUrl(b.Id, clientOfA, challenge));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("invalid_request", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_refresh_rotates_the_refresh_token_and_presenting_a_used_one_again_ends_the_sign_in()
    {
        var tenant = await fx.CreateTenantAsync("rotation");
        var clientId = await fx.RegisterClientAsync(tenant.ApiKey);
        var first = await fx.SignInAsync(fx.Browser(), tenant.Id, clientId, "rot@example.org", Password, register: true);
        var refresh1 = first.GetProperty("refresh_token").GetString()!;

        var rotated = await fx.TokenRequestAsync(tenant.Id, new() { ["grant_type"] = "refresh_token", ["refresh_token"] = refresh1, ["client_id"] = clientId });
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        var second = JsonDocument.Parse(await rotated.Content.ReadAsStringAsync()).RootElement;
        var refresh2 = second.GetProperty("refresh_token").GetString()!;
        Assert.NotEqual(refresh1, refresh2);
        var access2 = second.GetProperty("access_token").GetString()!;
        Assert.Equal(HttpStatusCode.OK, await fx.CallAsUserAsync(access2));

        // Someone replays the first refresh token: refused, and the whole sign-in ends (the thief and the user both lose it).
        var reuse = await fx.TokenRequestAsync(tenant.Id, new() { ["grant_type"] = "refresh_token", ["refresh_token"] = refresh1, ["client_id"] = clientId });
        Assert.Equal(HttpStatusCode.BadRequest, reuse.StatusCode);
        Assert.Contains("invalid_grant", await reuse.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, await fx.CallAsUserAsync(access2));
        var afterReuse = await fx.TokenRequestAsync(tenant.Id, new() { ["grant_type"] = "refresh_token", ["refresh_token"] = refresh2, ["client_id"] = clientId });
        Assert.Equal(HttpStatusCode.BadRequest, afterReuse.StatusCode);
    }

    [Fact]
    public async Task Revoking_the_refresh_token_kills_the_access_tokens_of_that_sign_in()
    {
        var tenant = await fx.CreateTenantAsync("revoke");
        var clientId = await fx.RegisterClientAsync(tenant.ApiKey);
        var tokens = await fx.SignInAsync(fx.Browser(), tenant.Id, clientId, "rev@example.org", Password, register: true);
        var access = tokens.GetProperty("access_token").GetString()!;
        Assert.Equal(HttpStatusCode.OK, await fx.CallAsUserAsync(access));

        var revoked = await fx.Client().PostAsync($"/t/{tenant.Id}/connect/revoke", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["token"] = tokens.GetProperty("refresh_token").GetString()!, ["token_type_hint"] = "refresh_token", ["client_id"] = clientId,
        }));
        Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, await fx.CallAsUserAsync(access));
    }

    [Fact]
    public async Task Signing_out_ends_the_session_and_every_token_of_the_user()
    {
        var tenant = await fx.CreateTenantAsync("signout");
        var clientId = await fx.RegisterClientAsync(tenant.ApiKey);
        var browser = fx.Browser();
        var tokens = await fx.SignInAsync(browser, tenant.Id, clientId, "out@example.org", Password, register: true);
        var access = tokens.GetProperty("access_token").GetString()!;
        Assert.Equal(HttpStatusCode.OK, await fx.CallAsUserAsync(access));

        var signOut = await browser.GetAsync($"/t/{tenant.Id}/connect/endsession?client_id={clientId}&post_logout_redirect_uri={Uri.EscapeDataString(IdentityFixture.PostLogoutUri)}");
        Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);
        Assert.StartsWith(IdentityFixture.PostLogoutUri, signOut.Headers.Location!.ToString());
        Assert.Equal(HttpStatusCode.Unauthorized, await fx.CallAsUserAsync(access));
        var refresh = await fx.TokenRequestAsync(tenant.Id, new()
        {
            ["grant_type"] = "refresh_token", ["refresh_token"] = tokens.GetProperty("refresh_token").GetString()!, ["client_id"] = clientId,
        });
        Assert.Equal(HttpStatusCode.BadRequest, refresh.StatusCode);
        // The browser session is gone too: authorizing again asks for the password.
        var (_, challenge) = IdentityFixture.Pkce();
        var again = await browser.GetAsync(IdentityFixture.AuthorizeUrl(tenant.Id, clientId, challenge));
        Assert.Equal(HttpStatusCode.Redirect, again.StatusCode);
        Assert.Contains("/account/login", again.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task Five_wrong_passwords_lock_the_account_even_against_the_right_one()
    {
        var tenant = await fx.CreateTenantAsync("lockout");
        var clientId = await fx.RegisterClientAsync(tenant.ApiKey);
        await fx.SignInAsync(fx.Browser(), tenant.Id, clientId, "lock@example.org", Password, register: true);
        var browser = fx.Browser();
        async Task<HttpResponseMessage> TryAsync(string password)
        {
            var html = await browser.GetStringAsync($"/t/{tenant.Id}/account/login");
            return await browser.PostAsync($"/t/{tenant.Id}/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["__af"] = IdentityFixture.AntiforgeryToken(html), ["email"] = "lock@example.org", ["password"] = password,
            }));
        }
        for (var i = 0; i < 4; i++)
        {
            var wrong = await TryAsync("not the password " + i);
            Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
            Assert.Contains("not right", await wrong.Content.ReadAsStringAsync());
        }
        Assert.Equal(HttpStatusCode.BadRequest, (await TryAsync("fifth wrong one")).StatusCode);
        var locked = await TryAsync(Password);
        Assert.Equal(HttpStatusCode.TooManyRequests, locked.StatusCode);
        Assert.Contains("locked", await locked.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("short")]
    [InlineData("password123")]
    [InlineData("aaaaaaaaaaaaaaaa")]
    [InlineData("weak@example.org")]
    public async Task A_weak_or_breached_password_is_refused_and_no_account_is_made(string password)
    {
        var tenant = await fx.CreateTenantAsync("rules");
        var browser = fx.Browser();
        var html = await browser.GetStringAsync($"/t/{tenant.Id}/account/register");
        var response = await browser.PostAsync($"/t/{tenant.Id}/account/register", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__af"] = IdentityFixture.AntiforgeryToken(html), ["email"] = "weak@example.org", ["password"] = password,
        }));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("role=\"alert\"", await response.Content.ReadAsStringAsync());
        // Nothing stored: the same address can still register with a good password.
        var clientId = await fx.RegisterClientAsync(tenant.ApiKey);
        await fx.SignInAsync(fx.Browser(), tenant.Id, clientId, "weak@example.org", Password, register: true);
    }

    [Fact]
    public async Task A_form_post_without_the_antiforgery_token_is_refused()
    {
        var tenant = await fx.CreateTenantAsync("csrf");
        var response = await fx.Browser().PostAsync($"/t/{tenant.Id}/account/register", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["email"] = "csrf@example.org", ["password"] = Password,
        }));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Client_registration_refuses_bad_redirect_uris_with_a_problem()
    {
        var tenant = await fx.CreateTenantAsync("uris");
        foreach (var uri in new[] { "http://example.org/cb", "/relative", "https://app.example.org/cb#frag", "javascript:alert(1)" })
        {
            var response = await fx.Client(tenant.ApiKey).PostAsJsonAsync("/v1/identity/clients", new { displayName = "x", redirectUris = new[] { uri } });
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        var list = JsonDocument.Parse(await fx.Client(tenant.ApiKey).GetStringAsync("/v1/identity/clients")).RootElement;
        Assert.Empty(list.GetProperty("clients").EnumerateArray());
    }
}
