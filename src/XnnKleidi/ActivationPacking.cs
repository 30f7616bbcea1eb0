namespace XnnKleidi;

/// <summary>
/// Whether the dynamically quantized int8 activations of a <see cref="Linear"/> are packed for
/// KleidiAI's QP8 GEMM kernels (Arm only) or left in XNNPACK's QD8 layout.
/// </summary>
public enum ActivationPacking
{
    /// <summary>Never pack: the layer runs XNNPACK's QD8 kernels.</summary>
    Off = 0,

    /// <summary>
    /// Pack when this library, this CPU and the weight scheme allow it; otherwise run QD8 and say why in
    /// <see cref="Linear.PackingFallbackReason"/>. Same as <see cref="LinearOptions.ForceActivationPacking"/> = true.
    /// </summary>
    On = 1,

    /// <summary>
    /// Build both variants, time them on the layer's real shape at each of <see cref="LinearOptions.AutoTuningBatches"/>
    /// when it is created (bounded by <see cref="LinearOptions.AutoTuningBudget"/>, or looked up in
    /// <see cref="LinearOptions.AutoTuningCache"/>), and run each batch size on the variant that was faster beyond the
    /// noise there; <see cref="Linear.GetExecutionInfo"/> says which, and why.
    /// </summary>
    Auto = 2,
}
