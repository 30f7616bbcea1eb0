namespace XnnKleidi;

/// <summary>
/// How a <see cref="Linear"/> is built and run. The thread pool, weights cache and workspace mirror the
/// options of ExecuTorch's XNNPACK backend; all three are optional and may be shared between layers.
/// </summary>
public sealed class LinearOptions
{
    private TimeSpan autoTuningBudget = TimeSpan.FromMilliseconds(50);
    private int autoTuningBatch = 1;

    /// <summary>Whether to pack activations for KleidiAI's QP8 kernels. <see cref="ActivationPacking.Off"/> by default.</summary>
    public ActivationPacking ActivationPacking { get; set; } = ActivationPacking.Off;

    /// <summary>
    /// The ExecuTorch-style switch: true is <see cref="ActivationPacking.On"/>, false is <see cref="ActivationPacking.Off"/>.
    /// Reads true only when the mode is <see cref="ActivationPacking.On"/>.
    /// </summary>
    public bool ForceActivationPacking
    {
        get => ActivationPacking == ActivationPacking.On;
        set => ActivationPacking = value ? ActivationPacking.On : ActivationPacking.Off;
    }

    /// <summary>
    /// Whether <see cref="Linear.Run(ReadOnlySpan{float}, Span{float}, int)"/> and
    /// <see cref="Linear.Run(PaddedInputBuffer, Span{float}, int)"/> refuse an input holding NaN or ±Inf with an
    /// <see cref="ArgumentException"/> naming its row and column (true by default). Layers with quantized weights map each
    /// input row onto int8 through the row's range; a non-finite value makes that mapping meaningless, and XNNPACK then
    /// returns finite numbers for the row that depend on the CPU and the kernel, with no error. <see cref="WeightScheme.F32"/>
    /// layers keep ±Inf, but their output clamp turns NaN into +Inf on x86-64. The check is fused with
    /// the copy of the span overload and is one extra read of the input for the <see cref="PaddedInputBuffer"/> overload
    /// (docs/api.md gives the measured cost). Turn it off only when every input is known to be finite: a non-finite value
    /// then gives an unspecified result in its own row; other rows are not affected.
    /// </summary>
    public bool RejectNonFiniteInput { get; set; } = true;

    /// <summary>
    /// Whether the layer's runtime measures each operator's time (XNNPACK's XNN_FLAG_BASIC_PROFILING), so that
    /// <see cref="Linear.GetLastRunProfile"/> can say how much of a run the convert (the activation packing) and the GEMM
    /// took. Off by default: it reads a timer around every operator of every run, whose measured cost docs/api.md gives.
    /// It does not change the operators, the kernels or the results.
    /// </summary>
    public bool EnableProfiling { get; set; }

    /// <summary>Threads to run on; null runs every operator on the calling thread.</summary>
    public XnnThreadPool? ThreadPool { get; set; }

    /// <summary>A cache that deduplicates packed weights between layers; null gives each layer its own copy.</summary>
    public XnnWeightsCache? WeightsCache { get; set; }

    /// <summary>
    /// Memory for intermediate tensors shared between layers; null gives each layer its own. Layers that share a
    /// workspace never run at the same time: their <see cref="Linear.Run(ReadOnlySpan{float}, Span{float}, int)"/>
    /// calls take the workspace's lock.
    /// </summary>
    public XnnWorkspace? Workspace { get; set; }

    /// <summary>
    /// The total time <see cref="ActivationPacking.Auto"/> may spend timing both variants, warm-up included
    /// (50 ms by default). Each variant runs at least once, so a run slower than the budget exceeds it once.
    /// </summary>
    public TimeSpan AutoTuningBudget
    {
        get => autoTuningBudget;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero, nameof(AutoTuningBudget));
            autoTuningBudget = value;
        }
    }

    /// <summary>The batch size (rows) <see cref="ActivationPacking.Auto"/> times with; 1 by default (token-by-token decoding).</summary>
    public int AutoTuningBatch
    {
        get => autoTuningBatch;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(AutoTuningBatch));
            autoTuningBatch = value;
        }
    }
}
