// Trains outcome scoring v2 (the embedding classifier) from seeds/impact/training-sentences.jsonl, writes its weights to
// Platform.Core/Impact/Scoring/outcome-embed.weights.json and prints rubric vs classifier, side by side, on every
// part of the labelled set. Usage:  ./platform.sh train-outcomes   (or: dotnet run -c Release --project tools/impact/train)
//   --evaluate-only   measure the committed weights, do not retrain
//   --with-voices     also train on every seeds/impact/training-voices-*.jsonl (1,542 sentences in other voices) and
//                     print the table, without writing weights: the experiment docs/impact-scoring.md reports, whose
//                     model lost precision and is not the one shipped
// Beside the models, each held-out part shows a second coder's labels (evaluation-second-coder.jsonl) measured the same
// way: how far two careful readers agree. With a chat model configured (Platform__Models__Chat__Endpoint and
// __Model, as for the services) the chat scorer is measured too: every evaluation text is sent to that endpoint.
// The held-out parts (standalone notes s021–s060, evaluation-heldout2.jsonl and evaluation-heldout3.jsonl) are only
// ever measured here, never read by the training or by the choice of the regularisation strength, which uses
// cross-validation on training data.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Platform.Core.Ai;
using Platform.Core.Impact.Scoring;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var root = FindRepoRoot();
var seeds = Path.Combine(root, "seeds", "impact");
var weightsPath = Path.Combine(root, "Platform.Core", "Impact", "Scoring", "outcome-embed.weights.json");
var evaluateOnly = args.Contains("--evaluate-only");
var withVoices = args.Contains("--with-voices");
var model = LocalMiniLmEmbeddingGenerator.Shared;
var dims = OutcomeDimensions.All;

OutcomeClassifierWeights weights;
if (evaluateOnly)
{
    weights = JsonSerializer.Deserialize<OutcomeClassifierWeights>(File.ReadAllText(weightsPath), OutcomeClassifierWeights.Json)!;
}
else
{
    var trainingFiles = new[] { Path.Combine(seeds, "training-sentences.jsonl") }
        .Concat(withVoices ? Directory.GetFiles(seeds, "training-voices-*.jsonl").Order(StringComparer.Ordinal) : []).ToList();
    var rows = trainingFiles.SelectMany(File.ReadLines).Where(l => l.Length > 0)
        .Select(l => JsonSerializer.Deserialize<TrainingRow>(l, new JsonSerializerOptions { PropertyNameCaseInsensitive = true })!).ToList();
    var watch = Stopwatch.StartNew();
    var vectors = model.Encode(rows.Select(r => r.Text).ToList());
    Console.WriteLine($"embedded {rows.Count} training sentences in {watch.Elapsed.TotalSeconds:F1} s ({LocalMiniLmEmbeddingGenerator.ModelId})");
    var n = rows.Count;
    var f = LocalMiniLmEmbeddingGenerator.Dimensions + 1;
    // Raw features per dimension: embedding + squashed rubric contribution of the sentence for that dimension.
    var raw = dims.Select(dim => rows.Select((r, i) =>
    {
        var x = new double[f];
        for (var k = 0; k < f - 1; k++) x[k] = vectors[i][k];
        var ev = OutcomeScorer.Score(r.Text).Dimensions[dim].Evidence;
        x[f - 1] = Math.Tanh(ev.Sum(e => e.Contribution) / 2);
        return x;
    }).ToArray()).ToArray();
    // One standardisation for all dimensions: the embedding part is shared; the rubric column is pooled over dimensions.
    var mean = new double[f];
    var std = new double[f];
    var all = raw.SelectMany(x => x).ToArray();
    for (var k = 0; k < f; k++)
    {
        mean[k] = all.Average(x => x[k]);
        std[k] = Math.Max(1e-6, Math.Sqrt(all.Average(x => (x[k] - mean[k]) * (x[k] - mean[k]))));
    }
    var std0 = new OutcomeClassifierWeights("", "", 0.5, mean, std, [], "");
    var xs = raw.Select(set => set.Select(x => { var o = new double[f]; Standardise(x, std0, o); return o; }).ToArray()).ToArray();
    int[] Target(string dim, int i, int sign) => rows[i].Labels.TryGetValue(dim, out var l) && (l == sign || l == 0) ? [1] : [0];

    // Regularisation strength by 5-fold cross-validation on the training sentences only.
    double[] grid = [0.01, 0.03, 0.1, 0.3, 1.0];
    var best = (Lambda: grid[0], F1: -1.0);
    foreach (var lambda in grid)
    {
        int tp = 0, fp = 0, fn = 0;
        for (var fold = 0; fold < 5; fold++)
        {
            var trainIdx = Enumerable.Range(0, n).Where(i => i % 5 != fold).ToArray();
            var testIdx = Enumerable.Range(0, n).Where(i => i % 5 == fold).ToArray();
            for (var d = 0; d < dims.Count; d++)
                foreach (var sign in (int[])[1, -1])
                {
                    var lr = Fit(trainIdx.Select(i => xs[d][i]).ToArray(), trainIdx.Select(i => Target(dims[d], i, sign)[0]).ToArray(), lambda);
                    foreach (var i in testIdx)
                    {
                        var p = lr.Probability(xs[d][i]) >= 0.5;
                        var y = Target(dims[d], i, sign)[0] == 1;
                        if (p && y) tp++; else if (p) fp++; else if (y) fn++;
                    }
                }
        }
        var f1 = 2.0 * tp / (2 * tp + fp + fn);
        Console.WriteLine($"  λ={lambda}: cross-validated sentence F1 {f1:F3}");
        if (f1 > best.F1) best = (lambda, f1);
    }
    var trained = new Dictionary<string, DimensionWeights>();
    for (var d = 0; d < dims.Count; d++)
    {
        var idx = Enumerable.Range(0, n).ToArray();
        trained[dims[d]] = new DimensionWeights(
            Round(Fit(xs[d], idx.Select(i => Target(dims[d], i, 1)[0]).ToArray(), best.Lambda)),
            Round(Fit(xs[d], idx.Select(i => Target(dims[d], i, -1)[0]).ToArray(), best.Lambda)));
    }
    weights = new OutcomeClassifierWeights(withVoices ? "outcome-embed/2.1.0-voices" : "outcome-embed/2.0.0", LocalMiniLmEmbeddingGenerator.ModelId, 0.5,
        mean.Select(v => Math.Round(v, 6)).ToArray(), std.Select(v => Math.Round(v, 6)).ToArray(), trained,
        $"{string.Join(" + ", trainingFiles.Select(p => Path.GetRelativePath(root, p)))} ({n} sentences), L2 λ={best.Lambda} by 5-fold CV (F1 {best.F1:F3})");
    if (withVoices)
    {
        Console.WriteLine($"trained {weights.Version}, λ={best.Lambda} (not written: an experiment)");
    }
    else
    {
        File.WriteAllText(weightsPath, JsonSerializer.Serialize(weights, OutcomeClassifierWeights.Json) + "\n");
        Console.WriteLine($"wrote {Path.GetRelativePath(root, weightsPath)}: {weights.Version}, λ={best.Lambda}");
    }
}

// Side by side: rubric vs classifier (vs the chat scorer, when configured) on every part, and the second coder on the held-out parts.
var parts = OutcomeEvaluation.Parts(seeds);
var classifier = new OutcomeClassifier(model, weights);
var secondCoder = OutcomeEvaluation.SecondCoder(seeds);
var chatSettings = ModelClients.ChatSettings(new ConfigurationBuilder().AddEnvironmentVariables().Build()).Options;
var chat = chatSettings is { Endpoint: { } chatEndpoint, Model: { } chatModel }
    ? new ChatOutcomeModel(ModelClients.CreateChat(chatSettings.Provider, chatEndpoint, chatSettings.ApiKey, chatModel, chatSettings.Timeout), chatModel)
    : null;
var report = new StringBuilder();
report.AppendLine($"| part | texts | model | {string.Join(" | ", dims.Select(d => d + " P / R"))} |");
report.AppendLine($"|---|---|---|{string.Concat(dims.Select(_ => "---|"))}");
foreach (var (name, set) in new[] { ("composed (train voice)", parts.Composed), ("standalone s001–s020 (train)", parts.StandaloneTrain),
             ("held-out 1 (s021–s060)", parts.HeldOut1), ("held-out 2", parts.HeldOut2), ("held-out 3", parts.HeldOut3) })
{
    var texts = set.Select(t => t.Text).ToList();
    var rubric = OutcomeEvaluation.Measure(set, texts.Select(OutcomeScorer.Score).ToList());
    var watch = Stopwatch.StartNew();
    var scored = classifier.ScoreMany(texts);
    var seconds = watch.Elapsed.TotalSeconds;
    var embed = OutcomeEvaluation.Measure(set, scored, Environment.GetEnvironmentVariable("IMPACT_EVAL_VERBOSE") == "1" && !name.StartsWith("held", StringComparison.Ordinal) ? Console.WriteLine : null);
    var rows = new List<(string, Dictionary<string, PolarMetrics>)> { (OutcomeScorer.ModelVersion, rubric), (weights.Version, embed) };
    Console.Error.WriteLine($"  {name}: {set.Count} texts scored by the classifier in {seconds:F2} s");
    if (chat is not null)
    {
        watch.Restart();
        var rejectedBefore = chat.RejectedQuotes;
        rows.Add((chat.ModelVersion, OutcomeEvaluation.Measure(set, await chat.ScoreManyAsync(texts, CancellationToken.None))));
        Console.Error.WriteLine($"  {name}: {set.Count} texts scored by {chat.ModelVersion} in {watch.Elapsed.TotalSeconds:F1} s, {chat.RejectedQuotes - rejectedBefore} quotes not in their text dropped");
    }
    if (set.All(t => secondCoder.ContainsKey(t.Id)))
    {
        rows.Add(("second coder", OutcomeEvaluation.MeasureLabels(set, (i, dim) => secondCoder[set[i].Id][dim])));
    }
    foreach (var (label, m) in rows)
        report.AppendLine($"| {name} | {set.Count} | {label} | {string.Join(" | ", dims.Select(d => $"{m[d].Precision:F2} / {m[d].Recall:F2}"))} |");
}
Console.WriteLine();
Console.WriteLine(report);
return 0;

static void Standardise(double[] x, OutcomeClassifierWeights w, double[] into)
{
    for (var k = 0; k < x.Length; k++) into[k] = (x[k] - w.Mean[k]) / w.Std[k];
}

// Class-balanced L2 logistic regression by full-batch Adam: fixed start, fixed step count, so retraining gives the
// same weights.
static LogisticWeights Fit(double[][] x, int[] y, double lambda)
{
    var n = x.Length;
    var f = x[0].Length;
    var positives = Math.Max(1, y.Count(v => v == 1));
    var negatives = Math.Max(1, n - positives);
    var w = new double[f];
    var b = 0.0;
    var grad = new double[f];
    var m1 = new double[f + 1];
    var m2 = new double[f + 1];
    const double rate = 0.02, beta1 = 0.9, beta2 = 0.999;
    for (var iter = 1; iter <= 300; iter++)
    {
        Array.Clear(grad);
        var gb = 0.0;
        for (var i = 0; i < n; i++)
        {
            var z = b;
            for (var k = 0; k < f; k++) z += w[k] * x[i][k];
            var p = 1 / (1 + Math.Exp(-z));
            var weight = y[i] == 1 ? 0.5 * n / positives : 0.5 * n / negatives;
            var e = (p - y[i]) * weight / n;
            for (var k = 0; k < f; k++) grad[k] += e * x[i][k];
            gb += e;
        }
        for (var k = 0; k <= f; k++)
        {
            var g = k < f ? grad[k] + lambda * w[k] : gb;
            m1[k] = beta1 * m1[k] + (1 - beta1) * g;
            m2[k] = beta2 * m2[k] + (1 - beta2) * g * g;
            var step = rate * (m1[k] / (1 - Math.Pow(beta1, iter))) / (Math.Sqrt(m2[k] / (1 - Math.Pow(beta2, iter))) + 1e-8);
            if (k < f) w[k] -= step; else b -= step;
        }
    }
    return new LogisticWeights(w, b);
}

static LogisticWeights Round(LogisticWeights lr) => new(lr.W.Select(v => Math.Round(v, 6)).ToArray(), Math.Round(lr.B, 6));

static string FindRepoRoot()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Platform.sln"))) dir = dir.Parent;
    return dir?.FullName ?? throw new InvalidOperationException("run inside the repository");
}

internal sealed record TrainingRow(string Text, Dictionary<string, int> Labels);
