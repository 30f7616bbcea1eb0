using XnnKleidi.Internal;
using XnnKleidi.Interop;

namespace XnnKleidi;

/// <summary>
/// One fully connected layer, output = input · weightsᵀ + bias, clamped, on XNNPACK. Underneath it is a subgraph
/// fp32 input → convert to dynamically quantized int8 (packed for KleidiAI's QP8 kernels when that is requested
/// and possible) → fully connected → fp32 output; <see cref="WeightScheme.F32"/> weights skip the convert.
/// </summary>
/// <remarks>
/// <para>Thread safety: <see cref="Run(ReadOnlySpan{float}, Span{float}, int)"/> calls on one layer are
/// serialized by a lock (they wait, never race); layers that share an <see cref="XnnWorkspace"/> share that
/// lock. Different layers run in parallel.</para>
/// <para>Lifetime: <see cref="Dispose"/> waits for a running call, is idempotent, and makes later calls throw
/// <see cref="ObjectDisposedException"/>. Every native resource is a SafeHandle, so a layer that is never disposed
/// is freed by the finalizers.</para>
/// </remarks>
public sealed unsafe class Linear : IDisposable
{
    /// <summary>The flags of the runtime every layer runs with (see <see cref="RuntimeFactory.RuntimeFlags"/>).</summary>
    internal const uint RuntimeFlags = RuntimeFactory.RuntimeFlags;

    private const string OutputParameter = "output";

    private readonly Lock ownGate = new();
    private readonly XnnWorkspace? workspace;
    private readonly InputStaging staging;
    private readonly LayerVariant[] variants;
    private readonly BatchPlan plan;
    private readonly string? packingUnavailableReason;
    private LayerVariant? lastRun;
    private bool disposed;

    private Linear(LinearWeights weights, LinearOptions options, BuiltLayer built)
    {
        InputChannels = weights.InputChannels;
        OutputChannels = weights.OutputChannels;
        Scheme = weights.Scheme;
        ActivationPacking = options.ActivationPacking;
        workspace = options.Workspace;
        staging = new InputStaging(weights.InputChannels, weights.Scheme, options.RejectNonFiniteInput);
        variants = [.. built.Variants.Select(variant => new LayerVariant(
            new RunState(variant.Runtime, weights.InputChannels, options), variant.OperatorNames, variant.IsPacked, variant.PackedWeightBytes))];
        plan = built.Plan;
        packingUnavailableReason = built.PackingUnavailableReason;
        AutoTimings = [.. plan.Choices.Select(choice => choice.Timing)];
        LinearExecutionInfo primary = GetExecutionInfo(plan.Choices.Count == 0 ? 1 : plan.Choices[0].Batch);
        OperatorNames = primary.OperatorNames;
        IsActivationPackingActive = primary.IsActivationPackingActive;
        PackingFallbackReason = primary.PackingFallbackReason;
        AutoTiming = primary.Timing;
        IsProfilingEnabled = options.EnableProfiling;
        NativeRuntimeFlags = RuntimeFactory.FlagsFor(options);
    }

    /// <summary>K, the number of input channels (floats per input row).</summary>
    public int InputChannels { get; }

    /// <summary>N, the number of output channels (floats per output row).</summary>
    public int OutputChannels { get; }

    /// <summary>How the weights are stored.</summary>
    public WeightScheme Scheme { get; }

    /// <summary>The packing mode the layer was created with.</summary>
    public ActivationPacking ActivationPacking { get; }

    /// <summary>
    /// The operators XNNPACK runs, in order, as it names them, e.g. "Convert (NC, F32, QP8)", "Fully Connected (NC, QP8, F32, QC4W) GEMM",
    /// for the smallest tuned batch size (batch 1 by default, and every batch when the layer keeps one variant); see
    /// <see cref="GetExecutionInfo"/> for any other batch size.
    /// </summary>
    public IReadOnlyList<string> OperatorNames { get; }

    /// <summary>True when the activations are packed for KleidiAI, i.e. XNNPACK runs a QP8 operator, at the batch size <see cref="OperatorNames"/> describes.</summary>
    public bool IsActivationPackingActive { get; }

    /// <summary>
    /// Null unless packing was requested (<see cref="ActivationPacking.On"/> or <see cref="ActivationPacking.Auto"/>)
    /// and is not active at the batch size <see cref="OperatorNames"/> describes; then why, e.g. "KleidiAI is Arm-only; this
    /// is x86-64", "this CPU lacks dotprod and i8mm, …" or "Auto chose QD8 at batch 1: …".
    /// </summary>
    public string? PackingFallbackReason { get; }

    /// <summary>What <see cref="ActivationPacking.Auto"/> measured at the smallest tuned batch size; null when nothing was timed or looked up.</summary>
    public ActivationPackingTiming? AutoTiming { get; }

    /// <summary>What <see cref="ActivationPacking.Auto"/> measured (or read from its cache) at each tuned batch size, ascending; empty without Auto timings.</summary>
    public IReadOnlyList<ActivationPackingTiming> AutoTimings { get; }

    /// <summary>How many runtimes the layer keeps: 2 when Auto chose packing for some batch sizes and not for others, else 1.</summary>
    public int VariantCount => variants.Length;

    /// <summary>
    /// The bytes of packed weights the layer's runtimes hold together, as XNNPACK hands them to a weights cache. Each
    /// variant packs the weights its own way, so a layer that keeps two variants holds both (see
    /// <see cref="LinearOptions.AutoTuningSingleVariantBatch"/>). With a shared <see cref="XnnWeightsCache"/> the bytes are
    /// in the cache, and layers with identical weights share them.
    /// </summary>
    public long PackedWeightBytes => variants.Sum(variant => variant.PackedWeightBytes);

    /// <summary>How many times Run has reshaped the runtimes (for the tests: only a new batch size may cost one).</summary>
    internal int ReshapeCount => variants.Sum(variant => variant.State.ReshapeCount);

    private Lock Gate => workspace?.Gate ?? ownGate;

    /// <summary>Builds a layer from fp32 weights [outputChannels, inputChannels] row-major, quantized with <paramref name="scheme"/>.</summary>
    /// <param name="inputChannels">K, the number of input channels.</param>
    /// <param name="outputChannels">N, the number of output channels.</param>
    /// <param name="weights">fp32 weights, [outputChannels, inputChannels] row-major (PyTorch's nn.Linear layout).</param>
    /// <param name="scheme">How to quantize them (see <see cref="LinearWeights.Quantize"/>).</param>
    /// <param name="bias">N floats, or empty for no bias.</param>
    /// <param name="outputMin">Lower clamp of the output.</param>
    /// <param name="outputMax">Upper clamp of the output; must be greater than <paramref name="outputMin"/>.</param>
    /// <param name="options">Packing mode, thread pool, weights cache, workspace; null for the defaults.</param>
    /// <param name="blockSize">Input channels per scale for <see cref="WeightScheme.Qb4w"/>.</param>
    /// <exception cref="ArgumentException">An argument is invalid; <see cref="ArgumentException.ParamName"/> names it.</exception>
    public static Linear Create(
        int inputChannels,
        int outputChannels,
        ReadOnlySpan<float> weights,
        WeightScheme scheme,
        ReadOnlySpan<float> bias = default,
        float outputMin = float.NegativeInfinity,
        float outputMax = float.PositiveInfinity,
        LinearOptions? options = null,
        int blockSize = LinearWeights.DefaultBlockSize)
    {
        LinearWeights quantized = LinearWeights.Quantize(weights, outputChannels, inputChannels, scheme, blockSize);
        return Create(inputChannels, outputChannels, quantized, bias, outputMin, outputMax, options);
    }

    /// <summary>Builds a layer.</summary>
    /// <param name="inputChannels">K; must match <paramref name="weights"/>.</param>
    /// <param name="outputChannels">N; must match <paramref name="weights"/>.</param>
    /// <param name="weights">The weights.</param>
    /// <param name="bias">N floats, or empty for no bias.</param>
    /// <param name="outputMin">Lower clamp of the output.</param>
    /// <param name="outputMax">Upper clamp of the output; must be greater than <paramref name="outputMin"/>.</param>
    /// <param name="options">Packing mode, thread pool, weights cache, workspace; null for the defaults.</param>
    /// <exception cref="ArgumentException">An argument is invalid; <see cref="ArgumentException.ParamName"/> names it.</exception>
    /// <exception cref="ArgumentOutOfRangeException">K exceeds <see cref="GetMaxInputChannels"/> for the scheme.</exception>
    /// <exception cref="ObjectDisposedException">The thread pool, weights cache or workspace in <paramref name="options"/> was disposed.</exception>
    /// <exception cref="InvalidOperationException">The weights cache is finalized and does not hold these weights.</exception>
    /// <exception cref="PlatformNotSupportedException">XNNPACK does not support this CPU.</exception>
    /// <exception cref="DllNotFoundException">libxnnkleidi could not be loaded.</exception>
    public static Linear Create(
        int inputChannels,
        int outputChannels,
        LinearWeights weights,
        ReadOnlySpan<float> bias = default,
        float outputMin = float.NegativeInfinity,
        float outputMax = float.PositiveInfinity,
        LinearOptions? options = null)
    {
        options ??= new LinearOptions();
        LinearArguments.ValidateCreate(inputChannels, outputChannels, weights, bias, outputMin, outputMax, options);
        XnnLibrary.EnsureInitialized();
        return new Linear(weights, options, LayerBuilder.Build(weights, bias, outputMin, outputMax, options));
    }

    /// <summary>
    /// The largest K (input channels) a layer with <paramref name="scheme"/> weights accepts: 66,311 for
    /// <see cref="WeightScheme.Qc8w"/> and 65,793 for <see cref="WeightScheme.Qc4w"/>, where the kernels sum a whole row
    /// of int8 products in int32 (⌊(2³¹ − 1) / (255 · 127)⌋ and ⌊(2³¹ − 1) / (255 · 128)⌋: an activation spans 255
    /// quantization steps, a weight at most 127, or 128 as the 16·w the 4-bit kernels multiply with);
    /// <see cref="int.MaxValue"/> for <see cref="WeightScheme.Qb4w"/>, which converts every block's sum to fp32 (its
    /// block size is bounded instead), and for <see cref="WeightScheme.F32"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="scheme"/> is not a defined value.</exception>
    public static int GetMaxInputChannels(WeightScheme scheme) => scheme switch
    {
        WeightScheme.Qc8w => Int32Accumulator.Qc8wMaxInputChannels,
        WeightScheme.Qc4w => Int32Accumulator.Qc4wMaxInputChannels,
        WeightScheme.Qb4w or WeightScheme.F32 => int.MaxValue,
        _ => throw new ArgumentOutOfRangeException(nameof(scheme), scheme, "Unknown weight scheme."),
    };

    /// <summary>
    /// Computes <paramref name="batch"/> rows: output[m, n] = clamp(Σₖ input[m, k] · w[n, k] + bias[n]).
    /// The input is copied into the layer's own buffer, which is padded for XNNPACK's over-read; use
    /// <see cref="Run(PaddedInputBuffer, Span{float}, int)"/> to skip the copy.
    /// </summary>
    /// <param name="input">Exactly batch × <see cref="InputChannels"/> floats, row-major.</param>
    /// <param name="output">Exactly batch × <see cref="OutputChannels"/> floats, row-major.</param>
    /// <param name="batch">M, the number of rows; may change between calls (the layer reshapes only when it does).</param>
    /// <exception cref="ArgumentException">A length does not match the batch, the batch is negative, or (unless
    /// <see cref="LinearOptions.RejectNonFiniteInput"/> is off) the input holds NaN or ±Inf; the message names its row and
    /// column. The check is fused with the copy and costs no extra pass over the input.</exception>
    /// <exception cref="ObjectDisposedException">The layer was disposed.</exception>
    public void Run(ReadOnlySpan<float> input, Span<float> output, int batch)
    {
        LinearArguments.ValidateRun(input.Length, exactInput: true, output.Length, batch, InputChannels, OutputChannels);
        lock (Gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (batch == 0)
            {
                return;
            }

            void* padded = staging.CopyInput(input);
            RunState state = Select(batch);
            state.PrepareBatch(batch);
            fixed (float* outputPointer = output)
            {
                state.Execute(padded, outputPointer);
            }
        }
    }

    /// <summary>
    /// Like <see cref="Run(ReadOnlySpan{float}, Span{float}, int)"/>, without copying the input: the first
    /// batch × <see cref="InputChannels"/> floats of <paramref name="input"/> go to XNNPACK as they are.
    /// </summary>
    /// <param name="input">At least batch × <see cref="InputChannels"/> floats.</param>
    /// <param name="output">Exactly batch × <see cref="OutputChannels"/> floats.</param>
    /// <param name="batch">M, the number of rows.</param>
    /// <exception cref="ArgumentException">A length does not fit the batch, the batch is negative, the output overlaps the
    /// input, or (unless <see cref="LinearOptions.RejectNonFiniteInput"/> is off) the first
    /// batch × <see cref="InputChannels"/> floats hold NaN or ±Inf; the message names its row and column. Without a copy
    /// to fuse it with, the check is one extra read of the input.</exception>
    /// <exception cref="ObjectDisposedException">The layer or the input buffer was disposed.</exception>
    public void Run(PaddedInputBuffer input, Span<float> output, int batch)
    {
        ArgumentNullException.ThrowIfNull(input);
        LinearArguments.ValidateRun(input.Length, exactInput: false, output.Length, batch, InputChannels, OutputChannels);
        NativeBuffer buffer = input.Buffer;
        bool added = false;
        try
        {
            // Keeps the input alive even if another thread disposes it during the call.
            buffer.DangerousAddRef(ref added);
            lock (Gate)
            {
                ObjectDisposedException.ThrowIf(disposed, this);
                if (batch == 0)
                {
                    return;
                }

                fixed (float* outputPointer = output)
                {
                    // XNNPACK reads the input while it writes the output (the fp32 GEMM does so directly), so
                    // they must not share memory; the span overload copies the input and has no such limit.
                    byte* inputStart = (byte*)buffer.Pointer;
                    byte* inputEnd = inputStart + ((nuint)batch * (nuint)InputChannels * sizeof(float));
                    if ((byte*)outputPointer < inputEnd && (byte*)(outputPointer + output.Length) > inputStart)
                    {
                        throw new ArgumentException(
                            "The output overlaps the input buffer; write it elsewhere or use Run(ReadOnlySpan<float>, …), which copies the input.",
                            OutputParameter);
                    }

                    staging.CheckInput((float*)buffer.Pointer, batch * InputChannels);
                    RunState state = Select(batch);
                    state.PrepareBatch(batch);
                    state.Execute(buffer.Pointer, outputPointer);
                }
            }
        }
        finally
        {
            if (added)
            {
                buffer.DangerousRelease();
            }
        }
    }

    /// <summary>True when the layer was created with <see cref="LinearOptions.EnableProfiling"/>.</summary>
    public bool IsProfilingEnabled { get; }

    /// <summary>
    /// The <c>flags</c> this layer's XNNPACK runtime was created with (<c>xnn_create_runtime_v4</c>):
    /// <see cref="XnnKleidiLibrary.RuntimeFlags"/>, plus XNN_FLAG_BASIC_PROFILING with <see cref="LinearOptions.EnableProfiling"/>.
    /// A C program that builds the same graph for comparison must use this value, or it measures a different runtime.
    /// </summary>
    public uint NativeRuntimeFlags { get; }

    /// <summary>
    /// Where the time of the last <c>Run</c> went: each operator's time as XNNPACK measured it (the convert, QD8 or QP8,
    /// then the GEMM) and the whole native call. Only for layers created with <see cref="LinearOptions.EnableProfiling"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">Profiling is off, or the layer has not run a non-empty batch yet.</exception>
    /// <exception cref="ObjectDisposedException">The layer was disposed.</exception>
    public OperatorProfile GetLastRunProfile()
    {
        lock (Gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            LayerVariant variant = lastRun ?? variants[0];
            return variant.State.ReadProfile(variant.OperatorNames);
        }
    }

    /// <summary>
    /// What runs for <paramref name="batch"/> rows, and why: the variant (packed or not), its operators, kernel family and
    /// KleidiAI kernel, the tuned batch size whose decision governs it and the timing behind that decision, and the bytes
    /// of packed weights the variant holds.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is less than 1.</exception>
    public LinearExecutionInfo GetExecutionInfo(int batch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        LayerVariant variant = variants[plan.VariantFor(batch)];
        BatchChoice? choice = plan.ChoiceFor(batch);
        string? fallback = variant.IsPacked || ActivationPacking == ActivationPacking.Off
            ? null
            : packingUnavailableReason ?? choice?.Reason;
        // Each name is asked of the native library once; the family is read from the same names.
        string? kleidiAIKernel = variant.IsPacked ? ActivationPackingSupport.GetKleidiAIKernelName(Scheme, batch) : null;
        string? qd8Kernel = variant.IsPacked ? null : ActivationPackingSupport.GetQd8KernelName(Scheme, batch);
        return new LinearExecutionInfo(
            batch,
            variant.IsPacked,
            variant.OperatorNames,
            KernelFamilyFor(variant, kleidiAIKernel, qd8Kernel),
            kleidiAIKernel,
            qd8Kernel,
            fallback,
            choice?.Reason,
            choice?.Batch,
            choice?.Timing,
            variant.PackedWeightBytes);
    }

    /// <summary>The KleidiAI kernel this layer runs for <paramref name="batch"/> rows, or null when its activations are not packed at that batch size.</summary>
    public string? GetKleidiAIKernelName(int batch) => GetExecutionInfo(batch).KleidiAIKernelName;

    /// <summary>
    /// The Arm kernel family this layer runs for <paramref name="batch"/> rows, or null on other architectures. With
    /// packed activations it is read from the KleidiAI kernel's name (<c>_sme2_</c>, <c>_sme_</c>, <c>_neon_i8mm</c>,
    /// <c>_neon_dotprod</c>; the i8mm configurations run a dotprod kernel for one row). Unpacked (QD8), it is read
    /// from the XNNPACK microkernel's name (<c>__neoni8mm</c>, <c>__neondot</c>, else NEON; see
    /// <see cref="ActivationPackingSupport.GetQd8KernelName"/>); for <see cref="WeightScheme.F32"/>, SME2 where XNNPACK
    /// packs the input for KleidiAI's SME2 GEMM, else NEON.
    /// </summary>
    public ArmKernelFamily? GetKernelFamily(int batch) => GetExecutionInfo(batch).KernelFamily;

    private ArmKernelFamily? KernelFamilyFor(LayerVariant variant, string? kleidiAIKernel, string? qd8Kernel)
    {
        if (System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture != System.Runtime.InteropServices.Architecture.Arm64)
        {
            return null;
        }

        if (kleidiAIKernel != null)
        {
            return KernelFamilyOf(kleidiAIKernel);
        }

        if (Scheme == WeightScheme.F32)
        {
            return variant.OperatorNames.Contains("Pack LH (X32)") ? ArmKernelFamily.Sme2 : ArmKernelFamily.Neon;
        }

        // The QD8 microkernel's own name says its family (its ISA suffix after "__").
        if (qd8Kernel != null)
        {
            string isa = qd8Kernel[(qd8Kernel.LastIndexOf("__", StringComparison.Ordinal) + 2)..];
            return isa.Contains("i8mm", StringComparison.Ordinal) ? ArmKernelFamily.I8mm
                : isa.Contains("dot", StringComparison.Ordinal) ? ArmKernelFamily.Dotprod
                : ArmKernelFamily.Neon;
        }

        CpuFeatures features = XnnKleidiLibrary.CpuFeatures;
        return features.HasFlag(CpuFeatures.ArmI8mm) ? ArmKernelFamily.I8mm
            : features.HasFlag(CpuFeatures.ArmDotprod) ? ArmKernelFamily.Dotprod
            : ArmKernelFamily.Neon;
    }

    /// <summary>The family of a KleidiAI kernel, from the suffix KleidiAI names its kernels with.</summary>
    internal static ArmKernelFamily? KernelFamilyOf(string kernelName) =>
        kernelName.Contains("_sme2_", StringComparison.Ordinal) ? ArmKernelFamily.Sme2
        : kernelName.Contains("_sme_", StringComparison.Ordinal) ? ArmKernelFamily.Sme
        : kernelName.EndsWith("_neon_i8mm", StringComparison.Ordinal) ? ArmKernelFamily.I8mm
        : kernelName.EndsWith("_neon_dotprod", StringComparison.Ordinal) ? ArmKernelFamily.Dotprod
        : null;

    /// <summary>Frees the native runtime and buffers; waits for a running call. Calling it again does nothing.</summary>
    public void Dispose()
    {
        lock (Gate)
        {
            if (disposed)
            {
                return;
            }

            disposed = true;
            foreach (LayerVariant variant in variants)
            {
                variant.Dispose();
            }

            staging.Dispose();
        }
    }

    /// <summary>The run state of the variant that runs <paramref name="batch"/> rows; called under the lock.</summary>
    private RunState Select(int batch)
    {
        lastRun = variants[plan.VariantFor(batch)];
        return lastRun.State;
    }

    /// <summary>"Convert (NC, F32, QP8) → Fully Connected (NC, QP8, F32, QC4W) GEMM" and, if any, why not packed; with two variants, the batch sizes each runs from.</summary>
    public override string ToString()
    {
        string head = $"Linear [{OutputChannels}, {InputChannels}] {Scheme}: ";
        if (variants.Length == 1)
        {
            return head + string.Join(" → ", OperatorNames) + (PackingFallbackReason is null ? string.Empty : $" (not packed: {PackingFallbackReason})");
        }

        return head + string.Join("; ", plan.Choices.Select(choice => $"from batch {choice.Batch}: {PackingDecisions.VariantName(choice.UsePacked)}"));
    }
}
