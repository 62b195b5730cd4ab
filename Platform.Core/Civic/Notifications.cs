using Npgsql;

namespace Platform.Core.Civic;

/// <summary>
/// Where TX-B puts "a meeting was published" notifications for a city's subscribers. Runs inside the publish
/// transaction: the rows exist exactly when the summary does. The dedupe key sha256(user|subject|type) makes
/// a re-publication of the same meeting notify nobody twice.
/// </summary>
public interface INotificationOutbox
{
    public const string MeetingPublished = "civic.meeting.published";

    Task<int> EnqueueMeetingPublishedAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid tenantId, Guid cityId, Guid meetingId,
        Guid versionId, string status, CancellationToken ct);
}

/// <summary>
/// Writes civic's own outbox table (civic.notification_outbox). Subscribers are profiles whose home city is the
/// meeting's city, with notifications enabled, not paused and not deleted — checked at enqueue time.
/// </summary>
public sealed class CivicNotificationOutbox : INotificationOutbox
{
    public async Task<int> EnqueueMeetingPublishedAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid tenantId, Guid cityId, Guid meetingId,
        Guid versionId, string status, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            INSERT INTO civic.notification_outbox (id, tenant_id, user_id, subject, type, dedupe_key, payload)
            SELECT gen_random_uuid(), p.tenant_id, p.user_id, $3::text, $4::text,
                   encode(sha256(convert_to(p.user_id || '|' || $3::text || '|' || $4::text, 'UTF8')), 'hex'),
                   jsonb_build_object('meetingId', $3::text, 'cityId', $2::text, 'versionId', $5::text, 'status', $6::text)
            FROM civic.profiles p
            WHERE p.tenant_id = $1 AND p.home_city_id = $2 AND p.deleted_at IS NULL AND p.notifications_enabled
              AND (p.pause_until IS NULL OR p.pause_until <= now())
            ON CONFLICT (dedupe_key) DO NOTHING
            """, conn, tx);
        cmd.Parameters.Add(new() { Value = tenantId });
        cmd.Parameters.Add(new() { Value = cityId });
        cmd.Parameters.Add(new() { Value = meetingId.ToString() });
        cmd.Parameters.Add(new() { Value = INotificationOutbox.MeetingPublished });
        cmd.Parameters.Add(new() { Value = versionId.ToString() });
        cmd.Parameters.Add(new() { Value = status });
        return await cmd.ExecuteNonQueryAsync(ct);
    }
}
