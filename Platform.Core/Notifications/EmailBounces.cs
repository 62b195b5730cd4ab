using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MimeKit;
using Npgsql;
using Platform.Core.Data;

namespace Platform.Core.Notifications;

/// <summary>
/// VERP return paths: each email's envelope sender is <c>{local}+{deliveryId}-{signature}@{domain}</c> of the configured
/// bounce address, so a delivery status notification mailed back to it names the delivery it is about. The signature
/// (an HMAC under a key derived from the unsubscribe key, which Worker and Api share) keeps a forged report from
/// naming a delivery it did not receive mail for.
/// </summary>
public sealed class BounceAddresses
{
    private const int SignatureBytes = 10;
    private readonly byte[] _key;
    private readonly string? _local;
    private readonly string? _domain;

    public BounceAddresses(string key, string? bounceAddress)
    {
        // Its own key, derived for this purpose: an unsubscribe token's HMAC can never pass as a bounce signature.
        _key = SHA256.HashData(Encoding.UTF8.GetBytes("bounce-address\n" + key));
        if (bounceAddress?.Trim() is { Length: > 0 } address && address.Split('@') is [{ Length: > 0 } local, { Length: > 0 } domain])
        {
            (_local, _domain) = (local, domain);
        }
    }

    /// <summary>Whether a bounce address is configured (<c>Platform:Notifications:Email:BounceAddress</c>).</summary>
    public bool IsConfigured => _local is not null;

    /// <summary>The envelope sender for one delivery, or null without a configured bounce address.</summary>
    public string? For(long deliveryId) =>
        IsConfigured ? $"{_local}+{deliveryId.ToString(CultureInfo.InvariantCulture)}-{Sign(deliveryId)}@{_domain}" : null;

    /// <summary>The delivery an address of ours names, or null (not one of ours, or its signature does not match).</summary>
    public long? DeliveryOf(string? address)
    {
        if (!IsConfigured || address is null || address.Split('@') is not [var local, _])
        {
            return null;
        }
        var prefix = _local + "+";
        if (!local.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) || local[prefix.Length..].Split('-') is not [var id, var signature]
            || !long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var deliveryId) || signature.Length != SignatureBytes * 2)
        {
            return null;
        }
        byte[] given;
        try
        {
            given = Convert.FromHexString(signature);
        }
        catch (FormatException)
        {
            return null;
        }
        return CryptographicOperations.FixedTimeEquals(given, Convert.FromHexString(Sign(deliveryId))) ? deliveryId : null;
    }

    private string Sign(long deliveryId) => Convert.ToHexStringLower(
        HMACSHA256.HashData(_key, Encoding.ASCII.GetBytes(deliveryId.ToString(CultureInfo.InvariantCulture))).AsSpan(0, SignatureBytes));
}

/// <summary>One recipient of a delivery status notification (RFC 3464 per-recipient fields).</summary>
public sealed record BounceRecipient(string? FinalRecipient, string? OriginalRecipient, string Action, string? Status, string? Diagnostic)
{
    /// <summary>A failure the reporting server calls permanent: action <c>failed</c> with a 5.x.x status (RFC 3463).</summary>
    public bool Permanent => Action == "failed" && Status is { } s && s.StartsWith("5.", StringComparison.Ordinal);

    /// <summary>A delay or a temporary failure (4.x.x): the server keeps trying, or a later send may work.</summary>
    public bool Transient => Action == "delayed" || (Action == "failed" && Status is { } s && s.StartsWith("4.", StringComparison.Ordinal));

    public bool Names(string address) =>
        string.Equals(FinalRecipient, address, StringComparison.OrdinalIgnoreCase) || string.Equals(OriginalRecipient, address, StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// A delivery status notification (RFC 3464) as read by MimeKit: a <c>multipart/report; report-type=delivery-status</c>
/// with its <c>message/delivery-status</c> part, and the addresses it was mailed to (where a VERP return path shows).
/// </summary>
public sealed record DeliveryStatusReport(IReadOnlyList<string> MailedTo, IReadOnlyList<BounceRecipient> Recipients)
{
    /// <summary>Headers an MTA or mailbox uses to record the envelope recipient of a message it delivered.</summary>
    private static readonly string[] RecipientHeaders = ["X-Original-To", "Delivered-To", "Envelope-To", "X-Envelope-To", "To"];

    /// <summary>The report in <paramref name="message"/>, or null when it is not a delivery status notification.</summary>
    public static DeliveryStatusReport? Read(MimeMessage message)
    {
        if (Find(message.Body) is not { } status)
        {
            return null;
        }
        var recipients = new List<BounceRecipient>();
        // The first group holds the per-message fields (Reporting-MTA, …); each further group is one recipient.
        foreach (var group in status.StatusGroups.Skip(1))
        {
            if (group["Action"] is not { Length: > 0 } action)
            {
                continue;
            }
            recipients.Add(new BounceRecipient(Address(group["Final-Recipient"]), Address(group["Original-Recipient"]),
                action.Trim().ToLowerInvariant(), FirstWord(group["Status"]), Clip(group["Diagnostic-Code"])));
        }
        if (recipients.Count == 0)
        {
            return null;
        }
        var mailedTo = new List<string>();
        foreach (var name in RecipientHeaders)
        {
            foreach (var header in message.Headers.Where(h => h.Field.Equals(name, StringComparison.OrdinalIgnoreCase)))
            {
                if (InternetAddressList.TryParse(header.Value, out var list))
                {
                    mailedTo.AddRange(list.Mailboxes.Select(m => m.Address));
                }
            }
        }
        return new DeliveryStatusReport(mailedTo, recipients);
    }

    /// <summary>The delivery-status part of a report at the top or inside multiparts (never inside an attached message).</summary>
    private static MessageDeliveryStatus? Find(MimeEntity? entity) => entity switch
    {
        MultipartReport report when string.Equals(report.ReportType, "delivery-status", StringComparison.OrdinalIgnoreCase) =>
            report.OfType<MessageDeliveryStatus>().FirstOrDefault(),
        Multipart multipart => multipart.Select(Find).FirstOrDefault(s => s is not null),
        _ => null,
    };

    /// <summary><c>rfc822; ada@example.org</c> → <c>ada@example.org</c> (other address types are not ours).</summary>
    private static string? Address(string? field) =>
        field?.Split(';', 2) is [var type, var address] && type.Trim().Equals("rfc822", StringComparison.OrdinalIgnoreCase)
            ? address.Trim().Trim('<', '>')
            : null;

    private static string? FirstWord(string? field) => field?.Trim().Split([' ', '\t', '('], 2)[0] is { Length: > 0 and <= 32 } s ? s : null;

    private static string? Clip(string? text) => text is null ? null : NotificationPayloads.Clip(string.Join(' ', text.Split((char[]?)null,
        StringSplitOptions.RemoveEmptyEntries)), 500);
}

/// <summary>What one recipient of a report came to.</summary>
public sealed record BounceOutcome(string? Address, string Action, string? Status, string Outcome);

/// <summary>What a report came to: the delivery it named and whether the person's address was disabled.</summary>
public sealed record BounceResult(long DeliveryId, bool AddressDisabled, IReadOnlyList<BounceOutcome> Recipients);

/// <summary>
/// Applies a delivery status notification: finds the delivery from the VERP return path, and on a permanent failure
/// of the person's current address disables it (with an audit event) and marks the delivery failed. A delay or a
/// 4.x.x failure is recorded and changes nothing.
/// </summary>
public sealed class EmailBounces(NpgsqlDataSource db, EmailChannel email)
{
    /// <returns>The result, or null when the report names no delivery of ours (a forged or foreign report).</returns>
    public async Task<BounceResult?> ApplyAsync(DeliveryStatusReport report, CancellationToken ct = default)
    {
        if (report.MailedTo.Select(email.Bounces.DeliveryOf).FirstOrDefault(id => id is not null) is not { } deliveryId)
        {
            return null;
        }
        Guid tenantId;
        string userId;
        await using (var find = await db.CreateSystemCommandAsync("bounce report resolving its delivery's tenant", """
            SELECT d.tenant_id, o.user_id FROM ops.notification_deliveries d JOIN ops.notification_outbox o ON o.id = d.outbox_id
            WHERE d.id = $1 AND d.channel = 'email'
            """, ct))
        {
            find.Parameters.Add(new NpgsqlParameter<long> { TypedValue = deliveryId });
            await using var r = await find.ExecuteReaderAsync(ct);
            if (!await r.ReadAsync(ct))
            {
                return new BounceResult(deliveryId, false, []);
            }
            (tenantId, userId) = (r.GetGuid(0), r.GetString(1));
        }
        var profile = await email.Profiles.GetAsync(tenantId, userId, ct);
        var outcomes = new List<BounceOutcome>();
        var disabled = false;
        foreach (var recipient in report.Recipients)
        {
            var address = recipient.FinalRecipient ?? recipient.OriginalRecipient;
            var current = profile.Email is { } e && recipient.Names(e);
            var detail = $"{recipient.Status} {recipient.Diagnostic}".Trim();
            string outcome;
            if (recipient.Permanent && current)
            {
                var reason = NotificationPayloads.Clip($"bounced: {detail}", 1000);
                disabled |= await email.Profiles.DisableEmailAsync(tenantId, userId, profile.Email!, reason,
                    new AddressEventSource("dsn", deliveryId, recipient.Status), ct);
                await FailDeliveryAsync(tenantId, deliveryId, reason, ct);
                outcome = "address-disabled";
            }
            else if (recipient.Permanent || recipient.Transient)
            {
                outcome = recipient.Permanent ? "address-changed" : "transient";
                await email.Profiles.RecordEventAsync(tenantId, userId, address ?? profile.Email ?? "(unknown)",
                    recipient.Permanent ? "bounce-ignored" : "bounce-transient", new AddressEventSource("dsn", deliveryId, recipient.Status), detail, ct);
            }
            else
            {
                outcome = "ignored"; // delivered, relayed, expanded: nothing went wrong
            }
            outcomes.Add(new BounceOutcome(address, recipient.Action, recipient.Status, outcome));
        }
        return new BounceResult(deliveryId, disabled, outcomes);
    }

    /// <summary>The email the report is about did not arrive: its delivery ends failed with the report's reason.</summary>
    private async Task FailDeliveryAsync(Guid tenantId, long deliveryId, string reason, CancellationToken ct)
    {
        await using var cmd = await db.CreateTenantCommandAsync(tenantId, """
            UPDATE ops.notification_deliveries SET state = 'failed', reason = $2, updated_at = now()
            WHERE id = $1 AND state IN ('pending', 'sent')
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = deliveryId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = reason });
        if (await cmd.ExecuteNonQueryAsync(ct) > 0)
        {
            NotificationMetrics.Failed.Add(1, NotificationMetrics.Channel(ChannelNames.Email));
        }
    }
}

/// <summary>Where an address event came from: the SMTP answer or a report (with the delivery and status), or the person.</summary>
public sealed record AddressEventSource(string Source, long? DeliveryId, string? Status);
