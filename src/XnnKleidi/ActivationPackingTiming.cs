namespace XnnKleidi;

/// <summary>What <see cref="ActivationPacking.Auto"/> measured when a <see cref="Linear"/> was created.</summary>
/// <param name="Batch">The batch size (rows of input) both variants were timed with.</param>
/// <param name="PackedTime">Median time of one run with packed activations (QP8).</param>
/// <param name="UnpackedTime">Median time of one run without packing (QD8).</param>
/// <param name="PackedRuns">How many timed runs the packed median is taken over.</param>
/// <param name="UnpackedRuns">How many timed runs the unpacked median is taken over.</param>
/// <param name="TotalTime">Wall time spent timing, warm-up runs included.</param>
public sealed record ActivationPackingTiming(
    int Batch,
    TimeSpan PackedTime,
    TimeSpan UnpackedTime,
    int PackedRuns,
    int UnpackedRuns,
    TimeSpan TotalTime)
{
    /// <summary>True when the packed variant was at least as fast as the unpacked one.</summary>
    public bool PackedIsFaster => PackedTime <= UnpackedTime;
}
