using System.Diagnostics;
using Platform.Core.Impact.Scoring;
using TorchSharp;
using static TorchSharp.torch;

namespace Platform.Tools.OutcomeFineTune;

public sealed record TrainingRow(string Text, Dictionary<string, int> Labels);

/// <summary>Hyperparameters of one fine-tuning run.</summary>
public sealed record Settings(double LearningRate, int Epochs, int BatchSize, int MaxLength, int Seed);

/// <summary>
/// End-to-end fine-tuning of the encoder and the 10-logit head. Targets are those of the logistic trainer: output
/// (dimension, sign) is 1 when the sentence is labelled with that sign or 0 (mixed) on that dimension. The loss is
/// binary cross-entropy per output with positives weighted by negatives/positives (the logistic trainer's class
/// balance); AdamW, weight decay 0.01, dropout 0.1, learning rate warmed up linearly over the first 10 % of the first
/// epoch and constant after (the encoder at the chosen rate, the freshly initialised head at 1e-3), so the model after e epochs of a longer run is the model an e-epoch run trains.
/// </summary>
public static class FineTuning
{
    public const double HeadLearningRate = 1e-3;

    public static float[] Targets(TrainingRow row)
    {
        var y = new float[10];
        for (var d = 0; d < OutcomeDimensions.All.Count; d++)
            if (row.Labels.TryGetValue(OutcomeDimensions.All[d], out var l))
            {
                if (l is 1 or 0) y[2 * d] = 1;
                if (l is -1 or 0) y[2 * d + 1] = 1;
            }
        return y;
    }

    /// <summary>Trains a fresh model from the ONNX weights; <paramref name="afterEpoch"/> sees the model after each epoch.</summary>
    public static OutcomeNet Train(Dictionary<string, OnnxWeights.Tensor> pretrained, IReadOnlyList<TrainingRow> rows, Tokens tokens, Settings s,
        Action<int, OutcomeNet>? afterEpoch = null)
    {
        torch.manual_seed(s.Seed);
        var net = new OutcomeNet();
        net.encoder.Load(pretrained);
        var encoded = rows.Select(r => tokens.Encode(r.Text)).ToArray();
        var targets = rows.Select(Targets).ToArray();
        var positives = Enumerable.Range(0, 10).Select(k => targets.Count(t => t[k] == 1)).ToArray();
        using var posWeight = tensor(positives.Select(p => (float)Math.Clamp((rows.Count - p) / Math.Max(1.0, p), 1, 50)).ToArray());
        // The head starts from random weights: it learns at HeadLearningRate, the pretrained encoder at the chosen rate.
        var encoderOptimizer = torch.optim.AdamW(net.encoder.parameters(), s.LearningRate, weight_decay: 0.01);
        var headOptimizer = torch.optim.AdamW(net.HeadParameters, HeadLearningRate, weight_decay: 0.01);
        var stepsPerEpoch = (rows.Count + s.BatchSize - 1) / s.BatchSize;
        var warmup = Math.Max(1, stepsPerEpoch / 10);
        var random = new Random(s.Seed);
        var step = 0;
        for (var epoch = 1; epoch <= s.Epochs; epoch++)
        {
            net.train();
            var order = Batches(encoded, s.BatchSize, random);
            var watch = Stopwatch.StartNew();
            double lossSum = 0;
            foreach (var idx in order)
            {
                using var scope = NewDisposeScope();
                var (ids, mask) = Tokens.Batch(idx.Select(i => encoded[i]).ToList());
                var y = tensor(idx.SelectMany(i => targets[i]).ToArray(), [idx.Length, 10]);
                step++;
                var ramp = Math.Min(1.0, (double)step / warmup);
                foreach (var group in encoderOptimizer.ParamGroups) group.LearningRate = s.LearningRate * ramp;
                foreach (var group in headOptimizer.ParamGroups) group.LearningRate = HeadLearningRate * ramp;
                encoderOptimizer.zero_grad();
                headOptimizer.zero_grad();
                var loss = nn.functional.binary_cross_entropy_with_logits(net.call(ids, mask), y, pos_weights: posWeight);
                loss.backward();
                encoderOptimizer.step();
                headOptimizer.step();
                lossSum += loss.item<float>() * idx.Length;
            }
            Console.WriteLine($"    epoch {epoch}: loss {lossSum / rows.Count:F4}, {watch.Elapsed.TotalSeconds:F0} s ({rows.Count / watch.Elapsed.TotalSeconds:F1} sentences/s)");
            afterEpoch?.Invoke(epoch, net);
        }
        return net;
    }

    /// <summary>
    /// Shuffled batches of sentences of similar length (less padding): the shuffled rows are cut into pools of 8
    /// batches, each pool sorted by length and cut into batches, and the batches shuffled.
    /// </summary>
    private static List<int[]> Batches(long[][] encoded, int batchSize, Random random)
    {
        var order = Enumerable.Range(0, encoded.Length).ToArray();
        random.Shuffle(order);
        var batches = order.Chunk(8 * batchSize).SelectMany(pool => pool.OrderBy(i => encoded[i].Length).Chunk(batchSize)).ToArray();
        random.Shuffle(batches);
        return batches.ToList();
    }

    /// <summary>Sigmoid outputs [sentence][10] in evaluation mode, batches of 64 sentences of similar length.</summary>
    public static float[][] Probabilities(OutcomeNet net, Tokens tokens, IReadOnlyList<string> sentences)
    {
        net.eval();
        using var _ = no_grad();
        var encoded = sentences.Select(tokens.Encode).ToArray();
        var result = new float[sentences.Count][];
        foreach (var batch in Enumerable.Range(0, sentences.Count).OrderBy(i => encoded[i].Length).Chunk(64))
        {
            using var scope = NewDisposeScope();
            var (ids, mask) = Tokens.Batch(batch.Select(i => encoded[i]).ToList());
            var p = net.call(ids, mask).sigmoid().data<float>().ToArray();
            for (var i = 0; i < batch.Length; i++) result[batch[i]] = p[(i * 10)..((i + 1) * 10)];
        }
        return result;
    }

    /// <summary>Micro F1 over every (sentence, output) of a labelled set at a decision threshold — the trainer's CV measure.</summary>
    public static double F1(float[][] probabilities, IReadOnlyList<TrainingRow> rows, double threshold)
    {
        int tp = 0, fp = 0, fn = 0;
        for (var i = 0; i < rows.Count; i++)
        {
            var y = Targets(rows[i]);
            for (var k = 0; k < 10; k++)
            {
                var p = probabilities[i][k] >= threshold;
                if (p && y[k] == 1) tp++; else if (p) fp++; else if (y[k] == 1) fn++;
            }
        }
        return 2.0 * tp / Math.Max(1, 2 * tp + fp + fn);
    }
}
