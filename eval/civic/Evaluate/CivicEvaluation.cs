using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Platform.Core.Civic;

namespace Platform.Eval.Civic;

/// <summary>One ground-truth decision: a verbatim anchor inside its motion or vote, and what a reader should learn.</summary>
public sealed record TruthDecision(string Anchor, string Outcome, int? Ayes, int? Nays, int? Abstain, string? Mover, string? Seconder, string? Kind);

public sealed record TruthDocument(string File, string Body, string Kind, string Date, IReadOnlyList<TruthDecision> Decisions);

/// <summary>Figures for a set of documents; ratios are over truth decisions (recall) or matched decisions (the rest).</summary>
public sealed record EvaluationFigures(string Set, int Documents, int TruthDecisions, int Found, int Predicted, int OutcomeRight, int TallyRight,
    int MoverRight, int SeconderRight, int DateRight, int BodyRight, int GatePass, IReadOnlyList<string> Misses)
{
    public double Recall => Ratio(Found, TruthDecisions);
    public double Precision => Ratio(Found, Predicted);
    public double OutcomeAccuracy => Ratio(OutcomeRight, Found);
    public double TallyAccuracy => Ratio(TallyRight, Found);
    public double MoverAccuracy => Ratio(MoverRight, Found);
    public double SeconderAccuracy => Ratio(SeconderRight, Found);
    public double DateAccuracy => Ratio(DateRight, Documents);
    public double BodyAccuracy => Ratio(BodyRight, Documents);

    private static double Ratio(int a, int b) => b == 0 ? 0 : Math.Round((double)a / b, 3);

    public string Row() => string.Create(CultureInfo.InvariantCulture,
        $"| {Set} | {Documents} | {TruthDecisions} | {Recall:0.000} | {Precision:0.000} | {OutcomeAccuracy:0.000} | {TallyAccuracy:0.000} | {DateAccuracy:0.000} | {BodyAccuracy:0.000} | {MoverAccuracy:0.000} | {SeconderAccuracy:0.000} | {GatePass}/{Documents} |");

    public const string Header = "| set | documents | decisions | recall | precision | outcome | tally | date | body | mover | seconder | gate pass |\n|---|---|---|---|---|---|---|---|---|---|---|---|";
}

/// <summary>
/// Scores the extraction against a corpus folder holding minutes and a truth.json. A truth decision is found when
/// an extracted decision's evidence (motion, vote or subject span) contains the offset of its anchor in the text.
/// </summary>
public static class CivicEvaluation
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static IReadOnlyList<TruthDocument> LoadTruth(string folder)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "truth.json")));
        return doc.RootElement.GetProperty("documents").Deserialize<List<TruthDocument>>(Json)!;
    }

    public static EvaluationFigures Evaluate(string folder, string set)
    {
        var truth = LoadTruth(folder);
        int found = 0, predicted = 0, outcome = 0, tally = 0, mover = 0, seconder = 0, date = 0, body = 0, total = 0, pass = 0;
        var misses = new List<string>();
        foreach (var t in truth)
        {
            var path = Path.Combine(folder, t.File);
            var text = DocumentText.Extract(File.ReadAllBytes(path), DocumentText.MediaTypeOf(path));
            var x = MinutesExtractor.Extract(text);
            var gate = QualityGate.Evaluate(ExtractiveSummarizer.Summarize(Guid.Empty, text, x, t.File), new Dictionary<Guid, string> { [Guid.Empty] = text },
                new GateThresholds());
            if (gate.Outcome == GateOutcomes.Pass)
            {
                pass++;
            }
            else
            {
                misses.Add($"{t.File}: gate {gate.Outcome}: {string.Join(' ', gate.Problems.Concat(gate.Warnings ?? []))}");
            }
            var decisions = x.Votes.Select(v =>
            {
                var m = x.Motions.First(mm => mm.Ref == v.MotionRef);
                var spans = new List<(int, int)> { (m.Start, m.End), (v.Start, v.End) };
                if (m.SubjectStart is { } ss && m.SubjectEnd is { } se)
                {
                    spans.Add((ss, se));
                }
                return (Vote: v, Motion: m, Spans: spans);
            }).ToList();
            predicted += decisions.Count;
            total += t.Decisions.Count;
            if (x.MeetingDate?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) == t.Date)
            {
                date++;
            }
            else
            {
                misses.Add($"{t.File}: date {x.MeetingDate} expected {t.Date}");
            }
            if (x.Body is { } b && b.Contains(t.Body, StringComparison.OrdinalIgnoreCase))
            {
                body++;
            }
            else
            {
                misses.Add($"{t.File}: body '{x.Body}' expected '{t.Body}'");
            }
            var used = new HashSet<int>();
            var from = 0;
            foreach (var d in t.Decisions)
            {
                var at = Find(text, d.Anchor, from);
                if (at < 0)
                {
                    misses.Add($"{t.File}: anchor not in text: {d.Anchor}");
                    continue;
                }
                from = at + 1;
                var match = decisions.Select((p, i) => (p, i))
                    .Where(c => !used.Contains(c.i) && c.p.Spans.Any(s => s.Item1 <= at && at < s.Item2))
                    .OrderBy(c => Math.Abs(c.p.Vote.Start - at)).Select(c => (int?)c.i).FirstOrDefault();
                if (match is not { } mi)
                {
                    misses.Add($"{t.File}: MISSED {d.Anchor}");
                    continue;
                }
                used.Add(mi);
                found++;
                var (v, m, _) = decisions[mi];
                if (v.Outcome == d.Outcome)
                {
                    outcome++;
                }
                else
                {
                    misses.Add($"{t.File}: outcome {v.Outcome} expected {d.Outcome}: {d.Anchor}");
                }
                if (v.Ayes == d.Ayes && v.Nays == d.Nays && (d.Ayes is null || (v.Abstain ?? 0) == (d.Abstain ?? 0)))
                {
                    tally++;
                }
                else
                {
                    misses.Add($"{t.File}: tally {v.Ayes}-{v.Nays}-{v.Abstain} expected {d.Ayes}-{d.Nays}-{d.Abstain}: {d.Anchor}");
                }
                if (m.Mover == d.Mover)
                {
                    mover++;
                }
                else
                {
                    misses.Add($"{t.File}: mover {m.Mover} expected {d.Mover}: {d.Anchor}");
                }
                if (m.Seconder == d.Seconder)
                {
                    seconder++;
                }
                else
                {
                    misses.Add($"{t.File}: seconder {m.Seconder} expected {d.Seconder}: {d.Anchor}");
                }
            }
            foreach (var (p, i) in decisions.Select((p, i) => (p, i)).Where(c => !used.Contains(c.i)))
            {
                misses.Add($"{t.File}: EXTRA {p.Vote.Outcome} {Short(text[p.Vote.Start..p.Vote.End])} <- {Short(p.Motion.Text)}");
            }
        }
        return new EvaluationFigures(set, truth.Count, total, found, predicted, outcome, tally, mover, seconder, date, body, pass, misses);
    }

    private static string Short(string s) => s.Length > 90 ? s[..90].Replace('\n', ' ') + "…" : s.Replace('\n', ' ');

    /// <summary>The anchor's offset at or after <paramref name="from"/> (any run of whitespace matches a space), else anywhere.</summary>
    private static int Find(string text, string anchor, int from)
    {
        // A PDF may break a word across lines with a hyphen ("ordi-\nnance"): allow that between any two letters.
        var pattern = string.Join(@"\s+", anchor.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(w => string.Join(@"(?:-\s*\n\s*)?", w.Select(c => Regex.Escape(c.ToString())))));
        var re = new Regex(pattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        var m = re.Match(text, from);
        if (!m.Success)
        {
            m = re.Match(text);
        }
        return m.Success ? m.Index : -1;
    }

    /// <summary>Finds eval/civic above a start folder (the repository root holds it).</summary>
    public static string FindCorpus(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "eval", "civic");
            if (Directory.Exists(Path.Combine(candidate, "heldout")))
            {
                return candidate;
            }
        }
        throw new DirectoryNotFoundException("eval/civic not found above " + start);
    }

    public static string Report(params EvaluationFigures[] sets)
    {
        var sb = new StringBuilder(EvaluationFigures.Header).Append('\n');
        foreach (var s in sets)
        {
            sb.Append(s.Row()).Append('\n');
        }
        return sb.ToString();
    }
}
