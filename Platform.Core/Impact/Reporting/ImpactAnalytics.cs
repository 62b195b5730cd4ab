using Npgsql;
using Platform.Core.Data;

namespace Platform.Core.Impact.Reporting;

/// <summary>Participants whose first enrollment fell in <see cref="Month"/>, and how many of them had a session in each later month.</summary>
public sealed record CohortRow(DateOnly Month, int Size, IReadOnlyList<RetentionPoint> Retention);

/// <summary><see cref="Offset"/> months after the cohort month: participants with a session in that month, and their share of the cohort.</summary>
public sealed record RetentionPoint(int Offset, DateOnly Month, int Active, double Rate);

/// <summary>One funnel step: participants who reached it (each step is a subset of the one before).</summary>
public sealed record FunnelStep(string Step, string Definition, int Participants, double OfEnrolled, double OfPrevious);

/// <summary>One program's figures for the period's cohort.</summary>
public sealed record SegmentRow(string Segment, int Participants, int Attended, int Sessions, decimal SessionHours, double SessionsPerParticipant,
    int ActiveTwoMonths, double RetentionRate);

public sealed record ImpactAnalyticsReport(Guid CompanyId, string Period, DateOnly From, DateOnly To, IReadOnlyList<CohortRow> Cohorts,
    IReadOnlyList<FunnelStep> Funnel, string SegmentBy, IReadOnlyList<SegmentRow> Segments);

/// <summary>
/// Cohort, retention-funnel and segment views of a company's participants for a period (docs/impact.md). The
/// population is the period's <b>cohort</b>: participants whose first enrollment with the company falls in [from, to);
/// activity counts until <c>to</c>. Rates are shares rounded to 3 places (half away from zero), 0 when the base is 0.
/// </summary>
public sealed class ImpactAnalytics(NpgsqlDataSource dataSource)
{
    public static readonly IReadOnlyList<string> Segmentations = ["program"];

    public static readonly IReadOnlyList<(string Step, string Definition)> Steps =
    [
        ("enrolled", "first enrollment in the period"),
        ("attended", "at least one session"),
        ("returned", "at least two sessions"),
        ("retained", "sessions in at least two different months"),
        ("completed_course", "completed at least one course"),
    ];

    private static double Rate(int part, int whole) => whole == 0 ? 0 : Math.Round((double)part / whole, 3, MidpointRounding.AwayFromZero);

    // Per participant of the cohort: first enrollment month, first program, sessions (count, minutes, distinct months) and completed courses.
    private const string CohortSql = """
        WITH firsts AS (
            SELECT DISTINCT ON (e.person_id) e.person_id, e.program, e.enrolled_at
              FROM impact.enrollments e JOIN impact.people p ON p.id = e.person_id
             WHERE e.tenant_id = $1 AND p.tenant_id = $1 AND p.company_id = $2 AND p.role = 'participant'
             ORDER BY e.person_id, e.enrolled_at, e.program
        ), cohort AS (
            SELECT person_id, program, date_trunc('month', enrolled_at AT TIME ZONE 'UTC')::date AS month
              FROM firsts WHERE enrolled_at >= $3::date AND enrolled_at < $4::date
        )
        SELECT c.person_id, c.program, c.month,
               (SELECT count(*) FROM impact.sessions s WHERE s.tenant_id = $1 AND s.company_id = $2 AND s.participant_id = c.person_id AND s.occurred_at < $4::date)::int,
               (SELECT coalesce(sum(s.minutes), 0) FROM impact.sessions s WHERE s.tenant_id = $1 AND s.company_id = $2 AND s.participant_id = c.person_id AND s.occurred_at < $4::date)::int,
               coalesce((SELECT array_agg(DISTINCT date_trunc('month', s.occurred_at AT TIME ZONE 'UTC')::date)
                           FROM impact.sessions s WHERE s.tenant_id = $1 AND s.company_id = $2 AND s.participant_id = c.person_id AND s.occurred_at < $4::date), '{}'),
               EXISTS (SELECT 1 FROM impact.course_progress cp WHERE cp.tenant_id = $1 AND cp.company_id = $2 AND cp.person_id = c.person_id
                         AND cp.completed_at IS NOT NULL AND cp.completed_at < $4::date)
          FROM cohort c
        """;

    private sealed record Member(string Program, DateOnly Month, int Sessions, int Minutes, DateOnly[] ActiveMonths, bool CompletedCourse);

    public async Task<ImpactAnalyticsReport> ComputeAsync(Guid tenantId, Guid companyId, string period, DateOnly from, DateOnly to, string segmentBy, CancellationToken ct)
    {
        var people = new List<Member>();
        await using (var cmd = await dataSource.CreateTenantCommandAsync(tenantId, CohortSql, ct))
        {
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = companyId });
            cmd.Parameters.Add(new NpgsqlParameter<DateOnly> { TypedValue = from });
            cmd.Parameters.Add(new NpgsqlParameter<DateOnly> { TypedValue = to });
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                people.Add(new Member(r.GetString(1), r.GetFieldValue<DateOnly>(2), r.GetInt32(3), r.GetInt32(4), r.GetFieldValue<DateOnly[]>(5), r.GetBoolean(6)));
            }
        }

        var cohorts = new List<CohortRow>();
        for (var month = from; month < to; month = month.AddMonths(1))
        {
            var members = people.Where(p => p.Month == month).ToList();
            var points = new List<RetentionPoint>();
            var offset = 0;
            for (var m = month; m < to; m = m.AddMonths(1), offset++)
            {
                var active = members.Count(p => p.ActiveMonths.Contains(m));
                points.Add(new RetentionPoint(offset, m, active, Rate(active, members.Count)));
            }
            cohorts.Add(new CohortRow(month, members.Count, points));
        }

        Func<Member, bool>[] reached =
        [
            _ => true,
            p => p.Sessions >= 1,
            p => p.Sessions >= 2,
            p => p.ActiveMonths.Length >= 2,
            p => p.CompletedCourse,
        ];
        var funnel = new List<FunnelStep>();
        var remaining = people;
        var previous = people.Count;
        for (var i = 0; i < Steps.Count; i++)
        {
            remaining = remaining.Where(reached[i]).ToList();
            funnel.Add(new FunnelStep(Steps[i].Step, Steps[i].Definition, remaining.Count, Rate(remaining.Count, people.Count), Rate(remaining.Count, previous)));
            previous = remaining.Count;
        }

        var segments = people.GroupBy(p => p.Program).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
        {
            var n = g.Count();
            var sessions = g.Sum(p => p.Sessions);
            var retained = g.Count(p => p.ActiveMonths.Length >= 2);
            return new SegmentRow(g.Key, n, g.Count(p => p.Sessions >= 1), sessions, Math.Round(g.Sum(p => p.Minutes) / 60m, 2, MidpointRounding.AwayFromZero),
                n == 0 ? 0 : Math.Round((double)sessions / n, 2, MidpointRounding.AwayFromZero), retained, Rate(retained, n));
        }).ToList();

        return new ImpactAnalyticsReport(companyId, period, from, to, cohorts, funnel, segmentBy, segments);
    }
}
