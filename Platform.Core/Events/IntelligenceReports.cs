using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Npgsql;
using Platform.Core.Data;
using Platform.Core.Community.Algorithms;
using Platform.Core.Events.Matching;
using Platform.Core.Jobs;

namespace Platform.Core.Events;

/// <summary>
/// Conference intelligence reports: requested through the API (a row plus a job in one transaction), built by
/// the Worker from the stored profiles, feedback and RSVPs, kept as JSON and as a self-contained HTML page.
/// </summary>
public sealed class IntelligenceReports(EventsStore store, Gatherings gatherings, Matchmaking matchmaking, IJobQueue jobs, TimeProvider time)
{
    /// <summary>Recommendations per attendee averaged into the average match score.</summary>
    public const int ScoredMatchesPerAttendee = 5;
    public const int TopNetworkers = 10;

    public async Task<ReportStatus> RequestAsync(Guid tenantId, Guid conferenceId, CancellationToken ct) =>
        await RequestAsync(tenantId, conferenceId, DefaultShareDays, ct);

    /// <summary>Requests a report whose share link works for <paramref name="shareDays"/> days (1 to <see cref="MaxShareDays"/>).</summary>
    public async Task<ReportStatus> RequestAsync(Guid tenantId, Guid conferenceId, int shareDays, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shareDays, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(shareDays, MaxShareDays);
        var id = Guid.CreateVersion7();
        var share = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        await using var conn = await store.DataSource.OpenForTenantAsync(tenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var job = await jobs.EnqueueAsync(tx, new IntelligenceReportArgs(tenantId, id), new JobOptions { MaxAttempts = 5 }, ct);
        await using (var cmd = new NpgsqlCommand(
            "INSERT INTO events.reports (id, tenant_id, conference_id, job_id, share_token, share_expires_at) VALUES ($1, $2, $3, $4, $5, $6)", conn, tx))
        {
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conferenceId });
            cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = job.Id });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = share });
            cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = time.GetUtcNow() + TimeSpan.FromDays(shareDays) });
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return (await FindAsync(tenantId, id, ct))!.Value.Status;
    }

    public async Task<(ReportStatus Status, string? Html)?> FindAsync(Guid tenantId, Guid id, CancellationToken ct) =>
        await ReadAsync("tenant_id = $1 AND id = $2", tenantId, id, null, ct);

    /// <summary>How long a share link works unless the request says otherwise: a leaked link does not stay valid forever.</summary>
    public const int DefaultShareDays = 30;

    /// <summary>The longest a share link may be asked to work.</summary>
    public const int MaxShareDays = 90;

    /// <summary>
    /// The public, read-only page of a report by its unguessable share token; null when no report has this token.
    /// An expired link is told apart (410), so whoever holds it knows to ask for a new one rather than a typo.
    /// </summary>
    public async Task<SharedReport?> SharedAsync(string shareToken, CancellationToken ct)
    {
        if (await ReadAsync("share_token = $3", Guid.Empty, Guid.Empty, shareToken, ct) is not { } found)
        {
            return null;
        }
        return found.Status.ShareExpiresAt <= time.GetUtcNow() ? new SharedReport(true, null) : new SharedReport(false, found.Html);
    }

    /// <summary>The job's work; idempotent (a re-run overwrites the same row with the numbers of the moment).</summary>
    public async Task BuildAsync(Guid tenantId, Guid reportId, CancellationToken ct)
    {
        var found = await FindAsync(tenantId, reportId, ct) ?? throw new JobDiscardException($"Report {reportId} does not exist.");
        var conference = await store.FindConferenceAsync(tenantId, found.Status.ConferenceId, ct)
            ?? throw new JobDiscardException($"Conference {found.Status.ConferenceId} does not exist.");
        // The matchmaking index of this revision (with its stored profile embeddings): the report scores what attendees are shown.
        var compiled = await matchmaking.CompileAsync(tenantId, conference, ct);
        var feedback = await store.FeedbackAsync(tenantId, conference.Id, ct);
        var accepted = await gatherings.AcceptedAsync(tenantId, conference.Id, ct);
        var report = Compute(conference, compiled.Attendees, feedback, accepted, time.GetUtcNow(), compiled.Index);
        var html = RenderHtml(conference, report);
        await using var cmd = await store.DataSource.CreateTenantCommandAsync(tenantId,
            "UPDATE events.reports SET status = 'completed', result = $3, html = $4, completed_at = now() WHERE tenant_id = $1 AND id = $2", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = reportId });
        EventsStore.AddJson(cmd, JsonSerializer.Serialize(report, EventsJsonContext.Default.IntelligenceReport));
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = html });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The report's numbers, pure over its inputs (definitions in docs/events.md).</summary>
    public static IntelligenceReport Compute(Conference conference, IReadOnlyList<Attendee> attendees, IReadOnlyList<EventsStore.FeedbackRow> feedback,
        IReadOnlyList<(Guid GatheringId, string UserId, DateTimeOffset At)> accepted, DateTimeOffset now, MatchingIndex? index = null)
    {
        index ??= new MatchingIndex([.. attendees.Select(a => a.ToProfile())]);
        var declined = feedback.Where(f => f.Outcome == "declined").Select(f => (f.UserId, f.MatchUserId)).ToHashSet();
        var weights = conference.Weights;

        // Average match score: mean pair score of every consenting attendee's top recommendations.
        var scores = ReciprocalMatcher.RecommendMany(index, [.. attendees.Where(a => a.ConsentToMatch).Select(a => a.UserId)], weights, declined,
            ScoredMatchesPerAttendee).SelectMany(list => list.Select(m => m.Score)).ToList();
        var positive = feedback.Where(f => f.Outcome is "accepted" or "met").ToList();
        var connections = positive.Select(f => string.CompareOrdinal(f.UserId, f.MatchUserId) < 0 ? (f.UserId, f.MatchUserId) : (f.MatchUserId, f.UserId))
            .Distinct().Count();

        // Interaction graph: met = a conversation both ways (weight 3), accepted = one-way interest (1), sitting
        // in the same gathering = attendance ties both ways (1).
        var position = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < attendees.Count; i++)
        {
            position[attendees[i].UserId] = i;
        }
        var signals = new List<InteractionSignal>();
        foreach (var f in positive)
        {
            if (!position.TryGetValue(f.UserId, out var u) || !position.TryGetValue(f.MatchUserId, out var m))
            {
                continue;
            }
            if (f.Outcome == "met")
            {
                signals.Add(new InteractionSignal(u, m, SignalKind.Message, f.At, 3));
                signals.Add(new InteractionSignal(m, u, SignalKind.Message, f.At, 3));
            }
            else
            {
                signals.Add(new InteractionSignal(u, m, SignalKind.Message, f.At, 1));
            }
        }
        foreach (var group in accepted.GroupBy(x => x.GatheringId))
        {
            var members = group.Where(x => position.ContainsKey(x.UserId)).ToList();
            foreach (var x in members)
            {
                foreach (var y in members.Where(y => y.UserId != x.UserId))
                {
                    signals.Add(new InteractionSignal(position[x.UserId], position[y.UserId], SignalKind.EventAttendance, x.At, 1));
                }
            }
        }
        var networkers = new List<Networker>();
        if (attendees.Count > 0 && signals.Count > 0)
        {
            // A conference is days long: no recency decay worth the name, and everything inside the window.
            var ranking = ChampionRanking.Rank(attendees.Count, new int[attendees.Count], signals, now,
                new ChampionRankingParameters { Window = TimeSpan.FromDays(3650), HalfLife = TimeSpan.FromDays(36500), ExplainTop = 0 });
            networkers.AddRange(ranking.Champions.Where(c => c.Score > 0).Take(TopNetworkers)
                .Select(c => new Networker(attendees[c.Member].UserId, attendees[c.Member].DisplayName, c.Rank, Math.Round(c.Score, 6))));
        }

        return new IntelligenceReport(conference.Id, conference.Name, now, attendees.Count,
            attendees.GroupBy(a => a.Kind).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count()),
            connections, Math.Round(scores.Count == 0 ? 0 : scores.Average(), 6),
            Math.Round(feedback.Count == 0 ? 0 : (double)positive.Count / feedback.Count, 6), feedback.Count,
            networkers, EmergingTopics(attendees), ExhibitorLeads(new ConferenceFacts(conference, attendees, index, feedback, accepted)),
            $"{ReciprocalMatcher.Version}; {ChampionRanking.Version}; emerging-topics/1; lead-score/1");
    }

    /// <summary>
    /// Interest growth by registration order: the share of the later half of registrations naming a topic minus
    /// the share of the earlier half; the five largest positive growths.
    /// </summary>
    private static IReadOnlyList<EmergingTopic> EmergingTopics(IReadOnlyList<Attendee> attendees)
    {
        if (attendees.Count < 2)
        {
            return [];
        }
        var half = attendees.Count / 2;
        var early = attendees.Take(half).ToList();
        var late = attendees.Skip(half).ToList();
        static Dictionary<string, int> Count(List<Attendee> group) => group.SelectMany(a => a.Interests.Keys.Select(MatchingIndex.NormaliseTag).Distinct())
            .GroupBy(t => t, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var e = Count(early);
        var l = Count(late);
        return [.. l.Select(kv => new EmergingTopic(kv.Key, e.GetValueOrDefault(kv.Key), kv.Value,
                Math.Round((double)kv.Value / late.Count - (double)e.GetValueOrDefault(kv.Key) / early.Count, 6)))
            .Where(t => t.Growth > 0).OrderByDescending(t => t.Growth).ThenBy(t => t.Topic, StringComparer.Ordinal).Take(5)];
    }

    /// <summary>
    /// Per exhibitor, the number of leads, the sum of their scores and the ten best: the lead lists of
    /// <see cref="ConferenceInsights.Leads"/> (<c>lead-score/1</c>), so the report and the leads endpoint agree.
    /// </summary>
    private static IReadOnlyList<ExhibitorLeads> ExhibitorLeads(ConferenceFacts facts) =>
        [.. ConferenceInsights.Leads(facts)
            .Select(l => new ExhibitorLeads(l.Exhibitor.UserId, l.Exhibitor.DisplayName, l.Leads.Count, Math.Round(l.Leads.Sum(x => x.Score), 4),
                [.. l.Leads.Take(10).Select(x => new Lead(x.UserId, x.DisplayName, x.Score))]))
            .OrderByDescending(r => r.LeadScore).ThenBy(r => r.ExhibitorId, StringComparer.Ordinal)];

    /// <summary>A self-contained page (inline CSS and SVG, no scripts) in the conference's colours.</summary>
    public static string RenderHtml(Conference conference, IntelligenceReport r)
    {
        static string H(string? s) => WebUtility.HtmlEncode(s ?? "");
        static string N(double d, string f = "0.###") => d.ToString(f, CultureInfo.InvariantCulture);
        var primary = SafeColor(conference.Branding.PrimaryColor, "#1f4e79");
        var accent = SafeColor(conference.Branding.AccentColor, "#e07a1f");
        var title = conference.Branding.DisplayName ?? conference.Name;
        var sb = new StringBuilder();
        sb.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(H(title)).Append(" — intelligence report</title>")
          .Append("<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#222}h1{color:").Append(primary)
          .Append("}.kpis{display:flex;gap:1rem;flex-wrap:wrap}.kpi{border:1px solid #ddd;border-radius:8px;padding:1rem;min-width:10rem}")
          .Append(".kpi b{display:block;font-size:1.6rem;color:").Append(primary).Append("}table{border-collapse:collapse}td,th{padding:.25rem .75rem;text-align:left}</style></head><body>");
        if (conference.Branding.LogoUrl is { } logo && Uri.TryCreate(logo, UriKind.Absolute, out var logoUri) && logoUri.Scheme is "https" or "http")
        {
            sb.Append("<img alt=\"logo\" height=\"48\" src=\"").Append(H(logoUri.ToString())).Append("\">");
        }
        sb.Append("<h1>").Append(H(title)).Append("</h1><p>Generated ").Append(H(r.GeneratedAt.ToString("u", CultureInfo.InvariantCulture))).Append("</p>");
        sb.Append("<div class=\"kpis\">");
        foreach (var (label, value) in new[]
        {
            ("Attendees", r.Attendees.ToString(CultureInfo.InvariantCulture)), ("Connections made", r.ConnectionsMade.ToString(CultureInfo.InvariantCulture)),
            ("Average match score", N(r.AverageMatchScore)), ("Accepted-match rate", N(r.AcceptedMatchRate * 100, "0.#") + " %"),
        })
        {
            sb.Append("<div class=\"kpi\">").Append(H(label)).Append("<b>").Append(H(value)).Append("</b></div>");
        }
        sb.Append("</div>");
        sb.Append("<h2>Top networkers</h2>").Append(BarChart([.. r.TopNetworkers.Select(n => (n.DisplayName, n.Score))], primary));
        sb.Append("<h2>Emerging topics</h2>").Append(BarChart([.. r.EmergingTopics.Select(t => (t.Topic, t.Growth))], accent));
        sb.Append("<h2>Exhibitor leads</h2>").Append(BarChart([.. r.ExhibitorLeads.Select(x => (x.DisplayName, x.LeadScore))], primary));
        sb.Append("<table><tr><th>Exhibitor</th><th>Leads</th><th>Lead score</th><th>Top leads</th></tr>");
        foreach (var x in r.ExhibitorLeads)
        {
            sb.Append("<tr><td>").Append(H(x.DisplayName)).Append("</td><td>").Append(x.Leads).Append("</td><td>").Append(N(x.LeadScore, "0.#"))
              .Append("</td><td>").Append(H(string.Join(", ", x.TopLeads.Take(3).Select(l => l.DisplayName)))).Append("</td></tr>");
        }
        sb.Append("</table><p><small>").Append(H(r.Algorithms)).Append("</small></p></body></html>");
        return sb.ToString();
    }

    /// <summary>Horizontal bars scaled to the largest value, as inline SVG.</summary>
    private static string BarChart(IReadOnlyList<(string Label, double Value)> bars, string color)
    {
        if (bars.Count == 0)
        {
            return "<p>No data yet.</p>";
        }
        const int row = 26, labelWidth = 220, barWidth = 360;
        var max = Math.Max(bars.Max(b => b.Value), 1e-9);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"{labelWidth + barWidth + 80}\" height=\"{bars.Count * row + 8}\">");
        for (var i = 0; i < bars.Count; i++)
        {
            var (label, value) = bars[i];
            var w = Math.Max(1, (int)Math.Round(barWidth * Math.Max(0, value) / max));
            var y = i * row + 4;
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"0\" y=\"{y + 16}\" font-size=\"13\">{WebUtility.HtmlEncode(label.Length > 30 ? label[..30] + "…" : label)}</text>");
            sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{labelWidth}\" y=\"{y}\" width=\"{w}\" height=\"{row - 8}\" fill=\"{color}\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{labelWidth + w + 6}\" y=\"{y + 16}\" font-size=\"12\">{value.ToString("0.###", CultureInfo.InvariantCulture)}</text>");
        }
        return sb.Append("</svg>").ToString();
    }

    /// <summary>Branding colours go into CSS: only #rgb / #rrggbb pass.</summary>
    public static string SafeColor(string? color, string fallback) =>
        color is not null && System.Text.RegularExpressions.Regex.IsMatch(color, "^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$") ? color : fallback;

    private async Task<(ReportStatus Status, string? Html)?> ReadAsync(string where, Guid tenantId, Guid id, string? share, CancellationToken ct)
    {
        const string Sql = "SELECT id, conference_id, status, job_id, share_token, created_at, completed_at, result, html, share_expires_at FROM events.reports WHERE ";
        // A share link is the capability (a random token) and names no tenant: that read is cross-tenant by nature.
        await using var cmd = share is null
            ? await store.DataSource.CreateTenantCommandAsync(tenantId, Sql + where, ct)
            : await store.DataSource.CreateSystemCommandAsync("report read through its share link", Sql + where, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)share ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        if (!await r.ReadAsync(ct))
        {
            return null;
        }
        var report = r.IsDBNull(7) ? null : JsonSerializer.Deserialize(r.GetString(7), EventsJsonContext.Default.IntelligenceReport);
        return (new ReportStatus(r.GetGuid(0), r.GetGuid(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetInt64(3),
            $"/v1/intelligence/reports/shared/{r.GetString(4)}", r.GetFieldValue<DateTimeOffset>(5),
            r.IsDBNull(6) ? null : r.GetFieldValue<DateTimeOffset>(6), report, r.GetFieldValue<DateTimeOffset>(9)), r.IsDBNull(8) ? null : r.GetString(8));
    }
}
