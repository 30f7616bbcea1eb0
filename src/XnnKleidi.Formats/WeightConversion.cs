namespace XnnKleidi.Formats;

/// <summary>
/// The weights of one tensor in an XnnKleidi scheme, and what the conversion did to get them.
/// </summary>
/// <param name="Weights">The weights, [N, K].</param>
/// <param name="SourceType">The tensor's type in the file.</param>
/// <param name="Requantized">True when values that were already quantized in the file were dequantized and quantized
/// again (Q8_0 always; Q4_0 to any target but qb4w with blocks of 32; single Q4_0 blocks, see
/// <see cref="RequantizedBlocks"/>).</param>
/// <param name="Description">One sentence that says what was done, for a report.</param>
public sealed record WeightConversion(LinearWeights Weights, TensorType SourceType, bool Requantized, string Description)
{
    /// <summary>
    /// For Q4_0 carried to qb4w: the largest |bf16 − fp16| / |fp16| over the scales carried, the precision lost by
    /// rounding each block's fp16 scale to bf16 (at most 2⁻⁸: half a step of bf16's 8-bit significand). 0 otherwise.
    /// </summary>
    public double MaxScaleRelativeError { get; init; }

    /// <summary>For Q4_0 carried to qb4w: the blocks whose 4-bit values were kept as they are.</summary>
    public long CarriedBlocks { get; init; }

    /// <summary>
    /// For Q4_0 carried to qb4w: the blocks requantized instead. A block with a negative scale d whose value
    /// d·(0 − 8) = 8·|d| appears cannot be held with the positive scale |d| qb4w needs (its 4-bit range is −8..7),
    /// so it is dequantized and quantized again as <see cref="LinearWeights.Quantize"/> does.
    /// </summary>
    public long RequantizedBlocks { get; init; }

    /// <summary>For Q4_0 carried to qb4w: the largest |converted − original| weight, both dequantized; 0 otherwise.</summary>
    public double MaxWeightError { get; init; }

    /// <summary>For Q4_0 carried to qb4w: the largest |original weight|, to put <see cref="MaxWeightError"/> in proportion; 0 otherwise.</summary>
    public double LargestWeight { get; init; }
}
