using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Core.Data;

namespace Platform.Tests.Integration.Identity;

/// <summary>Two Api replicas on one database, their Data Protection keys encrypted with a certificate.</summary>
public sealed class TwoReplicasFixture : IdentityFixture
{
    public ApiFactory Second { get; private set; } = null!;

    protected override void Configure(Dictionary<string, string?> settings)
    {
        base.Configure(settings);
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=platform key ring test", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        settings["Platform:DataProtection:CertificatePem"] = certificate.ExportCertificatePem();
        settings["Platform:DataProtection:PrivateKeyPem"] = rsa.ExportPkcs8PrivateKeyPem();
    }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Second = new ApiFactory(new Dictionary<string, string?>(Api.Settings));
        _ = Second.Server;
    }

    public override async Task DisposeAsync()
    {
        if (Second is not null)
        {
            await Second.DisposeAsync();
        }
        await base.DisposeAsync();
    }
}

/// <summary>
/// One key ring for every Api replica: a sign-in page served by one replica is posted to another, whose sign-in cookie
/// the first accepts; the keys are stored encrypted.
/// </summary>
public sealed class SharedKeyRingTests(TwoReplicasFixture fx) : IClassFixture<TwoReplicasFixture>
{
    [Fact]
    public async Task A_browser_signed_in_by_one_replica_is_signed_in_at_another_and_the_keys_are_encrypted_at_rest()
    {
        var tenant = await fx.CreateTenantAsync("two-replicas");
        var clientId = await fx.RegisterClientAsync(tenant.ApiKey);
        // One browser (one cookie jar) whose requests a load balancer spreads over the two replicas.
        var jar = new CookieContainer();
        var first = fx.Api.CreateDefaultClient(new CookieContainerHandler(jar));
        var second = fx.Second.CreateDefaultClient(new CookieContainerHandler(jar));

        var (_, challenge) = IdentityFixture.Pkce();
        var authorize = IdentityFixture.AuthorizeUrl(tenant.Id, clientId, challenge);
        var toLogin = await first.GetAsync(authorize);
        Assert.Equal(HttpStatusCode.Redirect, toLogin.StatusCode);
        var login = toLogin.Headers.Location!.OriginalString;
        var returnUrl = Uri.UnescapeDataString(login[(login.IndexOf('=') + 1)..]);
        var page = await first.GetStringAsync($"/t/{tenant.Id}/account/register?returnUrl={Uri.EscapeDataString(returnUrl)}");

        // The form (antiforgery token and cookie of the first replica) is posted to the second: accepted, signed in there.
        var registered = await second.PostAsync($"/t/{tenant.Id}/account/register", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__af"] = IdentityFixture.AntiforgeryToken(page), ["email"] = "hans@example.org", ["password"] = "a moleman's long passphrase",
            ["returnUrl"] = returnUrl,
        }));
        Assert.True(registered.StatusCode == HttpStatusCode.Redirect, await registered.Content.ReadAsStringAsync());

        // The first replica reads the second's sign-in cookie: the authorize request goes straight back to the app.
        var back = await first.GetAsync(returnUrl);
        Assert.Equal(HttpStatusCode.Redirect, back.StatusCode);
        Assert.StartsWith(IdentityFixture.RedirectUri + "?code=", back.Headers.Location!.AbsoluteUri);

        await using var cmd = await fx.Api.Services.GetRequiredService<NpgsqlDataSource>().CreateSystemCommandAsync(
            "test reads the key ring", "SELECT xml FROM identity.data_protection_keys");
        var keys = new List<string>();
        await using (var r = await cmd.ExecuteReaderAsync())
        {
            while (await r.ReadAsync())
            {
                keys.Add(r.GetString(0));
            }
        }
        Assert.NotEmpty(keys);
        Assert.All(keys, xml =>
        {
            Assert.Contains("EncryptedData", xml);
            Assert.DoesNotContain("<value>", xml);
        });
    }
}
