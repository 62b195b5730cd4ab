using System.Globalization;
using Npgsql;
using NpgsqlTypes;
using Platform.Core.Data;

namespace Platform.Core.Civic;

/// <summary>What a reader sees of a city's meetings: the list, one meeting with its current summary, and its evidence.</summary>
public sealed class CivicMeetings(NpgsqlDataSource db)
{
    public static readonly IReadOnlyList<string> Statuses = ["ingested", "processed", "limited_confidence", "manual_review_needed", "failed"];

    /// <summary>
    /// A city's meetings, newest first (undated last), <paramref name="take"/> at a time after <paramref name="cursor"/>
    /// (a <see cref="MeetingPage.NextCursor"/>, already checked with <see cref="IsCursor"/>); null when the city is not the tenant's.
    /// </summary>
    public async Task<MeetingPage?> ListAsync(Guid tenant, Guid cityId, string? status, string? cursor, int take, CancellationToken ct)
    {
        var afterDate = DateOnly.MaxValue;
        var afterId = Guid.Empty;
        if (cursor is not null && !TryReadCursor(cursor, out afterDate, out afterId))
        {
            throw new ArgumentException("cursor is not one this API returned.", nameof(cursor));
        }
        await using (var exists = await db.CreateTenantCommandAsync(tenant, "SELECT 1 FROM civic.cities WHERE id = $1 AND tenant_id = $2", ct))
        {
            exists.Parameters.Add(new() { Value = cityId });
            exists.Parameters.Add(new() { Value = tenant });
            if (await exists.ExecuteScalarAsync(ct) is null)
            {
                return null;
            }
        }
        await using var cmd = await db.CreateTenantCommandAsync(tenant, """
            SELECT id, city_id, meeting_uid, title, meeting_date, status, published_at, COALESCE(meeting_date, '0001-01-01'::date)
            FROM civic.meetings
            WHERE city_id = $1 AND tenant_id = $2 AND ($3::text IS NULL OR status = $3)
              AND ($4::boolean = false OR (COALESCE(meeting_date, '0001-01-01'::date), id) < ($5::date, $6::uuid))
            ORDER BY COALESCE(meeting_date, '0001-01-01'::date) DESC, id DESC LIMIT $7
            """, ct);
        cmd.Parameters.Add(new() { Value = cityId });
        cmd.Parameters.Add(new() { Value = tenant });
        cmd.Parameters.Add(new() { Value = (object?)status ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = cursor is not null });
        cmd.Parameters.Add(new() { Value = afterDate });
        cmd.Parameters.Add(new() { Value = afterId });
        cmd.Parameters.Add(new() { Value = take + 1 });
        var items = new List<(MeetingListItem Item, DateOnly Key)>();
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                items.Add((new MeetingListItem(r.GetGuid(0), r.GetGuid(1), r.GetString(2), r.GetString(3),
                    r.IsDBNull(4) ? null : r.GetFieldValue<DateOnly>(4), r.GetString(5), r.IsDBNull(6) ? null : r.GetFieldValue<DateTimeOffset>(6)),
                    r.GetFieldValue<DateOnly>(7)));
            }
        }
        string? next = null;
        if (items.Count > take)
        {
            items.RemoveAt(items.Count - 1);
            next = $"{items[^1].Key:yyyy-MM-dd}_{items[^1].Item.Id:N}";
        }
        return new MeetingPage(items.Select(i => i.Item).ToList(), next);
    }

    /// <summary>Whether <paramref name="cursor"/> is one <see cref="ListAsync"/> returned: the last item's date and id.</summary>
    public static bool IsCursor(string cursor) => TryReadCursor(cursor, out _, out _);

    private static bool TryReadCursor(string cursor, out DateOnly date, out Guid id)
    {
        id = Guid.Empty;
        date = default;
        var parts = cursor.Split('_');
        return parts.Length == 2 &&
               DateOnly.TryParseExact(parts[0], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out date) &&
               Guid.TryParseExact(parts[1], "N", out id);
    }

    /// <summary>A meeting of the tenant with its current summary (none before the first publication); null when not found.</summary>
    public async Task<MeetingView?> GetAsync(Guid tenant, Guid meetingId, CancellationToken ct)
    {
        await using var cmd = await db.CreateTenantCommandAsync(tenant, """
            SELECT m.id, m.city_id, m.meeting_uid, m.title, m.meeting_date, m.status, m.published_at, m.artifact_id,
                   v.id, v.version, v.short_summary, v.key_decisions::text, v.notable_topics::text, v.confidence_label, v.evidence_coverage, v.summarizer, v.created_at,
                   v.model, v.prompt_version, v.fallback_reason
            FROM civic.meetings m LEFT JOIN civic.summary_versions v ON v.meeting_id = m.id AND v.is_current
            WHERE m.id = $1 AND m.tenant_id = $2
            """, ct);
        cmd.Parameters.Add(new() { Value = meetingId });
        cmd.Parameters.Add(new() { Value = tenant });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        if (!await r.ReadAsync(ct))
        {
            return null;
        }
        var summary = r.IsDBNull(8) ? null : new SummaryView(r.GetGuid(8), r.GetInt32(9), r.GetString(10), CivicJson.Parse(r.GetString(11)),
            CivicJson.Parse(r.GetString(12)), r.GetString(13), r.GetDouble(14), r.GetString(15), r.GetFieldValue<DateTimeOffset>(16),
            r.IsDBNull(17) ? null : r.GetString(17), r.IsDBNull(18) ? null : r.GetString(18), r.IsDBNull(19) ? null : r.GetString(19));
        return new MeetingView(r.GetGuid(0), r.GetGuid(1), r.GetString(2), r.GetString(3), r.IsDBNull(4) ? null : r.GetFieldValue<DateOnly>(4),
            r.GetString(5), r.IsDBNull(6) ? null : r.GetFieldValue<DateTimeOffset>(6), r.GetGuid(7), summary);
    }

    /// <summary>The claims of the meeting's current summary with their evidence; null when nothing is published.</summary>
    public async Task<MeetingEvidence?> EvidenceAsync(Guid tenant, Guid meetingId, CancellationToken ct)
    {
        await using var cmd = await db.CreateTenantCommandAsync(tenant, """
            SELECT v.version, c.ordinal, c.kind, c.text, e.artifact_id, e.section_ref, e.start_offset, e.end_offset, e.excerpt, e.page
            FROM civic.meetings m
            JOIN civic.summary_versions v ON v.meeting_id = m.id AND v.is_current
            JOIN civic.claims c ON c.summary_version_id = v.id
            LEFT JOIN civic.claim_evidence e ON e.claim_id = c.id
            WHERE m.id = $1 AND m.tenant_id = $2 ORDER BY c.ordinal, e.start_offset
            """, ct);
        cmd.Parameters.Add(new() { Value = meetingId });
        cmd.Parameters.Add(new() { Value = tenant });
        var claims = new List<(ClaimView Claim, List<EvidenceView> Evidence)>();
        var version = 0;
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                version = r.GetInt32(0);
                var ordinal = r.GetInt32(1);
                if (claims.Count == 0 || claims[^1].Claim.Ordinal != ordinal)
                {
                    var list = new List<EvidenceView>();
                    claims.Add((new ClaimView(ordinal, r.GetString(2), r.GetString(3), list), list));
                }
                if (!r.IsDBNull(4))
                {
                    claims[^1].Evidence.Add(new EvidenceView(r.GetGuid(4), r.GetString(5), r.GetInt32(6), r.GetInt32(7), r.GetString(8),
                        r.IsDBNull(9) ? null : r.GetInt32(9)));
                }
            }
        }
        return claims.Count == 0 ? null : new MeetingEvidence(meetingId, version, claims.Select(c => c.Claim).ToList());
    }
}
