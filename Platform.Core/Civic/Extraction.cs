using System.Globalization;
using System.Text.RegularExpressions;

namespace Platform.Core.Civic;

/// <summary>An agenda item: its heading line and the span up to the next heading.</summary>
public sealed record AgendaItem(string Ref, string Number, string Title, int Start, int End, int HeadingEnd, double Confidence);

/// <summary>A motion or amendment line, the agenda item it belongs to, and what it moves.</summary>
public sealed record Motion(string Ref, string Kind, string? Mover, string Text, int Start, int End, string? AgendaRef, double Confidence);

/// <summary>A recorded vote and the motion it decides; counts are null where the minutes do not state them.</summary>
public sealed record Vote(string Ref, string? MotionRef, string Outcome, int? Ayes, int? Nays, int? Abstain,
    IReadOnlyList<string> AyeNames, IReadOnlyList<string> NayNames, bool RollCall, int Start, int End, double Confidence);

/// <summary>What the extract stage found in one artifact's text, with character offsets into that text.</summary>
public sealed record MeetingExtraction(string? Title, DateOnly? MeetingDate, IReadOnlyList<AgendaItem> AgendaItems,
    IReadOnlyList<Motion> Motions, IReadOnlyList<Vote> Votes, double Confidence);

/// <summary>
/// Finds agenda items, motions and votes in minutes text. Pure and deterministic; offsets index into the
/// normalised artifact text, so every span can be cut back out of it. The rules follow the usual shape of
/// council minutes: numbered agenda headings, "MOTION:"/"AMENDMENT:" lines, and "VOTE:"/"ROLL CALL VOTE:" lines
/// with Ayes/Nays lists and a "carried 5-2" tally.
/// </summary>
public static partial class MinutesExtractor
{
    public static MeetingExtraction Extract(string text)
    {
        var items = new List<AgendaItem>();
        var motions = new List<Motion>();
        var votes = new List<Vote>();
        string? title = null;
        DateOnly? date = null;

        var lines = Lines(text).ToList();
        foreach (var (start, end) in lines)
        {
            var line = text[start..end];
            if (date is null && DateLine().Match(line) is { Success: true } d &&
                DateOnly.TryParseExact(d.Groups[1].Value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
            {
                date = parsed;
            }
            if (title is null && line.Contains("Minutes", StringComparison.OrdinalIgnoreCase) && line.Length <= 120)
            {
                title = line.Trim();
            }
            if (Heading().Match(line) is { Success: true } h)
            {
                if (items.Count > 0)
                {
                    items[^1] = items[^1] with { End = start };
                }
                items.Add(new AgendaItem($"item-{items.Count + 1}", h.Groups[1].Value, h.Groups[2].Value.Trim(), start, text.Length, end, 0.9));
                continue;
            }
            var agendaRef = items.Count > 0 ? items[^1].Ref : null;
            if (MotionLine().Match(line) is { Success: true } m)
            {
                var kind = m.Groups[1].Value.ToUpperInvariant().Contains("AMEND", StringComparison.Ordinal) ? "amendment" : "motion";
                var body = m.Groups[2].Value;
                var mover = Mover().Match(body) is { Success: true } mv ? mv.Groups[1].Value.Trim() : null;
                var moved = MovedTo().Match(body) is { Success: true } mt ? mt.Groups[1].Value.Trim() : FirstSentence(body);
                motions.Add(new Motion($"motion-{motions.Count + 1}", kind, mover, moved.TrimEnd('.'), start, end, agendaRef, 0.5));
                continue;
            }
            if (VoteLine().Match(line) is { Success: true } v)
            {
                var onAmendment = v.Groups[2].Success;
                var body = v.Groups[3].Value;
                var target = motions.LastOrDefault(x => (x.Kind == "amendment") == onAmendment && votes.All(z => z.MotionRef != x.Ref))
                             ?? motions.LastOrDefault(x => votes.All(z => z.MotionRef != x.Ref));
                var ayeNames = Names(Ayes().Match(body));
                var nayNames = Names(Nays().Match(body));
                var abstainNames = Names(Abstain().Match(body));
                int? ayes = null, nays = null, abstain = null;
                if (Tally().Match(body) is { Success: true } t)
                {
                    ayes = int.Parse(t.Groups[1].Value, CultureInfo.InvariantCulture);
                    nays = int.Parse(t.Groups[2].Value, CultureInfo.InvariantCulture);
                    abstain = t.Groups[3].Success ? int.Parse(t.Groups[3].Value, CultureInfo.InvariantCulture) : null;
                }
                else if (ayeNames is not null || nayNames is not null)
                {
                    ayes = ayeNames?.Count ?? 0;
                    nays = nayNames?.Count ?? 0;
                }
                abstain ??= abstainNames?.Count;
                var outcome = Carried().IsMatch(body) ? "carried" : Failed().IsMatch(body) ? "failed" : "unknown";
                if (outcome == "unknown" && ayes is { } a && nays is { } n)
                {
                    outcome = a > n ? "carried" : "failed"; // a tally without a word: simple majority of those voting
                }
                var confidence = (outcome != "unknown", ayes is not null) switch
                {
                    (true, true) => 0.95,
                    (true, false) => 0.75,
                    _ => 0.4,
                };
                var vote = new Vote($"vote-{votes.Count + 1}", target?.Ref, outcome, ayes, nays, abstain,
                    ayeNames ?? [], nayNames ?? [], v.Groups[1].Value.Contains("ROLL", StringComparison.OrdinalIgnoreCase), start, end, confidence);
                votes.Add(vote);
                if (target is not null)
                {
                    var i = motions.IndexOf(target);
                    motions[i] = target with { Confidence = 0.9 };
                }
            }
        }
        var scored = motions.Select(m => m.Confidence).Concat(votes.Select(v => v.Confidence)).ToList();
        var overall = scored.Count == 0 ? (items.Count > 0 ? 0.6 : 0.2) : Math.Round(scored.Average(), 3);
        return new MeetingExtraction(title, date, items, motions, votes, overall);
    }

    /// <summary>(start, end) of every line, end excluding the newline.</summary>
    public static IEnumerable<(int Start, int End)> Lines(string text)
    {
        var start = 0;
        while (start < text.Length)
        {
            var nl = text.IndexOf('\n', start);
            var end = nl < 0 ? text.Length : nl;
            if (end > start)
            {
                yield return (start, end);
            }
            start = end + 1;
        }
    }

    private static string FirstSentence(string s)
    {
        var i = s.IndexOf(". ", StringComparison.Ordinal);
        return i < 0 ? s : s[..i];
    }

    private static List<string>? Names(Match m)
    {
        if (!m.Success)
        {
            return null;
        }
        var list = m.Groups[1].Value.Trim();
        if (list.Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            return [];
        }
        return list.Split([",", " and "], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
    }

    [GeneratedRegex(@"^Meeting date:\s*(\d{4}-\d{2}-\d{2})", RegexOptions.IgnoreCase)]
    private static partial Regex DateLine();

    [GeneratedRegex(@"^\s*(\d{1,2}(?:\.\d{1,2})?)\.\s+([A-Z][A-Z0-9 ,;:'&()/\-–]{2,})$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"^\s*((?:SUBSTITUTE\s+)?MOTION|AMENDMENT|MOTION TO AMEND)\s*:\s*(.+)$", RegexOptions.IgnoreCase)]
    private static partial Regex MotionLine();

    [GeneratedRegex(@"^(.{3,80}?)\s+moved\b")]
    private static partial Regex Mover();

    [GeneratedRegex(@"\bmoved\s+(to\s+.+?)(?:\.\s+Second(?:ed)?\b|\.\s*$|$)", RegexOptions.IgnoreCase)]
    private static partial Regex MovedTo();

    [GeneratedRegex(@"^\s*((?:ROLL CALL\s+)?VOTE)(\s+ON\s+(?:THE\s+)?AMENDMENT)?\s*:\s*(.+)$", RegexOptions.IgnoreCase)]
    private static partial Regex VoteLine();

    [GeneratedRegex(@"\bAyes?:\s*([^.]+)\.", RegexOptions.IgnoreCase)]
    private static partial Regex Ayes();

    [GeneratedRegex(@"\b(?:Nays?|Noes):\s*([^.]+)\.", RegexOptions.IgnoreCase)]
    private static partial Regex Nays();

    [GeneratedRegex(@"\bAbstain(?:ed|ing|s)?:\s*([^.]+)\.", RegexOptions.IgnoreCase)]
    private static partial Regex Abstain();

    [GeneratedRegex(@"\b(\d{1,2})\s*[-–]\s*(\d{1,2})(?:\s*[-–]\s*(\d{1,2}))?\b")]
    private static partial Regex Tally();

    [GeneratedRegex(@"\b(carried|passed|approved|adopted)\b", RegexOptions.IgnoreCase)]
    private static partial Regex Carried();

    [GeneratedRegex(@"\b(failed|defeated|rejected)\b", RegexOptions.IgnoreCase)]
    private static partial Regex Failed();
}
