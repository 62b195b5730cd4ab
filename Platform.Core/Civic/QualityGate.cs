using System.Globalization;
using System.Text.RegularExpressions;

namespace Platform.Core.Civic;

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

public sealed record GateResult(string Outcome, double Coverage, int Claims, int ClaimsWithEvidence, IReadOnlyList<string> Problems,
    IReadOnlyList<string>? Warnings = null);

/// <summary>
/// The publish gate: citation schema validity, then evidence coverage (claims with valid evidence /
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
        // Coverage only measures what was found. A document that plainly records more votes than the summary has
        // decisions lost some of them: never a clean pass.
        var warnings = new List<string>();
        var statements = artifactTexts.Values.Sum(MinutesExtractor.CountVoteStatements);
        if (statements > draft.KeyDecisions.Count)
        {
            warnings.Add($"The document records {statements} votes but the summary has {draft.KeyDecisions.Count} decisions.");
            if (outcome == GateOutcomes.Pass)
            {
                outcome = GateOutcomes.LimitedConfidence;
            }
        }
        return new GateResult(outcome, coverage, draft.Claims.Count, withEvidence, problems, warnings);
    }

    public static int SentenceCount(string s) => SentenceEnd().Count(s.Trim() + " ");

    [GeneratedRegex(@"[.!?](?=\s)")]
    private static partial Regex SentenceEnd();
}
