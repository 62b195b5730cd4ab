using System.Text;

namespace Platform.Tools.OutcomeFineTune;

/// <summary>
/// The float weights of an ONNX model, by the PyTorch parameter name they were exported from. Reads only what is
/// needed from the protobuf (ModelProto.graph → GraphProto.node and .initializer → TensorProto dims, data_type, name,
/// raw_data), so no generated onnx.proto code is carried for an experiment. The exporter folds each Linear layer into
/// a MatMul against an unnamed, transposed initializer followed by an Add of the named bias; such weights are named
/// back as "&lt;layer&gt;.weight" and transposed to PyTorch's [out, in] layout.
/// </summary>
public static class OnnxWeights
{
    public sealed record Tensor(long[] Dims, float[] Data);

    public static Dictionary<string, Tensor> Read(byte[] model)
    {
        var initializers = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var nodes = new List<(string Op, List<string> Inputs, List<string> Outputs)>();
        var top = new Reader(model, 0, model.Length);
        while (top.More)
        {
            var (field, wire) = top.Tag();
            if (field != 7 || wire != 2) { top.Skip(wire); continue; }
            var graph = top.Message();
            while (graph.More)
            {
                var (g, gw) = graph.Tag();
                if (g == 5 && gw == 2) ReadTensor(graph.Message(), initializers);
                else if (g == 1 && gw == 2) nodes.Add(ReadNode(graph.Message()));
                else graph.Skip(gw);
            }
        }
        var weights = initializers.Where(kv => !char.IsDigit(kv.Key[0])).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        var producedBy = new Dictionary<string, (string Op, List<string> Inputs, List<string> Outputs)>();
        foreach (var n in nodes) foreach (var o in n.Outputs) producedBy[o] = n;
        foreach (var add in nodes.Where(n => n.Op == "Add"))
        {
            var bias = add.Inputs.FirstOrDefault(i => i.EndsWith(".bias", StringComparison.Ordinal) && initializers.ContainsKey(i));
            var other = add.Inputs.FirstOrDefault(i => i != bias);
            if (bias is null || other is null || !producedBy.TryGetValue(other, out var matmul) || matmul.Op != "MatMul") continue;
            var w = matmul.Inputs.FirstOrDefault(initializers.ContainsKey);
            if (w is null) continue;
            weights[bias[..^".bias".Length] + ".weight"] = Transpose(initializers[w]);
        }
        return weights;
    }

    private static Tensor Transpose(Tensor t)
    {
        var (rows, cols) = ((int)t.Dims[0], (int)t.Dims[1]);
        var data = new float[t.Data.Length];
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < cols; c++)
                data[c * rows + r] = t.Data[r * cols + c];
        return new Tensor([cols, rows], data);
    }

    private static void ReadTensor(Reader t, Dictionary<string, Tensor> into)
    {
        var dims = new List<long>();
        string name = "";
        int dataType = 0;
        byte[] raw = [];
        while (t.More)
        {
            var (f, w) = t.Tag();
            if (f == 1 && w == 2) { var packed = t.Message(); while (packed.More) dims.Add((long)packed.Varint()); }
            else if (f == 1) dims.Add((long)t.Varint());
            else if (f == 2) dataType = (int)t.Varint();
            else if (f == 8) name = Encoding.UTF8.GetString(t.Bytes());
            else if (f == 9) raw = t.Bytes();
            else t.Skip(w);
        }
        if (dataType != 1) return; // only float32 tensors are weights; int64 ones are shapes and position ids
        var data = new float[raw.Length / 4];
        Buffer.BlockCopy(raw, 0, data, 0, raw.Length);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw data is little-endian");
        into[name] = new Tensor(dims.ToArray(), data);
    }

    private static (string, List<string>, List<string>) ReadNode(Reader n)
    {
        var inputs = new List<string>();
        var outputs = new List<string>();
        var op = "";
        while (n.More)
        {
            var (f, w) = n.Tag();
            if (f == 1) inputs.Add(Encoding.UTF8.GetString(n.Bytes()));
            else if (f == 2) outputs.Add(Encoding.UTF8.GetString(n.Bytes()));
            else if (f == 4) op = Encoding.UTF8.GetString(n.Bytes());
            else n.Skip(w);
        }
        return (op, inputs, outputs);
    }

    /// <summary>Protobuf wire format: varints, length-delimited fields, fixed 32/64-bit fields.</summary>
    private sealed class Reader(byte[] buffer, int position, int end)
    {
        public bool More => position < end;

        public ulong Varint()
        {
            ulong value = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = buffer[position++];
                value |= (ulong)(b & 0x7f) << shift;
                if (b < 0x80) return value;
            }
        }

        public (int Field, int Wire) Tag()
        {
            var tag = Varint();
            return ((int)(tag >> 3), (int)(tag & 7));
        }

        public Reader Message()
        {
            var length = (int)Varint();
            var sub = new Reader(buffer, position, position + length);
            position += length;
            return sub;
        }

        public byte[] Bytes()
        {
            var length = (int)Varint();
            var bytes = buffer[position..(position + length)];
            position += length;
            return bytes;
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0: Varint(); break;
                case 1: position += 8; break;
                case 2: { var length = (int)Varint(); position += length; break; }
                case 5: position += 4; break;
                default: throw new InvalidDataException($"protobuf wire type {wire} at byte {position}");
            }
        }
    }
}
