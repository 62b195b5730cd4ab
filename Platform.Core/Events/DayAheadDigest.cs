using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Core.Data;
using Platform.Core.Jobs;
using Platform.Core.Notifications;

namespace Platform.Core.Events;

/// <summary>The conference day-ahead digest sweep.</summary>
public sealed record DayAheadDigestSweepArgs : IJobArgs
{
    public static string Kind => "events.day-ahead-digests";
    public static string Queue => "notifications";
}

/// <summary>
/// The evening before a conference day, an attendee with an email address gets where to be and whom to meet: the
/// gatherings of their next local day they were invited to and have not declined, and their top matches. Sent from
/// <see cref="SendAt"/> local time in the person's time zone, outside their quiet hours, only when they have a
/// gathering that day; matches are listed only while both people consent to matching. Exactly one per attendee,
/// conference and day (the digest ledger's claim, in the transaction that enqueues the email).
/// </summary>
public sealed partial class DayAheadDigestSweepHandler(NpgsqlDataSource db, NotificationOutbox outbox, TimeProvider time) : IJobHandler<DayAheadDigestSweepArgs>
{
    public const string NotificationType = "digest.day-ahead";
    public static readonly TimeOnly SendAt = new(18, 0);
    public const int MaxGatherings = 8;
    public const int MaxMatches = 3;

    private sealed record Recipient(Guid TenantId, Guid ConferenceId, string ConferenceName, string UserId, bool ConsentsToMatch, TimeZoneInfo Zone,
        DateOnly Day, DateTimeOffset From, DateTimeOffset To);

    private sealed record Slot(string Topic, string Place, DateTimeOffset Starts, DateTimeOffset Ends, string Status);

    /// <summary>The local day a digest sent at <paramref name="now"/> covers, or null when none is due for this profile now.</summary>
    public static DateOnly? DueDay(NotificationProfile profile, DateTimeOffset now)
    {
        if (profile.IsQuiet(now))
        {
            return null;
        }
        var local = TimeZoneInfo.ConvertTime(now, profile.Zone()).DateTime;
        return TimeOnly.FromDateTime(local) >= SendAt ? DateOnly.FromDateTime(local).AddDays(1) : null;
    }

    public async Task HandleAsync(DayAheadDigestSweepArgs args, JobContext context)
    {
        var ct = context.CancellationToken;
        var now = time.GetUtcNow();
        var due = new List<Recipient>();
        // Only attendees who have an invitation starting in the next two days are candidates: the sweep stays small.
        await using (var cmd = await db.CreateSystemCommandAsync("day-ahead digest: attendees of every tenant with a gathering soon", """
            SELECT DISTINCT a.tenant_id, a.conference_id, c.name, a.user_id, a.consent_to_match,
                   p.email, p.email_status, p.email_reason, p.time_zone, p.digest, p.digest_time, p.digest_weekday, p.quiet_start, p.quiet_end
            FROM events.gathering_invitations i
            JOIN events.gatherings g ON g.id = i.gathering_id
            JOIN events.attendees a ON a.conference_id = g.conference_id AND a.user_id = i.user_id
            JOIN events.conferences c ON c.id = a.conference_id
            JOIN ops.notification_profiles p ON p.tenant_id = a.tenant_id AND p.user_id = a.user_id
            WHERE i.status <> 'declined' AND g.starts_at > $1 AND g.starts_at < $1 + interval '2 days'
              AND p.email IS NOT NULL AND p.email_status = 'active' AND p.email_verified_at IS NOT NULL
            """, ct))
        {
            cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                var profile = NotificationProfiles.Read(r, 5);
                if (DueDay(profile, now) is { } day)
                {
                    var zone = profile.Zone();
                    var start = day.ToDateTime(TimeOnly.MinValue);
                    var end = start.AddDays(1);
                    due.Add(new Recipient(r.GetGuid(0), r.GetGuid(1), r.GetString(2), r.GetString(3), r.GetBoolean(4), zone, day,
                        // In UTC: PostgreSQL's timestamptz parameters take no other offset.
                        new DateTimeOffset(start, zone.GetUtcOffset(start)).ToUniversalTime(), new DateTimeOffset(end, zone.GetUtcOffset(end)).ToUniversalTime()));
                }
            }
        }
        foreach (var recipient in due)
        {
            try
            {
                await SendOneAsync(recipient, ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // One attendee's failure must not hold back the others; nothing was claimed, so the next sweep retries.
                LogFailed(context.Logger, recipient.TenantId, recipient.UserId, ex);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Day-ahead digest for tenant {TenantId} user {UserId} not sent; the next sweep tries again")]
    private static partial void LogFailed(ILogger logger, Guid tenantId, string userId, Exception exception);

    private async Task SendOneAsync(Recipient who, CancellationToken ct)
    {
        await using var conn = await db.OpenForTenantAsync(who.TenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var slots = new List<Slot>();
        await using (var read = new NpgsqlCommand("""
            SELECT g.topic, g.place, g.starts_at, g.ends_at, i.status FROM events.gathering_invitations i
            JOIN events.gatherings g ON g.id = i.gathering_id
            WHERE g.tenant_id = $1 AND g.conference_id = $2 AND i.user_id = $3 AND i.status <> 'declined'
              AND g.starts_at >= $4 AND g.starts_at < $5
            ORDER BY g.starts_at, g.topic
            """, conn, tx))
        {
            read.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = who.TenantId });
            read.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = who.ConferenceId });
            read.Parameters.Add(new NpgsqlParameter<string> { TypedValue = who.UserId });
            read.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = who.From });
            read.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = who.To });
            await using var r = await read.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                slots.Add(new Slot(r.GetString(0), r.GetString(1), r.GetFieldValue<DateTimeOffset>(2), r.GetFieldValue<DateTimeOffset>(3), r.GetString(4)));
            }
        }
        if (slots.Count == 0)
        {
            return; // nothing on that day in this conference: no digest, and no claim, so a gathering added later still gets one
        }
        var period = $"day-ahead:{who.ConferenceId:N}:{who.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}";
        if (await DigestLedger.ClaimAsync(conn, tx, who.TenantId, who.UserId, DigestFrequencies.Daily, period, ct) is not { } digestId)
        {
            return;
        }
        var matches = new List<(string Name, string? Company, string Starter)>();
        if (who.ConsentsToMatch)
        {
            await using var read = new NpgsqlCommand("""
                SELECT o.display_name, o.company, m.starter FROM events.matches m
                JOIN events.attendees o ON o.conference_id = m.conference_id AND o.user_id = m.match_user_id
                WHERE m.tenant_id = $1 AND m.conference_id = $2 AND m.user_id = $3 AND o.consent_to_match
                ORDER BY m.rank LIMIT $4
                """, conn, tx);
            read.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = who.TenantId });
            read.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = who.ConferenceId });
            read.Parameters.Add(new NpgsqlParameter<string> { TypedValue = who.UserId });
            read.Parameters.Add(new NpgsqlParameter<int> { TypedValue = MaxMatches });
            await using var r = await read.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                matches.Add((r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1), r.GetString(2)));
            }
        }

        // As many gatherings as fit one notification (its payload has a byte limit); the rest are counted.
        var payload = NotificationPayloads.Fit(shown => new Dictionary<string, object?>
        {
            ["title"] = $"Tomorrow at {who.ConferenceName}: {slots.Count} gathering{(slots.Count == 1 ? "" : "s")}",
            ["body"] = Compose(slots, matches, who.Zone, shown),
            ["period"] = period,
            ["conferenceId"] = who.ConferenceId,
        }, MaxGatherings, "body");
        var enqueued = await outbox.EnqueueAsync(tx, new Notification(who.TenantId, who.UserId, period, NotificationType, payload,
            NotificationChannels.Email), ct);
        await DigestLedger.RecordAsync(conn, tx, digestId, slots.Count + matches.Count, enqueued.OutboxId, ct);
        await tx.CommitAsync(ct);
    }

    private static string Compose(IReadOnlyList<Slot> slots, IReadOnlyList<(string Name, string? Company, string Starter)> matches, TimeZoneInfo zone, int shown)
    {
        var sb = new StringBuilder("Where to be (your time):\n");
        foreach (var s in slots.Take(shown))
        {
            var from = TimeZoneInfo.ConvertTime(s.Starts, zone);
            var to = TimeZoneInfo.ConvertTime(s.Ends, zone);
            sb.Append("• ").Append(from.ToString("HH:mm", CultureInfo.InvariantCulture)).Append('–').Append(to.ToString("HH:mm", CultureInfo.InvariantCulture))
                .Append(' ').Append(Clip(s.Topic, 100)).Append(" — ").Append(Clip(s.Place, 60))
                .Append(s.Status == "accepted" ? " (you accepted)" : " (invited: reply in the app)").Append('\n');
        }
        if (slots.Count > shown)
        {
            sb.Append("• … and ").Append(slots.Count - shown).Append(" more in the app.\n");
        }
        if (matches.Count > 0)
        {
            sb.Append("\nPeople to meet:\n");
            foreach (var (name, company, starter) in matches)
            {
                sb.Append("• ").Append(Clip(name, 80));
                if (company is not null)
                {
                    sb.Append(" (").Append(Clip(company, 60)).Append(')');
                }
                sb.Append(": ").Append(Clip(starter, 160)).Append('\n');
            }
        }
        return sb.ToString().TrimEnd();
    }

    private static string Clip(string s, int max) => NotificationPayloads.Clip(s, max);
}
