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
    private readonly Linear _linear;
    private readonly XnnThreadPool? _threadPool;
    private readonly PaddedInputBuffer _input;
    private readonly float[] _output;
    private readonly int _batch;

    private ManagedLayer(Linear linear, XnnThreadPool? threadPool, PaddedInputBuffer input, int batch, int outputChannels)
    {
        _linear = linear;
        _threadPool = threadPool;
        _input = input;
        _batch = batch;
        // On the pinned heap: the array never moves, so the layer never has to set up again.
        _output = GC.AllocateArray<float>(batch * outputChannels, pinned: true);
    }

    public static IManagedLayer Create(BenchData data, ActivationPacking packing, int threads)
    {
        ArgumentNullException.ThrowIfNull(data);
        LinearWeights weights = data.CreateWeights();
        // One thread runs on the caller (no pool), as the C harness does.
        var threadPool = threads > 1 ? new XnnThreadPool(threads) : null;
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

    public IReadOnlyList<string> Operators => _linear.OperatorNames;

    public ReadOnlySpan<float> Output => _output;

    public bool PackingActive => _linear.ActivationPackingActive;

    public string? FallbackReason => _linear.PackingFallbackReason;

    public string? Kernel => _linear.GetKleidiAIKernelName(_batch)
        ?? _linear.OperatorNames.LastOrDefault(name => name.StartsWith("Fully Connected", StringComparison.Ordinal));

    // The library's own value, so that the C harness builds the runtime every Linear runs with.
    public uint RuntimeFlags => XnnKleidiLibrary.RuntimeFlags;

    public string? Note => _linear.AutoTiming is { } timing
        ? FormattableString.Invariant(
            $"auto timed M={timing.Batch}: packed {timing.PackedTime.TotalMicroseconds:0.0} us, unpacked {timing.UnpackedTime.TotalMicroseconds:0.0} us -> {(timing.PackedIsFaster ? "packed" : "unpacked")}")
        : null;

    public void Run() => _linear.Run(_input, _output, _batch);

    public void Dispose()
    {
        _linear.Dispose();
        _input.Dispose();
        _threadPool?.Dispose();
    }
}
