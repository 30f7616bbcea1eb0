namespace XnnKleidi;

/// <summary>What <see cref="ActivationPacking.Auto"/> measured at one batch size, and what it concluded.</summary>
/// <param name="Batch">The batch size (rows of input) both variants were timed with.</param>
/// <param name="PackedTime">Median time of one run with packed activations (QP8).</param>
/// <param name="UnpackedTime">Median time of one run without packing (QD8).</param>
/// <param name="PackedRuns">How many timed runs the packed median is taken over.</param>
/// <param name="UnpackedRuns">How many timed runs the unpacked median is taken over.</param>
/// <param name="TotalTime">Wall time spent timing, warm-up runs included (zero for a decision read from an <see cref="AutoTuningCache"/>).</param>
public sealed record ActivationPackingTiming(
    int Batch,
    TimeSpan PackedTime,
    TimeSpan UnpackedTime,
    int PackedRuns,
    int UnpackedRuns,
    TimeSpan TotalTime)
{
    /// <summary>Fewer timed pairs than this give no evidence: the 95 % interval of a median needs at least eight samples.</summary>
    public const int MinimumPairs = 8;

    /// <summary>A difference smaller than this fraction (2 %) of the unpacked time does not count, however tight the interval.</summary>
    public const double MinimumRelativeDifference = 0.02;

    /// <summary>True when the packed median was at most the unpacked one; says nothing about noise (see <see cref="Verdict"/>).</summary>
    public bool IsPackedFaster => PackedTime <= UnpackedTime;

    /// <summary>
    /// The median over the timed pairs of packed time / unpacked time (each pair runs both variants back to back, so a
    /// change of clock speed or load falls on both alike). Below 1 packing pays.
    /// </summary>
    public double Ratio { get; init; } = double.NaN;

    /// <summary>The lower end of the distribution-free 95 % interval of <see cref="Ratio"/> (order statistics of the pairs' ratios).</summary>
    public double RatioLow { get; init; } = double.NaN;

    /// <summary>The upper end of the 95 % interval of <see cref="Ratio"/>.</summary>
    public double RatioHigh { get; init; } = double.NaN;

    /// <summary>What the timing shows beyond its noise.</summary>
    public AutoTuningVerdict Verdict { get; init; }

    /// <summary>True when this timing was read from an <see cref="AutoTuningCache"/> instead of being measured now.</summary>
    public bool IsFromCache { get; init; }

    /// <summary>
    /// The average number of this process's threads that were ready to run but waited for a CPU while the layer was
    /// timed (over all its tuned batch sizes); null where the system does not report it (see <see cref="RunQueueWait"/>)
    /// and for a timing read from a cache.
    /// </summary>
    public double? WaitingThreads { get; init; }

    /// <summary>
    /// True when <see cref="WaitingThreads"/> reached <see cref="RunQueueWait.ContendedWaitingThreads"/>: something
    /// else held a core while this was timed. The decision still follows the timing (both variants ran side by side under
    /// the same load), but a tuning cache does not store it, so the next start times the layer again.
    /// </summary>
    public bool IsCpuContended => RunQueueWait.IsContended(WaitingThreads);
}
