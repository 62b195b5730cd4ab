using Microsoft.Extensions.Configuration;
using Platform.Core.Security;

namespace Platform.Tests.Unit.Security;

/// <summary>ES256 client tokens: only the private key's holder mints, public keys validate, rotation overlaps.</summary>
public sealed class ClientTokenKeysTests
{
    private const string LegacySecret = "legacy-shared-secret-0123456789abcdef0123456789";
    private static readonly (string Private, string Public) K1 = ClientTokens.GenerateKeyPair();
    private static readonly (string Private, string Public) K2 = ClientTokens.GenerateKeyPair();

    private static ClientTokens With(params (string Id, string? Private, string? Public)[] keys)
    {
        var settings = new Dictionary<string, string?> { ["Platform:Jwt:SigningKey"] = LegacySecret };
        for (var i = 0; i < keys.Length; i++)
        {
            settings[$"Platform:Jwt:Keys:{i}:Id"] = keys[i].Id;
            settings[$"Platform:Jwt:Keys:{i}:PrivateKey"] = keys[i].Private;
            settings[$"Platform:Jwt:Keys:{i}:PublicKey"] = keys[i].Public;
        }
        return new ClientTokens(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
    }

    private static string Mint(ClientTokens tokens) => tokens.Issue(Guid.NewGuid(), "u1", Guid.NewGuid(), TimeSpan.FromMinutes(5));

    [Fact]
    public async Task Realtime_with_the_public_key_validates_Api_tokens_and_cannot_mint_nor_accept_the_shared_secret()
    {
        var api = With(("k1", K1.Private, null));
        var realtime = With(("k1", null, K1.Public));
        Assert.True(api.Asymmetric);
        Assert.False(realtime.CanIssue);
        Assert.Throws<InvalidOperationException>(() => Mint(realtime));
        Assert.Equal(TokenValidationOutcome.Valid, (await realtime.ValidateAsync(Mint(api))).Outcome);

        // A token made with the legacy shared secret (which Realtime still has in its configuration) is refused.
        var legacy = new ClientTokens(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Platform:Jwt:SigningKey"] = LegacySecret }).Build());
        Assert.False(legacy.Asymmetric);
        Assert.Equal(TokenValidationOutcome.Invalid, (await realtime.ValidateAsync(Mint(legacy))).Outcome);
        // A token signed by another EC key that claims the same kid is refused.
        Assert.Equal(TokenValidationOutcome.Invalid, (await realtime.ValidateAsync(Mint(With(("k1", K2.Private, null))))).Outcome);
    }

    [Fact]
    public async Task Rotation_overlaps_new_key_signs_old_tokens_stay_valid_until_the_old_key_is_removed()
    {
        var before = Mint(With(("k1", K1.Private, null)));
        // Step 1: Realtime learns k2 (both keys trusted). Step 2: Api signs with k2, still lists k1 for validation.
        var realtime = With(("k2", null, K2.Public), ("k1", null, K1.Public));
        var api = With(("k2", K2.Private, null), ("k1", null, K1.Public));
        var after = Mint(api);
        Assert.Equal("k2", new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(after).Kid);
        Assert.Equal(TokenValidationOutcome.Valid, (await realtime.ValidateAsync(before)).Outcome);
        Assert.Equal(TokenValidationOutcome.Valid, (await realtime.ValidateAsync(after)).Outcome);
        Assert.Equal(TokenValidationOutcome.Valid, (await api.ValidateAsync(before)).Outcome);
        // Step 3, after the longest token lifetime: k1 is removed everywhere and its tokens stop.
        var retired = With(("k2", null, K2.Public));
        Assert.Equal(TokenValidationOutcome.Invalid, (await retired.ValidateAsync(before)).Outcome);
        Assert.Equal(TokenValidationOutcome.Valid, (await retired.ValidateAsync(after)).Outcome);
    }

    [Fact]
    public async Task Tokens_carry_their_kind_origin_and_chain_start()
    {
        var api = With(("k1", K1.Private, null));
        var first = DateTimeOffset.UtcNow.AddHours(-3);
        var token = api.Issue(Guid.NewGuid(), "u1", null, TimeSpan.FromMinutes(5), ["attendee"], issuedUnder: "k:" + Guid.Empty, kind: TokenKinds.Attendee, firstIssuedAt: first);
        var claims = (await api.ValidateAsync(token)).Claims!;
        Assert.Equal(TokenKinds.Attendee, claims.Kind);
        Assert.Equal("k:" + Guid.Empty, claims.IssuedUnder);
        Assert.Equal(first.ToUnixTimeSeconds(), claims.FirstIssuedAt!.Value.ToUnixTimeSeconds());
    }
}
