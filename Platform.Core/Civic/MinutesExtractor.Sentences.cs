using System.Globalization;
using System.Text.RegularExpressions;

namespace Platform.Core.Civic;

/// <summary>Cuts minutes text into sentences (joining lines a PDF wrapped) and classifies each: heading, motion, vote, detail or action.</summary>
public static partial class MinutesExtractor
{
    private static List<Sentence> Sentences(string text)
    {
        var lines = Lines(text).ToList();
        var lengths = lines.Select(l => l.End - l.Start).Order().ToList();
        var wide = lengths.Count == 0 ? 80 : lengths[(int)(lengths.Count * 0.9)];
        var result = new List<Sentence>();
        var blockStart = -1;
        var blockLine = 0;
        for (var li = 0; li < lines.Count; li++)
        {
            var (start, end) = lines[li];
            if (blockStart < 0)
            {
                blockStart = start;
                blockLine = li;
            }
            var line = text[start..end];
            var hard = true;
            if (li + 1 < lines.Count && lines[li + 1].Start == end + 1)
            {
                var next = text[lines[li + 1].Start..lines[li + 1].End];
                // A line continues on the next when it ends mid-phrase: a trailing comma or dash, a word broken
                // with a hyphen, or a full-width line of a PDF followed by more of the same paragraph.
                var dash = line.EndsWith(" -", StringComparison.Ordinal) || line.EndsWith(" –", StringComparison.Ordinal);
                var lower = char.IsLower(next.TrimStart().FirstOrDefault());
                var broken = line.Length > 1 && line[^1] == '-' && char.IsLetter(line[^2]) && lower;
                var wrapped = !TerminalPunctuation().IsMatch(line) && !IsHeading(next)
                    && (dash || broken || (line.EndsWith(',') && !IsStandalone(next))
                        || (!IsStandalone(line) && !IsStandalone(next) && (lower || (line.Length >= 0.6 * wide && wide < 140))));
                hard = !wrapped;
            }
            if (hard)
            {
                SplitBlock(text, blockStart, end, blockLine, result);
                blockStart = -1;
            }
        }
        return result;
    }

    /// <summary>A line that is a unit of its own: a heading, a label line (Ayes:, Motion:), a table row or a short all-caps word.</summary>
    private static bool IsStandalone(string line) =>
        IsHeading(line) || LabelLine().IsMatch(line) || line.Contains(" | ", StringComparison.Ordinal) || line.Trim().Length <= 3;

    private static void SplitBlock(string text, int start, int end, int line, List<Sentence> into)
    {
        var block = text[start..end];
        if (IsHeading(block))
        {
            into.Add(new Sentence(start, end, block.Trim(), SentenceKind.Heading, line));
            return;
        }
        var from = 0;
        foreach (Match m in SentenceBreak().Matches(block))
        {
            var cut = m.Index + m.Length;
            if (Abbreviation().IsMatch(block[..(m.Index + 1)]))
            {
                continue;
            }
            Add(start + from, start + m.Index + 1);
            from = cut;
        }
        Add(start + from, end);

        void Add(int s, int e)
        {
            while (s < e && char.IsWhiteSpace(text[s]))
            {
                s++;
            }
            while (e > s && char.IsWhiteSpace(text[e - 1]))
            {
                e--;
            }
            if (e > s)
            {
                var t = SoftHyphen().Replace(text[s..e], "").Replace('\n', ' ').Replace(": | ", ": ", StringComparison.Ordinal);
                into.Add(new Sentence(s, e, t, Classify(t), line));
            }
        }
    }

    private static SentenceKind Classify(string s)
    {
        if (ActionImperative().IsMatch(s) && !HasTallyText(s) && !PastDecision().IsMatch(s))
        {
            return SentenceKind.Action;
        }
        var motion = IsMotion(s);
        var vote = IsVote(s);
        if (motion && vote)
        {
            return SentenceKind.MotionAndVote;
        }
        if (motion)
        {
            return SentenceKind.Motion;
        }
        if (vote)
        {
            return SentenceKind.Vote;
        }
        return DetailLine().IsMatch(s) || TableVoteRow().IsMatch(s) ? SentenceKind.Detail : SentenceKind.Other;
    }

    private static bool IsMotion(string s)
    {
        if (NotAMotion().IsMatch(s))
        {
            return false;
        }
        if (MotionToVoted().IsMatch(s))
        {
            return false; // "The motion to table carried": a vote on a motion already made
        }
        return MotionCue().IsMatch(s);
    }

    private static bool IsVote(string s)
    {
        if (VotedOnPrevailing().IsMatch(s))
        {
            return false;
        }
        if (StrongVote().IsMatch(s) || VoteLabel().IsMatch(s))
        {
            return true;
        }
        if (WeakOutcome().IsMatch(s))
        {
            return VoteContext().IsMatch(s) || HasTallyText(s) || s.Length <= 40;
        }
        return PastDecision().IsMatch(s) && (DecisionContext().IsMatch(s) || HasTallyText(s));
    }

    internal static bool IsHeading(string line)
    {
        var t = line.Trim();
        if (t.Length is < 3 or > 160 || LabelLine().IsMatch(t) || OutcomeOnly().IsMatch(t) || t.Contains(" | ", StringComparison.Ordinal))
        {
            return false;
        }
        if (NumberedHeading().Match(t) is { Success: true } n)
        {
            var rest = n.Groups[2].Value;
            return !rest.EndsWith('.') || IsAllCaps(rest);
        }
        if (IsAllCaps(t) && t.Length <= 120 && !t.EndsWith(':'))
        {
            return true;
        }
        // A short Title Case line with no sentence end ("Water Rate Study").
        var words = t.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return t.Length <= 70 && !TerminalPunctuation().IsMatch(t) && words.Length <= 9 && char.IsUpper(t[0])
               && words.Count(w => char.IsUpper(w[0]) || char.IsDigit(w[0])) * 2 >= words.Length + 1 && !t.Contains(',', StringComparison.Ordinal)
               && !MotionCue().IsMatch(t) && !SecondedOnly().IsMatch(t) && !ThatClause().IsMatch(t);
    }

    private static bool IsAllCaps(string s) => s.Any(char.IsLetter) && !s.Any(char.IsLower);

    private static (string Number, string Title) HeadingParts(string heading)
    {
        var t = heading.Trim();
        return NumberedHeading().Match(t) is { Success: true } n ? (n.Groups[1].Value, n.Groups[2].Value.Trim().TrimEnd('.')) : ("", t.TrimEnd('.'));
    }
}
