using System.Security.Cryptography;
using System.Text;
using Platform.Core.Notifications;

namespace Platform.Tests.Integration.Notifications;

/// <summary>A new address receives mail other than safety alerts only after its owner confirms it through the link mailed to it.</summary>
public sealed class EmailVerificationTests(EmailFixture fx) : IClassFixture<EmailFixture>
{
    private const string Subject = "Confirm your email address";

    [Fact]
    public async Task A_new_address_gets_only_safety_alerts_until_its_one_time_link_is_confirmed_and_the_token_is_stored_hashed()
    {
        var tenant = await fx.CreateTenantAsync("verify");
        // A tenant making email opt-in must not hold back the confirmation of a person's own address.
        Assert.Equal(HttpStatusCode.OK, (await fx.Client(tenant.ApiKey).PatchAsync("/v1/notification-defaults",
            NotificationsFixture.Body("""{"preferences":[{"type":"*","channel":"email","enabled":false},{"type":"civic.agenda","channel":"email","enabled":true},{"type":"safety.escalation","channel":"email","enabled":true}]}"""))).StatusCode);
        var (token, _) = await fx.UserTokenAsync(tenant.ApiKey, "olga");
        var client = fx.Client(token);
        var set = await NotificationsFixture.Json(await client.PatchAsync("/v1/me/notification-settings", NotificationsFixture.Body("""{"email":"olga@example.net"}""")));
        Assert.False(set.GetProperty("emailVerified").GetBoolean());

        // The link arrives through the outbox like any email; it carries no unsubscribe header (it is no subscription).
        var confirmation = await fx.Smtp.WaitForAsync(m => m.RcptTos.Contains("olga@example.net") && m.Message.Subject == Subject, "the confirmation email arrives");
        Assert.Null(confirmation.Message.Headers["List-Unsubscribe"]);
        var link = new Uri(System.Text.RegularExpressions.Regex.Match(confirmation.Message.TextBody ?? "", @"https://api\.example\.org/v1/email-verification\?token=\S+").Value);
        var linkToken = Uri.UnescapeDataString(link.Query["?token=".Length..]);

        // Until confirmed: an ordinary email is suppressed, a safety alert still goes.
        var early = await fx.ProduceAsync(tenant.Id, "olga", "agenda-1", "civic.agenda", NotificationChannels.Email, new { title = "Agenda" });
        var held = await fx.WaitForDeliveriesAsync(early.OutboxId, d => d.Count == 1 && d[0].State != DeliveryStates.Pending, "the email ends");
        Assert.Equal((DeliveryStates.Suppressed, SuppressionReasons.EmailUnverified), (held[0].State, held[0].Reason));
        var alert = await fx.ProduceAsync(tenant.Id, "olga", "flag-1", SafetyEscalation.Type, NotificationChannels.Email, new { title = "Safety flag" });
        await fx.WaitForDeliveriesAsync(alert.OutboxId, d => d.Count == 1 && d[0].State == DeliveryStates.Sent, "a safety alert reaches an unconfirmed address");

        // At rest only the token's SHA-256: not in the verification row, not in the notification's payload.
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(linkToken));
        Assert.Equal(1, await fx.ScalarAsync("SELECT count(*) FROM ops.email_verifications WHERE tenant_id = $1 AND token_hash = $2 AND confirmed_at IS NULL", tenant.Id, hash));
        Assert.Equal(0, await fx.ScalarAsync("SELECT count(*) FROM ops.notification_outbox WHERE tenant_id = $1 AND payload::text LIKE '%' || $2 || '%'", tenant.Id, linkToken));

        // GET only shows a page (link scanners confirm nothing); POST confirms, once.
        Assert.Equal(HttpStatusCode.OK, (await fx.Client().GetAsync(link.PathAndQuery)).StatusCode);
        Assert.False((await Settings(client)).GetProperty("emailVerified").GetBoolean());
        var confirmed = await fx.Client().PostAsync(link.PathAndQuery, null);
        Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        Assert.True((await Settings(client)).GetProperty("emailVerified").GetBoolean());
        var again = await fx.Client().PostAsync(link.PathAndQuery, null);
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.Contains("already been used", (await NotificationsFixture.Json(again)).GetProperty("detail").GetString());
        var later = await fx.ProduceAsync(tenant.Id, "olga", "agenda-2", "civic.agenda", NotificationChannels.Email, new { title = "Agenda two" });
        await fx.WaitForDeliveriesAsync(later.OutboxId, d => d.Count == 1 && d[0].State == DeliveryStates.Sent, "mail flows once confirmed");
        Assert.Equal(1, await fx.ScalarAsync("SELECT count(*) FROM ops.email_address_events WHERE tenant_id = $1 AND event = 'verification-sent'", tenant.Id));
        Assert.Equal(1, await fx.ScalarAsync("SELECT count(*) FROM ops.email_address_events WHERE tenant_id = $1 AND event = 'verified' AND email = 'olga@example.net'", tenant.Id));

        // A confirmed address gets no new link; an altered link is a problem.
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsync("/v1/me/notification-settings/email-verification", null)).StatusCode);
        var altered = await fx.Client().PostAsync("/v1/email-verification?token=" + Uri.EscapeDataString(linkToken[..^2] + (linkToken[^2] == 'A' ? "B" : "A") + linkToken[^1]), null);
        Assert.Equal(HttpStatusCode.BadRequest, altered.StatusCode);
        Assert.Equal("application/problem+json", altered.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_link_expires_and_a_link_for_a_replaced_address_confirms_nothing()
    {
        var tenant = await fx.CreateTenantAsync("verify-expiry");
        var (token, _) = await fx.UserTokenAsync(tenant.ApiKey, "pia");
        var client = fx.Client(token);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/v1/me/notification-settings/email-verification", null)).StatusCode);
        await client.PatchAsync("/v1/me/notification-settings", NotificationsFixture.Body("""{"email":"pia@example.net"}"""));
        var first = await LinkAsync("pia@example.net", 1);

        // A second link on request; the first one expires (moved into the past here).
        var resent = await client.PostAsync("/v1/me/notification-settings/email-verification", null);
        Assert.Equal(HttpStatusCode.Accepted, resent.StatusCode);
        var second = await LinkAsync("pia@example.net", 2);
        await fx.ScalarAsync("""
            WITH e AS (UPDATE ops.email_verifications SET expires_at = now() - interval '1 minute' WHERE tenant_id = $1 AND token_hash = $2 RETURNING 1)
            SELECT count(*) FROM e
            """, tenant.Id, SHA256.HashData(Encoding.UTF8.GetBytes(Uri.UnescapeDataString(first.Query["?token=".Length..]))));
        var expired = await fx.Client().PostAsync(first.PathAndQuery, null);
        Assert.Equal(HttpStatusCode.BadRequest, expired.StatusCode);
        Assert.Contains("expired", (await NotificationsFixture.Json(expired)).GetProperty("detail").GetString());

        // After another address is set, the link for the old one confirms nothing.
        await client.PatchAsync("/v1/me/notification-settings", NotificationsFixture.Body("""{"email":"pia.new@example.net"}"""));
        var stale = await fx.Client().PostAsync(second.PathAndQuery, null);
        Assert.Equal(HttpStatusCode.BadRequest, stale.StatusCode);
        var view = await Settings(client);
        Assert.Equal(("pia.new@example.net", false), (view.GetProperty("email").GetString(), view.GetProperty("emailVerified").GetBoolean()));
    }

    private async Task<Uri> LinkAsync(string address, int nth)
    {
        var mails = await Eventually.ReturnsAsync(() => Task.FromResult(fx.Smtp.Received().Where(m => m.RcptTos.Contains(address) && m.Message.Subject == Subject).ToList()),
            l => l.Count >= nth, TimeSpan.FromSeconds(30), $"confirmation email {nth} arrives");
        return new Uri(System.Text.RegularExpressions.Regex.Match(mails[nth - 1].Message.TextBody ?? "", @"https://api\.example\.org/v1/email-verification\?token=\S+").Value);
    }

    private static async Task<System.Text.Json.JsonElement> Settings(HttpClient client) =>
        await NotificationsFixture.Json(await client.GetAsync("/v1/me/notification-settings"));
}
