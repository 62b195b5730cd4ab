using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Platform.Core.Ai;

namespace Platform.Core.Impact.Scoring;

/// <summary>One logistic regression: P = σ(w·x + b) over standardised features.</summary>
public sealed record LogisticWeights(double[] W, double B)
{
    public double Probability(ReadOnlySpan<double> x)
    {
        var z = B;
        for (var i = 0; i < W.Length; i++) z += W[i] * x[i];
        return 1 / (1 + Math.Exp(-z));
    }
}

/// <summary>The two regressions of one dimension: "this sentence says the outcome improved / got worse".</summary>
public sealed record DimensionWeights(LogisticWeights Positive, LogisticWeights Negative);

/// <summary>
/// Trained weights of the embedding classifier, versioned in the repository
/// (<c>outcome-embed.weights.json</c>, written by <c>./platform.sh train-outcomes</c>).
/// Features per sentence: the embedding (384 numbers) followed by the rubric's contribution for the dimension,
/// squashed as tanh(c / 2); all standardised with the training mean and standard deviation.
/// </summary>
public sealed record OutcomeClassifierWeights(
    string Version,
    string EmbeddingModel,
    double Threshold,
    double[] Mean,
    double[] Std,
    Dictionary<string, DimensionWeights> Dimensions,
    string TrainedOn)
{
    public static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase, WriteIndented = false };

    /// <summary>The weights compiled into Platform.Core.</summary>
    public static OutcomeClassifierWeights Embedded { get; } = LoadEmbedded();

    private static OutcomeClassifierWeights LoadEmbedded()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("impact/outcome-embed.weights.json")
            ?? throw new InvalidOperationException("impact/outcome-embed.weights.json is not embedded; run ./platform.sh train-outcomes.");
        return JsonSerializer.Deserialize<OutcomeClassifierWeights>(stream, Json)!;
    }
}

/// <summary>
/// Outcome scoring v2 (<c>outcome-embed/…</c>): every sentence is embedded by the local model and read by two logistic
/// regressions per dimension (positive, negative) trained from the labelled sentences. A sentence whose stronger
/// probability reaches the threshold is evidence, contributing p₊ − p₋; a dimension with no evidence sentence
/// abstains (<c>null</c>). Score = 0.5 + 0.5·tanh(2·Σ contributions), rounded to 3 decimals, so the labels read the
/// same way as the rubric's (≥ 0.55 positive, ≤ 0.45 negative). Evidence keeps the rubric's shape: sentence, offset,
/// length, SHA-256, the rubric cues the sentence also matched, and the probabilities. Deterministic: the same text,
/// weights and model give the same score (probabilities are rounded before they are combined).
/// </summary>
public sealed class OutcomeClassifier(LocalMiniLmEmbeddingGenerator embeddings, OutcomeClassifierWeights weights) : IOutcomeModel
{
    public OutcomeClassifier() : this(LocalMiniLmEmbeddingGenerator.Shared, OutcomeClassifierWeights.Embedded)
    {
    }

    /// <summary>Recorded with every score: classifier version and the embedding model its weights were trained on.</summary>
    public string ModelVersion { get; } = $"{weights.Version}+{weights.EmbeddingModel}";

    public OutcomeScore Score(string text) => ScoreMany([text])[0];

    /// <summary>Scores many texts with one batched pass of the embedding model over all their sentences.</summary>
    public IReadOnlyList<OutcomeScore> ScoreMany(IReadOnlyList<string> texts, CancellationToken ct = default)
    {
        var (sentences, rubric) = Split(texts);
        return Combine(texts.Count, sentences, rubric, embeddings.Encode(sentences.Select(s => s.Sentence).ToList(), ct));
    }

    /// <summary>As <see cref="ScoreMany"/>, sharing model batches with concurrent callers (parallel scoring jobs).</summary>
    public async Task<IReadOnlyList<OutcomeScore>> ScoreManyAsync(IReadOnlyList<string> texts, CancellationToken ct)
    {
        var (sentences, rubric) = Split(texts);
        return Combine(texts.Count, sentences, rubric, await embeddings.EncodeAsync(sentences.Select(s => s.Sentence).ToList(), ct));
    }

    private static (List<(int Text, int Start, int Length, string Sentence)>, OutcomeScore[]) Split(IReadOnlyList<string> texts)
    {
        var sentences = new List<(int Text, int Start, int Length, string Sentence)>();
        var rubric = new OutcomeScore[texts.Count];
        for (var t = 0; t < texts.Count; t++)
        {
            ArgumentNullException.ThrowIfNull(texts[t]);
            rubric[t] = OutcomeScorer.Score(texts[t]);
            foreach (var (start, length) in OutcomeScorer.Sentences(texts[t]))
                sentences.Add((t, start, length, texts[t].Substring(start, length)));
        }
        return (sentences, rubric);
    }

    private OutcomeScore[] Combine(int count, List<(int Text, int Start, int Length, string Sentence)> sentences, OutcomeScore[] rubric, float[][] vectors)
    {
        var features = new double[weights.Mean.Length];
        return Combine(ModelVersion, weights.Threshold, count, sentences, rubric, (s, d, rubricContribution) =>
        {
            Features(vectors[s], rubricContribution, weights, features);
            var w = weights.Dimensions[OutcomeDimensions.All[d]];
            return (w.Positive.Probability(features), w.Negative.Probability(features));
        });
    }

    /// <summary>
    /// Scores texts by this classifier's sentence split and combination from another model's sentence probabilities:
    /// <paramref name="probabilities"/> receives every sentence of every text and returns, per sentence and dimension
    /// (in <see cref="OutcomeDimensions.All"/> order), (p₊, p₋). Used by the fine-tuning experiment
    /// (<c>tools/impact/finetune</c>), so that only the sentence model differs from this classifier.
    /// </summary>
    public static IReadOnlyList<OutcomeScore> ScoreFromSentenceProbabilities(
        IReadOnlyList<string> texts, string modelVersion, double threshold, Func<IReadOnlyList<string>, (double Positive, double Negative)[][]> probabilities)
    {
        var (sentences, rubric) = Split(texts);
        var p = probabilities(sentences.Select(s => s.Sentence).ToList());
        return Combine(modelVersion, threshold, texts.Count, sentences, rubric, (s, d, _) => p[s][d]);
    }

    private static OutcomeScore[] Combine(string modelVersion, double threshold, int count, List<(int Text, int Start, int Length, string Sentence)> sentences,
        OutcomeScore[] rubric, Func<int, int, double, (double Positive, double Negative)> probability)
    {
        var evidence = new List<OutcomeEvidence>[count][];
        for (var t = 0; t < count; t++)
            evidence[t] = OutcomeDimensions.All.Select(_ => new List<OutcomeEvidence>()).ToArray();
        for (var s = 0; s < sentences.Count; s++)
        {
            var (t, start, length, sentence) = sentences[s];
            for (var d = 0; d < OutcomeDimensions.All.Count; d++)
            {
                var dim = OutcomeDimensions.All[d];
                var rubricEvidence = rubric[t].Dimensions[dim].Evidence.FirstOrDefault(e => e.Start == start);
                var (positive, negative) = probability(s, d, rubricEvidence?.Contribution ?? 0);
                var pPos = Math.Round(positive, 3);
                var pNeg = Math.Round(negative, 3);
                if (Math.Max(pPos, pNeg) < threshold) continue;
                IReadOnlyList<string> cues = [.. rubricEvidence?.Cues ?? [], $"p+={pPos:0.000}", $"p-={pNeg:0.000}"];
                evidence[t][d].Add(new OutcomeEvidence(dim, sentence, start, length, cues, Math.Round(pPos - pNeg, 4), OutcomeScorer.Sha256Hex(sentence)));
            }
        }
        var result = new OutcomeScore[count];
        for (var t = 0; t < count; t++)
        {
            var dims = new Dictionary<string, DimensionScore>();
            for (var d = 0; d < OutcomeDimensions.All.Count; d++)
            {
                var dim = OutcomeDimensions.All[d];
                dims[dim] = DimensionScore.FromEvidence(dim, evidence[t][d]);
            }
            result[t] = new OutcomeScore(modelVersion, dims);
        }
        return result;
    }

    /// <summary>The standardised feature vector of one sentence for one dimension (shared with training).</summary>
    public static void Features(float[] embedding, double rubricContribution, OutcomeClassifierWeights w, double[] into)
    {
        for (var i = 0; i < embedding.Length; i++) into[i] = (embedding[i] - w.Mean[i]) / w.Std[i];
        var last = embedding.Length;
        into[last] = (Math.Tanh(rubricContribution / 2) - w.Mean[last]) / w.Std[last];
    }
}
