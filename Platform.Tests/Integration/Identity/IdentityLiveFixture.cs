using Platform.Core.Security;
using Platform.Tests.Integration.Notifications;

namespace Platform.Tests.Integration.Identity;

/// <summary>
/// A tenant's issuer with the rest of the system live: Api holding the ES256 key, two Realtime nodes, the real Worker,
/// and a real SMTP server on loopback that the Worker's email channel sends to.
/// </summary>
public sealed class IdentityLiveFixture : NotificationsFixture
{
    public LocalSmtp Smtp { get; private set; } = null!;

    protected override void Configure(Dictionary<string, string?> settings)
    {
        base.Configure(settings);
        settings["Platform:Jwt:Keys:0:Id"] = "idlive";
        settings["Platform:Jwt:Keys:0:PrivateKey"] = ClientTokens.GenerateKeyPair().PrivatePem;
    }

    public override async Task InitializeAsync()
    {
        Smtp = await LocalSmtp.StartAsync();
        await base.InitializeAsync();
    }

    protected override void ConfigureWorker(Dictionary<string, string?> settings)
    {
        settings["ConnectionStrings:smtp"] = $"Endpoint=smtp://127.0.0.1:{Smtp.Port};Username={LocalSmtp.Login};Password={LocalSmtp.Password};Security=StartTls";
        settings["Platform:Notifications:Email:From"] = "signin@mail.example.org";
        settings["Platform:Notifications:Email:PublicBaseUrl"] = "https://api.example.org";
        settings["Platform:Notifications:Email:UnsubscribeKey"] = "identity-live-unsubscribe-key";
        settings["Platform:Notifications:Email:ServerCertificateSha256"] = Smtp.CertificateSha256;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Smtp.DisposeAsync();
    }
}
