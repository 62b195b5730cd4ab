using System.Diagnostics.Metrics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Platform.Core.Jobs;

namespace Platform.Core.Notifications;

/// <summary>Where a notification may go. Producers pick any combination.</summary>
[Flags]
public enum NotificationChannels
{
    InApp = 1,
    WebPush = 2,
    Webhook = 4,
    Email = 8,
    All = InApp | WebPush | Webhook | Email,
}

public static class ChannelNames
{
    public const string InApp = "in_app";
    public const string WebPush = "web_push";
    public const string Webhook = "webhook";
    public const string Email = "email";

    /// <summary>Every channel name, in the order the API lists them.</summary>
    public static readonly IReadOnlyList<string> AllNames = [InApp, WebPush, Email, Webhook];

    public static string[] Of(NotificationChannels channels) =>
    [
        .. (channels & NotificationChannels.InApp) != 0 ? [InApp] : Array.Empty<string>(),
        .. (channels & NotificationChannels.WebPush) != 0 ? [WebPush] : Array.Empty<string>(),
        .. (channels & NotificationChannels.Webhook) != 0 ? [Webhook] : Array.Empty<string>(),
        .. (channels & NotificationChannels.Email) != 0 ? [Email] : Array.Empty<string>(),
    ];
}

public static class DeliveryStates
{
    public const string Pending = "pending";
    public const string Sent = "sent";
    public const string Failed = "failed";
    public const string Suppressed = "suppressed";
}

/// <summary>Why a delivery was suppressed (stored in <c>reason</c>).</summary>
public static class SuppressionReasons
{
    public const string UserDisabled = "user-disabled";
    public const string Paused = "paused";
    public const string OptedOut = "opted-out";
    public const string SubscriptionGone = "subscription-gone";
    public const string EndpointDisabled = "endpoint-disabled";
    public const string ChannelDisabled = "channel-disabled";
    public const string NoEmailAddress = "no-email-address";
    public const string AddressDisabled = "address-disabled";
    public const string EmailNotConfigured = "email-not-configured";
    public const string Digested = "digested";
    /// <summary>The person has not confirmed the address yet (only safety alerts and the confirmation link reach it).</summary>
    public const string EmailUnverified = "email-unverified";
    /// <summary>A confirmation link for an address the person has since replaced.</summary>
    public const string AddressChanged = "address-changed";
    /// <summary>Not a final state: the delivery is pending, held until the person's quiet hours end.</summary>
    public const string QuietHours = "quiet-hours";
}

/// <summary>The roles a user-scoped client token may carry (other modules authorise by them).</summary>
public static class UserRoles
{
    public static readonly IReadOnlyList<string> All = ["member", "team_lead", "community_manager", "compliance_officer", "ops"];
}

/// <summary>What a producer hands to <see cref="NotificationOutbox.EnqueueAsync"/>.</summary>
public sealed record Notification(
    Guid TenantId, string UserId, string SubjectId, string NotificationType, JsonElement Payload, NotificationChannels Channels = NotificationChannels.All);

/// <param name="OutboxId">The outbox row (the existing one for a duplicate).</param>
/// <param name="Duplicate">True when this logical notification was already enqueued: nothing new was written.</param>
public readonly record struct NotificationEnqueued(long OutboxId, bool Duplicate);

/// <summary>An in-app notification as the inbox API and the stream show it.</summary>
public sealed record InAppNotification(long Id, string Type, string SubjectId, JsonElement Payload, DateTimeOffset CreatedAt, DateTimeOffset? ReadAt);

/// <summary>What a Realtime node receives on <c>platform:{tenantId}:user:{userId}</c>.</summary>
public sealed record UserDoorbell(InAppNotification Notification, long EnqueuedAtUnixMs)
{
    public static string Channel(Guid tenantId, string userId) => $"platform:{tenantId:D}:user:{userId}";
}

public sealed record NotificationFrame(IReadOnlyList<InAppNotification> Notifications);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(InAppNotification))]
[JsonSerializable(typeof(UserDoorbell))]
[JsonSerializable(typeof(NotificationFrame))]
[JsonSerializable(typeof(WebhookMessage))]
public sealed partial class NotificationJsonContext : JsonSerializerContext;

/// <summary>The Standard Webhooks body: <c>{type, timestamp, data}</c>.</summary>
public sealed record WebhookMessage(string Type, DateTimeOffset Timestamp, WebhookData Data);

public sealed record WebhookData(long NotificationId, string UserId, string SubjectId, JsonElement Payload, DateTimeOffset CreatedAt);

public sealed record NotificationFanoutArgs(long OutboxId) : IJobArgs
{
    public static string Kind => "notifications.fanout";
    public static string Queue => "notifications";
}

public sealed record NotificationSendArgs(long DeliveryId) : IJobArgs
{
    public static string Kind => "notifications.send";
    public static string Queue => "notifications";
}

/// <summary>Settings under <c>Platform:Notifications</c>.</summary>
public sealed class NotificationOptions
{
    public const string Section = "Platform:Notifications";

    /// <summary>Attempts per Web Push or webhook delivery (backoff is the job engine's attempt⁴ × unit).</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>Consecutive failed attempts after which a webhook endpoint is disabled.</summary>
    public int WebhookDisableAfterFailures { get; set; } = 15;

    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public VapidOptions Vapid { get; set; } = new();
}

public sealed class VapidOptions
{
    public string? PublicKey { get; set; }
    public string? PrivateKey { get; set; }
    public string Subject { get; set; } = "mailto:ops@platform.invalid";
}

/// <summary>Meter <c>Platform.Notifications</c>: counts per channel and enqueue → delivered latency.</summary>
public static class NotificationMetrics
{
    public static readonly Meter Meter = new("Platform.Notifications");
    public static readonly Counter<long> Enqueued = Meter.CreateCounter<long>("platform.notifications.enqueued", "{notification}");
    public static readonly Counter<long> Sent = Meter.CreateCounter<long>("platform.notifications.sent", "{delivery}");
    public static readonly Counter<long> Failed = Meter.CreateCounter<long>("platform.notifications.failed", "{delivery}");
    public static readonly Counter<long> Suppressed = Meter.CreateCounter<long>("platform.notifications.suppressed", "{delivery}");
    public static readonly Histogram<double> DeliveryLatency = Meter.CreateHistogram<double>("platform.notifications.delivery_latency", "ms",
        "Enqueue (outbox commit) to delivered, per channel.");

    public static KeyValuePair<string, object?> Channel(string channel) => new("notification.channel", channel);
}

/// <summary>
/// Account messages (type <c>identity.*</c>, e.g. a sign-in link): e-mail the person asked for about their account. They
/// go to the account's own address (<c>identity.users</c>), whatever the notification settings say: no preference,
/// channel choice, digest or quiet hours holds them, and they carry no unsubscribe link.
/// </summary>
public static class AccountMessages
{
    public const string Prefix = "identity.";
    public const string SignInLink = "identity.sign-in-link";

    public static bool Is(string type) => type.StartsWith(Prefix, StringComparison.Ordinal);
}
