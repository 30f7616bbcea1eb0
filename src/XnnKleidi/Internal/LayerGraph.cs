using XnnKleidi.Interop;

namespace XnnKleidi.Internal;

/// <summary>
/// The XNNPACK subgraph of one layer: fp32 input → convert to dynamically quantized int8 (packed for KleidiAI when the
/// convert's flags ask for it) → fully connected → fp32 output; fp32 weights skip the convert. Each runtime gets a
/// subgraph of its own, defined, turned into a runtime and deleted in one place.
/// </summary>
internal sealed unsafe class LayerGraph
{
    /// <summary>The external value ids of the input and the output, used to reshape and set up a runtime.</summary>
    public const uint InputId = 0;
    public const uint OutputId = 1;

    private readonly LinearWeights weights;
    private readonly NativeWeightCopies copies;
    private readonly float outputMin;
    private readonly float outputMax;

    public LayerGraph(LinearWeights weights, NativeWeightCopies copies, float outputMin, float outputMax)
    {
        this.weights = weights;
        this.copies = copies;
        this.outputMin = outputMin;
        this.outputMax = outputMax;
    }

    /// <summary>Something to do with a defined subgraph before it is deleted.</summary>
    public delegate T SubgraphUse<out T>(xnn_subgraph* subgraph);

    /// <summary>Defines the subgraph with <paramref name="convertFlags"/>, hands it to <paramref name="use"/>, and deletes it.</summary>
    public T With<T>(uint convertFlags, SubgraphUse<T> use)
    {
        xnn_subgraph* subgraph;
        Ensure.Success(NativeMethods.xnn_create_subgraph(2, 0, &subgraph), "xnn_create_subgraph");
        try
        {
            Define(subgraph, convertFlags);
            return use(subgraph);
        }
        finally
        {
            NativeMethods.xnn_delete_subgraph(subgraph);
        }
    }

    /// <summary>
    /// The operator names of the graph built with <paramref name="convertFlags"/>, and the bytes of weights it packs.
    /// XNNPACK names its operators only in a runtime created with XNN_FLAG_BASIC_PROFILING, which then reads a timer
    /// around every operator of every run, a cost the smallest layers feel (docs/api.md gives the measured figures).
    /// So the layer runs without it, and the names come from a twin runtime of the same graph (same CPU, same flags, so
    /// the same operators and kernels) that is deleted at once; the same twin's weights go through a counting cache
    /// (see <see cref="PackedWeightMeter"/>). The cost is packing the weights once more at creation.
    /// </summary>
    public (string[] Names, long PackedWeightBytes) ReadOperatorNamesAndPackedBytes(uint convertFlags) => With(convertFlags, subgraph =>
    {
        (string[] names, long bytes) = PackedWeightMeter.Measure(
            subgraph, NativeMethods.XNN_FLAG_BASIC_PROFILING, twin => OperatorNames.Read((xnn_runtime*)twin));
        return (names, bytes);
    });

    private void Define(xnn_subgraph* subgraph, uint convertFlags)
    {
        int k = weights.InputChannels;
        int n = weights.OutputChannels;
        nuint* inputDims = stackalloc nuint[] { 1, (nuint)k };
        nuint* weightDims = stackalloc nuint[] { (nuint)n, (nuint)k };
        nuint* biasDims = stackalloc nuint[] { (nuint)n };
        nuint* outputDims = stackalloc nuint[] { 1, (nuint)n };
        uint inputId, quantizedId, weightId, outputId;
        uint biasId = NativeMethods.XNN_INVALID_VALUE_ID;

        Ensure.Success(
            NativeMethods.xnn_define_tensor_value(subgraph, xnn_datatype.xnn_datatype_fp32, 2, inputDims, null, InputId, NativeMethods.XNN_VALUE_FLAG_EXTERNAL_INPUT, &inputId),
            "xnn_define_tensor_value(input)");
        if (weights.Scheme == WeightScheme.F32)
        {
            quantizedId = inputId;
        }
        else
        {
            Ensure.Success(
                NativeMethods.xnn_define_dynamically_quantized_tensor_value(subgraph, xnn_datatype.xnn_datatype_qdint8, 2, 1, inputDims, NativeMethods.XNN_INVALID_VALUE_ID, 0, &quantizedId),
                "xnn_define_dynamically_quantized_tensor_value");
        }

        void* values = copies.Values.Pointer;
        void* scales = copies.Scales is null ? null : copies.Scales.Pointer;
        xnn_status status = weights.Scheme switch
        {
            WeightScheme.F32 => NativeMethods.xnn_define_tensor_value(
                subgraph, xnn_datatype.xnn_datatype_fp32, 2, weightDims, values, NativeMethods.XNN_INVALID_VALUE_ID, 0, &weightId),
            WeightScheme.Qc8w => NativeMethods.xnn_define_channelwise_quantized_tensor_value_v2(
                subgraph, xnn_datatype.xnn_datatype_qcint8, 0, (float*)scales, 2, 0, weightDims, values, NativeMethods.XNN_INVALID_VALUE_ID, 0, &weightId),
            WeightScheme.Qc4w => NativeMethods.xnn_define_channelwise_quantized_tensor_value_v2(
                subgraph, xnn_datatype.xnn_datatype_qcint4, 8, (float*)scales, 2, 0, weightDims, values, NativeMethods.XNN_INVALID_VALUE_ID, 0, &weightId),
            _ => NativeMethods.xnn_define_blockwise_quantized_tensor_value(
                subgraph, xnn_datatype.xnn_datatype_qbint4, 8, (ushort*)scales, 2, 0, (nuint)weights.BlockSize, weightDims, values, NativeMethods.XNN_INVALID_VALUE_ID, 0, &weightId),
        };
        Ensure.Success(status, "xnn_define_*_tensor_value(weights)");

        if (copies.Bias is not null)
        {
            Ensure.Success(
                NativeMethods.xnn_define_tensor_value(subgraph, xnn_datatype.xnn_datatype_fp32, 1, biasDims, copies.Bias.Pointer, NativeMethods.XNN_INVALID_VALUE_ID, 0, &biasId),
                "xnn_define_tensor_value(bias)");
        }

        Ensure.Success(
            NativeMethods.xnn_define_tensor_value(subgraph, xnn_datatype.xnn_datatype_fp32, 2, outputDims, null, OutputId, NativeMethods.XNN_VALUE_FLAG_EXTERNAL_OUTPUT, &outputId),
            "xnn_define_tensor_value(output)");
        if (weights.Scheme != WeightScheme.F32)
        {
            Ensure.Success(
                NativeMethods.xnn_define_unary(subgraph, xnn_unary_operator.xnn_unary_convert, null, inputId, quantizedId, convertFlags),
                "xnn_define_unary(convert)");
        }

        Ensure.Success(
            NativeMethods.xnn_define_fully_connected(subgraph, outputMin, outputMax, quantizedId, weightId, biasId, outputId, 0),
            "xnn_define_fully_connected");
    }
}
