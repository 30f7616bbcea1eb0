namespace XnnKleidi;

/// <summary>
/// How a <see cref="Linear"/> is built and run. The thread pool, weights cache and workspace mirror the
/// options of ExecuTorch's XNNPACK backend; all three are optional and may be shared between layers.
/// </summary>
public sealed class LinearOptions
{
    private TimeSpan autoTuningBudget = TimeSpan.FromMilliseconds(50);
    private int[] autoTuningBatches = [.. DefaultAutoTuningBatches];
    private int? autoTuningSingleVariantBatch;

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

    /// <summary>The batch sizes <see cref="ActivationPacking.Auto"/> times at unless told otherwise: 1, 4, 16, 64 and 256 rows.</summary>
    public static IReadOnlyList<int> DefaultAutoTuningBatches { get; } = [1, 4, 16, 64, 256];

    /// <summary>
    /// The batch sizes (rows) <see cref="ActivationPacking.Auto"/> times both variants at, in ascending order without
    /// repeats (<see cref="DefaultAutoTuningBatches"/> by default). Each gets an equal share of
    /// <see cref="AutoTuningBudget"/>. A run of M rows uses the variant chosen at the nearest of them at or below M, or
    /// at the smallest for an M below them all. Where the choice differs between them, the layer keeps both variants
    /// (see <see cref="AutoTuningSingleVariantBatch"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The list is empty or holds a batch size below 1.</exception>
    public IReadOnlyList<int> AutoTuningBatches
    {
        get => autoTuningBatches;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value.Count == 0 || value.Any(batch => batch < 1))
            {
                throw new ArgumentException("Auto needs at least one batch size, and every batch size is at least 1.", nameof(AutoTuningBatches));
            }

            autoTuningBatches = [.. value.Distinct().Order()];
        }
    }

    /// <summary>
    /// The one batch size <see cref="ActivationPacking.Auto"/> times with, as before it tuned several: setting it makes
    /// <see cref="AutoTuningBatches"/> that single size; reading it gives the smallest of <see cref="AutoTuningBatches"/>.
    /// </summary>
    public int AutoTuningBatch
    {
        get => autoTuningBatches[0];
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(AutoTuningBatch));
            autoTuningBatches = [value];
        }
    }

    /// <summary>
    /// Null (the default) lets <see cref="ActivationPacking.Auto"/> keep both variants, each with its own packed weights,
    /// when the best one differs between batch sizes. A batch size here makes it keep one only: the variant chosen at
    /// that batch size (mapped to a tuned one as a run's batch is), for every run. For memory-bound layers.
    /// </summary>
    public int? AutoTuningSingleVariantBatch
    {
        get => autoTuningSingleVariantBatch;
        set
        {
            if (value is int batch)
            {
                ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1, nameof(AutoTuningSingleVariantBatch));
            }

            autoTuningSingleVariantBatch = value;
        }
    }

    /// <summary>
    /// Where <see cref="ActivationPacking.Auto"/> looks its decisions up before timing, and stores those it timed; null
    /// to time every layer. The cache may be shared by any number of layers and threads.
    /// </summary>
    public AutoTuningCache? AutoTuningCache { get; set; }

    /// <summary>
    /// Where Auto reads the run-queue wait of the process from (<see cref="RunQueueWait.OfCurrentProcess"/> unless a
    /// test gives its own): tests decide contention from given numbers, never from the machine's load.
    /// </summary>
    internal Func<TimeSpan?> RunQueueWaitSource { get; set; } = RunQueueWait.OfCurrentProcess;
}
