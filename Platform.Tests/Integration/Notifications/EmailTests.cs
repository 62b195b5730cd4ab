using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;
using Platform.Core.Notifications;

namespace Platform.Tests.Integration.Notifications;

/// <summary>The notification stack with a real SMTP server on loopback (STARTTLS + AUTH) and DKIM signing.</summary>
public sealed class EmailFixture : NotificationsFixture
{
    public const string UnsubscribeKey = "test-unsubscribe-key";
    public const string DkimDomain = "mail.example.org";
    public const string DkimSelector = "s2026";
    public const string BounceAddress = "bounces@mail.example.org";

    public RSA DkimKey { get; } = RSA.Create(2048);
    public LocalSmtp Smtp { get; private set; } = null!;

    protected override void Configure(Dictionary<string, string?> settings)
    {
        base.Configure(settings);
        settings["Platform:Notifications:Email:UnsubscribeKey"] = UnsubscribeKey;
        settings["Platform:Notifications:Email:BounceAddress"] = BounceAddress;
    }

    public override async Task InitializeAsync()
    {
        Smtp = await LocalSmtp.StartAsync();
        await base.InitializeAsync();
    }

    protected override void ConfigureWorker(Dictionary<string, string?> settings)
    {
        settings["ConnectionStrings:smtp"] = $"Endpoint=smtp://127.0.0.1:{Smtp.Port};Username={LocalSmtp.Login};Password={LocalSmtp.Password};Security=StartTls";
        settings["Platform:Notifications:Email:From"] = "notify@mail.example.org";
        settings["Platform:Notifications:Email:PublicBaseUrl"] = "https://api.example.org";
        settings["Platform:Notifications:Email:UnsubscribeKey"] = UnsubscribeKey;
        settings["Platform:Notifications:Email:ServerCertificateSha256"] = Smtp.CertificateSha256;
        settings["Platform:Notifications:Email:BounceAddress"] = BounceAddress;
        settings["Platform:Notifications:Email:Dkim:Domain"] = DkimDomain;
        settings["Platform:Notifications:Email:Dkim:Selector"] = DkimSelector;
        settings["Platform:Notifications:Email:Dkim:PrivateKeyPem"] = DkimKey.ExportRSAPrivateKeyPem();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Smtp.DisposeAsync();
        DkimKey.Dispose();
    }
}

public sealed class EmailTests(EmailFixture fx) : IClassFixture<EmailFixture>
{
    [Fact]
    public async Task An_email_arrives_as_branded_multipart_mime_over_starttls_with_auth_dkim_signed_and_one_click_unsubscribe_works()
    {
        var tenant = await fx.CreateTenantAsync("mail-brand");
        var brand = await fx.Client(tenant.ApiKey).PutAsync("/v1/notification-branding",
            NotificationsFixture.Body("""{"displayName":"Springfield Civic","accentColor":"#aa3300","footer":"Springfield City Hall, 1 Main St"}"""));
        Assert.Equal(HttpStatusCode.OK, brand.StatusCode);
        var (token, _) = await fx.UserTokenAsync(tenant.ApiKey, "gil");
        await fx.ConfirmedEmailAsync(tenant.Id, "gil", "gil@example.net");

        var enqueued = await fx.ProduceAsync(tenant.Id, "gil", "meeting-9", "civic.meeting-summary", NotificationChannels.Email,
            new { title = "Council <b>budget</b> vote", body = "The council adopted the budget.\n\nNext meeting in May.", url = "https://civic.example.org/m/9" });
        var mail = await fx.Smtp.WaitForAsync(m => m.RcptTos.Contains("gil@example.net"), "the email reaches the SMTP server");
        await fx.WaitForDeliveriesAsync(enqueued.OutboxId, d => d.Count == 1 && d[0] is { Channel: ChannelNames.Email, State: DeliveryStates.Sent },
            "the email delivery is sent");

        Assert.Equal(LocalSmtp.Login, mail.Login);
        Assert.True(mail.Tls, "STARTTLS was used");
        // The envelope sender names the delivery (VERP), so a bounce mailed back later finds it; From stays the tenant's.
        var deliveryId = await fx.ScalarAsync("SELECT id FROM ops.notification_deliveries WHERE outbox_id = $1", enqueued.OutboxId);
        Assert.Matches($"^bounces\\+{deliveryId}-[0-9a-f]{{20}}@mail\\.example\\.org$", mail.MailFrom);
        var message = mail.Message;
        var from = Assert.IsType<MailboxAddress>(Assert.Single(message.From));
        Assert.Equal(("Springfield Civic", "notify@mail.example.org"), (from.Name, from.Address));
        Assert.Equal("Meeting summary: Council <b>budget</b> vote", message.Subject);
        Assert.Equal("multipart/alternative", message.Body?.ContentType.MimeType);
        Assert.Contains("The council adopted the budget.", message.TextBody);
        Assert.Contains("Springfield City Hall, 1 Main St", message.TextBody);
        Assert.Contains("https://civic.example.org/m/9", message.TextBody);
        Assert.Contains("Council &lt;b&gt;budget&lt;/b&gt; vote", message.HtmlBody);
        Assert.DoesNotContain("<b>budget</b>", message.HtmlBody);
        Assert.Contains("#aa3300", message.HtmlBody);

        // RFC 8058: an https link, the one-click POST marker, both covered by the DKIM signature.
        Assert.Equal("List-Unsubscribe=One-Click", message.Headers["List-Unsubscribe-Post"]);
        var listUnsubscribe = message.Headers["List-Unsubscribe"] ?? "";
        Assert.StartsWith("<https://api.example.org/v1/unsubscribe?token=", listUnsubscribe);
        var dkim = message.Headers[message.Headers.IndexOf(HeaderId.DkimSignature)];
        Assert.Contains("d=" + EmailFixture.DkimDomain, dkim.Value);
        Assert.Contains("list-unsubscribe-post", dkim.Value.ToLowerInvariant());
        Assert.True(await new DkimVerifier(new OneKeyLocator(fx.DkimKey)).VerifyAsync(message, dkim), "the DKIM signature verifies");

        // The link works without a sign-in: GET only shows a confirmation, POST unsubscribes this type from email.
        var link = new Uri(listUnsubscribe.Trim('<', '>'));
        var page = await fx.Client().GetAsync(link.PathAndQuery);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var again = await fx.ProduceAsync(tenant.Id, "gil", "meeting-10", "civic.meeting-summary", NotificationChannels.Email);
        await fx.WaitForDeliveriesAsync(again.OutboxId, d => d.Count == 1 && d[0].State == DeliveryStates.Sent, "GET unsubscribed nothing");
        var post = await fx.Client().PostAsync(link.PathAndQuery,
            new FormUrlEncodedContent(new Dictionary<string, string> { ["List-Unsubscribe"] = "One-Click" }));
        Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        var after = await fx.ProduceAsync(tenant.Id, "gil", "meeting-11", "civic.meeting-summary", NotificationChannels.Email);
        var suppressed = await fx.WaitForDeliveriesAsync(after.OutboxId, d => d.Count == 1 && d[0].State != DeliveryStates.Pending, "the delivery ends");
        Assert.Equal((DeliveryStates.Suppressed, SuppressionReasons.ChannelDisabled), (suppressed[0].State, suppressed[0].Reason));
        var other = await fx.ProduceAsync(tenant.Id, "gil", "agenda-1", "civic.agenda", NotificationChannels.Email);
        await fx.WaitForDeliveriesAsync(other.OutboxId, d => d.Count == 1 && d[0].State == DeliveryStates.Sent, "other types still arrive by email");

        // A forged or altered token changes nothing.
        var forged = await fx.Client().PostAsync(link.PathAndQuery[..^3] + "AAA", new StringContent("List-Unsubscribe=One-Click"));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal("application/problem+json", forged.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_recipient_the_server_refuses_for_good_disables_the_address_and_a_temporary_refusal_is_retried()
    {
        var tenant = await fx.CreateTenantAsync("mail-bounce");
        var (token, _) = await fx.UserTokenAsync(tenant.ApiKey, "hal");
        await fx.ConfirmedEmailAsync(tenant.Id, "hal", "reject-hal@example.net");
        var refused = await fx.ProduceAsync(tenant.Id, "hal", "meeting-1", "civic.meeting-summary", NotificationChannels.Email | NotificationChannels.InApp);
        var deliveries = await fx.WaitForDeliveriesAsync(refused.OutboxId, d => d.Count == 2 && d.All(x => x.State != DeliveryStates.Pending), "both end");
        var mail = Assert.Single(deliveries, d => d.Channel == ChannelNames.Email);
        Assert.Equal(DeliveryStates.Failed, mail.State);
        Assert.Contains("550", mail.Reason);
        var settings = await NotificationsFixture.Json(await fx.Client(token).GetAsync("/v1/me/notification-settings"));
        Assert.Equal("disabled", settings.GetProperty("emailStatus").GetString());
        Assert.Equal(1, await fx.ScalarAsync("""
            SELECT count(*) FROM ops.email_address_events e JOIN ops.notification_deliveries d ON d.id = e.delivery_id
            WHERE e.tenant_id = $1 AND e.event = 'disabled' AND e.source = 'smtp' AND e.status = '550' AND e.email = 'reject-hal@example.net'
              AND d.outbox_id = $2
            """, tenant.Id, refused.OutboxId));

        // A disabled address gets no more email deliveries; setting a new address starts over.
        var next = await fx.ProduceAsync(tenant.Id, "hal", "meeting-2", "civic.meeting-summary", NotificationChannels.Email | NotificationChannels.InApp);
        var onlyInApp = await fx.WaitForDeliveriesAsync(next.OutboxId, d => d.Count == 1 && d[0].State == DeliveryStates.Sent, "in-app only");
        Assert.Equal(ChannelNames.InApp, onlyInApp[0].Channel);
        var reset = await NotificationsFixture.Json(await fx.Client(token).PatchAsync("/v1/me/notification-settings",
            NotificationsFixture.Body("""{"email":"later-hal@example.net"}""")));
        Assert.Equal("active", reset.GetProperty("emailStatus").GetString());
        await fx.ConfirmedEmailAsync(tenant.Id, "hal", "later-hal@example.net");

        var deferred = await fx.ProduceAsync(tenant.Id, "hal", "meeting-3", "civic.meeting-summary", NotificationChannels.Email);
        await Eventually.TrueAsync(async () => await fx.ScalarAsync("""
            SELECT count(*) FROM ops.notification_attempts a JOIN ops.notification_deliveries d ON d.id = a.delivery_id
            WHERE d.outbox_id = $1 AND a.outcome = 'retry' AND a.status_code = 451
            """, deferred.OutboxId) >= 2, TimeSpan.FromSeconds(30), "a 451 is retried");
        Assert.DoesNotContain(fx.Smtp.Received(), m => m.RcptTos.Any(r => r.Contains("hal", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Settings_round_trip_and_bad_input_is_a_problem_that_stores_nothing()
    {
        var tenant = await fx.CreateTenantAsync("mail-settings");
        var (token, _) = await fx.UserTokenAsync(tenant.ApiKey, "ida");
        var client = fx.Client(token);
        var ok = await client.PatchAsync("/v1/me/notification-settings", NotificationsFixture.Body(
            """{"email":"ida@example.net","timeZone":"Europe/Oslo","digest":"weekly","digestTime":"07:30","digestWeekday":5,"quietHours":{"start":"22:00","end":"07:00"}}"""));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        foreach (var (bad, field) in new[]
                 {
                     ("""{"email":"not an address"}""", "email"), ("""{"email":"a@b@c"}""", "email"), ("""{"timeZone":"Mars/Olympus"}""", "timeZone"),
                     ("""{"digest":"hourly"}""", "digest"), ("""{"digestTime":"25:00"}""", "digestTime"), ("""{"digestWeekday":0}""", "digestWeekday"),
                     ("""{"quietHours":{"start":"22:00"}}""", "quietHours"), ("""{"timeZone":"UTC","colour":"red"}""", "colour"),
                 })
        {
            var response = await client.PatchAsync("/v1/me/notification-settings", NotificationsFixture.Body(bad));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains(field, (await NotificationsFixture.Json(response)).GetProperty("errors").EnumerateObject().Select(p => p.Name));
        }
        var view = await NotificationsFixture.Json(await client.GetAsync("/v1/me/notification-settings"));
        Assert.Equal(("ida@example.net", "active", "Europe/Oslo", "weekly", "07:30", 5), (view.GetProperty("email").GetString(),
            view.GetProperty("emailStatus").GetString(), view.GetProperty("timeZone").GetString(), view.GetProperty("digest").GetString(),
            view.GetProperty("digestTime").GetString(), view.GetProperty("digestWeekday").GetInt32()));
        Assert.Equal("22:00", view.GetProperty("quietHours").GetProperty("start").GetString());
        Assert.False(view.GetProperty("emailVerified").GetBoolean(), "a new address starts unconfirmed");

        var badBrand = await fx.Client(tenant.ApiKey).PutAsync("/v1/notification-branding", NotificationsFixture.Body("""{"displayName":"X","accentColor":"red"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, badBrand.StatusCode);
        var brand = await NotificationsFixture.Json(await fx.Client(tenant.ApiKey).GetAsync("/v1/notification-branding"));
        Assert.Equal(NotificationBrand.DefaultAccent, brand.GetProperty("accentColor").GetString());
    }

    [Fact]
    public async Task The_sender_speaks_implicit_tls_too()
    {
        await using var smtps = await LocalSmtp.StartAsync(implicitTls: true);
        var options = new EmailOptions { From = "notify@example.org", ServerCertificateSha256 = smtps.CertificateSha256 };
        EmailOptions.ApplyConnectionString(options, $"smtps://{LocalSmtp.Login}:{LocalSmtp.Password}@127.0.0.1:{smtps.Port}");
        Assert.Equal(SmtpSecurity.Implicit, options.Security);
        var sender = new EmailSender(Options.Create(options), NullLogger<EmailSender>.Instance);
        var brand = new NotificationBrand("Brand", NotificationBrand.DefaultAccent, null);
        var content = EmailTemplates.Render("x.y", JsonSerializer.SerializeToElement(new { title = "Hello" }), brand, null);
        var result = await sender.SendAsync(sender.Build(new OutgoingEmail("Brand", "jo@example.net", content, null, "m1@example.org")), CancellationToken.None);
        Assert.Equal(EmailOutcome.Sent, result.Outcome);
        var mail = await smtps.WaitForAsync(m => m.RcptTos.Contains("jo@example.net"), "the message arrives over SMTPS");
        Assert.True(mail.Tls);
        Assert.Equal("Hello", mail.Message.Subject);

        // A server whose certificate is neither trusted nor pinned is not talked to.
        var unpinned = new EmailSender(Options.Create(new EmailOptions { Host = "127.0.0.1", Port = smtps.Port, Security = SmtpSecurity.Implicit }),
            NullLogger<EmailSender>.Instance);
        var refused = await unpinned.SendAsync(unpinned.Build(new OutgoingEmail("Brand", "kim@example.net", content, null, "m2@example.org")), CancellationToken.None);
        Assert.Equal(EmailOutcome.Transient, refused.Outcome);
    }

    private sealed class OneKeyLocator(RSA key) : DkimPublicKeyLocatorBase
    {
        private AsymmetricKeyParameter Key() =>
            GetPublicKey($"v=DKIM1; k=rsa; p={Convert.ToBase64String(key.ExportSubjectPublicKeyInfo())}");

        public override AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            domain == EmailFixture.DkimDomain && selector == EmailFixture.DkimSelector ? Key() : throw new InvalidOperationException($"unknown key {selector}._domainkey.{domain}");

        public override Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector,
            CancellationToken cancellationToken = default) => Task.FromResult(LocatePublicKey(methods, domain, selector, cancellationToken));
    }
}

public sealed class DigestTests(EmailFixture fx) : IClassFixture<EmailFixture>
{
    [Fact]
    public async Task A_daily_digest_gathers_the_days_emails_and_is_sent_once_per_period_however_often_the_sweep_runs()
    {
        var tenant = await fx.CreateTenantAsync("digest");
        var (token, _) = await fx.UserTokenAsync(tenant.ApiKey, "jan");
        var client = fx.Client(token);
        // Not due yet (23:59 local), so the items below wait for the digest.
        await fx.ConfirmedEmailAsync(tenant.Id, "jan", "jan@example.net");
        await client.PatchAsync("/v1/me/notification-settings", NotificationsFixture.Body("""{"timeZone":"UTC","digest":"daily","digestTime":"23:59"}"""));
        var a = await fx.ProduceAsync(tenant.Id, "jan", "meeting-1", "civic.meeting-summary", NotificationChannels.Email, new { title = "Budget adopted" });
        var b = await fx.ProduceAsync(tenant.Id, "jan", "idea-7", "community.idea", NotificationChannels.Email, new { title = "Your idea was picked" });
        foreach (var id in new[] { a.OutboxId, b.OutboxId })
        {
            var held = await fx.WaitForDeliveriesAsync(id, d => d.Count == 1 && d[0].State != DeliveryStates.Pending, "the email waits for the digest");
            Assert.Equal((DeliveryStates.Suppressed, SuppressionReasons.Digested), (held[0].State, held[0].Reason));
        }
        // A safety alert is never digested.
        var alert = await fx.ProduceAsync(tenant.Id, "jan", "safety-flag:1", SafetyEscalation.Type, NotificationChannels.Email);
        await fx.WaitForDeliveriesAsync(alert.OutboxId, d => d.Count == 1 && d[0].State == DeliveryStates.Sent, "the safety alert is emailed at once");

        await client.PatchAsync("/v1/me/notification-settings", NotificationsFixture.Body("""{"digestTime":"00:00"}"""));
        var jobs = fx.Api.Services.GetRequiredService<Platform.Core.Jobs.IJobQueue>();
        var firstSweep = await jobs.EnqueueAsync(new NotificationDigestSweepArgs());
        var digest = await fx.Smtp.WaitForAsync(m => m.RcptTos.Contains("jan@example.net") && (m.Message.Subject ?? "").StartsWith("Your daily digest", StringComparison.Ordinal),
            "the digest arrives");
        Assert.Equal("Your daily digest: 2 updates", digest.Message.Subject);
        var text = digest.Message.TextBody ?? "";
        Assert.True(text.IndexOf("Budget adopted", StringComparison.Ordinal) < text.IndexOf("Your idea was picked", StringComparison.Ordinal),
            "civic meeting summaries come first");
        Assert.DoesNotContain("safety", text, StringComparison.OrdinalIgnoreCase);

        // More sweeps (a restarted worker, a second worker) send nothing more this period.
        await jobs.EnqueueAsync(new NotificationDigestSweepArgs());
        await jobs.EnqueueAsync(new NotificationDigestSweepArgs());
        await Eventually.TrueAsync(async () => await fx.ScalarAsync("""
            SELECT count(*) FROM ops.job_requests r JOIN hangfire.job j ON j.id = r.hangfire_job_id::bigint
            WHERE r.kind = 'notifications.digests' AND j.statename = 'Succeeded' AND r.id > $1
            """, firstSweep.Id) >= 2, TimeSpan.FromSeconds(30), "the later sweeps ran to the end");
        Assert.Equal(1, await fx.ScalarAsync("SELECT count(*) FROM ops.notification_outbox WHERE tenant_id = $1 AND notification_type = 'digest.daily'", tenant.Id));
        Assert.Single(fx.Smtp.Received(), m => m.RcptTos.Contains("jan@example.net") && (m.Message.Subject ?? "").StartsWith("Your daily digest", StringComparison.Ordinal));
    }

    [Fact]
    public void A_digest_is_due_after_its_local_time_on_its_day_outside_quiet_hours()
    {
        var oslo = NotificationProfile.Default with { TimeZone = "Europe/Oslo", Digest = DigestFrequencies.Daily, DigestTime = new TimeOnly(7, 30) };
        var at = (int h, int m) => new DateTimeOffset(2026, 12, 4, h, m, 0, TimeSpan.Zero); // Oslo is UTC+1 in December
        Assert.Null(NotificationDigests.DuePeriod(oslo, at(6, 29)));
        Assert.Equal("daily:2026-12-04", NotificationDigests.DuePeriod(oslo, at(6, 30)));
        Assert.Null(NotificationDigests.DuePeriod(oslo, at(23, 30))); // 00:30 on the 5th in Oslo: that day's digest is not due yet
        var weekly = oslo with { Digest = DigestFrequencies.Weekly, DigestWeekday = 5 }; // Friday 2026-12-04
        Assert.Equal("weekly:2026-W49", NotificationDigests.DuePeriod(weekly, at(9, 0)));
        Assert.Null(NotificationDigests.DuePeriod(weekly with { DigestWeekday = 1 }, at(9, 0)));
        var quiet = oslo with { QuietStart = new TimeOnly(22, 0), QuietEnd = new TimeOnly(8, 0) };
        Assert.Null(NotificationDigests.DuePeriod(quiet, at(6, 45)));
        Assert.Equal("daily:2026-12-04", NotificationDigests.DuePeriod(quiet, at(7, 0)));
        Assert.Equal(at(7, 0), quiet.QuietUntil(at(6, 45)));
        Assert.False(NotificationDigests.IsDigestible(SafetyEscalation.Type));
    }
}

public sealed class QuietHoursTests(EmailFixture fx) : IClassFixture<EmailFixture>
{
    [Fact]
    public async Task Quiet_hours_hold_email_until_they_end_in_the_persons_time_zone_while_in_app_and_safety_alerts_go_at_once()
    {
        var tenant = await fx.CreateTenantAsync("quiet-hours");
        var (token, streamUrl) = await fx.UserTokenAsync(tenant.ApiKey, "lea");
        // Tokyo has no daylight saving time: local = UTC+9 all year.
        var local = DateTimeOffset.UtcNow.ToOffset(TimeSpan.FromHours(9));
        var (start, end) = (local.AddHours(-1), local.AddHours(1));
        await fx.ConfirmedEmailAsync(tenant.Id, "lea", "lea@example.net");
        var saved = await fx.Client(token).PatchAsync("/v1/me/notification-settings", NotificationsFixture.Body(
            $$$"""{"timeZone":"Asia/Tokyo","quietHours":{"start":"{{{start:HH\:mm}}}","end":"{{{end:HH\:mm}}}"}}"""));
        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        await using var stream = await NotificationStreamClient.ConnectAsync(streamUrl);

        var held = await fx.ProduceAsync(tenant.Id, "lea", "quiet-1", "civic.agenda", NotificationChannels.InApp | NotificationChannels.Email);
        await stream.WaitForAsync(held.OutboxId); // in-app is silent: it is not held
        await fx.WaitForDeliveriesAsync(held.OutboxId, d => d.Any(x => x.Channel == ChannelNames.Email && x.Reason == SuppressionReasons.QuietHours),
            "the email is held for the quiet hours");
        var delivery = Assert.Single(await fx.DeliveriesAsync(held.OutboxId), d => d.Channel == ChannelNames.Email);
        Assert.Equal(DeliveryStates.Pending, delivery.State);
        // Its send is scheduled for the end of the quiet hours, in Tokyo time.
        var deliveryId = await fx.ScalarAsync("SELECT id FROM ops.notification_deliveries WHERE outbox_id = $1 AND channel = 'email'", held.OutboxId);
        var runAt = await fx.ScalarAsync("SELECT extract(epoch FROM run_at)::bigint FROM ops.job_requests WHERE unique_key LIKE $1",
            $"notification-delivery:{deliveryId}:after-quiet:%");
        var expectedEnd = new DateTimeOffset(end.Year, end.Month, end.Day, end.Hour, end.Minute, 0, end.Offset);
        Assert.Equal(expectedEnd.ToUnixTimeSeconds(), runAt);

        // A safety alert is not held.
        var alert = await fx.ProduceAsync(tenant.Id, "lea", "flag-1", SafetyEscalation.Type, NotificationChannels.Email, new { title = "Safety flag" });
        await fx.Smtp.WaitForAsync(m => m.RcptTos.Contains("lea@example.net"), "the safety alert is emailed during quiet hours");
        await fx.WaitForDeliveriesAsync(alert.OutboxId, d => d.Count == 1 && d[0].State == DeliveryStates.Sent, "the alert is sent");
        Assert.Single(fx.Smtp.Received(), m => m.RcptTos.Contains("lea@example.net"));
        Assert.Equal(DeliveryStates.Pending, Assert.Single(await fx.DeliveriesAsync(held.OutboxId), d => d.Channel == ChannelNames.Email).State);
    }
}
