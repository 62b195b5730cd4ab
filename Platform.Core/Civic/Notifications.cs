using System.Text.Json;
using Npgsql;
using Platform.Core.Notifications;

namespace Platform.Core.Civic;

/// <summary>
/// Where TX-B puts "a meeting was published" notifications for a city's subscribers. Runs inside the publish
/// transaction: the notifications exist exactly when the summary does.
/// </summary>
public interface INotificationOutbox
{
    public const string MeetingPublished = "civic.meeting.published";

    Task<int> EnqueueMeetingPublishedAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid tenantId, Guid cityId, Guid meetingId,
        Guid versionId, string status, CancellationToken ct);
}

/// <summary>
/// Enqueues through the shared notifications module's producer API (<see cref="NotificationOutbox"/>), whose dedupe
/// key sha256(user|subject|type) with the meeting as subject makes every re-publication notify nobody twice.
/// Subscribers are profiles whose home city is the meeting's city, with civic notifications enabled, not paused and
/// not deleted, and not disabled, paused or opted out of this type in the module's own preferences.
/// </summary>
public sealed class SharedNotificationOutbox(NotificationOutbox outbox) : INotificationOutbox
{
    public async Task<int> EnqueueMeetingPublishedAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid tenantId, Guid cityId, Guid meetingId,
        Guid versionId, string status, CancellationToken ct)
    {
        var users = new List<string>();
        await using (var cmd = new NpgsqlCommand("""
            SELECT p.user_id FROM civic.profiles p
            LEFT JOIN ops.notification_preferences n ON n.tenant_id = p.tenant_id AND n.user_id = p.user_id
            WHERE p.tenant_id = $1 AND p.home_city_id = $2 AND p.deleted_at IS NULL AND p.notifications_enabled
              AND (p.pause_until IS NULL OR p.pause_until <= now())
              AND (n.user_id IS NULL OR (n.enabled AND (n.pause_until IS NULL OR n.pause_until <= now()) AND NOT ($3 = ANY (n.opted_out_types))))
            ORDER BY p.user_id
            """, conn, tx))
        {
            cmd.Parameters.Add(new() { Value = tenantId });
            cmd.Parameters.Add(new() { Value = cityId });
            cmd.Parameters.Add(new() { Value = INotificationOutbox.MeetingPublished });
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                users.Add(r.GetString(0));
            }
        }
        if (users.Count == 0)
        {
            return 0;
        }
        // What a person reads in the email or the app: the meeting, its city and date, and the published short summary.
        string title = "", city = "", summary = "";
        DateOnly? date = null;
        await using (var cmd = new NpgsqlCommand("""
            SELECT m.title, m.meeting_date, c.name, v.short_summary FROM civic.meetings m
            JOIN civic.cities c ON c.id = m.city_id JOIN civic.summary_versions v ON v.meeting_id = m.id AND v.id = $2
            WHERE m.tenant_id = $1 AND m.id = $3
            """, conn, tx))
        {
            cmd.Parameters.Add(new() { Value = tenantId });
            cmd.Parameters.Add(new() { Value = versionId });
            cmd.Parameters.Add(new() { Value = meetingId });
            await using var r = await cmd.ExecuteReaderAsync(ct);
            if (await r.ReadAsync(ct))
            {
                (title, date, city, summary) = (r.GetString(0), r.IsDBNull(1) ? null : r.GetFieldValue<DateOnly>(1), r.GetString(2), r.GetString(3));
            }
        }
        var heading = date is { } d ? $"{city}: {title} ({d:yyyy-MM-dd})" : $"{city}: {title}";
        // A notification payload has a byte limit (one Web Push record): the summary (at most 1,200 characters) is cut on
        // a word boundary to fit.
        var payload = NotificationPayloads.Fit(new Dictionary<string, object?>
        {
            ["meetingId"] = meetingId, ["cityId"] = cityId, ["versionId"] = versionId, ["status"] = status,
            ["title"] = NotificationPayloads.Clip(heading, 160), ["summary"] = NotificationPayloads.Clip(summary, 1200),
        }, "summary", RunLedger.Json);
        var created = 0;
        foreach (var user in users)
        {
            var result = await outbox.EnqueueAsync(tx, new Notification(tenantId, user, meetingId.ToString(), INotificationOutbox.MeetingPublished, payload), ct);
            created += result.Duplicate ? 0 : 1;
        }
        return created;
    }
}
