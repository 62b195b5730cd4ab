using Platform.Core.Events.Matching;

namespace Platform.Core.Events;

/// <summary>The inputs of a conference's lead value, shown next to it so anyone can recompute it.</summary>
public sealed record LeadValueInputs(double ValuePerLead, double QualificationScore, int Leads, int QualifiedLeads, double QualifiedScoreSum);

public sealed record LeadValue(double Value, string Formula, LeadValueInputs Inputs);

/// <summary>Return on a conference (definitions in docs/events.md, "ROI, leads and benchmarks").</summary>
public sealed record ConferenceRoi(Guid ConferenceId, string Name, DateTimeOffset ComputedAt, int Attendees, int Exhibitors, int MeetingsBooked,
    int MatchesAccepted, int SessionsAttended, LeadValue LeadValue, string Algorithms);

/// <summary>One lead of an exhibitor: the score, its two parts, and why.</summary>
public sealed record ScoredLead(string UserId, string DisplayName, string? Company, string? Role, double Score, double PairScore, double Engagement,
    IReadOnlyList<string> Reasons);

public sealed record ExhibitorLeadList(Guid ConferenceId, string ConferenceName, string ExhibitorId, string DisplayName, string? Company, int Total,
    IReadOnlyList<ScoredLead> Leads);

public sealed record LeadLists(string UserId, string Algorithm, IReadOnlyList<ExhibitorLeadList> Conferences);

/// <summary>One exhibiting company over the tenant's conferences.</summary>
public sealed record CompanyBenchmark(string Company, int Conferences, int Exhibitors, int Leads, int QualifiedLeads, double LeadScore, double LeadShare,
    int MeetingsBooked, int MatchesAccepted);

/// <summary>Where a company stands: the median and 75th percentile of the companies' figures (nearest rank).</summary>
public sealed record BenchmarkSummary(int Companies, double MedianLeads, double P75Leads, double MedianLeadScore, double P75LeadScore,
    double MedianMeetingsBooked, double P75MeetingsBooked);

public sealed record CompetitorBenchmarks(Guid TenantId, DateTimeOffset ComputedAt, IReadOnlyList<ConferenceRoi> Conferences,
    IReadOnlyList<CompanyBenchmark> Companies, BenchmarkSummary Benchmarks, string Algorithms);

/// <summary>What one conference's insights are computed from.</summary>
public sealed record ConferenceFacts(Conference Conference, IReadOnlyList<Attendee> Attendees, MatchingIndex Index, IReadOnlyList<EventsStore.FeedbackRow> Feedback,
    IReadOnlyList<(Guid GatheringId, string UserId, DateTimeOffset At)> Accepted);

/// <summary>
/// ROI, leads and competitor benchmarks, pure over a conference's stored facts. Lead scores are <c>lead-score/1</c>
/// (the intelligence report's): 100 × (0.7 · pair score + 0.3 · engagement), engagement 1 after <c>met</c>, 0.6 after
/// <c>accepted</c>; leads are non-exhibitors the matcher does not exclude with a positive pair score.
/// </summary>
public static class ConferenceInsights
{
    public const string LeadScoreVersion = "lead-score/1", RoiVersion = "conference-roi/1", BenchmarkVersion = "competitor-benchmark/1";
    public const double DefaultValuePerLead = 100, DefaultQualificationScore = 30;
    public const string LeadValueFormula = "leadValue = valuePerLead × Σ (score / 100) over leads with score ≥ qualificationScore";

    /// <summary>Every exhibitor's leads, best first.</summary>
    public static IReadOnlyList<(Attendee Exhibitor, IReadOnlyList<ScoredLead> Leads)> Leads(ConferenceFacts facts)
    {
        var index = facts.Index;
        var declined = facts.Feedback.Where(f => f.Outcome == "declined").Select(f => (f.UserId, f.MatchUserId)).ToHashSet();
        var engagement = new Dictionary<(string, string), double>();
        foreach (var f in facts.Feedback.Where(f => f.Outcome is "met" or "accepted"))
        {
            var value = f.Outcome == "met" ? 1.0 : 0.6;
            foreach (var key in new[] { (f.UserId, f.MatchUserId), (f.MatchUserId, f.UserId) })
            {
                engagement[key] = Math.Max(engagement.GetValueOrDefault(key), value);
            }
        }
        var result = new List<(Attendee, IReadOnlyList<ScoredLead>)>();
        foreach (var x in facts.Attendees.Where(a => a.Kind == AttendeeKinds.Exhibitor))
        {
            if (!index.PositionById.TryGetValue(x.UserId, out var xi))
            {
                continue;
            }
            var leads = new List<ScoredLead>();
            foreach (var a in facts.Attendees.Where(a => a.Kind != AttendeeKinds.Exhibitor))
            {
                if (!index.PositionById.TryGetValue(a.UserId, out var ai) || ReciprocalMatcher.IsExcluded(index, xi, ai, declined))
                {
                    continue;
                }
                var pair = ReciprocalMatcher.PairScore(index, xi, ai, facts.Conference.Weights);
                if (pair <= 0)
                {
                    continue;
                }
                var engaged = engagement.GetValueOrDefault((x.UserId, a.UserId));
                var reasons = new List<string>(ReciprocalMatcher.Explain(index, xi, ai).Reasons);
                if (engaged >= 1) reasons.Add($"You met {a.DisplayName}.");
                else if (engaged > 0) reasons.Add($"The match with {a.DisplayName} was accepted.");
                reasons.Add($"Score {Math.Round(100 * (0.7 * pair + 0.3 * engaged), 1).ToString(System.Globalization.CultureInfo.InvariantCulture)} = 100 × (0.7 × pair {Math.Round(pair, 3).ToString(System.Globalization.CultureInfo.InvariantCulture)} + 0.3 × engagement {engaged.ToString(System.Globalization.CultureInfo.InvariantCulture)}).");
                leads.Add(new ScoredLead(a.UserId, a.DisplayName, a.Company, a.Role, Math.Round(100 * (0.7 * pair + 0.3 * engaged), 4), Math.Round(pair, 6), engaged, reasons));
            }
            result.Add((x, [.. leads.OrderByDescending(l => l.Score).ThenBy(l => l.UserId, StringComparer.Ordinal)]));
        }
        return result;
    }

    private static IEnumerable<(string, string)> Pairs(IEnumerable<EventsStore.FeedbackRow> rows) =>
        rows.Select(f => string.CompareOrdinal(f.UserId, f.MatchUserId) < 0 ? (f.UserId, f.MatchUserId) : (f.MatchUserId, f.UserId)).Distinct();

    /// <summary>Distinct attendee pairs with a <c>met</c> outcome: one-to-one meetings recorded through matchmaking.</summary>
    public static IReadOnlyList<(string A, string B)> Meetings(ConferenceFacts facts) => [.. Pairs(facts.Feedback.Where(f => f.Outcome == "met"))];

    /// <summary>Distinct attendee pairs with an <c>accepted</c> or <c>met</c> outcome (a met match was accepted).</summary>
    public static IReadOnlyList<(string A, string B)> AcceptedMatches(ConferenceFacts facts) =>
        [.. Pairs(facts.Feedback.Where(f => f.Outcome is "accepted" or "met"))];

    public static LeadValue ValueOf(IEnumerable<ScoredLead> leads, double valuePerLead, double qualificationScore)
    {
        var all = leads.ToList();
        var qualified = all.Where(l => l.Score >= qualificationScore).ToList();
        var sum = qualified.Sum(l => l.Score);
        return new LeadValue(Math.Round(valuePerLead * sum / 100, 2), LeadValueFormula,
            new LeadValueInputs(valuePerLead, qualificationScore, all.Count, qualified.Count, Math.Round(sum, 4)));
    }

    public static ConferenceRoi Roi(ConferenceFacts facts, DateTimeOffset now, double valuePerLead, double qualificationScore) =>
        Roi(facts, Leads(facts), now, valuePerLead, qualificationScore);

    private static ConferenceRoi Roi(ConferenceFacts facts, IReadOnlyList<(Attendee Exhibitor, IReadOnlyList<ScoredLead> Leads)> leads, DateTimeOffset now,
        double valuePerLead, double qualificationScore) =>
        new(facts.Conference.Id, facts.Conference.Name, now, facts.Attendees.Count, facts.Attendees.Count(a => a.Kind == AttendeeKinds.Exhibitor),
            Meetings(facts).Count, AcceptedMatches(facts).Count, facts.Accepted.Count(x => x.At <= now),
            ValueOf(leads.SelectMany(l => l.Leads), valuePerLead, qualificationScore),
            $"{RoiVersion}; {LeadScoreVersion}; {ReciprocalMatcher.Version}");

    /// <summary>Exhibiting companies compared over the given conferences (one tenant's: the caller passes only its own).</summary>
    public static CompetitorBenchmarks Benchmarks(Guid tenantId, IReadOnlyList<ConferenceFacts> conferences, DateTimeOffset now, double valuePerLead,
        double qualificationScore)
    {
        var rois = new List<ConferenceRoi>();
        var byCompany = new Dictionary<string, (HashSet<Guid> Conferences, int Exhibitors, int Leads, int Qualified, double Score, int Meetings, int Accepted)>(StringComparer.Ordinal);
        foreach (var facts in conferences)
        {
            var leads = Leads(facts);
            rois.Add(Roi(facts, leads, now, valuePerLead, qualificationScore));
            var meetings = Meetings(facts);
            var accepted = AcceptedMatches(facts);
            foreach (var (x, list) in leads)
            {
                // An exhibitor without a company stands for itself.
                var company = x.Company ?? x.DisplayName;
                var c = byCompany.GetValueOrDefault(company, ([], 0, 0, 0, 0, 0, 0));
                c.Conferences.Add(facts.Conference.Id);
                byCompany[company] = (c.Conferences, c.Exhibitors + 1, c.Leads + list.Count, c.Qualified + list.Count(l => l.Score >= qualificationScore),
                    c.Score + list.Sum(l => l.Score), c.Meetings + meetings.Count(p => p.A == x.UserId || p.B == x.UserId),
                    c.Accepted + accepted.Count(p => p.A == x.UserId || p.B == x.UserId));
            }
        }
        var total = byCompany.Values.Sum(c => c.Score);
        var companies = byCompany.Select(kv => new CompanyBenchmark(kv.Key, kv.Value.Conferences.Count, kv.Value.Exhibitors, kv.Value.Leads, kv.Value.Qualified,
                Math.Round(kv.Value.Score, 4), total <= 0 ? 0 : Math.Round(kv.Value.Score / total, 6), kv.Value.Meetings, kv.Value.Accepted))
            .OrderByDescending(c => c.LeadScore).ThenBy(c => c.Company, StringComparer.Ordinal).ToList();
        static double Rank(IEnumerable<double> values, double p)
        {
            var sorted = values.OrderBy(v => v).ToList();
            return sorted.Count == 0 ? 0 : sorted[Math.Max(0, (int)Math.Ceiling(p * sorted.Count) - 1)];
        }
        var summary = new BenchmarkSummary(companies.Count, Rank(companies.Select(c => (double)c.Leads), 0.5), Rank(companies.Select(c => (double)c.Leads), 0.75),
            Rank(companies.Select(c => c.LeadScore), 0.5), Rank(companies.Select(c => c.LeadScore), 0.75),
            Rank(companies.Select(c => (double)c.MeetingsBooked), 0.5), Rank(companies.Select(c => (double)c.MeetingsBooked), 0.75));
        return new CompetitorBenchmarks(tenantId, now, rois, companies, summary, $"{BenchmarkVersion}; {RoiVersion}; {LeadScoreVersion}; {ReciprocalMatcher.Version}");
    }
}
