using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Platform.Core.Data;
using Platform.Core.Impact.Privacy;
using Platform.Core.Jobs;
using Platform.Core.Security;

namespace Platform.Core.Notifications;

/// <summary>
/// Fan-out job: one delivery row per (channel, target) — each active push subscription, each matching webhook
/// endpoint, the email address — bulk-enqueued as send jobs. In-app is not delivered here: the producer's
/// transaction already wrote its row and the in-app relay delivers it (<see cref="InAppRelay"/>); the in-app target
/// stays in the statement only for rows written before that (a pending row wakes the relay).
/// </summary>
public sealed class NotificationFanoutHandler(NpgsqlDataSource db, IJobQueue jobs, IOptions<NotificationOptions> options)
    : IJobHandler<NotificationFanoutArgs>
{
    public async Task HandleAsync(NotificationFanoutArgs args, JobContext context)
    {
        var ct = context.CancellationToken;
        var created = new List<(long Id, string Channel)>();
        // The job names only the outbox row; its tenant is read first, and the fan-out runs in that tenant's scope.
        Guid tenantId;
        await using (var find = await db.CreateSystemCommandAsync("notification job resolving its outbox row's tenant",
            "SELECT tenant_id FROM ops.notification_outbox WHERE id = $1", ct))
        {
            find.Parameters.Add(new NpgsqlParameter<long> { TypedValue = args.OutboxId });
            if (await find.ExecuteScalarAsync(ct) is not Guid found)
            {
                return;
            }
            tenantId = found;
        }
        await using (var cmd = await db.CreateTenantCommandAsync(tenantId, """
            WITH o AS (SELECT * FROM ops.notification_outbox WHERE id = $1),
            targets AS (
              SELECT o.id, o.tenant_id, 'in_app' AS channel, '' AS target FROM o WHERE 'in_app' = ANY (o.channels)
              UNION ALL
              SELECT o.id, o.tenant_id, 'web_push', s.id::text FROM o
                JOIN ops.push_subscriptions s ON s.tenant_id = o.tenant_id AND s.user_id = o.user_id AND s.status = 'active'
                WHERE 'web_push' = ANY (o.channels)
              UNION ALL
              SELECT o.id, o.tenant_id, 'webhook', w.id::text FROM o
                JOIN ops.webhook_endpoints w ON w.tenant_id = o.tenant_id AND w.status = 'active'
                  AND (cardinality(w.event_types) = 0 OR o.notification_type = ANY (w.event_types))
                WHERE 'webhook' = ANY (o.channels)
              UNION ALL
              SELECT o.id, o.tenant_id, 'email', '' FROM o
                JOIN ops.notification_profiles p ON p.tenant_id = o.tenant_id AND p.user_id = o.user_id
                  AND p.email IS NOT NULL AND p.email_status = 'active'
                WHERE 'email' = ANY (o.channels) AND NOT starts_with(o.notification_type, 'identity.')
              UNION ALL
              -- Account messages go to the account's own address (AccountMessages).
              SELECT o.id, o.tenant_id, 'email', '' FROM o
                JOIN identity.users u ON u.tenant_id = o.tenant_id AND u.id::text = o.user_id
                WHERE 'email' = ANY (o.channels) AND starts_with(o.notification_type, 'identity.')
              UNION ALL
              -- A sign-up link has no account yet: its row names the address (SignInLinks.SignUpRecipient).
              SELECT o.id, o.tenant_id, 'email', '' FROM o
                JOIN identity.sign_in_links l ON l.tenant_id = o.tenant_id AND 'sign-up:' || l.id::text = o.user_id
                WHERE 'email' = ANY (o.channels) AND starts_with(o.notification_type, 'identity.') AND l.sign_up_email IS NOT NULL)
            INSERT INTO ops.notification_deliveries (outbox_id, tenant_id, channel, target)
            SELECT id, tenant_id, channel, target FROM targets
            ON CONFLICT (outbox_id, channel, target) DO NOTHING
            RETURNING id, channel
            """, ct))
        {
            cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = args.OutboxId });
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                created.Add((r.GetInt64(0), r.GetString(1)));
            }
        }
        // A rerun of this job (at-least-once) creates nothing new; unfinished deliveries are picked up by their send jobs.
        var queued = created.Where(d => d.Channel != ChannelNames.InApp)
            .Select(d => (new NotificationSendArgs(d.Id), SendOptions(d.Id, options.Value))).ToList();
        if (queued.Count > 0)
        {
            await jobs.EnqueueManyAsync(queued, ct: ct);
        }
    }

    public static JobOptions SendOptions(long deliveryId, NotificationOptions options) =>
        new() { UniqueKey = $"notification-delivery:{deliveryId}", MaxAttempts = options.MaxAttempts };
}

/// <summary>Send job: one delivery attempt; a transient failure throws so the job engine retries with backoff.</summary>
public sealed class NotificationSendHandler(NotificationDeliverer deliverer) : IJobHandler<NotificationSendArgs>
{
    public Task HandleAsync(NotificationSendArgs args, JobContext context) =>
        deliverer.DeliverAsync(args.DeliveryId, context.Attempt, context.IsLastAttempt, context.CancellationToken);
}

/// <summary>A transient failure: the attempt is logged and the job is retried.</summary>
public sealed class NotificationRetryException(string message) : Exception(message);

/// <summary>
/// Delivers one delivery row on its channel, enforcing the user's preferences at send time, and records the
/// attempt (append-only) and the state transition pending → sent | failed | suppressed.
/// </summary>
public sealed partial class NotificationDeliverer(
    NpgsqlDataSource db, NotificationPreferences preferences, IOptions<NotificationOptions> options,
    NotificationHttp http, TimeProvider time, ILogger<NotificationDeliverer> logger, PiiVault vault, ChannelPreferences channelPreferences,
    EmailChannel email, IJobQueue jobs)
{
    private sealed record Work(long Id, Guid TenantId, long OutboxId, string Channel, string Target, string State, string UserId, string SubjectId,
        string Type, string PayloadJson, DateTimeOffset CreatedAt, DateTimeOffset? ReadAt);

    private enum Outcome { Sent, Retry, Failed, Suppressed }

    public async Task DeliverAsync(long deliveryId, int attempt, bool isLastAttempt, CancellationToken ct)
    {
        var work = await LoadAsync(deliveryId, ct);
        if (work is null || work.State != DeliveryStates.Pending || work.Channel == ChannelNames.InApp)
        {
            // Already final (a rerun after a lost completion): nothing to do. In-app rows belong to the in-app relay.
            return;
        }
        var started = Stopwatch.GetTimestamp();
        if (work.Channel == ChannelNames.Email && AccountMessages.Is(work.Type))
        {
            // The person asked for it (a sign-in link): no preference, channel choice, digest or quiet hours holds it.
            await DeliverAccountEmailAsync(work, attempt, isLastAttempt, started, ct);
            return;
        }
        // The confirmation of the person's own address is no notification they subscribe to: no preference holds it back.
        var ownAddress = work.Type == EmailVerifications.Type && work.Channel == ChannelNames.Email;
        if (work.Channel != ChannelNames.Webhook && work.Type != SafetyEscalation.Type && !ownAddress)
        {
            // Preferences govern what reaches the person; webhooks are the tenant's integrations and filter by event type.
            var reason = (await preferences.GetAsync(work.TenantId, work.UserId, ct)).SuppressionReason(work.Type, time.GetUtcNow());
            if (reason is not null)
            {
                await FinishAsync(work, attempt, Outcome.Suppressed, null, reason, started, ct);
                return;
            }
        }
        if (!ownAddress && !await channelPreferences.IsEnabledAsync(work.TenantId, work.UserId, work.Type, work.Channel, ct))
        {
            await FinishAsync(work, attempt, Outcome.Suppressed, null, SuppressionReasons.ChannelDisabled, started, ct);
            return;
        }
        switch (work.Channel)
        {
            case ChannelNames.WebPush:
                await DeliverWebPushAsync(work, attempt, isLastAttempt, started, ct);
                break;
            case ChannelNames.Webhook:
                await DeliverWebhookAsync(work, attempt, isLastAttempt, started, ct);
                break;
            case ChannelNames.Email:
                await DeliverEmailAsync(work, attempt, isLastAttempt, started, ct);
                break;
        }
    }

    private async Task DeliverWebPushAsync(Work work, int attempt, bool isLast, long started, CancellationToken ct)
    {
        if (await DeferredForQuietHoursAsync(work, null, ct))
        {
            return;
        }
        var subscription = await SubscriptionAsync(work, ct);
        if (subscription is null || subscription.Status != "active")
        {
            await FinishAsync(work, attempt, Outcome.Suppressed, null, SuppressionReasons.SubscriptionGone, started, ct);
            return;
        }
        var body = WebPushEncryption.Encrypt(
            System.Text.Encoding.UTF8.GetBytes($"{{\"id\":{work.OutboxId},\"type\":{JsonSerializer.Serialize(work.Type, NotificationJsonContext.Default.String)},\"payload\":{work.PayloadJson}}}"),
            Base64Url.Decode(subscription.P256dh), Base64Url.Decode(subscription.Auth));
        var endpoint = new Uri(subscription.Endpoint);
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        request.Content.Headers.ContentEncoding.Add("aes128gcm");
        request.Headers.TryAddWithoutValidation("TTL", "86400");
        request.Headers.TryAddWithoutValidation("Urgency", "normal");
        request.Headers.TryAddWithoutValidation("Authorization", http.Vapid.Authorization(endpoint, time.GetUtcNow()));
        var (status, error, refused) = await http.SendAsync(request, ct);
        if (status is >= 200 and < 300)
        {
            await FinishAsync(work, attempt, Outcome.Sent, status, null, started, ct);
        }
        else if (refused)
        {
            await FinishAsync(work, attempt, Outcome.Failed, null, error, started, ct);
        }
        else if (status is 404 or 410)
        {
            // The push service says the subscription is gone for good (RFC 8030 §7.3): stop using it.
            await using var cmd = await db.CreateTenantCommandAsync(work.TenantId, "UPDATE ops.push_subscriptions SET status = 'suppressed', reason = $2 WHERE id = $1", ct);
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = subscription.Id });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = $"push service answered {status}" });
            await cmd.ExecuteNonQueryAsync(ct);
            await FinishAsync(work, attempt, Outcome.Suppressed, status, SuppressionReasons.SubscriptionGone, started, ct);
        }
        else if (status is 400 or 401 or 403 or 413)
        {
            await FinishAsync(work, attempt, Outcome.Failed, status, $"push service refused the message ({status})", started, ct);
        }
        else
        {
            await RetryOrFailAsync(work, attempt, isLast, status, error ?? $"push service answered {status}", started, ct);
        }
    }

    private async Task DeliverWebhookAsync(Work work, int attempt, bool isLast, long started, CancellationToken ct)
    {
        var (url, secret, status0) = await EndpointAsync(work, ct);
        if (url is null || status0 != "active")
        {
            await FinishAsync(work, attempt, Outcome.Suppressed, null, SuppressionReasons.EndpointDisabled, started, ct);
            return;
        }
        using var payload = JsonDocument.Parse(work.PayloadJson);
        var now = time.GetUtcNow();
        var body = JsonSerializer.SerializeToUtf8Bytes(new WebhookMessage(work.Type, now,
            new WebhookData(work.OutboxId, work.UserId, work.SubjectId, payload.RootElement, work.CreatedAt)), NotificationJsonContext.Default.WebhookMessage);
        // The id is stable per delivery, so a receiver can drop retries and replays it has already processed.
        var messageId = $"msg_{work.Id}";
        var timestamp = now.ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("webhook-id", messageId);
        request.Headers.TryAddWithoutValidation("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("webhook-signature", WebhookSignature.Sign(secret!, messageId, timestamp, body));
        var (status, error, refused) = await http.SendAsync(request, ct);
        if (status is >= 200 and < 300)
        {
            await using var reset = await db.CreateTenantCommandAsync(work.TenantId, "UPDATE ops.webhook_endpoints SET failure_streak = 0 WHERE id = $1::uuid AND failure_streak <> 0", ct);
            reset.Parameters.Add(new NpgsqlParameter<string> { TypedValue = work.Target });
            await reset.ExecuteNonQueryAsync(ct);
            await FinishAsync(work, attempt, Outcome.Sent, status, null, started, ct);
            return;
        }
        await using var bump = await db.CreateTenantCommandAsync(work.TenantId, """
            UPDATE ops.webhook_endpoints SET failure_streak = failure_streak + 1,
              status = CASE WHEN failure_streak + 1 >= $2 AND status = 'active' THEN 'disabled' ELSE status END,
              disabled_at = CASE WHEN failure_streak + 1 >= $2 AND status = 'active' THEN now() ELSE disabled_at END
            WHERE id = $1::uuid RETURNING status
            """, ct);
        bump.Parameters.Add(new NpgsqlParameter<string> { TypedValue = work.Target });
        bump.Parameters.Add(new NpgsqlParameter<int> { TypedValue = options.Value.WebhookDisableAfterFailures });
        var after = (string?)await bump.ExecuteScalarAsync(ct);
        var message = error ?? $"receiver answered {status}";
        if (after == "disabled")
        {
            LogEndpointDisabled(logger, work.Target, options.Value.WebhookDisableAfterFailures);
            await FinishAsync(work, attempt, Outcome.Failed, status, $"{message}; endpoint disabled after {options.Value.WebhookDisableAfterFailures} consecutive failures", started, ct);
            return;
        }
        if (refused)
        {
            await FinishAsync(work, attempt, Outcome.Failed, null, message, started, ct); // the same address would be refused again
            return;
        }
        await RetryOrFailAsync(work, attempt, isLast, status, message, started, ct);
    }

    /// <summary>
    /// Quiet hours hold back what would wake the person (push and immediate email; in-app is silent and goes at once):
    /// the delivery stays pending with reason <c>quiet-hours</c> and a send job is scheduled for the end of the quiet
    /// period in the person's time zone. Safety alerts ignore quiet hours.
    /// </summary>
    private async Task<bool> DeferredForQuietHoursAsync(Work work, NotificationProfile? profile, CancellationToken ct)
    {
        if (work.Type == SafetyEscalation.Type)
        {
            return false;
        }
        profile ??= await email.Profiles.GetAsync(work.TenantId, work.UserId, ct);
        var now = time.GetUtcNow();
        if (!profile.IsQuiet(now))
        {
            return false;
        }
        var until = profile.QuietUntil(now);
        await using var conn = await db.OpenForTenantAsync(work.TenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var mark = new NpgsqlCommand(
            "UPDATE ops.notification_deliveries SET reason = $2, updated_at = now() WHERE id = $1 AND state = 'pending'", conn, tx))
        {
            mark.Parameters.Add(new NpgsqlParameter<long> { TypedValue = work.Id });
            mark.Parameters.Add(new NpgsqlParameter<string> { TypedValue = SuppressionReasons.QuietHours });
            await mark.ExecuteNonQueryAsync(ct);
        }
        // Its own unique key: this job still holds the delivery's key until it returns.
        await jobs.EnqueueAsync(tx, new NotificationSendArgs(work.Id), new JobOptions
        {
            UniqueKey = $"notification-delivery:{work.Id}:after-quiet:{until.ToUnixTimeSeconds()}",
            MaxAttempts = options.Value.MaxAttempts,
            RunAt = until,
        }, ct);
        await tx.CommitAsync(ct);
        LogDeferred(logger, work.Id, work.Channel, until);
        return true;
    }

    private async Task RetryOrFailAsync(Work work, int attempt, bool isLast, int? status, string error, long started, CancellationToken ct)
    {
        if (isLast)
        {
            await FinishAsync(work, attempt, Outcome.Failed, status, $"{error} (attempt {attempt}, the last)", started, ct);
            return;
        }
        await FinishAsync(work, attempt, Outcome.Retry, status, error, started, ct);
        throw new NotificationRetryException(error);
    }

    /// <summary>Appends the attempt and moves the delivery in one transaction (a retry leaves it pending).</summary>
    private async Task FinishAsync(Work work, int attempt, Outcome outcome, int? status, string? detail, long started, CancellationToken ct)
    {
        var latency = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var (state, outcomeName) = outcome switch
        {
            Outcome.Sent => (DeliveryStates.Sent, "sent"),
            Outcome.Failed => (DeliveryStates.Failed, "failed"),
            Outcome.Suppressed => (DeliveryStates.Suppressed, "suppressed"),
            _ => (DeliveryStates.Pending, "retry"),
        };
        await using var conn = await db.OpenForTenantAsync(work.TenantId, ct);
        await using var batch = new NpgsqlBatch(conn);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("""
            INSERT INTO ops.notification_attempts (tenant_id, delivery_id, attempt, outcome, status_code, error, latency_ms)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            """)
        {
            Parameters =
            {
                new NpgsqlParameter<Guid> { TypedValue = work.TenantId },
                new NpgsqlParameter<long> { TypedValue = work.Id },
                new NpgsqlParameter<int> { TypedValue = attempt },
                new NpgsqlParameter<string> { TypedValue = outcomeName },
                new NpgsqlParameter { Value = (object?)status ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Integer },
                new NpgsqlParameter { Value = (object?)(outcome == Outcome.Sent ? null : detail) ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text },
                new NpgsqlParameter<double> { TypedValue = latency },
            },
        });
        batch.BatchCommands.Add(new NpgsqlBatchCommand("""
            UPDATE ops.notification_deliveries
            SET state = $2, reason = $3, attempts = attempts + 1, updated_at = now(), sent_at = CASE WHEN $2 = 'sent' THEN now() END
            WHERE id = $1
            """)
        {
            Parameters =
            {
                new NpgsqlParameter<long> { TypedValue = work.Id },
                new NpgsqlParameter<string> { TypedValue = state },
                new NpgsqlParameter { Value = (object?)(outcome is Outcome.Suppressed or Outcome.Failed ? detail : null) ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text },
            },
        });
        // A batch runs as one implicit transaction.
        await batch.ExecuteNonQueryAsync(ct);
        var tag = NotificationMetrics.Channel(work.Channel);
        switch (outcome)
        {
            case Outcome.Sent:
                NotificationMetrics.Sent.Add(1, tag);
                NotificationMetrics.DeliveryLatency.Record((time.GetUtcNow() - work.CreatedAt).TotalMilliseconds, tag);
                break;
            case Outcome.Failed:
                NotificationMetrics.Failed.Add(1, tag);
                break;
            case Outcome.Suppressed:
                NotificationMetrics.Suppressed.Add(1, tag);
                break;
        }
    }

    private async Task<Work?> LoadAsync(long deliveryId, CancellationToken ct)
    {
        // The job names only the delivery row: this read finds its tenant, and everything after runs in that tenant's scope.
        await using var cmd = await db.CreateSystemCommandAsync("notification job resolving its delivery row's tenant", """
            SELECT d.id, d.tenant_id, d.outbox_id, d.channel, d.target, d.state, o.user_id, o.subject_id, o.notification_type, o.payload::text,
                   o.created_at, o.read_at
            FROM ops.notification_deliveries d JOIN ops.notification_outbox o ON o.id = d.outbox_id
            WHERE d.id = $1
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = deliveryId });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct)
            ? new Work(r.GetInt64(0), r.GetGuid(1), r.GetInt64(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetString(6), r.GetString(7),
                r.GetString(8), r.GetString(9), r.GetFieldValue<DateTimeOffset>(10), r.IsDBNull(11) ? null : r.GetFieldValue<DateTimeOffset>(11))
            : null;
    }

    private async Task<PushSubscription?> SubscriptionAsync(Work work, CancellationToken ct)
    {
        await using var cmd = await db.CreateTenantCommandAsync(work.TenantId,
            "SELECT id, endpoint, p256dh, auth, status, reason, created_at FROM ops.push_subscriptions WHERE id = $1::uuid AND tenant_id = $2", ct);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = work.Target });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = work.TenantId });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct)
            ? new PushSubscription(r.GetGuid(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.IsDBNull(5) ? null : r.GetString(5),
                r.GetFieldValue<DateTimeOffset>(6))
            : null;
    }

    private async Task<(string? Url, string? Secret, string? Status)> EndpointAsync(Work work, CancellationToken ct)
    {
        await using var cmd = await db.CreateTenantCommandAsync(work.TenantId,
            "SELECT url, secret, secret_enc, status FROM ops.webhook_endpoints WHERE id = $1::uuid AND tenant_id = $2", ct);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = work.Target });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = work.TenantId });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct)
            ? (r.GetString(0), WebhookSecrets.Open(vault, Guid.Parse(work.Target), r.IsDBNull(2) ? null : r.GetFieldValue<byte[]>(2),
                r.IsDBNull(1) ? null : r.GetString(1)), r.GetString(3))
            : (null, null, null);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Delivery {DeliveryId} ({Channel}) held for the person's quiet hours until {Until}")]
    private static partial void LogDeferred(ILogger logger, long deliveryId, string channel, DateTimeOffset until);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook endpoint {EndpointId} disabled after {Failures} consecutive failed attempts")]
    private static partial void LogEndpointDisabled(ILogger logger, string endpointId, int failures);
}

/// <summary>
/// The outbound HTTP of push and webhook sends. Its own client, not the service defaults' resilient one: retries
/// belong to the job engine (logged per attempt, with backoff across minutes), not inside one attempt.
/// </summary>
public sealed class NotificationHttp : IDisposable
{
    private readonly HttpClient _client;

    public Vapid Vapid { get; }

    public NotificationHttp(IOptions<NotificationOptions> options, OutboundOptions outbound, ILogger<NotificationHttp> logger)
    {
        var o = options.Value;
        _outbound = outbound;
        // Endpoints are tenant- and user-controlled URLs: the outbound pipeline, no redirects (a 3xx is a failed delivery).
        _client = OutboundHttp.CreateClient(outbound, followRedirects: false, o.SendTimeout);
        var (publicKey, privateKey) = (o.Vapid.PublicKey, o.Vapid.PrivateKey);
        if (string.IsNullOrEmpty(publicKey) || string.IsNullOrEmpty(privateKey))
        {
            // Without configured keys push still works, but browsers subscribed with the old key must resubscribe after a restart.
            (publicKey, privateKey) = Vapid.GenerateKeys();
            NotificationLog.VapidGenerated(logger);
        }
        Vapid = new Vapid(publicKey, privateKey, o.Vapid.Subject);
    }

    private readonly OutboundOptions _outbound;

    /// <summary>
    /// The status code, or null with an error for a network failure or timeout. <c>Refused</c> when the outbound
    /// pipeline would not call the URL (not https, or not a public address): asking again will not help.
    /// The response body is never read.
    /// </summary>
    public async Task<(int? Status, string? Error, bool Refused)> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        if (OutboundHttp.WhyRefused(request.RequestUri!, _outbound, requireHttps: true) is { } why)
        {
            return (null, $"refused: {why}", true);
        }
        try
        {
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            return ((int)response.StatusCode, null, false);
        }
        catch (HttpRequestException ex) when (OutboundHttp.Refusal(ex) is { } refusal)
        {
            return (null, refusal.Message, true);
        }
        catch (HttpRequestException ex)
        {
            return (null, $"network: {ex.Message}", false);
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return (null, "timed out", false);
        }
    }

    public void Dispose()
    {
        _client.Dispose();
        Vapid.Dispose();
    }
}

internal static partial class NotificationLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Platform:Notifications:Vapid keys are not set; using a key pair generated for this process")]
    public static partial void VapidGenerated(ILogger logger);
}

/// <summary>Operator replay: sends one outbox item again on every channel it had (suppression rules still apply).</summary>
public sealed class NotificationReplay(NpgsqlDataSource db, IJobQueue jobs, IOptions<NotificationOptions> options)
{
    /// <returns>How many deliveries were queued again, or null when the outbox item does not exist.</returns>
    public async Task<int?> ReplayAsync(long outboxId, CancellationToken ct = default)
    {
        await using var connection = await db.OpenSystemScopeAsync("operator replays a notification of any tenant", ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM ops.notification_outbox WHERE id = $1", connection, tx);
        exists.Parameters.Add(new NpgsqlParameter<long> { TypedValue = outboxId });
        if (await exists.ExecuteScalarAsync(ct) is null)
        {
            return null;
        }
        await using var reset = new NpgsqlCommand("""
            UPDATE ops.notification_deliveries SET state = 'pending', reason = NULL, published_at = NULL, updated_at = now()
            WHERE outbox_id = $1 RETURNING id, channel
            """, connection, tx);
        reset.Parameters.Add(new NpgsqlParameter<long> { TypedValue = outboxId });
        var ids = new List<long>();
        var sends = new List<long>();
        await using (var r = await reset.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                ids.Add(r.GetInt64(0));
                if (r.GetString(1) != ChannelNames.InApp)
                {
                    sends.Add(r.GetInt64(0)); // a pending in-app row wakes the in-app relay by itself
                }
            }
        }
        if (ids.Count == 0)
        {
            // Not fanned out yet (or no targets then): fan out now, which also picks up targets added since.
            await jobs.EnqueueAsync(tx, new NotificationFanoutArgs(outboxId), new JobOptions { UniqueKey = $"notification:{outboxId}" }, ct);
        }
        else if (sends.Count > 0)
        {
            await jobs.EnqueueManyAsync(sends.Select(id => (new NotificationSendArgs(id), NotificationFanoutHandler.SendOptions(id, options.Value))), tx, ct);
        }
        await tx.CommitAsync(ct);
        return ids.Count;
    }
}
