using System.Globalization;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Platform.Core.Data;

namespace Platform.Core.Admin;

/// <summary>A tenant's Convener state: members, the last ranking run, and how many members granted each consent purpose.</summary>
public sealed record CommunityTenantRow(Guid TenantId, string TenantName, DateTime CreatedAt, int Members,
    IReadOnlyDictionary<string, int> ConsentsGranted, DateTime? LastRankingAt, string? LastRankingAlgorithm, string? LastRankingVersion,
    string? LastRankingInputHash, int? LastRankingSignals, long ProvenanceEvents);

/// <summary>The result of walking a tenant's provenance chain and recomputing every hash.</summary>
public sealed record ProvenanceCheck(Guid TenantId, bool Ok, long Checked, Guid? FirstBrokenEventId, DateTime At);

/// <summary>A conference with its attendees, the latest match computation, gatherings and report jobs.</summary>
public sealed record ConferenceRow(Guid Id, Guid TenantId, string TenantName, string Name, DateTime CreatedAt,
    int Attendees, int ConsentToMatch, DateTime? LastMatchAt, int AttendeesMatched, int Gatherings, int UpcomingGatherings,
    int ReportsPending, int ReportsCompleted, int ReportsFailed, DateTime? LastReportAt, string? LastReportStatus);

/// <summary>A company with its people and how far its texts are scored.</summary>
public sealed record ImpactCompanyRow(Guid Id, Guid TenantId, string TenantName, string Name, DateTime CreatedAt,
    int People, int Texts, int TextsScored, DateTime? LastScoredAt, string? ModelVersion, int Imports);

public sealed record ImportLineError(int Line, string Column, string Message);

/// <summary>One CSV import and its report: rows, imported, rejected, and the first line errors.</summary>
public sealed record ImpactImportRow(Guid Id, Guid TenantId, string TenantName, Guid CompanyId, string CompanyName, string Kind,
    DateTime CreatedAt, int Rows, int Imported, int Rejected, IReadOnlyList<ImportLineError> Errors);

/// <summary>Rejected webhook calls, counted per tenant, source, reason, address and hour.</summary>
public sealed record WebhookRejectionRow(long Id, Guid? TenantId, string? TenantName, string Source, string Reason, string? RemoteIp,
    DateTime WindowStart, int Attempts, DateTime LastAt);

public sealed record PrivacyRequestRow(Guid Id, Guid TenantId, string TenantName, Guid SubjectId, string Kind, string Status,
    string RequestedBy, DateTime RequestedAt, DateTime? CompletedAt);

/// <summary>
/// Operator reads of the Community (Convener), Conferences and Impact modules across tenants, for the Admin panel's
/// module pages. Like <see cref="AdminReads"/> they run in the system scope (the operator sees every tenant) and every
/// list is keyset-paged and bounded, with per-row figures from small aggregates on indexed columns.
/// </summary>
public static class ModuleReads
{
    private const string OperatorScope = "operator's module pages across tenants";
    private const int MaxErrorsShown = 5;

    public static async Task<Page<CommunityTenantRow>> CommunityTenantsAsync(NpgsqlDataSource db, string? cursor, int limit, CancellationToken ct)
    {
        var after = PageCursor.Decode(cursor);
        await using var cmd = await db.CreateSystemCommandAsync(OperatorScope, """
            SELECT t.id, t.name, t.created_at,
                   (SELECT count(*) FROM community.members m WHERE m.tenant_id = t.id)::int,
                   (SELECT COALESCE(jsonb_object_agg(c.purpose, c.n), '{}'::jsonb)::text FROM (
                        SELECT g.purpose, count(*)::int AS n FROM governance.consents g
                        JOIN community.members m ON m.tenant_id = g.tenant_id AND m.user_id = g.user_id
                        WHERE g.tenant_id = t.id AND g.granted GROUP BY g.purpose) c),
                   r.computed_at, r.algorithm, r.version, r.input_hash, r.signals,
                   (SELECT count(*) FROM governance.provenance_events p WHERE p.tenant_id = t.id)
            FROM core.tenants t
            LEFT JOIN LATERAL (SELECT computed_at, algorithm, version, input_hash, signals FROM community.rankings k
                               WHERE k.tenant_id = t.id ORDER BY k.computed_at DESC LIMIT 1) r ON true
            WHERE EXISTS (SELECT 1 FROM community.members m WHERE m.tenant_id = t.id)
              AND ($1::timestamptz IS NULL OR (t.created_at, t.id) < ($1, $2))
            ORDER BY t.created_at DESC, t.id DESC
            LIMIT $3
            """, ct);
        AddCursor(cmd, after);
        cmd.Parameters.Add(new() { Value = limit + 1 });
        var rows = new List<CommunityTenantRow>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            rows.Add(new CommunityTenantRow(r.GetGuid(0), r.GetString(1), r.GetDateTime(2), r.GetInt32(3),
                JsonSerializer.Deserialize<Dictionary<string, int>>(r.GetString(4))!,
                NullableTime(r, 5), NullableText(r, 6), NullableText(r, 7), NullableText(r, 8), r.IsDBNull(9) ? null : r.GetInt32(9), r.GetInt64(10)));
        }
        return ToPage(rows, limit, x => new PageCursor(x.CreatedAt, x.TenantId));
    }

    public static async Task<Page<ConferenceRow>> ConferencesAsync(NpgsqlDataSource db, string? cursor, int limit, CancellationToken ct)
    {
        var after = PageCursor.Decode(cursor);
        await using var cmd = await db.CreateSystemCommandAsync(OperatorScope, """
            SELECT c.id, c.tenant_id, t.name, c.name, c.created_at,
                   a.n, a.consenting, m.at, m.users, g.n, g.upcoming,
                   rp.pending, rp.completed, rp.failed, lr.created_at, lr.status
            FROM events.conferences c
            JOIN core.tenants t ON t.id = c.tenant_id
            CROSS JOIN LATERAL (SELECT count(*)::int AS n, (count(*) FILTER (WHERE consent_to_match))::int AS consenting
                                FROM events.attendees x WHERE x.tenant_id = c.tenant_id AND x.conference_id = c.id) a
            CROSS JOIN LATERAL (SELECT max(computed_at) AS at, count(DISTINCT user_id)::int AS users
                                FROM events.matches x WHERE x.conference_id = c.id) m
            CROSS JOIN LATERAL (SELECT count(*)::int AS n, (count(*) FILTER (WHERE starts_at > now()))::int AS upcoming
                                FROM events.gatherings x WHERE x.tenant_id = c.tenant_id AND x.conference_id = c.id) g
            CROSS JOIN LATERAL (SELECT (count(*) FILTER (WHERE status = 'pending'))::int AS pending,
                                       (count(*) FILTER (WHERE status = 'completed'))::int AS completed,
                                       (count(*) FILTER (WHERE status = 'failed'))::int AS failed
                                FROM events.reports x WHERE x.tenant_id = c.tenant_id AND x.conference_id = c.id) rp
            LEFT JOIN LATERAL (SELECT created_at, status FROM events.reports x WHERE x.tenant_id = c.tenant_id AND x.conference_id = c.id
                               ORDER BY created_at DESC LIMIT 1) lr ON true
            WHERE ($1::timestamptz IS NULL OR (c.created_at, c.id) < ($1, $2))
            ORDER BY c.created_at DESC, c.id DESC
            LIMIT $3
            """, ct);
        AddCursor(cmd, after);
        cmd.Parameters.Add(new() { Value = limit + 1 });
        var rows = new List<ConferenceRow>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            rows.Add(new ConferenceRow(r.GetGuid(0), r.GetGuid(1), r.GetString(2), r.GetString(3), r.GetDateTime(4),
                r.GetInt32(5), r.GetInt32(6), NullableTime(r, 7), r.GetInt32(8), r.GetInt32(9), r.GetInt32(10),
                r.GetInt32(11), r.GetInt32(12), r.GetInt32(13), NullableTime(r, 14), NullableText(r, 15)));
        }
        return ToPage(rows, limit, x => new PageCursor(x.CreatedAt, x.Id));
    }

    public static async Task<Page<ImpactCompanyRow>> ImpactCompaniesAsync(NpgsqlDataSource db, string? cursor, int limit, CancellationToken ct)
    {
        var after = PageCursor.Decode(cursor);
        await using var cmd = await db.CreateSystemCommandAsync(OperatorScope, """
            SELECT c.id, c.tenant_id, t.name, c.name, c.created_at,
                   (SELECT count(*) FROM impact.people p WHERE p.company_id = c.id)::int,
                   (SELECT count(*) FROM impact.texts x WHERE x.tenant_id = c.tenant_id AND x.company_id = c.id)::int,
                   s.texts, s.at, s.model,
                   (SELECT count(*) FROM impact.imports i WHERE i.tenant_id = c.tenant_id AND i.company_id = c.id)::int
            FROM impact.companies c
            JOIN core.tenants t ON t.id = c.tenant_id
            CROSS JOIN LATERAL (SELECT count(DISTINCT text_id)::int AS texts, max(created_at) AS at,
                                       (array_agg(model_version ORDER BY created_at DESC))[1] AS model
                                FROM impact.outcome_scores o WHERE o.company_id = c.id) s
            WHERE ($1::timestamptz IS NULL OR (c.created_at, c.id) < ($1, $2))
            ORDER BY c.created_at DESC, c.id DESC
            LIMIT $3
            """, ct);
        AddCursor(cmd, after);
        cmd.Parameters.Add(new() { Value = limit + 1 });
        var rows = new List<ImpactCompanyRow>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            rows.Add(new ImpactCompanyRow(r.GetGuid(0), r.GetGuid(1), r.GetString(2), r.GetString(3), r.GetDateTime(4),
                r.GetInt32(5), r.GetInt32(6), r.GetInt32(7), NullableTime(r, 8), NullableText(r, 9), r.GetInt32(10)));
        }
        return ToPage(rows, limit, x => new PageCursor(x.CreatedAt, x.Id));
    }

    /// <summary>Imports newest first; <paramref name="withErrors"/> keeps only those that rejected a line.</summary>
    public static async Task<Page<ImpactImportRow>> ImpactImportsAsync(NpgsqlDataSource db, bool withErrors, string? cursor, int limit, CancellationToken ct)
    {
        var after = PageCursor.Decode(cursor);
        await using var cmd = await db.CreateSystemCommandAsync(OperatorScope, $"""
            SELECT i.id, i.tenant_id, t.name, i.company_id, c.name, i.kind, i.created_at,
                   COALESCE((i.report->>'rows')::int, 0), COALESCE((i.report->>'imported')::int, 0), COALESCE((i.report->>'rejected')::int, 0),
                   COALESCE((SELECT jsonb_agg(e)::text FROM (SELECT e FROM jsonb_array_elements(i.report->'errors') e LIMIT {MaxErrorsShown}) x), '[]')
            FROM impact.imports i
            JOIN core.tenants t ON t.id = i.tenant_id
            JOIN impact.companies c ON c.id = i.company_id
            WHERE (NOT $4 OR COALESCE((i.report->>'rejected')::int, 0) > 0)
              AND ($1::timestamptz IS NULL OR (i.created_at, i.id) < ($1, $2))
            ORDER BY i.created_at DESC, i.id DESC
            LIMIT $3
            """, ct);
        AddCursor(cmd, after);
        cmd.Parameters.Add(new() { Value = limit + 1 });
        cmd.Parameters.Add(new() { Value = withErrors });
        var rows = new List<ImpactImportRow>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            rows.Add(new ImpactImportRow(r.GetGuid(0), r.GetGuid(1), r.GetString(2), r.GetGuid(3), r.GetString(4), r.GetString(5), r.GetDateTime(6),
                r.GetInt32(7), r.GetInt32(8), r.GetInt32(9),
                JsonSerializer.Deserialize<List<ImportLineError>>(r.GetString(10), JsonSerializerOptions.Web)!));
        }
        return ToPage(rows, limit, x => new PageCursor(x.CreatedAt, x.Id));
    }

    /// <summary>Rejection windows, most recently hit first; the cursor is the last row's (last_at, id).</summary>
    public static async Task<Page<WebhookRejectionRow>> WebhookRejectionsAsync(NpgsqlDataSource db, string? cursor, int limit, CancellationToken ct)
    {
        var after = DecodeSeqCursor(cursor);
        await using var cmd = await db.CreateSystemCommandAsync(OperatorScope, """
            SELECT w.id, w.tenant_id, t.name, w.source, w.reason, w.remote_ip, w.window_start, w.attempts, w.last_at
            FROM impact.webhook_rejections w
            LEFT JOIN core.tenants t ON t.id = w.tenant_id
            WHERE ($1::timestamptz IS NULL OR (w.last_at, w.id) < ($1, $2))
            ORDER BY w.last_at DESC, w.id DESC
            LIMIT $3
            """, ct);
        cmd.Parameters.Add(new() { Value = after is { } a ? a.At : DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = after is { } b ? b.Id : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint });
        cmd.Parameters.Add(new() { Value = limit + 1 });
        var rows = new List<WebhookRejectionRow>();
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                rows.Add(new WebhookRejectionRow(r.GetInt64(0), r.IsDBNull(1) ? null : r.GetGuid(1), NullableText(r, 2), r.GetString(3), r.GetString(4),
                    NullableText(r, 5), r.GetDateTime(6), r.GetInt32(7), r.GetDateTime(8)));
            }
        }
        if (rows.Count <= limit)
        {
            return new Page<WebhookRejectionRow>(rows, null);
        }
        rows.RemoveAt(rows.Count - 1);
        return new Page<WebhookRejectionRow>(rows, $"{rows[^1].LastAt.Ticks}.{rows[^1].Id}");
    }

    public static async Task<Page<PrivacyRequestRow>> PrivacyRequestsAsync(NpgsqlDataSource db, string? cursor, int limit, CancellationToken ct)
    {
        var after = PageCursor.Decode(cursor);
        await using var cmd = await db.CreateSystemCommandAsync(OperatorScope, """
            SELECT p.id, p.tenant_id, t.name, p.subject_id, p.kind, p.status, p.requested_by, p.requested_at, p.completed_at
            FROM impact.privacy_requests p
            JOIN core.tenants t ON t.id = p.tenant_id
            WHERE ($1::timestamptz IS NULL OR (p.requested_at, p.id) < ($1, $2))
            ORDER BY p.requested_at DESC, p.id DESC
            LIMIT $3
            """, ct);
        AddCursor(cmd, after);
        cmd.Parameters.Add(new() { Value = limit + 1 });
        var rows = new List<PrivacyRequestRow>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            rows.Add(new PrivacyRequestRow(r.GetGuid(0), r.GetGuid(1), r.GetString(2), r.GetGuid(3), r.GetString(4), r.GetString(5),
                r.GetString(6), r.GetDateTime(7), NullableTime(r, 8)));
        }
        return ToPage(rows, limit, x => new PageCursor(x.RequestedAt, x.Id));
    }

    private static (DateTime At, long Id)? DecodeSeqCursor(string? cursor)
    {
        var parts = (cursor ?? "").Split('.');
        return parts.Length == 2
               && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) && ticks <= DateTime.MaxValue.Ticks
               && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? (new DateTime(ticks, DateTimeKind.Utc), id)
            : null;
    }

    private static DateTime? NullableTime(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetDateTime(i);

    private static string? NullableText(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    private static void AddCursor(NpgsqlCommand cmd, PageCursor? after)
    {
        cmd.Parameters.Add(new() { Value = after is { } a ? a.CreatedAt : DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = after is { } b ? b.Id : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
    }

    private static Page<T> ToPage<T>(List<T> rows, int limit, Func<T, PageCursor> key)
    {
        if (rows.Count <= limit)
        {
            return new Page<T>(rows, null);
        }
        rows.RemoveAt(rows.Count - 1);
        return new Page<T>(rows, key(rows[^1]).Encode());
    }
}
