using System.Globalization;
using System.Text.RegularExpressions;

namespace Platform.Core.Civic;

/// <summary>A pointer into an artifact's text; <see cref="Excerpt"/> must equal the text between Start and End.</summary>
public sealed record Evidence(Guid ArtifactId, string SectionRef, int Start, int End, string Excerpt);

public sealed record Claim(string Kind, string Text, IReadOnlyList<Evidence> Evidence);

public sealed record VoteTally(int? Ayes, int? Nays, int? Abstain);

public sealed record KeyDecision(string Motion, string Kind, string Outcome, VoteTally? Tally, string? AgendaItem, string SectionRef);

public sealed record Topic(string Title, string SectionRef);

/// <summary>A summary before the gate: what a summarizer proposes to publish.</summary>
public sealed record SummaryDraft(string ShortSummary, IReadOnlyList<KeyDecision> KeyDecisions, IReadOnlyList<Topic> NotableTopics,
    IReadOnlyList<Claim> Claims, string Summarizer);

/// <summary>
/// The default summarizer: extractive and deterministic. Every decision and topic becomes a claim whose evidence
/// is the exact span of the motion, vote or agenda heading it came from.
/// </summary>
public static partial class ExtractiveSummarizer
{
    public const string Name = "extractive-v1";

    /// <summary>Agenda items that are procedure, not substance.</summary>
    private static readonly string[] Procedural =
        ["CALL TO ORDER", "ROLL CALL", "PLEDGE", "ADJOURN", "APPROVAL OF MINUTES", "APPROVAL OF THE MINUTES", "APPROVAL OF AGENDA",
         "APPROVAL OF THE AGENDA", "COUNCIL COMMENTS", "COMMUNICATIONS", "ANNOUNCEMENTS", "INVOCATION", "CLOSED SESSION REPORT"];

    public static SummaryDraft Summarize(Guid artifactId, string text, MeetingExtraction x, string fallbackTitle)
    {
        Evidence Span(string sectionRef, int start, int end) => new(artifactId, sectionRef, start, end, text[start..end]);

        var items = x.AgendaItems.ToDictionary(i => i.Ref);
        var motions = x.Motions.ToDictionary(m => m.Ref);
        var claims = new List<Claim>();
        var decisions = new List<KeyDecision>();
        foreach (var vote in x.Votes)
        {
            var motion = vote.MotionRef is { } r ? motions[r] : null;
            var agenda = motion?.AgendaRef is { } a ? items[a].Title : null;
            var what = motion?.Text ?? "an unrecorded motion";
            var tally = vote.Ayes is null && vote.Nays is null ? null : new VoteTally(vote.Ayes, vote.Nays, vote.Abstain);
            decisions.Add(new KeyDecision(what, motion?.Kind ?? "motion", vote.Outcome, tally, agenda, vote.Ref));
            var evidence = new List<Evidence>();
            if (motion is not null)
            {
                evidence.Add(Span(motion.Ref, motion.Start, motion.End));
            }
            evidence.Add(Span(vote.Ref, vote.Start, vote.End));
            claims.Add(new Claim("decision", $"{Capitalize(motion?.Kind ?? "motion")} {what}: {vote.Outcome}{TallyText(tally)}.", evidence));
        }

        var topics = x.AgendaItems.Where(i => !Procedural.Any(p => i.Title.Contains(p, StringComparison.OrdinalIgnoreCase)))
            .Select(i => new Topic(TitleCase(i.Title), i.Ref)).ToList();
        foreach (var t in topics)
        {
            var item = items[t.SectionRef];
            claims.Add(new Claim("topic", $"The agenda included {t.Title}.", [Span(item.Ref, item.Start, item.HeadingEnd)]));
        }

        var title = x.Title ?? fallbackTitle;
        var when = x.MeetingDate is { } d ? d.ToString("MMMM d, yyyy", CultureInfo.InvariantCulture) : "an undated meeting";
        var carried = decisions.Count(k => k.Outcome == "carried");
        var failed = decisions.Count(k => k.Outcome == "failed");
        var sentences = new List<string>
        {
            $"{Clean(title)} ({when}): {decisions.Count} recorded {(decisions.Count == 1 ? "vote" : "votes")}, {carried} carried and {failed} failed",
        };
        var main = decisions.FirstOrDefault(k => k.AgendaItem is { } a && topics.Any(t => t.Title == TitleCase(a))) ?? decisions.FirstOrDefault();
        if (main is not null)
        {
            sentences.Add($"Key decision: {Clean(main.Motion)} ({main.Outcome}{TallyText(main.Tally)})");
        }
        if (topics.Count > 0)
        {
            sentences.Add($"Topics: {string.Join("; ", topics.Take(4).Select(t => Clean(t.Title)))}");
        }
        return new SummaryDraft(string.Join(". ", sentences) + ".", decisions, topics, claims, Name);
    }

    private static string TallyText(VoteTally? t) =>
        t is null ? "" : $" {t.Ayes ?? 0}-{t.Nays ?? 0}" + (t.Abstain is > 0 ? $" with {t.Abstain} abstaining" : "");

    private static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];

    /// <summary>Sentence ends inside quoted text would make the summary look longer than it is.</summary>
    private static string Clean(string s) => SentenceEnd().Replace(s, " ").Trim().TrimEnd('.', '!', '?');

    private static string TitleCase(string s) =>
        s.Any(char.IsLower) ? s : CultureInfo.InvariantCulture.TextInfo.ToTitleCase(s.ToLowerInvariant());

    [GeneratedRegex(@"[.!?]+(\s+)")]
    private static partial Regex SentenceEnd();
}

/// <summary>Quality gate thresholds (configuration: <c>Platform:Civic:Gate</c>).</summary>
public sealed class GateThresholds
{
    /// <summary>Evidence coverage at or above this publishes as <c>pass</c>.</summary>
    public double PassCoverage { get; set; } = 0.85;
    /// <summary>Below this nothing is published (<c>reject</c>); between the two, <c>limited_confidence</c>.</summary>
    public double MinCoverage { get; set; } = 0.5;
}

public static class GateOutcomes
{
    public const string Pass = "pass";
    public const string LimitedConfidence = "limited_confidence";
    public const string Reject = "reject";
}

public sealed record GateResult(string Outcome, double Coverage, int Claims, int ClaimsWithEvidence, IReadOnlyList<string> Problems);

/// <summary>
/// The publish gate (plan §7): citation schema validity, then evidence coverage (claims with valid evidence /
/// claims). Any evidence whose excerpt is not the artifact's text at its offsets is fabricated and rejects the
/// whole summary — a reader must be able to check every excerpt.
/// </summary>
public static partial class QualityGate
{
    public static GateResult Evaluate(SummaryDraft draft, IReadOnlyDictionary<Guid, string> artifactTexts, GateThresholds thresholds)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(draft.ShortSummary))
        {
            problems.Add("shortSummary is empty.");
        }
        else if (SentenceCount(draft.ShortSummary) > 3)
        {
            problems.Add("shortSummary has more than 3 sentences.");
        }
        var withEvidence = 0;
        for (var c = 0; c < draft.Claims.Count; c++)
        {
            var claim = draft.Claims[c];
            if (string.IsNullOrWhiteSpace(claim.Text))
            {
                problems.Add($"claims[{c}] has no text.");
            }
            var valid = claim.Evidence.Count > 0;
            for (var e = 0; e < claim.Evidence.Count; e++)
            {
                var ev = claim.Evidence[e];
                var where = $"claims[{c}].evidence[{e}]";
                if (string.IsNullOrWhiteSpace(ev.SectionRef) || string.IsNullOrEmpty(ev.Excerpt))
                {
                    problems.Add($"{where} lacks sectionRef or excerpt.");
                    valid = false;
                }
                else if (!artifactTexts.TryGetValue(ev.ArtifactId, out var text))
                {
                    problems.Add($"{where} cites unknown artifact {ev.ArtifactId}.");
                    valid = false;
                }
                else if (ev.Start < 0 || ev.End <= ev.Start || ev.End > text.Length)
                {
                    problems.Add($"{where} offsets {ev.Start}..{ev.End} are outside the artifact (length {text.Length}).");
                    valid = false;
                }
                else if (!text.AsSpan(ev.Start, ev.End - ev.Start).SequenceEqual(ev.Excerpt))
                {
                    problems.Add($"{where} excerpt is not the artifact's text at {ev.Start}..{ev.End} (fabricated).");
                    valid = false;
                }
            }
            if (valid)
            {
                withEvidence++;
            }
        }
        var coverage = draft.Claims.Count == 0 ? 0 : Math.Round((double)withEvidence / draft.Claims.Count, 4);
        // Schema problems (including fabricated evidence) reject outright; otherwise coverage decides.
        var outcome = problems.Count > 0 ? GateOutcomes.Reject
            : coverage >= thresholds.PassCoverage ? GateOutcomes.Pass
            : coverage >= thresholds.MinCoverage ? GateOutcomes.LimitedConfidence
            : GateOutcomes.Reject;
        if (problems.Count == 0 && outcome == GateOutcomes.Reject)
        {
            problems.Add($"Evidence coverage {coverage:P0} is below the floor of {thresholds.MinCoverage:P0}.");
        }
        return new GateResult(outcome, coverage, draft.Claims.Count, withEvidence, problems);
    }

    public static int SentenceCount(string s) => SentenceEnd().Count(s.Trim() + " ");

    [GeneratedRegex(@"[.!?](?=\s)")]
    private static partial Regex SentenceEnd();
}
