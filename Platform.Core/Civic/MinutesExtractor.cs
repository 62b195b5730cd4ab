using System.Globalization;
using System.Text.RegularExpressions;

namespace Platform.Core.Civic;

/// <summary>An agenda item: its heading line and the span up to the next heading.</summary>
public sealed record AgendaItem(string Ref, string Number, string Title, int Start, int End, int HeadingEnd, double Confidence);

/// <summary>
/// A motion and what it moves (<see cref="Text"/>, e.g. "to adopt Resolution 2026-14 …"). <see cref="Kind"/> is
/// motion, amendment, substitute or reconsideration. <see cref="SubjectStart"/>/<see cref="SubjectEnd"/> point at a
/// second span (the agenda heading or an "Action:" line) when the motion itself does not say what it moves.
/// </summary>
public sealed record Motion(string Ref, string Kind, string? Mover, string Text, int Start, int End, string? AgendaRef, double Confidence,
    string? Seconder = null, int? SubjectStart = null, int? SubjectEnd = null);

/// <summary>
/// A recorded vote or disposition and the motion it decides. Outcome: carried, failed, tabled, continued, referred
/// or withdrawn. Counts are null where the minutes do not state them (a voice vote, "carried unanimously").
/// </summary>
public sealed record Vote(string Ref, string? MotionRef, string Outcome, int? Ayes, int? Nays, int? Abstain,
    IReadOnlyList<string> AyeNames, IReadOnlyList<string> NayNames, bool RollCall, int Start, int End, double Confidence);

/// <summary>What the extract stage found in one artifact's text, with character offsets into that text.</summary>
public sealed record MeetingExtraction(string? Title, DateOnly? MeetingDate, IReadOnlyList<AgendaItem> AgendaItems,
    IReadOnlyList<Motion> Motions, IReadOnlyList<Vote> Votes, double Confidence,
    string? Body = null, string? Kind = null, string? City = null, int VoteStatements = 0);

/// <summary>
/// Finds the meeting (body, kind, date), agenda items, motions and votes in minutes text. Pure and deterministic;
/// offsets index into the normalised artifact text, so every span can be cut back out of it.
///
/// Clerks write the same facts in many ways ("On motion by A, seconded by B, the Council adopted …, carried 4-1",
/// "MOTION: A / SECOND: B", "Moved by … THAT …  CARRIED", roll-call blocks and tables, "ACTION: Approved (5-0)"),
/// so the text is first cut into sentences (joining lines that a PDF wrapped), each sentence is classified as a
/// motion, a vote statement or a vote detail (Ayes/Noes lines, roll-call rows), and a small state machine pairs
/// votes with motions: a vote that names its subject ("the amendment", "the main motion", "the substitute") goes
/// to that motion, one that follows a vote directly completes it, otherwise it decides the latest open motion.
/// </summary>
public static partial class MinutesExtractor
{
    private enum SentenceKind { Other, Heading, Motion, Vote, MotionAndVote, Detail, Action }

    private sealed record Sentence(int Start, int End, string Text, SentenceKind Kind, int Line);

    private sealed class OpenMotion
    {
        public required string Ref;
        public required string Kind;
        public required int Start;
        public required int End;
        public string? Object;
        public string? Mover;
        public string? Seconder;
        public string? AgendaRef;
        public bool Decided;
    }

    private sealed class OpenVote
    {
        public required int Start;
        public required int End;
        public required OpenMotion? Motion;
        public readonly List<string> Texts = [];
        public bool HasOutcomeWord;
        public bool HasTally;
    }

    public static MeetingExtraction Extract(string text)
    {
        var sentences = Sentences(text);
        var items = new List<AgendaItem>();
        var motions = new List<OpenMotion>();
        var votes = new List<OpenVote>();
        var open = new List<OpenMotion>();
        OpenVote? last = null;
        var lastVoteSentence = -10;
        var actionLines = new List<Sentence>();

        for (var i = 0; i < sentences.Count; i++)
        {
            var s = sentences[i];
            if (s.Kind == SentenceKind.Heading)
            {
                if (items.Count > 0)
                {
                    items[^1] = items[^1] with { End = s.Start };
                }
                var (number, title) = HeadingParts(s.Text);
                items.Add(new AgendaItem($"item-{items.Count + 1}", number, title, s.Start, text.Length, s.End, 0.9));
                open.Clear();
                last = null;
                continue;
            }
            var agendaRef = items.Count > 0 ? items[^1].Ref : null;
            if (s.Kind == SentenceKind.Action)
            {
                actionLines.Add(s);
                continue;
            }
            if (s.Kind is SentenceKind.Motion or SentenceKind.MotionAndVote)
            {
                var m = NewMotion(s, motions.Count + 1, agendaRef, sentences, i);
                // "Seconded by …" on its own line, or the "THAT …" line of a moved-by block, belongs to the motion.
                for (var j = i + 1; j < sentences.Count && j <= i + 3 && s.Kind == SentenceKind.Motion; j++)
                {
                    var next = sentences[j];
                    if (next.Kind != SentenceKind.Other || !(SecondedOnly().IsMatch(next.Text) || ThatClause().IsMatch(next.Text)))
                    {
                        break;
                    }
                    m.End = next.End;
                    m.Seconder ??= Seconder(next.Text);
                    m.Object ??= ObjectOf(next.Text, sentences, j);
                    i = j;
                }
                motions.Add(m);
                open.Add(m);
                last = null;
                if (s.Kind == SentenceKind.Motion)
                {
                    continue;
                }
            }
            if (s.Kind is SentenceKind.Vote or SentenceKind.MotionAndVote or SentenceKind.Detail)
            {
                var adjacent = last is not null && lastVoteSentence == i - 1;
                var outcomeWord = OutcomeWord(s.Text) is not null;
                var tally = HasTallyText(s.Text);
                if (s.Kind == SentenceKind.Detail && !adjacent && !StartsVoteDetail().IsMatch(s.Text))
                {
                    continue; // an "Absent:" line of the attendance, not a vote
                }
                var subject = s.Kind == SentenceKind.MotionAndVote ? open[^1] : Target(s.Text, open);
                if (subject is null && adjacent && (open.Count == 0 || !last!.HasOutcomeWord || !last.HasTally || s.Kind == SentenceKind.Detail))
                {
                    last!.End = s.End;
                    last.Texts.Add(s.Text);
                    last.HasOutcomeWord |= outcomeWord;
                    last.HasTally |= tally;
                    lastVoteSentence = i;
                    continue;
                }
                subject ??= open.Count > 0 ? open[^1] : null;
                var vote = new OpenVote { Start = s.Start, End = s.End, Motion = subject, HasOutcomeWord = outcomeWord, HasTally = tally };
                vote.Texts.Add(s.Text);
                votes.Add(vote);
                if (subject is not null)
                {
                    subject.Decided = true;
                    open.Remove(subject);
                    if (subject.Kind == "motion")
                    {
                        open.RemoveAll(o => o.Kind is "amendment" or "substitute"); // the main motion's vote ends its debate
                    }
                }
                last = vote;
                lastVoteSentence = i;
            }
        }

        // Build records: motions without their own object take the item's "Action:" line or its heading.
        var motionRecords = new List<Motion>();
        var voteRecords = new List<Vote>();
        var madeUp = new Dictionary<OpenVote, OpenMotion>();
        foreach (var v in votes.Where(v => v.Motion is null))
        {
            // A disposition with no motion ("Without objection, the agenda was approved"): the sentence is its own motion.
            var whole = string.Join(' ', v.Texts);
            var item = items.LastOrDefault(x => x.Start <= v.Start);
            var m = new OpenMotion
            {
                Ref = "", Kind = "motion", Start = v.Start, End = sentences.First(x => x.Start == v.Start).End,
                Object = DispositionObject(whole), AgendaRef = item?.Ref, Decided = true,
            };
            madeUp[v] = m;
        }
        var ordered = motions.Concat(madeUp.Values).OrderBy(m => m.Start).ToList();
        var refs = new Dictionary<OpenMotion, string>();
        foreach (var m in ordered)
        {
            var r = $"motion-{refs.Count + 1}";
            refs[m] = r;
            var item = m.AgendaRef is null ? null : items.First(x => x.Ref == m.AgendaRef);
            int? subjectStart = null, subjectEnd = null;
            var obj = m.Object;
            if (obj is null)
            {
                var action = actionLines.LastOrDefault(a => a.Start >= (item?.Start ?? 0) && a.Start < (item?.End ?? text.Length)
                    && a.Start <= (votes.FirstOrDefault(v => v.Motion == m)?.End ?? m.End));
                if (action is not null)
                {
                    obj = "to " + LowerFirst(ActionLabel().Replace(action.Text, "").Trim().TrimEnd('.'));
                    (subjectStart, subjectEnd) = (action.Start, action.End);
                }
                else if (item is not null)
                {
                    obj = "on " + TitleCase(item.Title);
                    (subjectStart, subjectEnd) = (item.Start, item.HeadingEnd);
                }
                else
                {
                    obj = "an unrecorded motion";
                }
            }
            motionRecords.Add(new Motion(r, m.Kind, m.Mover, obj, m.Start, m.End, m.AgendaRef, m.Decided ? 0.9 : 0.5, m.Seconder, subjectStart, subjectEnd));
        }
        foreach (var v in votes)
        {
            var m = v.Motion ?? madeUp[v];
            var whole = string.Join(' ', v.Texts);
            var (ayes, nays, abstain, ayeNames, nayNames) = Tally(whole);
            var outcome = Outcome(whole, m.Object ?? motionRecords.First(x => x.Ref == refs[m]).Text, ayes, nays);
            var confidence = (outcome != "unknown", ayes is not null) switch
            {
                (true, true) => 0.95,
                (true, false) => 0.8,
                _ => 0.4,
            };
            voteRecords.Add(new Vote($"vote-{voteRecords.Count + 1}", refs[m], outcome == "unknown" ? "carried" : outcome, ayes, nays, abstain,
                ayeNames, nayNames, RollCallWord().IsMatch(whole) || ayeNames.Count > 0, v.Start, v.End, confidence));
        }
        var scored = motionRecords.Select(m => m.Confidence).Concat(voteRecords.Select(v => v.Confidence)).ToList();
        var overall = scored.Count == 0 ? (items.Count > 0 ? 0.6 : 0.2) : Math.Round(scored.Average(), 3);
        var header = MeetingHeader.Read(text);
        return new MeetingExtraction(header.Title, header.Date, items, motionRecords, voteRecords, overall, header.Body, header.Kind, header.City,
            CountVoteStatements(text));
    }

    /// <summary>
    /// How many places in the text plainly record a vote ("carried", "failed", "Ayes:", "voted 4-1", "ACTION: Approved"),
    /// counting a run of such sentences once. Independent of the extraction, so the gate can tell when it missed votes.
    /// </summary>
    public static int CountVoteStatements(string text)
    {
        var count = 0;
        var previous = false;
        foreach (var s in Sentences(text))
        {
            var isVote = PlainVote().IsMatch(s.Text);
            if (isVote && !previous)
            {
                count++;
            }
            previous = isVote;
        }
        return count;
    }

    private static OpenMotion NewMotion(Sentence s, int n, string? agendaRef, List<Sentence> sentences, int index)
    {
        var t = s.Text;
        var kind = Substitute().IsMatch(t) ? "substitute"
            : Reconsider().IsMatch(t) ? "reconsideration"
            : AmendMotion().IsMatch(t) || t.StartsWith("AMENDMENT", StringComparison.OrdinalIgnoreCase) ? "amendment"
            : "motion";
        return new OpenMotion
        {
            Ref = $"m{n}", Kind = kind, Start = s.Start, End = s.End, AgendaRef = agendaRef,
            Mover = Mover(t), Seconder = Seconder(t), Object = ObjectOf(t, sentences, index),
        };
    }

    /// <summary>The motion a vote statement names ("the amendment", "the main motion", "the substitute motion"), if any.</summary>
    private static OpenMotion? Target(string vote, List<OpenMotion> open)
    {
        if (open.Count == 0)
        {
            return null;
        }
        if (MainMotion().IsMatch(vote))
        {
            return open.FirstOrDefault(o => o.Kind == "motion");
        }
        if (Substitute().IsMatch(vote))
        {
            return open.LastOrDefault(o => o.Kind == "substitute");
        }
        if (Reconsider().IsMatch(vote))
        {
            return open.LastOrDefault(o => o.Kind == "reconsideration");
        }
        if (AmendmentWord().IsMatch(vote))
        {
            return open.LastOrDefault(o => o.Kind == "amendment");
        }
        if (TableWord().IsMatch(vote))
        {
            return open.LastOrDefault(o => o.Object?.StartsWith("to table", StringComparison.OrdinalIgnoreCase) == true);
        }
        return null;
    }

    // ---------- sentences ----------

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

    // ---------- motions ----------

    private static string? Person(string? phrase)
    {
        if (phrase is null)
        {
            return null;
        }
        var words = PersonWord().Matches(phrase).Select(m => m.Value.TrimEnd('.', '-', '’', '\'')).Where(w => w.Length > 1 && !Titles.Contains(w)).ToList();
        return words.Count == 0 ? null : words[^1];
    }

    private static readonly HashSet<string> Titles = new(StringComparer.OrdinalIgnoreCase)
    {
        "Councilmember", "Councilmembers", "Council", "Member", "Councilor", "Councillor", "Mayor", "Vice", "Pro", "Tem", "Deputy", "Chair", "Chairman",
        "Chairwoman", "Chairperson", "Supervisor", "Trustee", "Commissioner", "Alderman", "Alderwoman", "Alderperson", "Selectman", "Director",
        "Agency", "Board", "President", "Vice-Chair", "Vice-Mayor", "Mr", "Ms", "Mrs", "Dr", "Boardmember", "Councilwoman", "Councilman", "Secretary",
        "Treasurer", "Delegate", "Senator", "Representative", "Legislator", "Presiding", "Officer", "Speaker", "Motion", "Second", "Seconded", "By",
        "The", "It", "On", "Moved", "Action", "Councilmember/Agency", "Mayor/Chair",
    };

    private static string? Mover(string s)
    {
        foreach (var re in new[] { MoverOnMotion(), MoverMovedBy(), MoverLabel(), MoverBefore(), MoverMotionBy() })
        {
            if (re.Match(s) is { Success: true } m && Person(m.Groups[1].Value) is { } p)
            {
                return p;
            }
        }
        return null;
    }

    private static string? Seconder(string s) =>
        SeconderAfter().Match(s) is { Success: true } a && Person(a.Groups[1].Value) is { } p ? p
        : SeconderBefore().Match(s) is { Success: true } b ? Person(b.Groups[1].Value)
        : null;

    /// <summary>What a motion moves, as "to &lt;verb&gt; …", or null when the sentence does not say.</summary>
    private static string? ObjectOf(string s, List<Sentence> sentences, int index)
    {
        if (ItsAdoption().IsMatch(s))
        {
            for (var j = index - 1; j >= 0 && j >= index - 3; j--)
            {
                if (ResolutionTitle().Match(sentences[j].Text) is { Success: true } r)
                {
                    return "to adopt " + Plain(r.Groups[1].Value);
                }
                if (sentences[j].Kind == SentenceKind.Heading)
                {
                    break;
                }
            }
            return null;
        }
        string? found = null;
        if (ThatClause().Match(s) is { Success: true } that)
        {
            found = "to " + that.Groups[1].Value;
        }
        else if (BodyDid().Match(s) is { Success: true } did)
        {
            found = "to " + BaseVerb(did.Groups[1].Value) + " " + did.Groups[2].Value;
        }
        else if (ApprovalOf().Match(s) is { Success: true } ap)
        {
            found = "to approve " + ap.Groups[1].Value;
        }
        else if (ToClause().Match(s) is { Success: true } to)
        {
            found = to.Groups[1].Value;
        }
        if (found is null)
        {
            return null;
        }
        found = ObjectEnd().Replace(found, "");
        found = found.Trim().TrimEnd('.', ',', ';', ':').Trim();
        return found.Length <= 3 ? null : found;
    }

    private static string Plain(string upper) =>
        IsAllCaps(upper) ? CultureInfo.InvariantCulture.TextInfo.ToLower(upper).Trim().TrimEnd('.') : upper.Trim().TrimEnd('.');

    private static string DispositionObject(string sentence)
    {
        var s = ActionLabel().Replace(sentence, "").Trim();
        return "the item: " + LowerFirst(s.TrimEnd('.'));
    }

    private static string LowerFirst(string s) => s.Length > 1 && char.IsUpper(s[0]) && !char.IsUpper(s[1]) ? char.ToLowerInvariant(s[0]) + s[1..] : s;

    private static string TitleCase(string s) => IsAllCaps(s) ? CultureInfo.InvariantCulture.TextInfo.ToTitleCase(s.ToLowerInvariant()) : s;

    private static readonly Dictionary<string, string> Irregular = new(StringComparer.OrdinalIgnoreCase)
    {
        ["upheld"] = "uphold", ["set"] = "set", ["sent"] = "send", ["held"] = "hold", ["made"] = "make", ["gave"] = "give", ["chose"] = "choose",
    };

    private static string BaseVerb(string past)
    {
        var p = past.ToLowerInvariant();
        if (Irregular.TryGetValue(p, out var b))
        {
            return b;
        }
        if (p.EndsWith("ied", StringComparison.Ordinal))
        {
            return p[..^3] + "y";
        }
        if (p is "referred" or "deferred" or "transferred")
        {
            return p[..^3];
        }
        if (p.EndsWith("ed", StringComparison.Ordinal))
        {
            var stem = p[..^2];
            // adopted → adopt, approved → approve, tabled → table, continued → continue
            return stem.EndsWith('v') || stem.EndsWith('u') || stem.EndsWith("bl", StringComparison.Ordinal) || stem.EndsWith('c')
                   || stem.EndsWith('z') || (stem.EndsWith('s') && !stem.EndsWith("ss", StringComparison.Ordinal)) || stem.EndsWith("at", StringComparison.Ordinal)
                   || stem.EndsWith("ut", StringComparison.Ordinal) || stem.EndsWith("in", StringComparison.Ordinal) && !stem.EndsWith("ain", StringComparison.Ordinal)
                ? stem + "e" : stem;
        }
        return p;
    }

    // ---------- votes ----------

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

    // ---------- patterns ----------

    private const string Num = "(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\\d{1,2})";

    /// <summary>A word a PDF broke across lines: "ordi-\nnance".</summary>
    [GeneratedRegex(@"(?<=[a-z])-\n(?=[a-z])")]
    private static partial Regex SoftHyphen();

    [GeneratedRegex(@"[.!?:]$")]
    private static partial Regex TerminalPunctuation();

    [GeneratedRegex(@"[.!?](?=[""')\]]?\s+[""'(\[]?[A-Z0-9])")]
    private static partial Regex SentenceBreak();

    [GeneratedRegex(@"(?:\b(?:No|Nos|Mr|Ms|Mrs|Dr|St|Ave|Blvd|Rd|Inc|Co|Corp|Ltd|Jr|Sr|vs|v|etc|approx|Dept|Assn|Mt|Ft|Hon|Res|Ord|Cal|Gov|Sec|Art|Ch|Vol|U\.S)\.|\b[A-Z]\.|\b[ap]\.m\.)$")]
    private static partial Regex Abbreviation();

    [GeneratedRegex(@"^\s*(?:(?:Item|ITEM|Agenda Item)\s+)?((?:[A-Z]{1,3}-)?\d{1,2}(?:\.\d{1,2})?[A-Z]?)(?:[.):]|\s+[-–—])\s*[-–—]?\s*(\S.{1,150})$")]
    private static partial Regex NumberedHeading();

    [GeneratedRegex(@"^\s*(?:AYES?|YEAS?|NOES|NAYS?|NO|ABSTAIN(?:ED|ING|S)?|ABSTENTIONS?|ABSENT|RECUSED|PRESENT|MOTION|SECOND(?:ED)?|VOTE|ACTION|RESULT|FOR|AGAINST|Recorded vote|Roll call(?: vote)?|Motion|Second|Result|Action|Ayes?|Noes|Nays?|Abstain(?:ed)?|Absent|Present|Vote|Moved by|Seconded by)\b[^:\n]{0,40}:", RegexOptions.None)]
    private static partial Regex LabelLine();

    [GeneratedRegex(@"^(?:CARRIED|DEFEATED|LOST|FAILED|APPROVED|ADOPTED|MOTION CARRIED|MOTION FAILED|CARRIED UNANIMOUSLY)\.?$")]
    private static partial Regex OutcomeOnly();

    [GeneratedRegex(@"\b(?:moved|moves)\b|\bmotion\s+(?:by|of|made\s+by|was\s+made|from)\b|\bmade\s+(?:a|the)\s+motion\b|\bon\s+(?:a\s+)?motion\b|(?:^|\s)(?:SUBSTITUTE\s+)?MOTION\s*:|\bMotion\s*:|^\s*AMENDMENT\s*:|^Motion\s+to\s+\w+.*\b(?:by|made)\b|\bsubstitute\s+motion\b.*\bseconded\b|\boffered\s+a\s+substitute\b", RegexOptions.IgnoreCase)]
    private static partial Regex MotionCue();

    [GeneratedRegex(@"\b(?:was|were|been|be|is)\s+moved\s+(?!by\b)|\bmoved\s+(?:in)?to\s+(?:closed|open|executive)\s+session|\bmoved\s+(?:the\s+)?(?:item|agenda)|\bmoved\s+(?:here|away|from)\b", RegexOptions.IgnoreCase)]
    private static partial Regex NotAMotion();

    [GeneratedRegex(@"^\s*(?:the\s+)?(?:main\s+|original\s+|substitute\s+)?motion\s+to\s+\w+(?:\s+\w+){0,12}?\s+(?:carried|passed|failed|was)\b", RegexOptions.IgnoreCase)]
    private static partial Regex MotionToVoted();

    [GeneratedRegex(@"\bCARRIED\b|\bDEFEATED\b|\bcarried\b|\bvoted\s+(?:unanimously|" + Num + @"|to\b)|\bvote\s+(?:was|of)\b|\bvoice\s+vote\b|\ball\s+(?:in\s+favor|ayes)\b|\bunanimous\s+consent\b|\bwithout\s+objection\b|\bno\s+objection\b|\bdied\s+for\s+(?:lack|want)\s+of\s+a\s+second\b|\bwithdr(?:ew|awn)\b[^.]*\bmotion\b|\bmotion\b[^.]*\bwithdrawn\b|\b(?:motion|amendment|resolution|ordinance)\b[^.]{0,60}\b(?:passed|failed|prevailed|was\s+adopted|was\s+approved|was\s+defeated|was\s+lost)\b|\bdeclared\b[^.]*\b(?:continued|adopted|approved|carried|tabled)\b|\b" + Num + @"\s+in\s+favor\b", RegexOptions.IgnoreCase)]
    private static partial Regex StrongVote();

    [GeneratedRegex(@"^\s*(?:(?:ROLL\s+CALL\s+)?VOTE\b[^:]{0,30}|Result|RESULT|ACTION|Action|Disposition|DISPOSITION|Recorded vote|Roll call(?: vote)?|ROLL CALL VOTE)\s*:\s*(?!Present)(?:Approved|Adopted|Denied|Failed|Carried|Continued|Referred|Tabled|Postponed|Defeated|Withdrawn|Appeal|Motion|Ayes?|Unanimous|[A-Z][a-z]+\s+(?:aye|yes|nay|no)\b|\d|For\b|" + Num + @")", RegexOptions.IgnoreCase)]
    private static partial Regex VoteLabel();

    [GeneratedRegex(@"\b(?:passed|failed|prevailed|approved|adopted)\b", RegexOptions.IgnoreCase)]
    private static partial Regex WeakOutcome();

    [GeneratedRegex(@"\b(?:motion|amendment|vote|unanimous(?:ly)?|roll\s+call|it|item)\b", RegexOptions.IgnoreCase)]
    private static partial Regex VoteContext();

    [GeneratedRegex(@"\b(?:adopted|approved|denied|tabled|continued|referred|postponed|appointed|accepted|awarded|authorized|introduced|rejected|upheld)\b", RegexOptions.IgnoreCase)]
    private static partial Regex PastDecision();

    [GeneratedRegex(@"\bon\s+(?:a\s+)?motion\b|\bmotion\s+(?:by|of)\b|\bunanimous(?:ly)?\b|\bby\s+consent\b|\bthe\s+following\s+vote\b|\bupon\s+roll\s+call\b|\bwithout\s+objection\b", RegexOptions.IgnoreCase)]
    private static partial Regex DecisionContext();

    [GeneratedRegex(@"\bwho\s+voted\b|\bvoted\s+on\s+the\s+prevailing\s+side\b")]
    private static partial Regex VotedOnPrevailing();

    [GeneratedRegex(@"^\s*(?:AYES?|YEAS?|NOES|NAYS?|ABSTAIN(?:ED|S)?|ABSTENTIONS?|ABSENT|RECUSED|Ayes?|Yeas?|Noes|Nays?|Abstain(?:ed|s)?|Absent|Recused|For|Against|Roll\s+call(?:\s+vote)?)\s*:", RegexOptions.None)]
    private static partial Regex DetailLine();

    [GeneratedRegex(@"^\s*(?:AYES?|YEAS?|Ayes?|Yeas?|For|Roll\s+call(?:\s+vote)?\s*:\s*(?!Present)\S)|^[A-Z][\w.' -]{1,40}\s\|\s*(?:Aye|Yes|Yea|Nay|No|Abstain)", RegexOptions.None)]
    private static partial Regex StartsVoteDetail();

    [GeneratedRegex(@"^[A-Z][\w.' -]{1,40}\s\|\s*(?:Aye|Yes|Yea|Nay|No|Abstain(?:ed)?|Absent|Recused)\s*\|?$", RegexOptions.IgnoreCase)]
    private static partial Regex TableVoteRow();

    [GeneratedRegex(@"^\s*(?:Recommended\s+)?(?:Action|Recommendation|Requested\s+action)\s*:\s*(?!(?:Approved|Adopted|Denied|Failed|Carried|Continued|Referred|Tabled|Postponed|Withdrawn)\b)[A-Z][a-z]+\b(?<!ed)", RegexOptions.IgnoreCase)]
    private static partial Regex ActionImperative();

    [GeneratedRegex(@"^\s*(?:Recommended\s+)?(?:Action|Recommendation|Requested\s+action|Result)\s*:\s*", RegexOptions.IgnoreCase)]
    private static partial Regex ActionLabel();

    [GeneratedRegex(@"\bsubstitute\b", RegexOptions.IgnoreCase)]
    private static partial Regex Substitute();

    [GeneratedRegex(@"\breconsider(?:ation)?\b", RegexOptions.IgnoreCase)]
    private static partial Regex Reconsider();

    [GeneratedRegex(@"\b(?:moved|motion)\s+to\s+amend\b|\bmoved\s+an\s+amendment\b|\bAMENDMENT\s*:", RegexOptions.IgnoreCase)]
    private static partial Regex AmendMotion();

    [GeneratedRegex(@"\b(?:main|original|underlying)\s+motion\b|\bas\s+amended\b", RegexOptions.IgnoreCase)]
    private static partial Regex MainMotion();

    [GeneratedRegex(@"\bamendment\b", RegexOptions.IgnoreCase)]
    private static partial Regex AmendmentWord();

    [GeneratedRegex(@"\bmotion\s+to\s+table\b", RegexOptions.IgnoreCase)]
    private static partial Regex TableWord();

    [GeneratedRegex(@"^\s*(?:and\s+)?(?:seconded|second(?:ed)?\s+by)\b|^\s*Seconded\s+by\b", RegexOptions.IgnoreCase)]
    private static partial Regex SecondedOnly();

    [GeneratedRegex(@"\bTHAT\s+(?:(?:the|The)\s+)?(?:[A-Z][\w'-]*\s+(?:of\s+|and\s+)?)*([a-z].+)$")]
    private static partial Regex ThatClause();

    [GeneratedRegex(@"\bthe\s+(?:[A-Z][\w]*\s+){0,3}?(?:Council|Board|Commission|Agency|Trustees|Supervisors|Aldermen|Committee|Authority)\s+(adopted|approved|authorized|awarded|accepted|denied|introduced|appointed|continued|referred|tabled|postponed|upheld|directed|ratified|received)\s+(.+)$")]
    private static partial Regex BodyDid();

    [GeneratedRegex(@"\bseconded\s+(?:the\s+)?approval\s+of\s+(.+)$", RegexOptions.IgnoreCase)]
    private static partial Regex ApprovalOf();

    [GeneratedRegex(@"(?:\b(?:moved|moves|motion|voted(?:\s+\S+){0,3}?|made\s+a\s+motion|offered\s+a\s+substitute\s+motion|second(?:ed)?(?:\s+by\s+(?:[A-Z][\w'.-]*\s*){1,4})?)\b[^;]*?|^\s*)\b(to\s+(?!the\s+dais)[a-z].+)$", RegexOptions.None)]
    private static partial Regex ToClause();

    [GeneratedRegex(@"(?:;|,\s*(?:and\s+)?(?:seconded|second(?:ed)?\s+by|Councilmember|Council Member|Trustee|Supervisor|Commissioner)\b|\.\s+(?:Second|Seconded|The|Motion)\b|\s+(?:made|by)\s+(?:Trustee|Councilmember|Councilor|Commissioner|Supervisor|Alderman|Council\s+Member)\b|,\s+on\s+a\s+motion\b|\s+-\s+Motion:).*$", RegexOptions.Singleline)]
    private static partial Regex ObjectEnd();

    [GeneratedRegex(@"\bits\s+adoption\b|\bmoved\s+(?:for\s+)?adoption\s+of\s+the\s+(?:resolution|ordinance)\b", RegexOptions.IgnoreCase)]
    private static partial Regex ItsAdoption();

    [GeneratedRegex(@"^((?:A|AN)\s+(?:RESOLUTION|ORDINANCE)\b.+)$", RegexOptions.IgnoreCase)]
    private static partial Regex ResolutionTitle();

    [GeneratedRegex(@"^\s*to\s+table\b", RegexOptions.IgnoreCase)]
    private static partial Regex TableObject();

    [GeneratedRegex(@"^\s*to\s+(?:continue|postpone|defer)\b", RegexOptions.IgnoreCase)]
    private static partial Regex ContinueObject();

    [GeneratedRegex(@"^\s*to\s+refer\b", RegexOptions.IgnoreCase)]
    private static partial Regex ReferObject();

    [GeneratedRegex(@"[A-Z][\w'’.-]*")]
    private static partial Regex PersonWord();

    private const string Name = @"((?:(?:[A-Z][\w'’.-]*|Pro|Tem|de|van|von)\s*){1,5}?)";

    [GeneratedRegex(@"\b(?:on|upon)\s+(?:a\s+)?motion\s+(?:by|of|from)\s+" + Name + @"\s*(?:,|\band\b|\bseconded\b|\bsecond\b|$)", RegexOptions.IgnoreCase)]
    private static partial Regex MoverOnMotion();

    [GeneratedRegex(@"\b(?:moved|introduced|made)\s+by\s+" + Name + @"(?:\s*(?:,|\band\b|\bseconded\b|\bsecond\b|\bwho\b)|\s*$)", RegexOptions.IgnoreCase)]
    private static partial Regex MoverMovedBy();

    [GeneratedRegex(@"\b(?:MOTION|Motion)\s*:\s*" + Name + @"\s*(?:/|;|,|\bSECOND|\bSecond|$)")]
    private static partial Regex MoverLabel();

    [GeneratedRegex(@"(?:^|[.;]\s*|\bthen\s+|,\s*)" + Name + @"(?:\s*,\s*who\s+[^,]+,)?\s+(?:then\s+)?(?:moved|made\s+(?:a|the)\s+motion|offered|moves)\b")]
    private static partial Regex MoverBefore();

    [GeneratedRegex(@"\bMotion\s+(?:by|of|made\s+by)\s+" + Name + @"\s*(?:,|\bto\b|\bseconded\b|\bsecond\b|\band\b|$)", RegexOptions.IgnoreCase)]
    private static partial Regex MoverMotionBy();

    [GeneratedRegex(@"\bsecond(?:ed)?\s*(?:by|:)\s*" + Name + @"(?:\s*(?:[,;.]|\bto\b|\band\b|-)|\s*$)", RegexOptions.IgnoreCase)]
    private static partial Regex SeconderAfter();

    [GeneratedRegex(@"(?:,|;|\band\b)\s*" + Name + @"\s+seconded\b")]
    private static partial Regex SeconderBefore();

    [GeneratedRegex(@"\b(?:carried|passed|prevailed|approved|adopted|CARRIED|in\s+favor|unanimous\s+consent|without\s+objection|no\s+objection)\b", RegexOptions.IgnoreCase)]
    private static partial Regex CarryWord();

    [GeneratedRegex(@"\b(?:failed|defeated|lost|did\s+not\s+pass)\b", RegexOptions.IgnoreCase)]
    private static partial Regex FailWord();

    [GeneratedRegex(@"\b(?:carried|passed|prevailed|approved|adopted|failed|fails|defeated|lost|did\s+not\s+pass|tabled|continued|postponed|referred|denied|rejected|in\s+favor|unanimous\s+consent|without\s+objection|no\s+objection|appointed|upheld|awarded|accepted|authorized|introduced)\b", RegexOptions.IgnoreCase)]
    private static partial Regex OutcomeWords();

    [GeneratedRegex(@"\bwithdr(?:ew|awn)\b", RegexOptions.IgnoreCase)]
    private static partial Regex Withdrawn();

    [GeneratedRegex(@"\bdied\s+for\s+(?:lack|want)\s+of\s+a\s+second\b|\bfailed\s+for\s+lack\s+of\s+a\s+second\b", RegexOptions.IgnoreCase)]
    private static partial Regex DiedNoSecond();

    [GeneratedRegex(@"(?<![\w./-])(\d{1,2})\s*[-–—]\s*(\d{1,2})(?:\s*[-–—]\s*(\d{1,2}))?(?![\w/]|[.-]\d)")]
    private static partial Regex DigitTallyRe();

    [GeneratedRegex(@"\b(?:vote\s+(?:of|was)|voted|carried|passed|failed)\s+(?:by\s+a\s+vote\s+of\s+)?(?<a>" + Num + @")\s+to\s+(?<n>" + Num + @")\b|\b(?<a>" + Num + @")\s+in\s+favor\s*(?:,|and|with)?\s*(?:and\s+)?(?<n>" + Num + @")\s+(?:opposed|against)\b", RegexOptions.IgnoreCase)]
    private static partial Regex WordTally();

    [GeneratedRegex(@"\b(AYES?|YEAS?|NOES|NAYS?|ABSTAIN(?:ED|S)?|ABSTENTIONS?|Ayes?|Yeas?|Noes|Nays?|Abstain(?:ed|s)?|Abstentions?)\s*:\s*(\d{1,2})\b")]
    private static partial Regex CountLabel();

    [GeneratedRegex(@"\b(AYES?|YEAS?|NOES|NAYS?|ABSTAIN(?:ED|S)?|Ayes?|Yeas?|Noes|Nays?|Abstain(?:ed|s)?|For|Against)\s*:\s*((?:[A-Z][^.:;]*?|[Nn]one)?)(?=\s*(?:\.\s|\.$|;|$|\b(?:AYES?|NOES|NAYS?|ABSTAIN|ABSENT|RECUSED|Ayes?|Noes|Nays?|Abstain|Absent|Against|Recused)\b\s*:))")]
    private static partial Regex NameList();

    [GeneratedRegex(@"(?:^|,|:|\s)\s*((?:[A-Z][\w'’.-]*\s+){0,3}[A-Z][\w'’.-]*)\s*(?:\|\s*)?\b(aye|yes|yea|nay|no|abstain(?:ed)?)\b(?=\s*(?:,|\.|;|\||$))", RegexOptions.None)]
    private static partial Regex PerNameVote();

    [GeneratedRegex(@"\babstain(?:ed|ing)\b|\babstention\b", RegexOptions.IgnoreCase)]
    private static partial Regex AbstainMention();

    [GeneratedRegex(@"\s*(?:,|;|\band\b)\s*")]
    private static partial Regex NameSeparator();

    [GeneratedRegex(@"\broll\s+call\b|\brecorded\s+vote\b|\bfollowing\s+vote\b", RegexOptions.IgnoreCase)]
    private static partial Regex RollCallWord();

    [GeneratedRegex(@"\bcarried\b|\bfailed\b|\bdefeated\b|^\s*(?:AYES?|Ayes?|YEAS?)\s*:|\bvoted\s+(?:unanimously|" + Num + @")|\bvote\s+(?:of|was)\b|^\s*(?:Result|RESULT|ACTION)\s*:\s*(?:Approved|Adopted|Denied|Failed|Continued|Referred|Tabled|Carried)|\ball\s+in\s+favor\b|\bunanimous\s+consent\b|\bwithout\s+objection\b|\bdied\s+for\s+lack\b|\b(?:motion|amendment|resolution|ordinance)\s+(?:was\s+)?(?:passed|adopted|approved)\b", RegexOptions.IgnoreCase)]
    private static partial Regex PlainVote();
}
