namespace XnnKleidi.Cli.Bench;

/// <summary>
/// A layer built through XnnKleidi's public API: Linear.Create with the benchmark's own
/// (already quantized) weights, LinearOptions.ActivationPacking and an XnnThreadPool. The input
/// lives in a PaddedInputBuffer, so a call hands it to XNNPACK without the copy that
/// Linear.Run(ReadOnlySpan) makes: the steady state then measures the binding's per-call
/// cost, which is what the comparison with the C harness is for.
/// </summary>
internal sealed class ManagedLayer : IManagedLayer
{
    private readonly Linear linear;
    private readonly XnnThreadPool? threadPool;
    private readonly PaddedInputBuffer input;
    private readonly float[] output;
    private readonly int batch;

    private ManagedLayer(Linear linear, XnnThreadPool? threadPool, PaddedInputBuffer input, int batch, int outputChannels)
    {
        this.linear = linear;
        this.threadPool = threadPool;
        this.input = input;
        this.batch = batch;
        // On the pinned heap: the array never moves, so the layer never has to set up again.
        output = GC.AllocateArray<float>(batch * outputChannels, pinned: true);
    }

    public static IManagedLayer Create(BenchData data, ActivationPacking packing, int threads)
    {
        ArgumentNullException.ThrowIfNull(data);
        LinearWeights weights = data.CreateWeights();
        // One thread runs on the caller (no pool), as the C harness does.
        XnnThreadPool? threadPool = threads > 1 ? new XnnThreadPool(threads) : null;
        PaddedInputBuffer? input = null;
        try
        {
            var options = new LinearOptions
            {
                ActivationPacking = packing,
                ThreadPool = threadPool,
                // Auto decides on the shape being measured, not on its default of one row.
                AutoTuningBatch = data.M,
            };
            var linear = Linear.Create(data.K, data.N, weights, data.Bias, options: options);
            input = new PaddedInputBuffer(data.M * data.K);
            data.Input.CopyTo(input.Span);
            return new ManagedLayer(linear, threadPool, input, data.M, data.N);
        }
        catch
        {
            input?.Dispose();
            threadPool?.Dispose();
            throw;
        }
    }

    public IReadOnlyList<string> Operators => linear.OperatorNames;

    public ReadOnlySpan<float> Output => output;

    // What runs at this batch size: with per-batch Auto the layer may hold two variants.
    public bool PackingActive => linear.GetExecutionInfo(batch).IsActivationPackingActive;

    public string? FallbackReason => linear.GetExecutionInfo(batch).PackingFallbackReason;

    public string? Kernel => linear.GetExecutionInfo(batch) is { } info
        ? info.KleidiAIKernelName ?? info.Qd8KernelName ?? info.OperatorNames.LastOrDefault(name => name.StartsWith("Fully Connected", StringComparison.Ordinal))
        : null;

    public ArmKernelFamily? KernelFamily => linear.GetKernelFamily(batch);

    // The layer's own value, so that the C harness builds the runtime this Linear runs with.
    public uint RuntimeFlags => linear.NativeRuntimeFlags;

    public string? Note => linear.AutoTiming is { } timing
        ? FormattableString.Invariant(
            $"auto timed M={timing.Batch}: packed {timing.PackedTime.TotalMicroseconds:0.0} us, unpacked {timing.UnpackedTime.TotalMicroseconds:0.0} us -> {(timing.IsPackedFaster ? "packed" : "unpacked")}")
        : null;

    public void Run() => linear.Run(input, output, batch);

    public void Dispose()
    {
        linear.Dispose();
        input.Dispose();
        threadPool?.Dispose();
    }
}
