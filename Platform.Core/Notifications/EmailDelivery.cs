using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Platform.Core.Data;

namespace Platform.Core.Notifications;

/// <summary>What the email channel needs at send time: the sender, the person's address, the tenant's brand, unsubscribe links.</summary>
public sealed partial class EmailChannel
{
    public EmailChannel(EmailSender sender, NotificationProfiles profiles, NotificationBranding branding, IOptions<EmailOptions> options,
        ILogger<EmailChannel> logger)
    {
        Sender = sender;
        Profiles = profiles;
        Branding = branding;
        Options = options.Value;
        var key = Options.UnsubscribeKey;
        if (string.IsNullOrEmpty(key))
        {
            // Links signed with a per-process key stop working after a restart: set the key in production.
            key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            if (Options.IsConfigured)
            {
                LogUnsubscribeKeyGenerated(logger);
            }
        }
        Unsubscribe = new UnsubscribeTokens(key);
        Bounces = new BounceAddresses(key, Options.BounceAddress);
        Verification = new EmailVerificationTokens(key);
    }

    public EmailSender Sender { get; }
    public NotificationProfiles Profiles { get; }
    public NotificationBranding Branding { get; }
    public EmailOptions Options { get; }
    public UnsubscribeTokens Unsubscribe { get; }
    public BounceAddresses Bounces { get; }
    public EmailVerificationTokens Verification { get; }

    public Uri UnsubscribeUrl(Guid tenantId, string userId, string type) =>
        new($"{Options.PublicBaseUrl.TrimEnd('/')}/v1/unsubscribe?token={Uri.EscapeDataString(Unsubscribe.Issue(tenantId, userId, type))}");

    [LoggerMessage(Level = LogLevel.Warning, Message = "Platform:Notifications:Email:UnsubscribeKey is not set; unsubscribe links are signed with a key generated for this process")]
    private static partial void LogUnsubscribeKeyGenerated(ILogger logger);
}

public sealed partial class NotificationDeliverer
{
    /// <summary>An account message (<see cref="AccountMessages"/>): to the account's own address, at once, without an unsubscribe link.</summary>
    private async Task DeliverAccountEmailAsync(Work work, int attempt, bool isLast, long started, CancellationToken ct)
    {
        if (!email.Sender.IsConfigured)
        {
            await FinishAsync(work, attempt, Outcome.Suppressed, null, SuppressionReasons.EmailNotConfigured, started, ct);
            return;
        }
        string? address = null;
        if (Guid.TryParse(work.UserId, out var accountId))
        {
            await using var find = await db.CreateTenantCommandAsync(work.TenantId,
                "SELECT email FROM identity.users WHERE tenant_id = $1 AND id = $2", ct);
            find.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = work.TenantId });
            find.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = accountId });
            address = await find.ExecuteScalarAsync(ct) as string;
        }
        else if (Platform.Core.Identity.SignInLinks.IsSignUpRecipient(work.UserId, out var linkId))
        {
            await using var find = await db.CreateTenantCommandAsync(work.TenantId,
                "SELECT sign_up_email FROM identity.sign_in_links WHERE tenant_id = $1 AND id = $2", ct);
            find.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = work.TenantId });
            find.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = linkId });
            address = await find.ExecuteScalarAsync(ct) as string;
        }
        if (address is null)
        {
            await FinishAsync(work, attempt, Outcome.Suppressed, null, SuppressionReasons.NoEmailAddress, started, ct);
            return;
        }
        var brand = await email.Branding.GetAsync(work.TenantId, ct);
        using var payload = JsonDocument.Parse(work.PayloadJson);
        var content = EmailTemplates.Render(work.Type, payload.RootElement, brand, unsubscribe: null);
        var domain = email.Options.From.Split('@') is [_, var d] ? d : "platform.invalid";
        var message = email.Sender.Build(new OutgoingEmail(brand.DisplayName, address, content, null, $"delivery-{work.Id}@{domain}"));
        var result = await email.Sender.SendAsync(message, ct);
        switch (result.Outcome)
        {
            case EmailOutcome.Sent:
                await FinishAsync(work, attempt, Outcome.Sent, result.StatusCode, null, started, ct);
                break;
            case EmailOutcome.AddressRejected or EmailOutcome.Rejected:
                await FinishAsync(work, attempt, Outcome.Failed, result.StatusCode, result.Error, started, ct);
                break;
            default:
                await RetryOrFailAsync(work, attempt, isLast, result.StatusCode, result.Error ?? "smtp failure", started, ct);
                break;
        }
    }

    private JsonElement VerificationPayload(Guid tenantId, JsonElement payload)
    {
        var id = payload.TryGetProperty("verificationId", out var v) && v.TryGetGuid(out var g) ? g : Guid.Empty;
        return JsonSerializer.SerializeToElement(new Dictionary<string, object?>
        {
            ["title"] = "Confirm your email address",
            ["body"] = $"Someone, hopefully you, asked to receive notifications from us at {payload.GetProperty("email").GetString()}. "
                       + "Open the link below and confirm to start receiving them. The link works once and expires in "
                       + $"{(int)email.Options.VerificationLifetime.TotalHours} hours. If this was not you, ignore this email.",
            ["url"] = EmailVerifications.Link(email, tenantId, id).AbsoluteUri,
        });
    }

    private async Task DeliverEmailAsync(Work work, int attempt, bool isLast, long started, CancellationToken ct)
    {
        if (!email.Sender.IsConfigured)
        {
            await FinishAsync(work, attempt, Outcome.Suppressed, null, SuppressionReasons.EmailNotConfigured, started, ct);
            return;
        }
        var profile = await email.Profiles.GetAsync(work.TenantId, work.UserId, ct);
        if (profile.Email is null)
        {
            await FinishAsync(work, attempt, Outcome.Suppressed, null, SuppressionReasons.NoEmailAddress, started, ct);
            return;
        }
        if (!profile.CanReceiveEmail)
        {
            await FinishAsync(work, attempt, Outcome.Suppressed, null, SuppressionReasons.AddressDisabled, started, ct);
            return;
        }
        using var payload = JsonDocument.Parse(work.PayloadJson);
        var verifying = work.Type == EmailVerifications.Type;
        if (verifying)
        {
            // A link for an address the person has replaced since is not sent.
            if (!(payload.RootElement.TryGetProperty("email", out var sentTo) && sentTo.ValueKind == JsonValueKind.String
                  && string.Equals(sentTo.GetString(), profile.Email, StringComparison.Ordinal)))
            {
                await FinishAsync(work, attempt, Outcome.Suppressed, null, SuppressionReasons.AddressChanged, started, ct);
                return;
            }
        }
        else if (profile.EmailVerifiedAt is null && work.Type != SafetyEscalation.Type)
        {
            // Only safety alerts reach an address its owner has not confirmed.
            await FinishAsync(work, attempt, Outcome.Suppressed, null, SuppressionReasons.EmailUnverified, started, ct);
            return;
        }
        if (!verifying && profile.Digest != DigestFrequencies.Off && NotificationDigests.IsDigestible(work.Type))
        {
            // The person reads this in their next digest instead.
            await FinishAsync(work, attempt, Outcome.Suppressed, null, SuppressionReasons.Digested, started, ct);
            return;
        }
        // The person has just asked for the link: it is not held for quiet hours.
        if (!verifying && await DeferredForQuietHoursAsync(work, profile, ct))
        {
            return;
        }
        var brand = await email.Branding.GetAsync(work.TenantId, ct);
        // A confirmation email carries its link (derived now, never stored) and no unsubscribe: it is not a subscription.
        var unsubscribe = verifying ? null : email.UnsubscribeUrl(work.TenantId, work.UserId, work.Type);
        var content = verifying
            ? EmailTemplates.Render(work.Type, VerificationPayload(work.TenantId, payload.RootElement), brand, null)
            : EmailTemplates.Render(work.Type, payload.RootElement, brand, unsubscribe);
        var domain = email.Options.From.Split('@') is [_, var d] ? d : "platform.invalid";
        var message = email.Sender.Build(new OutgoingEmail(brand.DisplayName, profile.Email, content, unsubscribe, $"delivery-{work.Id}@{domain}"));
        // With a bounce address configured, the envelope sender names this delivery (VERP): a report mailed back later finds it.
        var result = await email.Sender.SendAsync(message, email.Bounces.For(work.Id), ct);
        switch (result.Outcome)
        {
            case EmailOutcome.Sent:
                await FinishAsync(work, attempt, Outcome.Sent, result.StatusCode, null, started, ct);
                break;
            case EmailOutcome.AddressRejected:
                await email.Profiles.DisableEmailAsync(work.TenantId, work.UserId, profile.Email, result.Error ?? "refused",
                    new AddressEventSource("smtp", work.Id, result.StatusCode?.ToString(System.Globalization.CultureInfo.InvariantCulture)), ct);
                await FinishAsync(work, attempt, Outcome.Failed, result.StatusCode, $"{result.Error}; address disabled", started, ct);
                break;
            case EmailOutcome.Rejected:
                await FinishAsync(work, attempt, Outcome.Failed, result.StatusCode, result.Error, started, ct);
                break;
            default:
                await RetryOrFailAsync(work, attempt, isLast, result.StatusCode, result.Error ?? "smtp failure", started, ct);
                break;
        }
    }
}
