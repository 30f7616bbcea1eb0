namespace XnnKleidi.Internal;

/// <summary>
/// The weights, scales and bias of one layer in native memory, where XNNPACK's subgraph reads them while it creates a
/// runtime. XNNPACK packs static weights when it creates the runtime and never reads the originals again, so the
/// copies live only as long as the layer is being built.
/// </summary>
internal sealed class NativeWeightCopies : IDisposable
{
    public NativeWeightCopies(LinearWeights weights, ReadOnlySpan<float> bias)
    {
        Values = weights.Scheme switch
        {
            WeightScheme.F32 => NativeBuffer.CopyOf<float>(weights.RawFloat32),
            WeightScheme.Qc8w => NativeBuffer.CopyOf<sbyte>(weights.RawInt8),
            _ => NativeBuffer.CopyOf<byte>(weights.RawInt4),
        };
        Scales = weights.Scheme switch
        {
            WeightScheme.Qc8w or WeightScheme.Qc4w => NativeBuffer.CopyOf<float>(weights.RawChannelScales),
            WeightScheme.Qb4w => NativeBuffer.CopyOf<ushort>(weights.RawBlockScales),
            _ => null,
        };
        Bias = bias.IsEmpty ? null : NativeBuffer.CopyOf(bias);
    }

    /// <summary>The weight values in the scheme's storage type.</summary>
    public NativeBuffer Values { get; }

    /// <summary>fp32 channel scales, bf16 block scales, or null for fp32 weights.</summary>
    public NativeBuffer? Scales { get; }

    /// <summary>The fp32 bias, or null for none.</summary>
    public NativeBuffer? Bias { get; }

    /// <summary>
    /// Overwrites the copies with 0xFF (NaN as fp32) before freeing them, so that a late read by XNNPACK would show as
    /// wrong output in the tests instead of passing unnoticed on freed memory that still holds the right values.
    /// </summary>
    public void Dispose()
    {
        foreach (NativeBuffer? buffer in new[] { Values, Scales, Bias })
        {
            buffer?.Poison();
            buffer?.Dispose();
        }
    }
}
