using System.Text.Json;

namespace Platform.Core.Impact.Scoring;

/// <summary>A labelled text: gold label per dimension, <c>positive | negative | absent | mixed</c>.</summary>
public sealed record LabelledText(string Id, string Text, Dictionary<string, string> Labels);

public sealed record PolarMetrics(double Precision, double Recall, int GoldPolar);

/// <summary>
/// Polar precision/recall per dimension, the measure every outcome model is reported and gated on: precision =
/// correct polar predictions / polar predictions, recall = correct polar predictions / polar gold labels; texts whose
/// gold label is <c>mixed</c> are left out for that dimension. A score reads ≥ 0.55 positive, ≤ 0.45 negative, between
/// mixed, <c>null</c> absent.
/// </summary>
public static class OutcomeEvaluation
{
    public static List<LabelledText> Load(string path)
    {
        var options = new JsonSerializerOptions { PropertyNameCaseInsensitive = true };
        return File.ReadLines(path).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<LabelledText>(l, options)!).ToList();
    }

    public static string Label(DimensionScore s) =>
        s.Score is null ? "absent" : s.Score >= 0.55 ? "positive" : s.Score <= 0.45 ? "negative" : "mixed";

    public static Dictionary<string, PolarMetrics> Measure(IReadOnlyList<LabelledText> set, IReadOnlyList<OutcomeScore> scores, Action<string>? log = null) =>
        MeasureLabels(set, (i, dim) => Label(scores[i].Dimensions[dim]), log, (i, dim) => $" ({scores[i].Dimensions[dim].Score})");

    /// <summary>The same measure for predictions that are labels already, e.g. a second coder's.</summary>
    public static Dictionary<string, PolarMetrics> MeasureLabels(IReadOnlyList<LabelledText> set, Func<int, string, string> predicted, Action<string>? log = null,
        Func<int, string, string>? detail = null)
    {
        var result = new Dictionary<string, PolarMetrics>();
        foreach (var dim in OutcomeDimensions.All)
        {
            int predictedPolar = 0, goldPolar = 0, correct = 0;
            for (var i = 0; i < set.Count; i++)
            {
                var gold = set[i].Labels[dim];
                if (gold == "mixed") continue;
                var pred = predicted(i, dim);
                var predIsPolar = pred is "positive" or "negative";
                var goldIsPolar = gold is "positive" or "negative";
                if (predIsPolar) predictedPolar++;
                if (goldIsPolar) goldPolar++;
                if (predIsPolar && pred == gold) correct++;
                else if (predIsPolar || goldIsPolar) log?.Invoke($"{dim}: gold {gold} pred {pred}{detail?.Invoke(i, dim)} [{set[i].Id}] {set[i].Text}");
            }
            result[dim] = new PolarMetrics(predictedPolar == 0 ? 0 : (double)correct / predictedPolar, goldPolar == 0 ? 0 : (double)correct / goldPolar, goldPolar);
        }
        return result;
    }

    /// <summary>
    /// The held-out notes coded a second time (<c>evaluation-second-coder.jsonl</c>) by a coder who saw only the label
    /// definitions, not the first coder's labels: id → labels. Measured against the gold labels it shows how far two
    /// careful readers agree, the ceiling any model's agreement with one of them should be read against.
    /// </summary>
    public static Dictionary<string, Dictionary<string, string>> SecondCoder(string seedsImpactDir) =>
        File.ReadLines(Path.Combine(seedsImpactDir, "evaluation-second-coder.jsonl")).Where(l => l.Length > 0)
            .Select(l => JsonSerializer.Deserialize<LabelledText>(l, new JsonSerializerOptions { PropertyNameCaseInsensitive = true })!)
            .ToDictionary(t => t.Id, t => t.Labels);

    /// <summary>
    /// The evaluation parts, by the rule that decides what may be trained on: only the composed texts and the
    /// standalone notes s001–s020 were ever seen while writing training data; the three held-out parts never were.
    /// </summary>
    public static EvaluationParts Parts(string seedsImpactDir)
    {
        var all = Load(Path.Combine(seedsImpactDir, "evaluation.jsonl"));
        static int Standalone(string id) => int.Parse(id["eval-s".Length..], System.Globalization.CultureInfo.InvariantCulture);
        var composed = all.Where(t => !t.Id.StartsWith("eval-s", StringComparison.Ordinal)).ToList();
        var standalone = all.Where(t => t.Id.StartsWith("eval-s", StringComparison.Ordinal)).ToList();
        return new EvaluationParts(composed, standalone.Where(t => Standalone(t.Id) <= 20).ToList(), standalone.Where(t => Standalone(t.Id) > 20).ToList(),
            Load(Path.Combine(seedsImpactDir, "evaluation-heldout2.jsonl")), Load(Path.Combine(seedsImpactDir, "evaluation-heldout3.jsonl")));
    }
}

/// <summary>
/// The labelled set's parts. Held-out 1: standalone notes s021–s060; held-out 2: evaluation-heldout2.jsonl; held-out 3:
/// evaluation-heldout3.jsonl, written by an author who saw neither the training data nor the models.
/// </summary>
public sealed record EvaluationParts(
    List<LabelledText> Composed, List<LabelledText> StandaloneTrain, List<LabelledText> HeldOut1, List<LabelledText> HeldOut2, List<LabelledText> HeldOut3);
