using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Platform.Tools.OutcomeFineTune;

/// <summary>
/// all-MiniLM-L6-v2 as a BERT encoder in TorchSharp: 6 layers, hidden 384, 12 heads, FFN 1536, exact (erf) GELU,
/// LayerNorm ε = 1e-12, post-norm residuals; the sentence vector is the mean of the token states over the attention
/// mask, as the sentence-transformers model pools. Weights come from the ONNX copy the shipped generator runs.
/// </summary>
public sealed class MiniLm : Module<Tensor, Tensor, Tensor>
{
    public const int Hidden = 384;
    private const int Heads = 12;
    private const double Epsilon = 1e-12;

    private readonly Embedding word = Embedding(30522, Hidden);
    private readonly Embedding position = Embedding(512, Hidden);
    private readonly Embedding tokenType = Embedding(2, Hidden);
    private readonly LayerNorm norm = LayerNorm(Hidden, Epsilon);
    private readonly Dropout dropout = Dropout(0.1);
    private readonly ModuleList<Layer> layers = new(Enumerable.Range(0, 6).Select(_ => new Layer()).ToArray());

    public MiniLm() : base(nameof(MiniLm)) => RegisterComponents();

    /// <summary>Mean-pooled token states [batch, 384] of token ids and attention mask [batch, length] (int64).</summary>
    public override Tensor forward(Tensor ids, Tensor mask)
    {
        using var scope = NewDisposeScope();
        var length = ids.shape[1];
        var positions = arange(length, dtype: ScalarType.Int64).unsqueeze(0);
        var x = dropout.call(norm.call(word.call(ids) + position.call(positions) + tokenType.call(zeros_like(ids))));
        var additive = (1 - mask.to_type(ScalarType.Float32)).mul(-10000f).view(mask.shape[0], 1, 1, length);
        foreach (var layer in layers) x = layer.call(x, additive);
        var m = mask.to_type(ScalarType.Float32).unsqueeze(-1);
        return ((x * m).sum(1) / m.sum(1).clamp_min(1e-9)).MoveToOuterDisposeScope();
    }

    public void Load(Dictionary<string, OnnxWeights.Tensor> w)
    {
        using var _ = no_grad();
        Set(word.weight!, w, "embeddings.word_embeddings.weight");
        Set(position.weight!, w, "embeddings.position_embeddings.weight");
        Set(tokenType.weight!, w, "embeddings.token_type_embeddings.weight");
        Set(norm.weight!, w, "embeddings.LayerNorm.weight");
        Set(norm.bias!, w, "embeddings.LayerNorm.bias");
        for (var i = 0; i < layers.Count; i++) layers[i].Load(w, $"encoder.layer.{i}.");
    }

    internal static void Set(Tensor parameter, Dictionary<string, OnnxWeights.Tensor> w, string name)
    {
        var t = w.TryGetValue(name, out var found) ? found : throw new InvalidDataException($"the ONNX model has no {name}");
        if (!t.Dims.SequenceEqual(parameter.shape)) throw new InvalidDataException($"{name}: [{string.Join(",", t.Dims)}] vs [{string.Join(",", parameter.shape)}]");
        parameter.copy_(tensor(t.Data, t.Dims));
    }

    private sealed class Layer : Module<Tensor, Tensor, Tensor>
    {
        private readonly Linear query = Linear(Hidden, Hidden), key = Linear(Hidden, Hidden), value = Linear(Hidden, Hidden), output = Linear(Hidden, Hidden);
        private readonly LayerNorm attentionNorm = LayerNorm(Hidden, Epsilon);
        private readonly Linear intermediate = Linear(Hidden, 4 * Hidden), down = Linear(4 * Hidden, Hidden);
        private readonly LayerNorm outputNorm = LayerNorm(Hidden, Epsilon);
        private readonly Dropout dropout = Dropout(0.1);

        public Layer() : base(nameof(Layer)) => RegisterComponents();

        public override Tensor forward(Tensor x, Tensor additiveMask)
        {
            var (b, t) = (x.shape[0], x.shape[1]);
            Tensor Heads_(Tensor y) => y.view(b, t, Heads, Hidden / Heads).transpose(1, 2);
            var scores = Heads_(query.call(x)).matmul(Heads_(key.call(x)).transpose(-1, -2)) / MathF.Sqrt(Hidden / Heads) + additiveMask;
            var context = dropout.call(scores.softmax(-1)).matmul(Heads_(value.call(x))).transpose(1, 2).reshape(b, t, Hidden);
            var h = attentionNorm.call(x + dropout.call(output.call(context)));
            return outputNorm.call(h + dropout.call(down.call(functional.gelu(intermediate.call(h)))));
        }

        public void Load(Dictionary<string, OnnxWeights.Tensor> w, string prefix)
        {
            foreach (var (linear, name) in new[] { (query, "attention.self.query"), (key, "attention.self.key"), (value, "attention.self.value"),
                         (output, "attention.output.dense"), (intermediate, "intermediate.dense"), (down, "output.dense") })
            {
                Set(linear.weight!, w, prefix + name + ".weight");
                Set(linear.bias!, w, prefix + name + ".bias");
            }
            foreach (var (ln, name) in new[] { (attentionNorm, "attention.output.LayerNorm"), (outputNorm, "output.LayerNorm") })
            {
                Set(ln.weight!, w, prefix + name + ".weight");
                Set(ln.bias!, w, prefix + name + ".bias");
            }
        }
    }
}

/// <summary>The encoder and a linear head with one logit per dimension and sign (10), read from the pooled vector.</summary>
public sealed class OutcomeNet : Module<Tensor, Tensor, Tensor>
{
    public readonly MiniLm encoder = new();
    private readonly Dropout dropout = Dropout(0.1);
    private readonly Linear head = Linear(MiniLm.Hidden, 10);

    public OutcomeNet() : base(nameof(OutcomeNet)) => RegisterComponents();

    public IEnumerable<Parameter> HeadParameters => head.parameters();

    public override Tensor forward(Tensor ids, Tensor mask) => head.call(dropout.call(encoder.call(ids, mask)));
}
