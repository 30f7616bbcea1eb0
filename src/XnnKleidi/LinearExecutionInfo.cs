namespace XnnKleidi;

/// <summary>What a <see cref="Linear"/> runs for one batch size, and why (see <see cref="Linear.GetExecutionInfo"/>).</summary>
/// <param name="Batch">The batch size asked about.</param>
/// <param name="IsActivationPackingActive">True when this batch runs the packed (QP8) variant.</param>
/// <param name="OperatorNames">XNNPACK's operators of that variant, in order.</param>
/// <param name="KernelFamily">The Arm kernel family that runs, or null on other architectures.</param>
/// <param name="KleidiAIKernelName">The KleidiAI kernel that runs, or null when the activations are not packed.</param>
/// <param name="Qd8KernelName">The XNNPACK QD8 microkernel that runs when the activations are not packed
/// (see <see cref="ActivationPackingSupport.GetQd8KernelName"/>); null when they are, and for fp32 weights.</param>
/// <param name="PackingFallbackReason">Null unless packing was requested and does not run for this batch; then why.</param>
/// <param name="AutoTuningDecision">For <see cref="ActivationPacking.Auto"/>, how the variant was chosen; null otherwise.</param>
/// <param name="TunedBatch">The tuned batch size whose decision governs this batch (the nearest at or below it, else the smallest); null without Auto timings.</param>
/// <param name="Timing">The timing behind that decision; null when nothing was timed.</param>
/// <param name="PackedWeightBytes">The bytes of packed weights this variant holds (as XNNPACK packs them for its kernels).</param>
public sealed record LinearExecutionInfo(
    int Batch,
    bool IsActivationPackingActive,
    IReadOnlyList<string> OperatorNames,
    ArmKernelFamily? KernelFamily,
    string? KleidiAIKernelName,
    string? Qd8KernelName,
    string? PackingFallbackReason,
    string? AutoTuningDecision,
    int? TunedBatch,
    ActivationPackingTiming? Timing,
    long PackedWeightBytes);
