using System.Net.Http.Headers;
using MimeKit;
using Platform.Core.Notifications;

namespace Platform.Tests.Integration.Notifications;

/// <summary>
/// Bounces mailed back after the SMTP conversation: real delivery status notifications (RFC 3464 MIME, as a receiving
/// MTA writes them) handed to the operator's ingest endpoint, found by the VERP envelope sender of the email they return.
/// </summary>
public sealed class EmailBounceTests(EmailFixture fx) : IClassFixture<EmailFixture>
{
    [Fact]
    public async Task A_permanent_bounce_disables_the_address_fails_the_delivery_and_is_audited_while_a_delay_changes_nothing()
    {
        var tenant = await fx.CreateTenantAsync("bounce-dsn");
        var (token, _) = await fx.UserTokenAsync(tenant.ApiKey, "max");
        await fx.ConfirmedEmailAsync(tenant.Id, "max", "Max@Example.net");
        var (mail, deliveryId) = await SendOneAsync(tenant.Id, "max", "Max@Example.net", "meeting-1");

        // A delay notice: recorded, nothing else changes.
        var delayed = await PostBounceAsync(Dsn(mail.MailFrom, "max@example.net", "delayed", "4.4.1", "smtp; 451 4.4.1 mailbox busy", mail.Message));
        Assert.Equal(HttpStatusCode.OK, delayed.StatusCode);
        var delayedView = await NotificationsFixture.Json(delayed);
        Assert.False(delayedView.GetProperty("addressDisabled").GetBoolean());
        Assert.Equal("transient", delayedView.GetProperty("recipients")[0].GetProperty("outcome").GetString());
        Assert.Equal("active", (await SettingsAsync(token)).GetProperty("emailStatus").GetString());

        // The permanent failure, days later: the address (compared without case) is disabled and the delivery failed.
        var bounced = await PostBounceAsync(Dsn(mail.MailFrom, "max@example.net", "failed", "5.1.1",
            "smtp; 550 5.1.1 <max@example.net>: Recipient address rejected: User unknown", mail.Message));
        Assert.Equal(HttpStatusCode.OK, bounced.StatusCode);
        var view = await NotificationsFixture.Json(bounced);
        Assert.Equal(deliveryId, view.GetProperty("deliveryId").GetInt64());
        Assert.True(view.GetProperty("addressDisabled").GetBoolean());
        Assert.Equal("address-disabled", view.GetProperty("recipients")[0].GetProperty("outcome").GetString());
        var settings = await SettingsAsync(token);
        Assert.Equal("disabled", settings.GetProperty("emailStatus").GetString());
        Assert.Contains("5.1.1", settings.GetProperty("emailReason").GetString());
        var delivery = Assert.Single(await fx.DeliveriesAsync(await OutboxOfAsync(deliveryId)));
        Assert.Equal(DeliveryStates.Failed, delivery.State);
        Assert.Contains("User unknown", delivery.Reason);
        Assert.Equal(1, await fx.ScalarAsync("""
            SELECT count(*) FROM ops.email_address_events
            WHERE tenant_id = $1 AND user_id = 'max' AND event = 'bounce-transient' AND source = 'dsn' AND status = '4.4.1' AND delivery_id = $2
            """, tenant.Id, deliveryId));
        Assert.Equal(1, await fx.ScalarAsync("""
            SELECT count(*) FROM ops.email_address_events
            WHERE tenant_id = $1 AND user_id = 'max' AND event = 'disabled' AND source = 'dsn' AND status = '5.1.1' AND delivery_id = $2
              AND email = 'Max@Example.net' AND detail LIKE '%User unknown%'
            """, tenant.Id, deliveryId));

        // The operator's list shows it, masked, with how it was disabled.
        var listed = await NotificationsFixture.Json(await fx.Client(TestSettings.OperatorKey).GetAsync("/v1/admin/notifications/email/disabled?limit=200"));
        var row = Assert.Single(listed.EnumerateArray(), r => r.GetProperty("tenantId").GetGuid() == tenant.Id);
        Assert.Equal(("M…@Example.net", "max", "dsn"), (row.GetProperty("maskedEmail").GetString(), row.GetProperty("userId").GetString(),
            row.GetProperty("source").GetString()));

        // The same report again (a mailbox read twice) disables nothing more and adds no second audit entry.
        var again = await NotificationsFixture.Json(await PostBounceAsync(Dsn(mail.MailFrom, "max@example.net", "failed", "5.1.1", "smtp; 550", mail.Message)));
        Assert.False(again.GetProperty("addressDisabled").GetBoolean());
        Assert.Equal(1, await fx.ScalarAsync("SELECT count(*) FROM ops.email_address_events WHERE tenant_id = $1 AND event = 'disabled'", tenant.Id));

        // A new address receives mail again; a late bounce for the old one does not touch it.
        await fx.Client(token).PatchAsync("/v1/me/notification-settings", NotificationsFixture.Body("""{"email":"max2@example.net"}"""));
        var late = await NotificationsFixture.Json(await PostBounceAsync(Dsn(mail.MailFrom, "max@example.net", "failed", "5.2.1", "smtp; 550 5.2.1 disabled", mail.Message)));
        Assert.Equal("address-changed", late.GetProperty("recipients")[0].GetProperty("outcome").GetString());
        Assert.Equal("active", (await SettingsAsync(token)).GetProperty("emailStatus").GetString());
    }

    [Fact]
    public async Task Garbage_a_report_of_another_kind_and_a_forged_return_path_are_problems_that_change_nothing()
    {
        var tenant = await fx.CreateTenantAsync("bounce-bad");
        var (token, _) = await fx.UserTokenAsync(tenant.ApiKey, "ned");
        await fx.ConfirmedEmailAsync(tenant.Id, "ned", "ned@example.net");
        var (mail, deliveryId) = await SendOneAsync(tenant.Id, "ned", "ned@example.net", "meeting-1");

        var permanent = Dsn(mail.MailFrom, "ned@example.net", "failed", "5.1.1", "smtp; 550 5.1.1 unknown", mail.Message);
        var forgedAddress = mail.MailFrom[..(mail.MailFrom.IndexOf('@') - 1)] + (mail.MailFrom[mail.MailFrom.IndexOf('@') - 1] == '0' ? "1" : "0")
            + mail.MailFrom[mail.MailFrom.IndexOf('@')..];
        var plain = new MimeMessage(new[] { new MailboxAddress("A", "a@example.net") }, new[] { MailboxAddress.Parse(mail.MailFrom) }, "hello",
            new TextPart("plain") { Text = "Not a report at all." });
        foreach (var (name, body) in new[]
                 {
                     ("text that is not mail", "hello, this is not a MIME message\u0001\u0002"u8.ToArray()),
                     ("an empty body", Array.Empty<byte>()),
                     ("a message that is not a report", Bytes(plain)),
                     ("a report to a forged return path", Dsn(forgedAddress, "ned@example.net", "failed", "5.1.1", "smtp; 550", mail.Message)),
                     ("a report to no address of ours", Dsn("postmaster@example.net", "ned@example.net", "failed", "5.1.1", "smtp; 550", mail.Message)),
                 })
        {
            var response = await PostBounceAsync(body);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{name}: {response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("body", (await NotificationsFixture.Json(response)).GetProperty("errors").EnumerateObject().Select(p => p.Name));
        }
        // Only operators hand in bounces: a tenant key cannot disable its users' addresses this way.
        using var asTenant = new ByteArrayContent(permanent) { Headers = { ContentType = new MediaTypeHeaderValue("message/rfc822") } };
        var tenantCall = await fx.Client(tenant.ApiKey).PostAsync("/v1/internal/notifications/bounces", asTenant);
        Assert.True(tenantCall.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden, tenantCall.StatusCode.ToString());

        Assert.Equal("active", (await SettingsAsync(token)).GetProperty("emailStatus").GetString());
        Assert.Equal(0, await fx.ScalarAsync("SELECT count(*) FROM ops.email_address_events WHERE tenant_id = $1", tenant.Id));
        Assert.Equal(DeliveryStates.Sent, Assert.Single(await fx.DeliveriesAsync(await OutboxOfAsync(deliveryId))).State);
    }

    private async Task<(ReceivedMail Mail, long DeliveryId)> SendOneAsync(Guid tenant, string user, string address, string subject)
    {
        var sent = await fx.ProduceAsync(tenant, user, subject, "civic.meeting-summary", NotificationChannels.Email, new { title = "Budget adopted" });
        var mail = await fx.Smtp.WaitForAsync(m => m.RcptTos.Contains(address), "the email reaches the SMTP server");
        await fx.WaitForDeliveriesAsync(sent.OutboxId, d => d.Count == 1 && d[0].State == DeliveryStates.Sent, "the delivery is sent");
        return (mail, await fx.ScalarAsync("SELECT id FROM ops.notification_deliveries WHERE outbox_id = $1", sent.OutboxId));
    }

    private Task<long> OutboxOfAsync(long deliveryId) => fx.ScalarAsync("SELECT outbox_id FROM ops.notification_deliveries WHERE id = $1", deliveryId);

    private async Task<System.Text.Json.JsonElement> SettingsAsync(string token) =>
        await NotificationsFixture.Json(await fx.Client(token).GetAsync("/v1/me/notification-settings"));

    private Task<HttpResponseMessage> PostBounceAsync(byte[] raw)
    {
        var content = new ByteArrayContent(raw) { Headers = { ContentType = new MediaTypeHeaderValue("message/rfc822") } };
        return fx.Client(TestSettings.OperatorKey).PostAsync("/v1/internal/notifications/bounces", content);
    }

    /// <summary>A delivery status notification as a receiving MTA writes it (RFC 3464), returning the whole original message.</summary>
    private static byte[] Dsn(string returnPath, string recipient, string action, string status, string diagnostic, MimeMessage original)
    {
        var report = new MultipartReport("delivery-status")
        {
            new TextPart("plain") { Text = "This is the mail system at host mx.example.net.\n\nYour message could not be delivered to one or more recipients.\n" },
        };
        var deliveryStatus = new MessageDeliveryStatus();
        deliveryStatus.StatusGroups.Add(new HeaderList { { "Reporting-MTA", "dns; mx.example.net" }, { "Arrival-Date", DateTimeOffset.UtcNow.ToString("r") } });
        deliveryStatus.StatusGroups.Add(new HeaderList
        {
            { "Final-Recipient", $"rfc822; {recipient}" }, { "Original-Recipient", $"rfc822;{recipient}" }, { "Action", action },
            { "Status", status }, { "Remote-MTA", "dns; mx.example.net" }, { "Diagnostic-Code", diagnostic },
        });
        report.Add(deliveryStatus);
        report.Add(new MessagePart("rfc822") { Message = original });
        var dsn = new MimeMessage(new[] { new MailboxAddress("Mail Delivery System", "MAILER-DAEMON@mx.example.net") },
            new[] { MailboxAddress.Parse(returnPath) }, "Undelivered Mail Returned to Sender", report);
        dsn.Headers.Add("Delivered-To", returnPath);
        dsn.Headers.Add("Auto-Submitted", "auto-replied");
        return Bytes(dsn);
    }

    private static byte[] Bytes(MimeMessage message)
    {
        using var stream = new MemoryStream();
        message.WriteTo(stream);
        return stream.ToArray();
    }
}
