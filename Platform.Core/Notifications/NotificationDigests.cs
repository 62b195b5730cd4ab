using System.Globalization;
using System.Text;
using System.Text.Json;
using Npgsql;
using Platform.Core.Data;
using Platform.Core.Jobs;

namespace Platform.Core.Notifications;

/// <summary>The digest sweep: every minute, each person whose digest is due gets it (at most one per period).</summary>
public sealed record NotificationDigestSweepArgs : IJobArgs
{
    public static string Kind => "notifications.digests";
    public static string Queue => "notifications";
}

/// <summary>
/// Daily or weekly email digests at a local time in the person's time zone, outside their quiet hours. While a person
/// has a digest, the notifications that would have reached them by email one by one are gathered into it instead
/// (safety alerts never are). A digest lists what reached the person with the email channel since their last digest.
/// </summary>
public static class NotificationDigests
{
    public const int MaxLines = 15;

    /// <summary>Whether <paramref name="type"/> waits for the digest when the person has one (safety alerts and digests never do).</summary>
    public static bool IsDigestible(string type) => type != SafetyEscalation.Type && !type.StartsWith("digest.", StringComparison.Ordinal);

    /// <summary>The period key of the digest due at <paramref name="now"/>, or null when none is due.</summary>
    public static string? DuePeriod(NotificationProfile p, DateTimeOffset now)
    {
        if (p.Digest == DigestFrequencies.Off || p.IsQuiet(now))
        {
            return null;
        }
        var local = TimeZoneInfo.ConvertTime(now, p.Zone()).DateTime;
        if (TimeOnly.FromDateTime(local) < p.DigestTime)
        {
            return null;
        }
        if (p.Digest == DigestFrequencies.Daily)
        {
            return $"daily:{local.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}";
        }
        var isoDay = local.DayOfWeek == DayOfWeek.Sunday ? 7 : (int)local.DayOfWeek;
        return isoDay == p.DigestWeekday
            ? $"weekly:{ISOWeek.GetYear(local).ToString(CultureInfo.InvariantCulture)}-W{ISOWeek.GetWeekOfYear(local).ToString("D2", CultureInfo.InvariantCulture)}"
            : null;
    }
}

public sealed class NotificationDigestSweepHandler(NpgsqlDataSource db, NotificationOutbox outbox, TimeProvider time) : IJobHandler<NotificationDigestSweepArgs>
{
    public async Task HandleAsync(NotificationDigestSweepArgs args, JobContext context)
    {
        var ct = context.CancellationToken;
        var now = time.GetUtcNow();
        var due = new List<(Guid Tenant, string User, string Frequency, string Period)>();
        await using (var cmd = await db.CreateSystemCommandAsync("digest sweep over every tenant's digest subscribers", """
            SELECT tenant_id, user_id, email, email_status, email_reason, time_zone, digest, digest_time, digest_weekday, quiet_start, quiet_end
            FROM ops.notification_profiles WHERE digest <> 'off' AND email IS NOT NULL AND email_status = 'active' AND email_verified_at IS NOT NULL
            """, ct))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                var profile = NotificationProfiles.Read(r, 2);
                if (NotificationDigests.DuePeriod(profile, now) is { } period)
                {
                    due.Add((r.GetGuid(0), r.GetString(1), profile.Digest, period));
                }
            }
        }
        foreach (var d in due)
        {
            await SendOneAsync(d.Tenant, d.User, d.Frequency, d.Period, ct);
        }
    }

    private async Task SendOneAsync(Guid tenantId, string userId, string frequency, string period, CancellationToken ct)
    {
        await using var conn = await db.OpenForTenantAsync(tenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (await DigestLedger.ClaimAsync(conn, tx, tenantId, userId, frequency, period, ct) is not { } digestId)
        {
            return; // this period's digest exists (another run, or before a restart)
        }
        var items = new List<(string Type, string? Title)>();
        await using (var read = new NpgsqlCommand("""
            SELECT notification_type, payload->>'title' FROM ops.notification_outbox
            WHERE tenant_id = $1 AND user_id = $2 AND 'email' = ANY (channels) AND notification_type NOT LIKE 'digest.%' AND notification_type <> $4
              AND created_at > coalesce((SELECT max(created_at) FROM ops.notification_digests
                                         WHERE tenant_id = $1 AND user_id = $2 AND id <> $3 AND period_key ~ '^(daily|weekly):'),
                                        now() - interval '7 days')
            ORDER BY id
            """, conn, tx))
        {
            read.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            read.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
            read.Parameters.Add(new NpgsqlParameter<long> { TypedValue = digestId });
            read.Parameters.Add(new NpgsqlParameter<string> { TypedValue = SafetyEscalation.Type });
            await using var r = await read.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                items.Add((r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1)));
            }
        }
        if (items.Count > 0)
        {
            var body = new StringBuilder();
            // Civic meeting summaries first (what residents follow), then everything else in arrival order.
            foreach (var (type, title) in items.OrderBy(i => i.Type.StartsWith("civic.", StringComparison.Ordinal) ? 0 : 1).Take(NotificationDigests.MaxLines))
            {
                var line = title ?? type;
                body.Append("• ").Append(line.Length > 120 ? line[..119] + "…" : line).Append('\n');
            }
            if (items.Count > NotificationDigests.MaxLines)
            {
                body.Append("… and ").Append(items.Count - NotificationDigests.MaxLines).Append(" more.\n");
            }
            var payload = JsonSerializer.SerializeToElement(new Dictionary<string, object>
            {
                ["title"] = $"Your {frequency} digest: {items.Count} update{(items.Count == 1 ? "" : "s")}",
                ["body"] = body.ToString().TrimEnd(),
                ["period"] = period,
            });
            var enqueued = await outbox.EnqueueAsync(tx, new Notification(tenantId, userId, $"digest:{period}", $"digest.{frequency}", payload,
                NotificationChannels.Email), ct);
            await DigestLedger.RecordAsync(conn, tx, digestId, items.Count, enqueued.OutboxId, ct);
        }
        await tx.CommitAsync(ct);
    }
}

/// <summary>
/// The one-row-per-period record behind every digest (<c>ops.notification_digests</c>, unique per person and period
/// key). Claimed and completed in the transaction that enqueues the digest's notification, so a restarted or second
/// worker finds the claim and sends nothing more that period. Period keys: <c>daily:…</c> and <c>weekly:…</c> for the
/// person's own digest, other prefixes for role digests (a community pulse, a conference day ahead), which never move
/// the window of the person's own digest.
/// </summary>
public static class DigestLedger
{
    /// <summary>The new claim's id, or null when this period's digest was already claimed.</summary>
    public static async Task<long?> ClaimAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid tenantId, string userId, string frequency, string period,
        CancellationToken ct)
    {
        await using var claim = new NpgsqlCommand("""
            INSERT INTO ops.notification_digests (tenant_id, user_id, frequency, period_key, items) VALUES ($1, $2, $3, $4, 0)
            ON CONFLICT (tenant_id, user_id, period_key) DO NOTHING RETURNING id
            """, conn, tx);
        claim.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        claim.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        claim.Parameters.Add(new NpgsqlParameter<string> { TypedValue = frequency });
        claim.Parameters.Add(new NpgsqlParameter<string> { TypedValue = period });
        return await claim.ExecuteScalarAsync(ct) as long?;
    }

    /// <summary>What the claimed digest held and the notification that carries it.</summary>
    public static async Task RecordAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long digestId, int items, long outboxId, CancellationToken ct)
    {
        await using var update = new NpgsqlCommand("UPDATE ops.notification_digests SET items = $2, outbox_id = $3 WHERE id = $1", conn, tx);
        update.Parameters.Add(new NpgsqlParameter<long> { TypedValue = digestId });
        update.Parameters.Add(new NpgsqlParameter<int> { TypedValue = items });
        update.Parameters.Add(new NpgsqlParameter<long> { TypedValue = outboxId });
        await update.ExecuteNonQueryAsync(ct);
    }
}
