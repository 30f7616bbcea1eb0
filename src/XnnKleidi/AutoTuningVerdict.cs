namespace XnnKleidi;

/// <summary>What the timings of <see cref="ActivationPacking.Auto"/> at one batch size show, once their noise is taken into account.</summary>
public enum AutoTuningVerdict
{
    /// <summary>
    /// The two variants cannot be told apart: the 95 % interval of the packed-to-unpacked time ratio contains 1, the
    /// median ratio is within <see cref="ActivationPackingTiming.MinimumRelativeDifference"/> of 1, or there were fewer
    /// than <see cref="ActivationPackingTiming.MinimumPairs"/> timed pairs.
    /// </summary>
    WithinNoise = 0,

    /// <summary>The packed variant (QP8) was faster beyond the noise.</summary>
    PackedFaster = 1,

    /// <summary>The unpacked variant (QD8) was faster beyond the noise.</summary>
    UnpackedFaster = 2,
}
