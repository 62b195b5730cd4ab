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
}
