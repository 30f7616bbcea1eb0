namespace XnnKleidi;

/// <summary>How the weights of a <see cref="Linear"/> layer are stored.</summary>
public enum WeightScheme
{
    /// <summary>Plain fp32 weights, no quantization; the input is not quantized either (a reference path).</summary>
    F32 = 0,

    /// <summary>Symmetric per-output-channel int8 weights with one fp32 scale per output channel (XNNPACK <c>qcint8</c>).</summary>
    Qc8w = 1,

    /// <summary>Per-output-channel 4-bit weights, zero point 8, two values a byte, one fp32 scale per output channel (XNNPACK <c>qcint4</c>).</summary>
    Qc4w = 2,

    /// <summary>Blockwise 4-bit weights, zero point 8, two values a byte, one bf16 scale per block of input channels (XNNPACK <c>qbint4</c>).</summary>
    Qb4w = 3,
}
