namespace XnnKleidi;

/// <summary>One decision of <see cref="ActivationPacking.Auto"/> held by an <see cref="AutoTuningCache"/>: where it was measured, for which layer, and what it measured.</summary>
/// <param name="Environment">The library build, CPU and kernel-family cap it was measured under.</param>
/// <param name="Threads">The thread count of the layer's pool (1 without a pool).</param>
/// <param name="Scheme">The layer's weight scheme.</param>
/// <param name="InputChannels">K.</param>
/// <param name="OutputChannels">N.</param>
/// <param name="BlockSize">Input channels per scale for <see cref="WeightScheme.Qb4w"/>; 0 for the other schemes.</param>
/// <param name="Timing">The timing and its verdict at <see cref="ActivationPackingTiming.Batch"/>.</param>
public sealed record AutoTuningCacheEntry(
    AutoTuningEnvironment Environment,
    int Threads,
    WeightScheme Scheme,
    int InputChannels,
    int OutputChannels,
    int BlockSize,
    ActivationPackingTiming Timing);
