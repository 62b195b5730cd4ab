using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Platform.Core.Data;
using StackExchange.Redis;

namespace Platform.Core.Notifications;

/// <summary>
/// In-app delivery off the job path. The producer's transaction writes the in-app delivery row (pending) and a
/// trigger NOTIFYs at its commit; this relay, woken by that NOTIFY, claims pending rows across tenants with
/// <c>FOR UPDATE SKIP LOCKED</c> (so several Workers share them and none is claimed twice), decides each against the
/// person's preferences in the same statement, marks it sent or suppressed, commits, publishes the sent ones to Redis
/// and stamps <c>published_at</c>. A row left sent but unpublished (its relay died between commit and publish, or
/// Redis was down) is published again after <see cref="InAppRelayOptions.RepublishAfter"/>; a stream drops ids it has
/// already sent, so a client never sees one twice. Sent is committed before the publish so a stream that connects in
/// between finds the notification in its unread replay.
/// </summary>
public sealed partial class InAppRelay(
    NpgsqlDataSource db, IConnectionMultiplexer redis, IOptions<InAppRelayOptions> options, TimeProvider time, ILogger<InAppRelay> logger)
    : BackgroundService
{
    public const string NotifyChannel = "platform_notifications_in_app";
    private const string ScopeReason = "in-app relay delivers pending notifications of every tenant";
    private readonly CommitSignal _signal = new(db, NotifyChannel, logger);

    /// <summary>One claimed in-app delivery; <see cref="Reason"/> is null when it is to be published.</summary>
    public sealed record Claimed(long DeliveryId, Guid TenantId, string UserId, InAppNotification Notification, string? Reason);

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        var o = options.Value;
        _ = _signal.ListenAsync(ct);
        var nextSweep = time.GetUtcNow();
        while (!ct.IsCancellationRequested)
        {
            var claimed = 0;
            try
            {
                var batch = await ClaimAsync(o.BatchSize, ct);
                claimed = batch.Count;
                await PublishAsync(batch, ct);
                if (time.GetUtcNow() >= nextSweep)
                {
                    nextSweep = time.GetUtcNow() + o.PollInterval;
                    await RepublishStrandedAsync(ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogRelayFailed(logger, ex);
                await CommitSignal.PauseAsync(o.PollInterval, ct);
                continue;
            }
            if (claimed < o.BatchSize)
            {
                if (!await _signal.WaitAsync(o.PollInterval, ct))
                {
                    return;
                }
            }
        }
    }

    /// <summary>
    /// Claims up to <paramref name="limit"/> pending in-app deliveries and commits their outcome (sent, or suppressed
    /// with the reason the preferences give), with an attempt row each. Nothing is published yet.
    /// </summary>
    public async Task<IReadOnlyList<Claimed>> ClaimAsync(int limit, CancellationToken ct = default)
    {
        // The same rules as every other channel's send: the global switch, pause and opted-out types (not for safety
        // alerts), then the type × channel choice (person's type, person's '*', tenant's type, tenant's '*', on).
        await using var cmd = await db.CreateSystemCommandAsync(ScopeReason, """
            WITH picked AS (
              SELECT id FROM ops.notification_deliveries
              WHERE channel = 'in_app' AND state = 'pending'
              ORDER BY id LIMIT $1
              FOR UPDATE SKIP LOCKED),
            decided AS (
              SELECT d.id, d.tenant_id, o.id AS outbox_id, o.user_id, o.subject_id, o.notification_type, o.payload, o.created_at, o.read_at,
                CASE
                  WHEN o.notification_type <> $2 AND p.enabled = false THEN 'user-disabled'
                  WHEN o.notification_type <> $2 AND p.pause_until > now() THEN 'paused'
                  WHEN o.notification_type <> $2 AND o.notification_type = ANY (p.opted_out_types) THEN 'opted-out'
                  WHEN NOT coalesce(
                    (SELECT enabled FROM ops.notification_channel_preferences c WHERE c.tenant_id = d.tenant_id AND c.user_id = o.user_id AND c.notification_type = o.notification_type AND c.channel = 'in_app'),
                    (SELECT enabled FROM ops.notification_channel_preferences c WHERE c.tenant_id = d.tenant_id AND c.user_id = o.user_id AND c.notification_type = '*' AND c.channel = 'in_app'),
                    (SELECT enabled FROM ops.notification_channel_defaults c WHERE c.tenant_id = d.tenant_id AND c.notification_type = o.notification_type AND c.channel = 'in_app'),
                    (SELECT enabled FROM ops.notification_channel_defaults c WHERE c.tenant_id = d.tenant_id AND c.notification_type = '*' AND c.channel = 'in_app'),
                    true) THEN 'channel-disabled'
                END AS reason
              FROM picked
              JOIN ops.notification_deliveries d ON d.id = picked.id
              JOIN ops.notification_outbox o ON o.id = d.outbox_id
              LEFT JOIN ops.notification_preferences p ON p.tenant_id = d.tenant_id AND p.user_id = o.user_id),
            moved AS (
              UPDATE ops.notification_deliveries d
              SET state = CASE WHEN x.reason IS NULL THEN 'sent' ELSE 'suppressed' END, reason = x.reason,
                  attempts = d.attempts + 1, updated_at = now(), sent_at = CASE WHEN x.reason IS NULL THEN now() END
              FROM decided x WHERE d.id = x.id),
            logged AS (
              INSERT INTO ops.notification_attempts (tenant_id, delivery_id, attempt, outcome, error, latency_ms)
              SELECT tenant_id, id, 1, CASE WHEN reason IS NULL THEN 'sent' ELSE 'suppressed' END, reason,
                     greatest(0, extract(epoch FROM clock_timestamp() - created_at) * 1000)
              FROM decided)
            SELECT id, tenant_id, outbox_id, user_id, subject_id, notification_type, payload::text, created_at, read_at, reason
            FROM decided ORDER BY id
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = SafetyEscalation.Type });
        var list = new List<Claimed>();
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                list.Add(Read(r, reasonColumn: 9));
            }
        }
        var now = time.GetUtcNow();
        foreach (var c in list)
        {
            var tag = NotificationMetrics.Channel(ChannelNames.InApp);
            if (c.Reason is null)
            {
                NotificationMetrics.Sent.Add(1, tag);
                NotificationMetrics.DeliveryLatency.Record((now - c.Notification.CreatedAt).TotalMilliseconds, tag);
            }
            else
            {
                NotificationMetrics.Suppressed.Add(1, tag);
            }
        }
        return list;
    }

    /// <summary>Publishes the sent ones of a claimed batch to their users' Redis channels, then stamps them published.</summary>
    public async Task PublishAsync(IReadOnlyList<Claimed> batch, CancellationToken ct = default)
    {
        var sent = batch.Where(c => c.Reason is null).ToList();
        if (sent.Count == 0)
        {
            return;
        }
        var subscriber = redis.GetSubscriber();
        var published = new List<long>(sent.Count);
        // Pipelined: every PUBLISH is written before the first answer is awaited.
        var pending = sent.Select(c => (c.DeliveryId, Task: subscriber.PublishAsync(RedisChannel.Literal(UserDoorbell.Channel(c.TenantId, c.UserId)),
            JsonSerializer.SerializeToUtf8Bytes(new UserDoorbell(c.Notification, c.Notification.CreatedAt.ToUnixTimeMilliseconds()),
                NotificationJsonContext.Default.UserDoorbell)))).ToList();
        foreach (var (id, task) in pending)
        {
            try
            {
                await task;
                published.Add(id);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                // Left unpublished: the stranded sweep tries again, and the user's next connect replays it meanwhile.
                LogPublishFailed(logger, id, ex.Message);
            }
        }
        if (published.Count == 0)
        {
            return;
        }
        await using var mark = await db.CreateSystemCommandAsync(ScopeReason,
            "UPDATE ops.notification_deliveries SET published_at = now() WHERE id = ANY ($1)", ct);
        mark.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. published] });
        await mark.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Publishes again what a relay marked sent but never stamped published (it died in between, or Redis failed)
    /// once it is older than <see cref="InAppRelayOptions.RepublishAfter"/>. Taking a row moves its
    /// <c>updated_at</c>, so another relay leaves it alone for that long.
    /// </summary>
    public async Task<int> RepublishStrandedAsync(CancellationToken ct = default)
    {
        await using var cmd = await db.CreateSystemCommandAsync(ScopeReason, """
            WITH stranded AS (
              SELECT id FROM ops.notification_deliveries
              WHERE channel = 'in_app' AND state = 'sent' AND published_at IS NULL AND updated_at < now() - $1
              ORDER BY id LIMIT $2
              FOR UPDATE SKIP LOCKED),
            taken AS (
              UPDATE ops.notification_deliveries d SET updated_at = now() FROM stranded s WHERE d.id = s.id
              RETURNING d.id, d.tenant_id, d.outbox_id)
            SELECT t.id, t.tenant_id, o.id, o.user_id, o.subject_id, o.notification_type, o.payload::text, o.created_at, o.read_at
            FROM taken t JOIN ops.notification_outbox o ON o.id = t.outbox_id ORDER BY t.id
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = options.Value.RepublishAfter });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = options.Value.BatchSize });
        var list = new List<Claimed>();
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                list.Add(Read(r, reasonColumn: null));
            }
        }
        if (list.Count > 0)
        {
            LogRepublishing(logger, list.Count);
            await PublishAsync(list, ct);
        }
        return list.Count;
    }

    private static Claimed Read(NpgsqlDataReader r, int? reasonColumn)
    {
        using var payload = JsonDocument.Parse(r.GetString(6));
        var n = new InAppNotification(r.GetInt64(2), r.GetString(5), r.GetString(4), payload.RootElement.Clone(), r.GetFieldValue<DateTimeOffset>(7),
            r.IsDBNull(8) ? null : r.GetFieldValue<DateTimeOffset>(8));
        var reason = reasonColumn is { } c && !r.IsDBNull(c) ? r.GetString(c) : null;
        return new Claimed(r.GetInt64(0), r.GetGuid(1), r.GetString(3), n, reason);
    }

    public override void Dispose()
    {
        _signal.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "In-app relay round failed; retrying")]
    private static partial void LogRelayFailed(ILogger logger, Exception ex);


    [LoggerMessage(Level = LogLevel.Warning, Message = "In-app delivery {DeliveryId} marked sent but not published ({Reason}); it is published again later and replayed on connect")]
    private static partial void LogPublishFailed(ILogger logger, long deliveryId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publishing {Count} in-app notifications again that a relay marked sent but never published")]
    private static partial void LogRepublishing(ILogger logger, int count);
}

/// <summary><c>Platform:Notifications:InApp</c>.</summary>
public sealed class InAppRelayOptions
{
    public const string Section = "Platform:Notifications:InApp";

    /// <summary>Deliveries claimed per round.</summary>
    public int BatchSize { get; set; } = 200;

    /// <summary>The fallback poll when no NOTIFY arrives, and how often stranded rows are looked for.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a row may stay sent-but-unpublished before another relay publishes it again.</summary>
    public TimeSpan RepublishAfter { get; set; } = TimeSpan.FromSeconds(10);
}
