using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Platform.Core.Security;

namespace Platform.Tests.Unit.Security;

/// <summary>
/// Access tokens of a tenant's OpenID Connect issuer are signed with the client-token key and name the issuer
/// <c>…/t/{tenant}</c>: a Realtime node holding only the public key accepts them as user tokens of exactly that tenant.
/// </summary>
public sealed class TenantIssuerTokenTests
{
    private static readonly (string Private, string Public) Key = ClientTokens.GenerateKeyPair();

    private static ClientTokens Realtime() => new(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Platform:Jwt:Keys:0:Id"] = "k1",
        ["Platform:Jwt:Keys:0:PublicKey"] = Key.Public,
    }).Build());

    private static string Mint(string issuer, Guid tid, string? privatePem = null)
    {
        var ec = ECDsa.Create();
        ec.ImportFromPem(privatePem ?? Key.Private);
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = ClientTokens.Audience,
            Subject = new ClaimsIdentity([new Claim("sub", "0199aaaa-0000-7000-8000-000000000001")]),
            Claims = new Dictionary<string, object> { ["tid"] = tid.ToString(), ["knd"] = "user", ["crd"] = "a:" + Guid.Empty, ["roles"] = new[] { "member" } },
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddMinutes(15),
            SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(ec) { KeyId = "k1" }, SecurityAlgorithms.EcdsaSha256),
        });
    }

    [Fact]
    public async Task A_public_key_holder_accepts_the_tenants_issuer_token_with_its_sign_in_and_roles()
    {
        var tenant = Guid.NewGuid();
        var result = await Realtime().ValidateAsync(Mint($"https://api.example/t/{tenant}", tenant));
        Assert.Equal(TokenValidationOutcome.Valid, result.Outcome);
        Assert.Equal(tenant, result.Claims!.TenantId);
        Assert.Equal(TokenKinds.User, result.Claims.Kind);
        Assert.Equal("a:" + Guid.Empty, result.Claims.IssuedUnder);
        Assert.Equal(["member"], result.Claims.Roles);
    }

    [Fact]
    public async Task The_issuer_must_be_the_issuer_of_the_tenant_the_token_names_and_the_key_must_be_ours()
    {
        var tenant = Guid.NewGuid();
        var realtime = Realtime();
        Assert.Equal(TokenValidationOutcome.Invalid, (await realtime.ValidateAsync(Mint($"https://api.example/t/{Guid.NewGuid()}", tenant))).Outcome);
        Assert.Equal(TokenValidationOutcome.Invalid, (await realtime.ValidateAsync(Mint("https://api.example/", tenant))).Outcome);
        Assert.Equal(TokenValidationOutcome.Invalid, (await realtime.ValidateAsync(Mint("someone-else", tenant))).Outcome);
        Assert.Equal(TokenValidationOutcome.Invalid,
            (await realtime.ValidateAsync(Mint($"https://api.example/t/{tenant}", tenant, ClientTokens.GenerateKeyPair().PrivatePem))).Outcome);
    }
}
