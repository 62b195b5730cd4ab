using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Platform.Core.Notifications;
using Platform.Tests.Integration.Notifications;

namespace Platform.Tests.Integration.Identity;

/// <summary>
/// End-user tokens on Realtime: a token of a tenant's own (trusted) issuer opens the user's notification stream exactly
/// as on Api, and a socket opened with a token of the platform's issuer closes within seconds of sign-out or revocation.
/// </summary>
public sealed class RealtimeIdentityTests(IdentityLiveFixture fx) : IClassFixture<IdentityLiveFixture>
{
    private const string Password = "correct horse battery staple";
    /// <summary>Well under the nodes' periodic re-check (60 s): only the pushed revocation closes a socket this fast.</summary>
    private static readonly TimeSpan Promptly = TimeSpan.FromSeconds(10);

    private Uri StreamUrl(int node, string token) => new(fx.NodeUri(node), $"/v1/stream?token={Uri.EscapeDataString(token)}");

    [Fact]
    public async Task A_token_of_the_tenants_own_issuer_opens_the_users_notification_stream_on_Realtime()
    {
        const string issuer = "https://login.resident-app.example";
        using var rsa = RSA.Create(2048);
        var p = rsa.ExportParameters(false);
        var jwks = JsonSerializer.Serialize(new
        {
            keys = new[] { new { kty = "RSA", kid = "r1", use = "sig", alg = "RS256", n = IdentityFixture.Base64Url(p.Modulus!), e = IdentityFixture.Base64Url(p.Exponent!) } },
        });
        await using var idp = await StubServer.StartAsync(a => a.MapGet("/jwks", () => Results.Content(jwks, "application/json")));
        var tenant = await fx.CreateTenantAsync("byo-realtime");
        string Mint(RSA key) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = "resident-api",
            Subject = new ClaimsIdentity([new Claim("sub", "resident-7")]),
            Expires = DateTime.UtcNow + TimeSpan.FromMinutes(5),
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(key) { KeyId = "r1" }, SecurityAlgorithms.RsaSha256),
        });

        // Before the tenant trusts the issuer, Realtime refuses the token like Api does.
        await using (var early = await NotificationStreamClient.ConnectAsync(StreamUrl(0, Mint(rsa))))
        {
            Assert.Equal(4401, (int?)early.CloseStatus);
        }
        var set = await fx.Client(tenant.ApiKey).PutAsJsonAsync("/v1/identity/trusted-issuers", new
        {
            issuer, audience = "resident-api", jwksUri = new Uri(idp.BaseAddress, "/jwks").ToString(),
        });
        Assert.Equal(HttpStatusCode.NoContent, set.StatusCode);

        await using var stream = await NotificationStreamClient.ConnectAsync(StreamUrl(1, Mint(rsa)));
        Assert.Null(stream.CloseStatus);
        var produced = await fx.ProduceAsync(tenant.Id, "resident-7", "meeting:byo", channels: NotificationChannels.InApp);
        await stream.WaitForAsync(produced.OutboxId);

        // A token signed by another key is refused on the stream as on Api.
        using var stranger = RSA.Create(2048);
        await using var forged = await NotificationStreamClient.ConnectAsync(StreamUrl(0, Mint(stranger)));
        Assert.Equal(4401, (int?)forged.CloseStatus);
    }

    [Fact]
    public async Task Signing_out_closes_the_users_live_socket_promptly()
    {
        var tenant = await fx.CreateTenantAsync("socket-signout");
        var clientId = await fx.RegisterClientAsync(tenant.ApiKey);
        var browser = fx.Browser();
        var tokens = await fx.SignInAsync(browser, tenant.Id, clientId, "homer@example.org", Password, register: true);
        await using var stream = await NotificationStreamClient.ConnectAsync(StreamUrl(0, tokens.GetProperty("access_token").GetString()!));
        Assert.Null(stream.CloseStatus);

        var signOut = await browser.GetAsync(
            $"/t/{tenant.Id}/connect/endsession?client_id={clientId}&post_logout_redirect_uri={Uri.EscapeDataString(IdentityFixture.PostLogoutUri)}");
        Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);
        await Eventually.TrueAsync(() => Task.FromResult(stream.CloseStatus is not null), Promptly, "the socket closes after sign-out");
        Assert.Equal(4401, (int?)stream.CloseStatus);
    }

    [Fact]
    public async Task Revoking_the_refresh_token_closes_the_sockets_of_that_sign_in_promptly()
    {
        var tenant = await fx.CreateTenantAsync("socket-revoke");
        var clientId = await fx.RegisterClientAsync(tenant.ApiKey);
        var tokens = await fx.SignInAsync(fx.Browser(), tenant.Id, clientId, "ned@example.org", Password, register: true);
        var access = tokens.GetProperty("access_token").GetString()!;
        await using var onA = await NotificationStreamClient.ConnectAsync(StreamUrl(0, access));
        await using var onB = await NotificationStreamClient.ConnectAsync(StreamUrl(1, access));
        Assert.Null(onA.CloseStatus);
        Assert.Null(onB.CloseStatus);

        var revoked = await fx.Client().PostAsync($"/t/{tenant.Id}/connect/revoke", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["token"] = tokens.GetProperty("refresh_token").GetString()!, ["token_type_hint"] = "refresh_token", ["client_id"] = clientId,
        }));
        Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        await Eventually.TrueAsync(() => Task.FromResult(onA.CloseStatus is not null && onB.CloseStatus is not null), Promptly,
            "both nodes close the sign-in's sockets");
        Assert.Equal(4401, (int?)onA.CloseStatus);
        Assert.Equal(4401, (int?)onB.CloseStatus);
        // And the token cannot open a new one.
        await using var reopened = await NotificationStreamClient.ConnectAsync(StreamUrl(0, access));
        Assert.Equal(4401, (int?)reopened.CloseStatus);
    }
}
