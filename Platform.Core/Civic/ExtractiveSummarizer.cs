using System.Globalization;
using System.Text.RegularExpressions;

namespace Platform.Core.Civic;

/// <summary>
/// The default summarizer: extractive and deterministic. Every decision and topic becomes a claim whose evidence
/// is the exact span of the motion, vote or agenda heading it came from (with its page, for a PDF). Decisions are
/// phrased from the motion the way a resident would say them: "Adopted the FY 2027 capital improvement budget, 5-2".
/// </summary>
public static partial class ExtractiveSummarizer
{
    public const string Name = "extractive-v2";

    /// <summary>Agenda items that are procedure, not substance.</summary>
    private static readonly string[] Procedural =
        ["CALL TO ORDER", "ROLL CALL", "PLEDGE", "ADJOURN", "APPROVAL OF MINUTES", "APPROVAL OF THE MINUTES", "APPROVAL OF AGENDA",
         "APPROVAL OF THE AGENDA", "COUNCIL COMMENTS", "MEMBER COMMENTS", "COMMUNICATIONS", "ANNOUNCEMENTS", "INVOCATION", "CLOSED SESSION",
         "PUBLIC COMMENT", "PUBLIC PARTICIPATION", "COUNCIL REPORTS", "CONSENT", "RECONSIDERATION", "MISCELLANEOUS", "AGENDA"];

    public static SummaryDraft Summarize(Guid artifactId, string text, MeetingExtraction x, string fallbackTitle)
    {
        var paged = text.Contains(DocumentText.PageBreak, StringComparison.Ordinal);
        Evidence Span(string sectionRef, int start, int end) =>
            new(artifactId, sectionRef, start, end, text[start..end], paged ? DocumentText.PageOf(text, start) : null);

        var items = x.AgendaItems.ToDictionary(i => i.Ref);
        var motions = x.Motions.ToDictionary(m => m.Ref);
        var claims = new List<Claim>();
        var decisions = new List<KeyDecision>();
        foreach (var vote in x.Votes)
        {
            var motion = vote.MotionRef is { } r ? motions[r] : null;
            var agenda = motion?.AgendaRef is { } a ? TitleCase(items[a].Title) : null;
            var tally = vote.Ayes is null && vote.Nays is null ? null : new VoteTally(vote.Ayes, vote.Nays, vote.Abstain);
            var phrase = DecisionPhrase.Of(motion?.Text ?? "an unrecorded motion", vote.Outcome, tally);
            decisions.Add(new KeyDecision(phrase, motion?.Kind ?? "motion", vote.Outcome, tally, agenda, vote.Ref));
            var evidence = new List<Evidence>();
            if (motion?.SubjectStart is { } ss && motion.SubjectEnd is { } se)
            {
                evidence.Add(Span(motion.Ref + "-subject", ss, se));
            }
            if (motion is not null && !(motion.Start == vote.Start && motion.End == vote.End))
            {
                evidence.Add(Span(motion.Ref, motion.Start, motion.End));
            }
            evidence.Add(Span(vote.Ref, vote.Start, vote.End));
            claims.Add(new Claim("decision", phrase + ".", evidence));
        }

        var topics = x.AgendaItems.Where(i => !Procedural.Any(p => i.Title.Contains(p, StringComparison.OrdinalIgnoreCase)))
            .Select(i => new Topic(TitleCase(i.Title), i.Ref)).ToList();
        foreach (var t in topics)
        {
            var item = items[t.SectionRef];
            claims.Add(new Claim("topic", $"The agenda included {t.Title}.", [Span(item.Ref, item.Start, item.HeadingEnd)]));
        }

        var title = x.Title ?? fallbackTitle;
        if (x.MeetingDate is null && x.Title is null)
        {
            title = fallbackTitle;
        }
        var carried = decisions.Count(k => k.Outcome == "carried");
        var failed = decisions.Count(k => k.Outcome == "failed");
        var other = decisions.Count - carried - failed;
        var first = decisions.Count == 0
            ? $"{Clean(title)}: no recorded votes"
            : $"{Clean(title)}: {decisions.Count} {(decisions.Count == 1 ? "decision" : "decisions")}, {carried} carried, {failed} failed"
              + (other > 0 ? $", {other} tabled, continued, referred or withdrawn" : "");
        var sentences = new List<string> { first };
        var main = decisions.Where(k => k.Outcome == "carried" && k.Kind == "motion")
                       .OrderByDescending(k => k.AgendaItem is { } a && topics.Any(t => t.Title == a))
                       .ThenByDescending(k => k.Tally is { Nays: > 0 })
                       .FirstOrDefault() ?? decisions.FirstOrDefault();
        if (main is not null)
        {
            sentences.Add($"Key decision: {Clean(main.Motion)}");
        }
        if (topics.Count > 0)
        {
            sentences.Add($"Topics: {string.Join("; ", topics.Take(4).Select(t => Clean(t.Title)))}");
        }
        return new SummaryDraft(string.Join(". ", sentences) + ".", decisions, topics, claims, Name);
    }

    private static string TitleCase(string s) =>
        s.Any(char.IsLower) ? s : CultureInfo.InvariantCulture.TextInfo.ToTitleCase(s.ToLowerInvariant());

    /// <summary>Sentence ends inside quoted text would make the summary look longer than it is.</summary>
    internal static string Clean(string s) => SentenceEnd().Replace(s, " ").Trim().TrimEnd('.', '!', '?');

    [GeneratedRegex(@"[.!?]+(\s+)")]
    private static partial Regex SentenceEnd();
}

/// <summary>A decision as a resident would say it, from what was moved and how the vote went.</summary>
public static partial class DecisionPhrase
{
    private const int MaxLength = 160;

    public static string Of(string motion, string outcome, VoteTally? tally)
    {
        var what = motion.Trim().TrimEnd('.');
        var count = tally is { Ayes: { } a, Nays: { } n } ? $", {a}-{n}" + (tally.Abstain is > 0 ? $"-{tally.Abstain}" : "") : "";
        string phrase;
        if (what.StartsWith("the item: ", StringComparison.Ordinal))
        {
            phrase = Capitalize(what["the item: ".Length..]);
            return Shorten(phrase) + (count.Length > 0 && !ContainsTally().IsMatch(phrase) ? count : "");
        }
        var infinitive = what.StartsWith("to ", StringComparison.OrdinalIgnoreCase) ? what[3..].Trim() : null;
        phrase = outcome switch
        {
            "withdrawn" => $"Motion {what} withdrawn",
            "failed" => $"Rejected a motion {what}",
            _ when infinitive is not null => PastTense(infinitive),
            "tabled" => $"Tabled the motion {what}",
            "continued" => $"Continued the item {what}",
            "referred" => $"Referred the item {what}",
            _ => $"Carried a motion {what}",
        };
        return Shorten(phrase) + (outcome == "withdrawn" ? "" : count);
    }

    /// <summary>"adopt the budget" → "Adopted the budget".</summary>
    public static string PastTense(string infinitive)
    {
        var space = infinitive.IndexOf(' ', StringComparison.Ordinal);
        var verb = space < 0 ? infinitive : infinitive[..space];
        var rest = space < 0 ? "" : infinitive[space..];
        var lower = verb.ToLowerInvariant();
        var past = Irregular.TryGetValue(lower, out var p) ? p
            : lower.EndsWith('e') ? lower + "d"
            : lower.Length > 2 && lower.EndsWith('y') && !"aeiou".Contains(lower[^2], StringComparison.Ordinal) ? lower[..^1] + "ied"
            : Doubling.Contains(lower) ? lower + lower[^1] + "ed"
            : lower + "ed";
        return Capitalize(past) + rest;
    }

    private static readonly Dictionary<string, string> Irregular = new(StringComparer.Ordinal)
    {
        ["set"] = "set", ["send"] = "sent", ["uphold"] = "upheld", ["hold"] = "held", ["make"] = "made", ["give"] = "gave", ["put"] = "put",
        ["choose"] = "chose", ["let"] = "let", ["take"] = "took", ["keep"] = "kept", ["bring"] = "brought", ["withdraw"] = "withdrew",
    };

    private static readonly HashSet<string> Doubling = ["refer", "defer", "transfer", "omit", "permit", "commit", "submit", "admit", "plan", "ban", "stop"];

    private static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];

    private static string Shorten(string s)
    {
        if (s.Length <= MaxLength)
        {
            return s;
        }
        var cut = s.LastIndexOf(' ', MaxLength);
        return s[..(cut > 40 ? cut : MaxLength)].TrimEnd(',', ';', ' ') + "…";
    }

    [GeneratedRegex(@"\b\d{1,2}-\d{1,2}\b")]
    private static partial Regex ContainsTally();
}
