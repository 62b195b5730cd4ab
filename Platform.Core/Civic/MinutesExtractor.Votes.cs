using System.Globalization;
using System.Text.RegularExpressions;

namespace Platform.Core.Civic;

/// <summary>Reads a vote: its outcome, its counts (digits, words or Ayes/Noes lines) and the names on each side.</summary>
public static partial class MinutesExtractor
{
    private static string? OutcomeWord(string s) => FailWord().IsMatch(s) ? "failed" : CarryWord().IsMatch(s) ? "carried" : null;

    internal static bool HasTallyText(string s) => DigitTally(s) is not null || WordTally().IsMatch(s) || CountLabel().IsMatch(s);

    private static string Outcome(string vote, string motionObject, int? ayes, int? nays)
    {
        if (Withdrawn().IsMatch(vote))
        {
            return "withdrawn";
        }
        if (DiedNoSecond().IsMatch(vote))
        {
            return "failed";
        }
        string? passed = null;
        var ambiguous = false;
        foreach (Match m in OutcomeWords().Matches(vote))
        {
            var w = m.Value.ToLowerInvariant();
            if (w is "denied" or "rejected")
            {
                ambiguous = true;
                continue;
            }
            passed = w is "failed" or "defeated" or "lost" or "fails" or "not pass" or "did not pass" ? "failed" : "carried";
            if (w is "tabled")
            {
                return "tabled";
            }
            if (w is "continued" or "postponed")
            {
                passed = "continued";
            }
            if (w is "referred")
            {
                passed = "referred";
            }
        }
        if (passed is null && ayes is { } a && nays is { } n)
        {
            passed = a > n ? "carried" : "failed";
        }
        if (passed is null && ambiguous)
        {
            passed = "failed";
        }
        if (passed is null)
        {
            return "unknown";
        }
        if (passed == "carried")
        {
            var what = motionObject.TrimStart();
            if (TableObject().IsMatch(what))
            {
                return "tabled";
            }
            if (ContinueObject().IsMatch(what))
            {
                return "continued";
            }
            if (ReferObject().IsMatch(what))
            {
                return "referred";
            }
        }
        return passed;
    }

    private static (int? Ayes, int? Nays, int? Abstain, List<string> AyeNames, List<string> NayNames) Tally(string vote)
    {
        var ayeNames = new List<string>();
        var nayNames = new List<string>();
        int? ayes = null, nays = null, abstain = null;
        if (DigitTally(vote) is { } d)
        {
            (ayes, nays, abstain) = d;
        }
        else if (WordTally().Match(vote) is { Success: true } w)
        {
            ayes = NumberWord(w.Groups["a"].Value);
            nays = NumberWord(w.Groups["n"].Value);
        }
        else if (CountLabel().IsMatch(vote))
        {
            foreach (Match m in CountLabel().Matches(vote))
            {
                var n = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
                switch (LabelKind(m.Groups[1].Value))
                {
                    case 'a': ayes = n; break;
                    case 'n': nays = n; break;
                    case 'x': abstain = n; break;
                }
            }
            if (ayes is not null)
            {
                nays ??= 0;
            }
        }
        // Name lists (roll calls) give names, and counts where no number was written.
        foreach (Match m in NameList().Matches(vote))
        {
            var names = SplitNames(m.Groups[2].Value);
            switch (LabelKind(m.Groups[1].Value))
            {
                case 'a': ayeNames.AddRange(names); break;
                case 'n': nayNames.AddRange(names); break;
                case 'x': abstain ??= names.Count; break;
            }
        }
        var rowAbstain = 0;
        foreach (Match m in PerNameVote().Matches(vote))
        {
            switch (LabelKind(m.Groups[2].Value))
            {
                case 'a': ayeNames.Add(Person(m.Groups[1].Value) ?? m.Groups[1].Value); break;
                case 'n': nayNames.Add(Person(m.Groups[1].Value) ?? m.Groups[1].Value); break;
                case 'x': rowAbstain++; break;
            }
        }
        if (ayes is null && (ayeNames.Count > 0 || nayNames.Count > 0))
        {
            ayes = ayeNames.Count;
            nays = nayNames.Count;
            abstain ??= rowAbstain > 0 ? rowAbstain : null;
        }
        if (ayes is not null && abstain is null)
        {
            var mentions = AbstainMention().Matches(vote).Count;
            abstain = mentions > 0 ? mentions : null;
        }
        return (ayes, nays, abstain, ayeNames, nayNames);
    }

    private static char LabelKind(string label)
    {
        var l = label.Trim().ToLowerInvariant();
        return l.StartsWith("ay", StringComparison.Ordinal) || l.StartsWith("yea", StringComparison.Ordinal) || l.StartsWith("yes", StringComparison.Ordinal)
               || l is "for" or "in favor" || l.StartsWith("aye", StringComparison.Ordinal) ? 'a'
            : l.StartsWith("no", StringComparison.Ordinal) || l.StartsWith("nay", StringComparison.Ordinal) || l is "against" || l.StartsWith("opposed", StringComparison.Ordinal) ? 'n'
            : l.StartsWith("abstain", StringComparison.Ordinal) ? 'x'
            : '-';
    }

    private static List<string> SplitNames(string list)
    {
        var t = list.Trim().TrimEnd('.', ';');
        if (t.Length == 0 || t.StartsWith("none", StringComparison.OrdinalIgnoreCase) || t == "-")
        {
            return [];
        }
        return NameSeparator().Split(t).Select(n => n.Trim()).Where(n => n.Length > 0 && char.IsUpper(n[0]))
            .Select(n => Person(n) ?? n).ToList();
    }

    private static (int, int, int?)? DigitTally(string s)
    {
        foreach (Match m in DigitTallyRe().Matches(s))
        {
            var a = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            var n = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
            int? x = m.Groups[3].Success ? int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture) : null;
            if (a + n + (x ?? 0) is > 0 and <= 25)
            {
                // The last plausible tally wins: "Roll call … 3-3 tie … Motion failed 3-4" ends with the count that stands.
                var rest = DigitTally(s[(m.Index + m.Length)..]);
                return rest ?? (a, n, x);
            }
        }
        return null;
    }

    private static int NumberWord(string w) => Array.IndexOf(Numbers, w.ToLowerInvariant()) is var i and >= 0 ? i
        : int.Parse(w, CultureInfo.InvariantCulture);

    private static readonly string[] Numbers = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"];

    /// <summary>(start, end) of every line, end excluding the newline.</summary>
    public static IEnumerable<(int Start, int End)> Lines(string text)
    {
        var start = 0;
        while (start < text.Length)
        {
            var nl = text.IndexOf('\n', start);
            var end = nl < 0 ? text.Length : nl;
            if (end > start && !string.IsNullOrWhiteSpace(text[start..end]))
            {
                yield return (start, end);
            }
            start = end + 1;
        }
    }
}
