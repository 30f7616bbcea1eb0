namespace XnnKleidi.Internal;

/// <summary>
/// How long an int8 dot product XNNPACK's and KleidiAI's kernels can sum in int32 before any input can overflow it.
/// </summary>
/// <remarks>
/// <para>Dynamic quantization stores each activation as q ∈ [−128, 127] with a per-row zero point z ∈ [−128, 127],
/// and a row that spans its whole range uses all 256 levels, so |q − z| ≤ 255 (a row of equal positive values
/// gives q = 127, z = −128 for every element). The kernels compute Σₖ (q − z)·w in int32: QD8 starts from z·Σw
/// (packed with the weights) and adds q·w, and KleidiAI's QP8 kernels hold Σ q·w, a sum of smaller terms. Their
/// int32 additions and multiplications wrap, so partial sums may wrap as long as the final sum fits, which is
/// why the bound is on the final sum alone.</para>
/// <para>qc8w: |w| ≤ 127 (−128 is refused, see <see cref="LinearWeights.FromQc8w(ReadOnlySpan{sbyte}, ReadOnlySpan{float}, int, int)"/>),
/// so |Σ| ≤ 255·127·K, which fits 2³¹ − 1 for K ≤ 66,311.</para>
/// <para>qc4w: the kernels keep each 4-bit value in the high half of a byte, i.e. as 16·w ∈ [−128, 112], and
/// divide the int32 sum by 16 only when converting it (x86 an arithmetic shift right by 4, Arm a fixed-point
/// convert with 4 fraction bits); so |Σ| ≤ 255·128·K, which fits for K ≤ 65,793.</para>
/// <para>qb4w: every block's int32 sum is converted to fp32 and scaled by that block's scale before the next
/// block starts, so the bound applies to the block size (≤ 65,793, hence at most 65,792 as a multiple of 32),
/// not to K.</para>
/// <para>Real models stay far below: Llama-class feed-forward layers have K ≤ 28,672, 2.3 times under either bound.</para>
/// </remarks>
internal static class Int32Accumulator
{
    /// <summary>The largest |q − z| of a dynamically quantized activation.</summary>
    private const long ActivationSpan = 255;

    /// <summary>The largest K of a qc8w layer: ⌊(2³¹ − 1) / (255 · 127)⌋.</summary>
    public const int Qc8wMaxInputChannels = (int)(int.MaxValue / (ActivationSpan * 127));

    /// <summary>The largest K of a qc4w layer: ⌊(2³¹ − 1) / (255 · 128)⌋.</summary>
    public const int Qc4wMaxInputChannels = (int)(int.MaxValue / (ActivationSpan * 128));

    /// <summary>The largest qb4w block: the qc4w bound rounded down to XNNPACK's multiple of 32.</summary>
    public const int Qb4wMaxBlockSize = Qc4wMaxInputChannels / 32 * 32;
}
