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
