using System.Security.Cryptography;
using Platform.Core.Notifications;
using Platform.Tests.Unit.Security;

namespace Platform.Tests.Integration.Notifications;

/// <summary>
/// Webhook and Web Push endpoints are tenant- and user-controlled: a name that resolves to loopback is refused by the
/// outbound pipeline before any connection, and internal addresses or plain http are refused at registration.
/// Only 127.0.0.1 is ever listened on; no test connects anywhere else.
/// </summary>
public sealed class OutboundRefusalTests(NotificationsFixture fx) : IClassFixture<NotificationsFixture>
{
    [Fact]
    public async Task A_webhook_whose_host_resolves_to_loopback_fails_once_as_refused_and_the_listener_gets_no_connection()
    {
        using var listener = new LoopbackListener();
        var tenant = await fx.CreateTenantAsync("ssrf-hook");
        var response = await fx.Client(tenant.ApiKey).PostAsJsonAsync("/v1/webhooks", new { url = $"https://localhost:{listener.Port}/hook" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode); // names are checked when connecting, after DNS

        var n = await fx.ProduceAsync(tenant.Id, "max", "case-1", "impact.alert", NotificationChannels.Webhook);
        var deliveries = await fx.WaitForDeliveriesAsync(n.OutboxId, d => d.Count == 1 && d[0].State != DeliveryStates.Pending, "the delivery finishes");
        Assert.Equal(DeliveryStates.Failed, deliveries[0].State);
        Assert.Equal(1, deliveries[0].Attempts); // refusal is final: asking again reaches the same address
        Assert.Contains("refused", deliveries[0].Reason);
        Assert.Equal(0, listener.Accepted);
    }

    [Fact]
    public async Task A_push_endpoint_whose_host_resolves_to_loopback_is_refused_and_the_listener_gets_no_connection()
    {
        using var listener = new LoopbackListener();
        var tenant = await fx.CreateTenantAsync("ssrf-push");
        var (token, _) = await fx.UserTokenAsync(tenant.ApiKey, "nia");
        var p256dh = Base64Url.Encode(P256.PublicKeyBytes(ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256).ExportParameters(false)));
        var response = await fx.Client(token).PostAsJsonAsync("/v1/me/push-subscriptions",
            new { endpoint = $"https://localhost:{listener.Port}/push/1", keys = new { p256dh, auth = Base64Url.Encode(new byte[16]) } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);

        var n = await fx.ProduceAsync(tenant.Id, "nia", "meeting-1", "civic.meeting-summary", NotificationChannels.WebPush);
        var deliveries = await fx.WaitForDeliveriesAsync(n.OutboxId, d => d.Count == 1 && d[0].State != DeliveryStates.Pending, "the delivery finishes");
        Assert.Equal(DeliveryStates.Failed, deliveries[0].State);
        Assert.Contains("refused", deliveries[0].Reason);
        Assert.Equal(0, listener.Accepted);
    }

    [Fact]
    public async Task Internal_addresses_and_plain_http_are_refused_at_registration_and_nothing_is_stored()
    {
        var tenant = await fx.CreateTenantAsync("ssrf-register");
        var (token, _) = await fx.UserTokenAsync(tenant.ApiKey, "oli");
        var p256dh = Base64Url.Encode(P256.PublicKeyBytes(ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256).ExportParameters(false)));
        string[] urls =
        [
            "http://hooks.example.com/x", "https://169.254.169.254/latest/meta-data/", "https://10.0.0.5/x", "https://[::1]/x",
            "https://[fd00:ec2::254]/x", "https://192.168.1.1/x", "https://user:pw@hooks.example.com/x", "file:///etc/passwd",
        ];
        foreach (var url in urls)
        {
            var hook = await fx.Client(tenant.ApiKey).PostAsJsonAsync("/v1/webhooks", new { url });
            Assert.Equal(HttpStatusCode.BadRequest, hook.StatusCode);
            Assert.Equal("application/problem+json", hook.Content.Headers.ContentType?.MediaType);
            var push = await fx.Client(token).PostAsJsonAsync("/v1/me/push-subscriptions",
                new { endpoint = url, keys = new { p256dh, auth = Base64Url.Encode(new byte[16]) } });
            Assert.Equal(HttpStatusCode.BadRequest, push.StatusCode);
        }
        Assert.Equal(0, (await NotificationsFixture.Json(await fx.Client(tenant.ApiKey).GetAsync("/v1/webhooks"))).GetArrayLength());
        Assert.Equal(0, (await NotificationsFixture.Json(await fx.Client(token).GetAsync("/v1/me/push-subscriptions"))).GetArrayLength());
    }
}
