using System.Runtime.InteropServices;
using Google.Protobuf;
using XnnKleidi.Cli.Bench;
using XnnKleidi.Cli.Onnx.Proto;
using XnnKleidi.Oracle;

namespace XnnKleidi.Cli.Onnx;

/// <summary>
/// Builds, in memory, the ONNX model of one layer with the benchmark's own weights, for ONNX
/// Runtime to run side by side with XnnKleidi:
/// <list type="bullet">
/// <item>qc8w: com.microsoft DynamicQuantizeMatMul (uint8 per-tensor dynamic quantization of
/// the activations, int8 weights with one scale per output channel, bias fused);</item>
/// <item>qb4w: com.microsoft MatMulNBits (4-bit, zero point 8, blocks of K with fp32 scales
/// converted exactly from the bf16 ones; accuracy_level 4 = int8 activations, as XNNPACK);</item>
/// <item>f32: Gemm with transB = 1.</item>
/// </list>
/// qc4w has no ONNX counterpart (MatMulNBits blocks must be a power of two, not all of K).
/// </summary>
internal static class OnnxModelBuilder
{
    public const string InputName = "x";
    public const string OutputName = "y";
    private const long IrVersion = 10;
    private const long DefaultOpset = 21;
    private const string MicrosoftDomain = "com.microsoft";

    /// <summary>The ONNX Runtime operator used for a scheme, or null when there is none.</summary>
    public static string? OperatorFor(WeightScheme scheme) => scheme switch
    {
        WeightScheme.Qc8w => "DynamicQuantizeMatMul",
        WeightScheme.Qb4w => "MatMulNBits",
        WeightScheme.F32 => "Gemm",
        _ => null,
    };

    /// <summary>How the ONNX Runtime operator quantizes the activations (for the output check).</summary>
    public static ActivationQuantization ActivationQuantizationFor(WeightScheme scheme) => scheme switch
    {
        WeightScheme.Qc8w => ActivationQuantization.PerTensor,
        WeightScheme.Qb4w => ActivationQuantization.SymmetricPerBlock,
        _ => ActivationQuantization.None,
    };

    public static ModelProto Build(BenchData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var graph = new GraphProto { Name = $"{data.Scheme.ToString().ToLowerInvariant()}_{data.M}x{data.K}x{data.N}" };
        graph.Input.Add(TensorInfo(InputName, TensorProto.Types.DataType.Float, data.M, data.K));
        graph.Output.Add(TensorInfo(OutputName, TensorProto.Types.DataType.Float, data.M, data.N));
        graph.Initializer.Add(Tensor("bias", TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes(data.Bias.AsSpan()), data.N));
        switch (data.Scheme)
        {
            case WeightScheme.Qc8w:
            {
                    // DynamicQuantizeMatMul takes B as K x N; the layer's weights are N x K.
                    sbyte[] transposed = new sbyte[data.K * data.N];
                for (int n = 0; n < data.N; n++)
                {
                    for (int k = 0; k < data.K; k++)
                        {
                            transposed[k * data.N + n] = data.Qc8wWeights[n * data.K + k];
                        }
                    }
                graph.Initializer.Add(Tensor("w", TensorProto.Types.DataType.Int8, MemoryMarshal.AsBytes(transposed.AsSpan()), data.K, data.N));
                graph.Initializer.Add(Tensor("w_scale", TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes(data.ChannelScales.AsSpan()), data.N));
                // Inputs: A, B, b_scale, b_zero_point (omitted: symmetric), bias.
                graph.Node.Add(Node("DynamicQuantizeMatMul", MicrosoftDomain, [InputName, "w", "w_scale", "", "bias"]));
                break;
            }
            case WeightScheme.Qb4w:
            {
                    int blocks = data.K / data.BlockSize;
                // B is N x blocks x (block_size / 2) bytes, element 2j in the low nibble: the
                // benchmark's nibble rows already have exactly that layout.
                graph.Initializer.Add(Tensor("w", TensorProto.Types.DataType.Uint8, data.Nibbles, data.N, blocks, data.BlockSize / 2));
                    float[] scales = new float[data.N * blocks];
                for (int i = 0; i < scales.Length; i++)
                    {
                        scales[i] = (float)Reference.Bf16(data.BlockScalesBf16[i]);
                    }

                    graph.Initializer.Add(Tensor("w_scale", TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes(scales.AsSpan()), data.N * blocks));
                    // Inputs: A, B, scales, zero_points (omitted: 8 for 4 bits), g_idx (omitted), bias.
                    NodeProto node = Node("MatMulNBits", MicrosoftDomain, [InputName, "w", "w_scale", "", "", "bias"]);
                node.Attribute.Add(IntAttribute("K", data.K));
                node.Attribute.Add(IntAttribute("N", data.N));
                node.Attribute.Add(IntAttribute("bits", 4));
                node.Attribute.Add(IntAttribute("block_size", data.BlockSize));
                node.Attribute.Add(IntAttribute("accuracy_level", 4));
                graph.Node.Add(node);
                break;
            }
            case WeightScheme.F32:
            {
                graph.Initializer.Add(Tensor("w", TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes(data.F32Weights.AsSpan()), data.N, data.K));
                    NodeProto node = Node("Gemm", "", [InputName, "w", "bias"]);
                node.Attribute.Add(IntAttribute("transB", 1));
                graph.Node.Add(node);
                break;
            }
            default:
                throw new NotSupportedException($"ONNX has no counterpart of {data.Scheme}");
        }
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "xnnkleidi",
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = DefaultOpset });
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = MicrosoftDomain, Version = 1 });
        return model;
    }

    public static byte[] Serialize(BenchData data) => Build(data).ToByteArray();

    private static NodeProto Node(string opType, string domain, string[] inputs)
    {
        var node = new NodeProto { OpType = opType, Name = opType, Domain = domain };
        node.Input.AddRange(inputs);
        node.Output.Add(OutputName);
        return node;
    }

    private static AttributeProto IntAttribute(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static TensorProto Tensor(string name, TensorProto.Types.DataType type, ReadOnlySpan<byte> bytes, params long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(bytes) };
        tensor.Dims.AddRange(dims);
        return tensor;
    }

    private static ValueInfoProto TensorInfo(string name, TensorProto.Types.DataType type, params long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (long dim in dims)
        {
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = dim });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }
}
