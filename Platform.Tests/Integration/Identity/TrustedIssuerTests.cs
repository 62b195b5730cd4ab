using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Platform.Tests.Integration.Identity;

/// <summary>
/// Bring your own identity: a tenant trusts its own issuer, whose JWKS a stub on loopback serves; Api accepts that issuer's
/// tokens as user tokens of the tenant when issuer, audience, signature and lifetime hold, and maps the roles claim.
/// </summary>
public sealed class TrustedIssuerTests(IdentityFixture fx) : IClassFixture<IdentityFixture>
{
    private const string Issuer = "https://login.tenant.example";
    private const string Audience = "platform-api";

    private static string Mint(RSA rsa, string kid, string audience = Audience, string issuer = Issuer, TimeSpan? lifetime = null, string[]? groups = null)
    {
        var now = DateTime.UtcNow;
        var claims = new Dictionary<string, object> { ["groups"] = groups ?? ["team_lead", "not-a-role"] };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Subject = new ClaimsIdentity([new Claim("sub", "ext-42")]),
            Claims = claims,
            IssuedAt = now - TimeSpan.FromMinutes(10),
            NotBefore = now - TimeSpan.FromMinutes(10),
            Expires = now + (lifetime ?? TimeSpan.FromMinutes(5)),
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(rsa) { KeyId = kid }, SecurityAlgorithms.RsaSha256),
        });
    }

    private async Task<HttpStatusCode> CallAsync(string token)
    {
        var client = fx.Client();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return (await client.GetAsync("/v1/me/notification-preferences")).StatusCode;
    }

    [Fact]
    public async Task Tokens_of_the_tenants_own_issuer_are_accepted_when_issuer_audience_signature_and_lifetime_hold()
    {
        using var rsa = RSA.Create(2048);
        var p = rsa.ExportParameters(false);
        var jwks = JsonSerializer.Serialize(new
        {
            keys = new[] { new { kty = "RSA", kid = "k1", use = "sig", alg = "RS256", n = IdentityFixture.Base64Url(p.Modulus!), e = IdentityFixture.Base64Url(p.Exponent!) } },
        });
        await using var idp = await StubServer.StartAsync(a => a.MapGet("/jwks", () => Results.Content(jwks, "application/json")));
        var tenant = await fx.CreateTenantAsync("byo");

        // Not trusted yet: refused.
        Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync(Mint(rsa, "k1")));

        var set = await fx.Client(tenant.ApiKey).PutAsJsonAsync("/v1/identity/trusted-issuers", new
        {
            issuer = Issuer, audience = Audience, jwksUri = new Uri(idp.BaseAddress, "/jwks").ToString(), rolesClaim = "groups",
        });
        Assert.Equal(HttpStatusCode.NoContent, set.StatusCode);

        Assert.Equal(HttpStatusCode.OK, await CallAsync(Mint(rsa, "k1")));
        Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync(Mint(rsa, "k1", audience: "someone-else")));
        Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync(Mint(rsa, "k1", issuer: "https://evil.example")));
        Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync(Mint(rsa, "k1", lifetime: TimeSpan.FromMinutes(-5))));
        using var stranger = RSA.Create(2048);
        Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync(Mint(stranger, "k1")));

        // Mapped roles: team_lead reaches endpoints that check it; unknown values are dropped.
        var list = JsonDocument.Parse(await fx.Client(tenant.ApiKey).GetStringAsync("/v1/identity/trusted-issuers")).RootElement;
        Assert.Equal(Issuer, Assert.Single(list.GetProperty("issuers").EnumerateArray()).GetProperty("issuer").GetString());

        // Removing the trust refuses the tokens again.
        var removed = await fx.Client(tenant.ApiKey).PostAsJsonAsync("/v1/identity/trusted-issuers/remove", new { issuer = Issuer });
        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync(Mint(rsa, "k1")));
    }

    [Fact]
    public async Task A_jwks_url_on_a_private_address_or_plain_http_is_refused_at_configuration_and_nothing_is_stored()
    {
        var tenant = await fx.CreateTenantAsync("byo-bad");
        foreach (var uri in new[] { "https://10.0.0.1/jwks", "http://idp.example/jwks", "https://169.254.169.254/keys", "not a url" })
        {
            var response = await fx.Client(tenant.ApiKey).PutAsJsonAsync("/v1/identity/trusted-issuers", new { issuer = Issuer, audience = Audience, jwksUri = uri });
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        var list = JsonDocument.Parse(await fx.Client(tenant.ApiKey).GetStringAsync("/v1/identity/trusted-issuers")).RootElement;
        Assert.Empty(list.GetProperty("issuers").EnumerateArray());
    }
}
