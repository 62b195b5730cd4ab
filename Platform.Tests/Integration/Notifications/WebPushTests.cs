using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Platform.Core.Notifications;

namespace Platform.Tests.Integration.Notifications;

public sealed class WebPushTests(NotificationsFixture fx) : IClassFixture<NotificationsFixture>
{
    private sealed record Received(string Path, string Plaintext, string ContentEncoding, bool VapidValid);

    [Fact]
    public async Task The_push_service_receives_a_message_it_decrypts_with_the_subscription_key_and_410_suppresses()
    {
        // The browser's side: its own key pair and auth secret, known only to the test.
        using var browser = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var authSecret = RandomNumberGenerator.GetBytes(16);
        var received = new ConcurrentQueue<Received>();
        await using var pushService = await StubServer.StartAsync(app =>
        {
            app.MapPost("/push/{id}", async (string id, HttpRequest request) =>
            {
                using var body = new MemoryStream();
                await request.Body.CopyToAsync(body);
                if (id == "gone")
                {
                    received.Enqueue(new Received(id, "", request.Headers.ContentEncoding.ToString(), false));
                    return Results.StatusCode(StatusCodes.Status410Gone);
                }
                var plaintext = Encoding.UTF8.GetString(WebPushEncryption.Decrypt(body.ToArray(), browser, authSecret));
                received.Enqueue(new Received(id, plaintext, request.Headers.ContentEncoding.ToString(),
                    VerifyVapid(request.Headers.Authorization.ToString(), fx.VapidKeys.PublicKey)));
                return Results.StatusCode(StatusCodes.Status201Created);
            });
        });

        var tenant = await fx.CreateTenantAsync("push");
        var (token, _) = await fx.UserTokenAsync(tenant.ApiKey, "ivy");
        var p256dh = Base64Url.Encode(P256.PublicKeyBytes(browser.ExportParameters(false)));
        foreach (var id in new[] { "ok", "gone" })
        {
            var response = await fx.Client(token).PostAsJsonAsync("/v1/me/push-subscriptions",
                new { endpoint = new Uri(pushService.BaseAddress, $"/push/{id}").ToString(), keys = new { p256dh, auth = Base64Url.Encode(authSecret) } });
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }

        var n = await fx.ProduceAsync(tenant.Id, "ivy", "meeting-9", "civic.meeting-summary", NotificationChannels.WebPush, new { title = "Council met" });
        var deliveries = await fx.WaitForDeliveriesAsync(n.OutboxId, d => d.Count == 2 && d.All(x => x.State != DeliveryStates.Pending),
            "both push deliveries finish");

        var ok = Assert.Single(received, r => r.Path == "ok");
        Assert.Equal("aes128gcm", ok.ContentEncoding);
        Assert.True(ok.VapidValid, "the VAPID JWT verifies with the configured public key");
        using var message = JsonDocument.Parse(ok.Plaintext);
        Assert.Equal(n.OutboxId, message.RootElement.GetProperty("id").GetInt64());
        Assert.Equal("Council met", message.RootElement.GetProperty("payload").GetProperty("title").GetString());

        Assert.Contains(deliveries, d => d.State == DeliveryStates.Sent);
        Assert.Contains(deliveries, d => d.State == DeliveryStates.Suppressed && d.Reason == SuppressionReasons.SubscriptionGone);
        var subscriptions = await NotificationsFixture.Json(await fx.Client(token).GetAsync("/v1/me/push-subscriptions"));
        Assert.Equal("suppressed", subscriptions.EnumerateArray().Single(s => s.GetProperty("endpoint").GetString()!.EndsWith("/gone")).GetProperty("status").GetString());

        // The suppressed subscription is not used again.
        var next = await fx.ProduceAsync(tenant.Id, "ivy", "meeting-10", "civic.meeting-summary", NotificationChannels.WebPush);
        var nextDeliveries = await fx.WaitForDeliveriesAsync(next.OutboxId, d => d.Count == 1 && d[0].State == DeliveryStates.Sent, "only the live subscription");
        Assert.Single(nextDeliveries);
        Assert.Single(received, r => r.Path == "gone");
    }

    [Fact]
    public async Task A_bad_subscription_is_a_problem_and_stores_nothing()
    {
        var tenant = await fx.CreateTenantAsync("push-bad");
        var (token, _) = await fx.UserTokenAsync(tenant.ApiKey, "jon");
        var good = Base64Url.Encode(P256.PublicKeyBytes(ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256).ExportParameters(false)));
        var auth = Base64Url.Encode(new byte[16]);
        object[] bodies =
        [
            new { endpoint = "not a url", keys = new { p256dh = good, auth } },
            new { endpoint = "https://push.example/x", keys = new { p256dh = "AAAA", auth } },
            new { endpoint = "https://push.example/x", keys = new { p256dh = good, auth = "short" } },
            new { endpoint = "https://push.example/x" },
        ];
        foreach (var body in bodies)
        {
            var response = await fx.Client(token).PostAsJsonAsync("/v1/me/push-subscriptions", body);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        Assert.Equal(0, (await NotificationsFixture.Json(await fx.Client(token).GetAsync("/v1/me/push-subscriptions"))).GetArrayLength());
    }

    /// <summary>RFC 8292 §2–3: "vapid t=JWT, k=key"; the JWT is ES256 signed by k.</summary>
    private static bool VerifyVapid(string header, string expectedKey)
    {
        var parts = header["vapid ".Length..].Split(", ").Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        if (parts["k"] != expectedKey)
        {
            return false;
        }
        var jwt = parts["t"].Split('.');
        var key = Base64Url.Decode(parts["k"]);
        using var ecdsa = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = key[1..33], Y = key[33..] },
        });
        using var claims = JsonDocument.Parse(Base64Url.Decode(jwt[1]));
        return ecdsa.VerifyData(Encoding.ASCII.GetBytes($"{jwt[0]}.{jwt[1]}"), Base64Url.Decode(jwt[2]), HashAlgorithmName.SHA256)
            && claims.RootElement.GetProperty("aud").GetString()!.StartsWith("http://127.0.0.1:")
            && claims.RootElement.GetProperty("exp").GetInt64() > DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    }
}
