using System.Diagnostics;
using System.Runtime.InteropServices;
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
    private const uint InputId = 0;
    private const uint OutputId = 1;
    private const string InputParameter = "input";
    private const string OutputParameter = "output";

    /// <summary>
    /// The flags of the runtime that runs: none. In particular not XNN_FLAG_BASIC_PROFILING, which costs a timer
    /// read around every operator of every run; the operator names come from a short-lived twin (see GraphBuilder).
    /// </summary>
    internal const uint RuntimeFlags = 0;

    private readonly Lock ownGate = new();
    private readonly XnnWorkspace? workspace;
    private readonly XnnWeightsCache? weightsCache;
    private readonly RuntimeHandle runtime;
    private readonly bool rejectNonFiniteInput;
    private NativeBuffer? inputBuffer;
    private int reshapedBatch = -1;
    private void* setupInput;
    private void* setupOutput;
    private int setupGeneration;
    private bool disposed;

    private Linear(
        LinearWeights weights,
        LinearOptions options,
        RuntimeHandle runtime,
        IReadOnlyList<string> operatorNames,
        string? packingFallbackReason,
        ActivationPackingTiming? timing)
    {
        InputChannels = weights.InputChannels;
        OutputChannels = weights.OutputChannels;
        Scheme = weights.Scheme;
        ActivationPacking = options.ActivationPacking;
        workspace = options.Workspace;
        weightsCache = options.WeightsCache;
        this.runtime = runtime;
        rejectNonFiniteInput = options.RejectNonFiniteInput;
        OperatorNames = operatorNames;
        ActivationPackingActive = operatorNames.Any(name => name.Contains("QP8", StringComparison.Ordinal));
        PackingFallbackReason = packingFallbackReason;
        AutoTiming = timing;
    }

    /// <summary>K, the number of input channels (floats per input row).</summary>
    public int InputChannels { get; }

    /// <summary>N, the number of output channels (floats per output row).</summary>
    public int OutputChannels { get; }

    /// <summary>How the weights are stored.</summary>
    public WeightScheme Scheme { get; }

    /// <summary>The packing mode the layer was created with.</summary>
    public ActivationPacking ActivationPacking { get; }

    /// <summary>The operators XNNPACK runs, in order, as it names them, e.g. "Convert (NC, F32, QP8)", "Fully Connected (NC, QP8, F32, QC4W) GEMM".</summary>
    public IReadOnlyList<string> OperatorNames { get; }

    /// <summary>True when the activations are packed for KleidiAI, i.e. XNNPACK runs a QP8 operator.</summary>
    public bool ActivationPackingActive { get; }

    /// <summary>
    /// Null unless packing was requested (<see cref="ActivationPacking.On"/> or <see cref="ActivationPacking.Auto"/>)
    /// and is not active; then why, e.g. "KleidiAI is Arm-only; this is x86-64" or "this CPU lacks dotprod and i8mm, …".
    /// </summary>
    public string? PackingFallbackReason { get; }

    /// <summary>What <see cref="ActivationPacking.Auto"/> measured; null when nothing was timed.</summary>
    public ActivationPackingTiming? AutoTiming { get; }

    /// <summary>How many times Run has reshaped the runtime (for the tests: only a new batch size may cost one).</summary>
    internal int ReshapeCount { get; private set; }

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
        ArgumentOutOfRangeException.ThrowIfLessThan(inputChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputChannels, 1);
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.InputChannels != inputChannels || weights.OutputChannels != outputChannels)
        {
            throw new ArgumentException(
                $"The weights are [{weights.OutputChannels}, {weights.InputChannels}]; the layer is [{outputChannels}, {inputChannels}] ([outputChannels, inputChannels]).",
                nameof(weights));
        }

        int maxInputChannels = GetMaxInputChannels(weights.Scheme);
        if (inputChannels > maxInputChannels)
        {
            throw new ArgumentOutOfRangeException(
                nameof(inputChannels),
                inputChannels,
                $"A {ActivationPackingSupport.Name(weights.Scheme)} layer takes at most {maxInputChannels} input channels: XNNPACK and KleidiAI sum the " +
                $"int8 products of a row in int32, and with {inputChannels} channels some inputs overflow it and give wrong results without any error. " +
                "Split the layer along K into several layers and add their outputs.");
        }

        if (!bias.IsEmpty)
        {
            if (bias.Length != outputChannels)
            {
                throw new ArgumentException($"Expected {outputChannels} bias values (one per output channel) or none, got {bias.Length}.", nameof(bias));
            }

            for (int i = 0; i < bias.Length; i++)
            {
                if (!float.IsFinite(bias[i]))
                {
                    throw new ArgumentException($"Bias {i} is {bias[i]}; the bias must be finite.", nameof(bias));
                }
            }
        }

        if (float.IsNaN(outputMin))
        {
            throw new ArgumentException("The lower output clamp is NaN.", nameof(outputMin));
        }

        if (float.IsNaN(outputMax))
        {
            throw new ArgumentException("The upper output clamp is NaN.", nameof(outputMax));
        }

        if (!(outputMin < outputMax))
        {
            throw new ArgumentException($"The output clamp [{outputMin}, {outputMax}] is empty; outputMin must be less than outputMax.", nameof(outputMin));
        }

        options ??= new LinearOptions();
        if (!Enum.IsDefined(options.ActivationPacking))
        {
            throw new ArgumentException($"Unknown activation packing mode {(int)options.ActivationPacking}.", nameof(options));
        }

        if (options.ActivationPacking == ActivationPacking.Auto && (long)options.AutoTuningBatch * Math.Max(inputChannels, outputChannels) > Array.MaxLength)
        {
            throw new ArgumentException(
                $"Auto would time a batch of {options.AutoTuningBatch} rows of {Math.Max(inputChannels, outputChannels)} floats, more than one buffer holds; lower AutoTuningBatch.",
                nameof(options));
        }

        // Touch every shared object now, so a disposed one fails before anything native is built.
        _ = options.ThreadPool?.Handle;
        _ = options.WeightsCache?.Handle;
        _ = options.Workspace?.Handle;
        if (options.WeightsCache is { IsFinalized: true })
        {
            throw new InvalidOperationException(
                "The shared weights cache was finalized when a layer using it first ran, and XNNPACK cannot add weights to a finalized cache. " +
                "Create every layer that shares a weights cache before running any of them, or use another cache.");
        }

        XnnLibrary.EnsureInitialized();
        var builder = new GraphBuilder(weights, bias, outputMin, outputMax, options);
        try
        {
            return builder.Build();
        }
        finally
        {
            builder.DisposeUnclaimed();
        }
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
        ValidateRun(input.Length, exactInput: true, output.Length, batch);
        lock (Gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (batch == 0)
            {
                return;
            }

            void* padded = PaddedCopy(input);
            PrepareBatch(batch);
            fixed (float* outputPointer = output)
            {
                Execute(padded, outputPointer);
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
        ValidateRun(input.Length, exactInput: false, output.Length, batch);
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
                        throw LengthError("The output overlaps the input buffer; write it elsewhere or use Run(ReadOnlySpan<float>, …), which copies the input.", OutputParameter);
                    }

                    if (rejectNonFiniteInput)
                    {
                        int bad = FiniteInput.FindNonFinite(new ReadOnlySpan<float>(buffer.Pointer, batch * InputChannels));
                        if (bad >= 0)
                        {
                            throw NonFiniteInputError(bad, ((float*)buffer.Pointer)[bad], InputParameter);
                        }
                    }

                    PrepareBatch(batch);
                    Execute(buffer.Pointer, outputPointer);
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

    /// <summary>The KleidiAI kernel this layer runs for <paramref name="batch"/> rows, or null when its activations are not packed.</summary>
    public string? GetKleidiAIKernelName(int batch) =>
        ActivationPackingActive ? ActivationPackingSupport.GetKleidiAIKernelName(Scheme, batch) : null;

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
            runtime.Dispose();
            inputBuffer?.Dispose();
        }
    }

    /// <summary>"Convert (NC, F32, QP8) → Fully Connected (NC, QP8, F32, QC4W) GEMM" and, if any, why not packed.</summary>
    public override string ToString() =>
        $"Linear [{OutputChannels}, {InputChannels}] {Scheme}: {string.Join(" → ", OperatorNames)}" +
        (PackingFallbackReason is null ? string.Empty : $" (not packed: {PackingFallbackReason})");

    private void ValidateRun(int inputLength, bool exactInput, int outputLength, int batch)
    {
        const string InputName = "input", OutputName = "output";
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        long inputNeeded = (long)batch * InputChannels;
        long outputNeeded = (long)batch * OutputChannels;
        if (exactInput ? inputLength != inputNeeded : inputLength < inputNeeded)
        {
            throw LengthError(
                $"The input has {inputLength} floats; batch {batch} × {InputChannels} input channels needs {(exactInput ? "exactly " : "at least ")}{inputNeeded}.",
                InputName);
        }

        if (outputLength != outputNeeded)
        {
            throw LengthError(
                $"The output has {outputLength} floats; batch {batch} × {OutputChannels} output channels needs exactly {outputNeeded}.",
                OutputName);
        }
    }

    private static ArgumentException LengthError(string message, string parameterName) => new(message, parameterName);

    /// <summary>
    /// Copies the input into the layer's own buffer, which carries XNN_EXTRA_BYTES of padding because XNNPACK
    /// reads up to that much past the end of an input array. The buffer only grows (a native allocation) when a
    /// batch larger than any before arrives; the steady state allocates nothing.
    /// </summary>
    private void* PaddedCopy(ReadOnlySpan<float> input)
    {
        nuint needed = ((nuint)input.Length * sizeof(float)) + NativeMethods.XNN_EXTRA_BYTES;
        if (inputBuffer is null || inputBuffer.ByteLength < needed)
        {
            inputBuffer?.Dispose();
            inputBuffer = null;
            inputBuffer = NativeBuffer.Allocate(needed);
        }

        if (rejectNonFiniteInput)
        {
            int bad = FiniteInput.CopyAndFindNonFinite(input, (float*)inputBuffer.Pointer);
            if (bad >= 0)
            {
                throw NonFiniteInputError(bad, input[bad], InputParameter);
            }
        }
        else
        {
            input.CopyTo(new Span<float>(inputBuffer.Pointer, input.Length));
        }

        return inputBuffer.Pointer;
    }

    private ArgumentException NonFiniteInputError(int index, float value, string parameterName) => new(
        $"The input holds {value} at row {index / InputChannels}, column {index % InputChannels}. " +
        (Scheme == WeightScheme.F32
            ? "XNNPACK's fp32 output clamp turns a NaN into +Inf on x86-64, so the result would depend on the CPU. "
            : $"A {ActivationPackingSupport.Name(Scheme)} layer quantizes each input row onto int8 through the row's range, which a NaN or " +
              "infinite value makes meaningless: XNNPACK would return finite numbers that depend on the CPU. ") +
        "Replace the value, or set LinearOptions.RejectNonFiniteInput = false to run such rows anyway.",
        parameterName);

    /// <summary>Reshapes the runtime when the batch changes, and only then.</summary>
    private void PrepareBatch(int batch)
    {
        if (batch == reshapedBatch)
        {
            return;
        }

        // Forget the old shape first: if reshaping fails, the next call tries again.
        reshapedBatch = -1;
        setupInput = null;
        Reshape(runtime, batch, InputChannels);
        reshapedBatch = batch;
        ReshapeCount++;
        if (workspace is not null)
        {
            workspace.Generation++;
        }
    }

    private void Execute(void* input, float* output)
    {
        weightsCache?.EnsureFinalized();
        int generation = workspace?.Generation ?? 0;
        // Setting up again only when a pointer moved (or a shared workspace moved) keeps the steady state at one native call.
        if (input != setupInput || output != setupOutput || generation != setupGeneration)
        {
            Setup(runtime, input, output);
            setupInput = input;
            setupOutput = output;
            setupGeneration = generation;
        }

        Ensure.Success(NativeMethods.xnn_invoke_runtime(runtime.Runtime), "xnn_invoke_runtime");
    }

    private static void Reshape(RuntimeHandle runtime, int batch, int inputChannels)
    {
        nuint* dims = stackalloc nuint[2];
        dims[0] = (nuint)batch;
        dims[1] = (nuint)inputChannels;
        Ensure.Success(
            NativeMethods.xnn_reshape_external_value(runtime.Runtime, InputId, 2, dims), "xnn_reshape_external_value");
        Ensure.Success(NativeMethods.xnn_reshape_runtime(runtime.Runtime), "xnn_reshape_runtime");
    }

    private static void Setup(RuntimeHandle runtime, void* input, void* output)
    {
        xnn_external_value* externals = stackalloc xnn_external_value[2];
        externals[0].id = InputId;
        externals[0].data = input;
        externals[1].id = OutputId;
        externals[1].data = output;
        Ensure.Success(NativeMethods.xnn_setup_runtime_v2(runtime.Runtime, 2, externals), "xnn_setup_runtime_v2");
    }

    /// <summary>Names of the operators of a runtime created with XNN_FLAG_BASIC_PROFILING (NUL-separated, as many as num_operators says).</summary>
    private static string[] ReadOperatorNames(xnn_runtime* runtime)
    {
        nuint count = 0;
        nuint required = 0;
        Ensure.Success(
            NativeMethods.xnn_get_runtime_profiling_info(runtime, xnn_profile_info.xnn_profile_info_num_operators, (nuint)sizeof(nuint), &count, &required),
            "xnn_get_runtime_profiling_info(num_operators)");
        byte[] names = new byte[1024];
        while (true)
        {
            fixed (byte* buffer = names)
            {
                xnn_status status = NativeMethods.xnn_get_runtime_profiling_info(
                    runtime, xnn_profile_info.xnn_profile_info_operator_name, (nuint)names.Length, buffer, &required);
                // param_value_size_ret is only written when the buffer is too small.
                if (status == xnn_status.xnn_status_out_of_memory && required > (nuint)names.Length)
                {
                    names = new byte[(int)required];
                    continue;
                }

                Ensure.Success(status, "xnn_get_runtime_profiling_info(operator_name)");
            }

            break;
        }

        var result = new string[(int)count];
        int offset = 0;
        for (int i = 0; i < result.Length; i++)
        {
            int end = Array.IndexOf(names, (byte)0, offset);
            result[i] = System.Text.Encoding.UTF8.GetString(names, offset, end - offset);
            offset = end + 1;
        }

        return result;
    }

    /// <summary>
    /// Copies the weights into native memory, builds one runtime per variant that is needed, times them for
    /// <see cref="ActivationPacking.Auto"/>, and hands the survivors to the new layer. Everything it allocated and
    /// did not hand over is freed by <see cref="DisposeUnclaimed"/>.
    /// </summary>
    private sealed class GraphBuilder
    {
        private readonly LinearWeights weights;
        private readonly LinearOptions options;
        private readonly float outputMin;
        private readonly float outputMax;
        private readonly List<NativeBuffer> buffers = [];
        private readonly List<RuntimeHandle> runtimes = [];
        private readonly NativeBuffer weightData;
        private readonly NativeBuffer? scaleData;
        private readonly NativeBuffer? biasData;
        private RuntimeHandle? keptRuntime;

        public GraphBuilder(LinearWeights weights, ReadOnlySpan<float> bias, float outputMin, float outputMax, LinearOptions options)
        {
            this.weights = weights;
            this.options = options;
            this.outputMin = outputMin;
            this.outputMax = outputMax;
            weightData = Keep(weights.Scheme switch
            {
                WeightScheme.F32 => NativeBuffer.CopyOf<float>(weights.RawFloat32),
                WeightScheme.Qc8w => NativeBuffer.CopyOf<sbyte>(weights.RawInt8),
                _ => NativeBuffer.CopyOf<byte>(weights.RawInt4),
            });
            scaleData = weights.Scheme switch
            {
                WeightScheme.Qc8w or WeightScheme.Qc4w => Keep(NativeBuffer.CopyOf<float>(weights.RawChannelScales)),
                WeightScheme.Qb4w => Keep(NativeBuffer.CopyOf<ushort>(weights.RawBlockScales)),
                _ => null,
            };
            biasData = bias.IsEmpty ? null : Keep(NativeBuffer.CopyOf(bias));
        }

        public Linear Build()
        {
            WeightScheme scheme = weights.Scheme;
            ActivationPacking mode = options.ActivationPacking;
            string? unavailable = mode == ActivationPacking.Off ? null : ActivationPackingSupport.GetUnavailableReason(scheme);
            // Only ever pass the flag libxnnkleidi hands out for these weights: a flag for another weight type
            // once crashed XNNPACK (FACTS.md), and 0 is always safe.
            uint flag = mode == ActivationPacking.Off || unavailable is not null ? 0u : ActivationPackingSupport.PackFlag(scheme);

            RuntimeHandle kept;
            uint keptFlag = flag;
            ActivationPackingTiming? timing = null;
            string? reason = unavailable;
            if (flag == 0)
            {
                kept = CreateRuntime(0, shared: true);
            }
            else if (mode == ActivationPacking.On)
            {
                kept = CreateRuntime(flag, shared: true);
            }
            else
            {
                // Auto: a weights cache must be finalized before anything runs, and a shared workspace may be busy,
                // so time private runtimes and build the winner again with the shared objects if there are any.
                bool hasShared = options.WeightsCache is not null || options.Workspace is not null;
                RuntimeHandle packed = CreateRuntime(flag, shared: !hasShared);
                RuntimeHandle unpacked = CreateRuntime(0, shared: !hasShared);
                timing = TimeVariants(packed, unpacked);
                RuntimeHandle winner = timing.PackedIsFaster ? packed : unpacked;
                (timing.PackedIsFaster ? unpacked : packed).Dispose();
                if (hasShared)
                {
                    winner.Dispose();
                    winner = CreateRuntime(timing.PackedIsFaster ? flag : 0, shared: true);
                }

                kept = winner;
                keptFlag = timing.PackedIsFaster ? flag : 0;
                if (!timing.PackedIsFaster)
                {
                    reason = $"Auto chose QD8: it ran {Format(timing.UnpackedTime)} per call against {Format(timing.PackedTime)} for QP8 at batch {timing.Batch}";
                }
            }

            string[] names = ReadOperatorNames(keptFlag);
            bool packedNames = names.Any(name => name.Contains("QP8", StringComparison.Ordinal));
            if (flag != 0 && reason is null && !packedNames)
            {
                reason = $"XNNPACK did not pack the activations although libxnnkleidi's flag 0x{flag:X} was set; it runs {string.Join(", ", names)}";
            }

            var linear = new Linear(weights, options, kept, names, reason, timing);
            keptRuntime = kept;
            return linear;
        }

        /// <summary>
        /// Frees every runtime but the one handed to the layer, and the native copies of weights, scales and bias:
        /// XNNPACK packs static weights when it creates the runtime and never reads the originals again. They
        /// are overwritten with 0xFF first (NaN as fp32), so that a late read would show as wrong output in the
        /// tests instead of passing unnoticed on freed memory that still holds the right values.
        /// </summary>
        public void DisposeUnclaimed()
        {
            foreach (RuntimeHandle runtime in runtimes)
            {
                if (!ReferenceEquals(runtime, keptRuntime))
                {
                    runtime.Dispose();
                }
            }

            foreach (NativeBuffer buffer in buffers)
            {
                buffer.Poison();
                buffer.Dispose();
            }
        }

        private static string Format(TimeSpan time) => $"{time.TotalMicroseconds:0.#} µs";

        private NativeBuffer Keep(NativeBuffer buffer)
        {
            buffers.Add(buffer);
            return buffer;
        }

        private RuntimeHandle CreateRuntime(uint convertFlags, bool shared)
        {
            xnn_subgraph* subgraph;
            Ensure.Success(NativeMethods.xnn_create_subgraph(2, 0, &subgraph), "xnn_create_subgraph");
            try
            {
                DefineGraph(subgraph, convertFlags);
                return Instantiate(subgraph, shared);
            }
            finally
            {
                NativeMethods.xnn_delete_subgraph(subgraph);
            }
        }

        /// <summary>
        /// The operator names of the graph built with <paramref name="convertFlags"/>. XNNPACK names its operators
        /// only in a runtime created with XNN_FLAG_BASIC_PROFILING, which then reads a timer around every operator
        /// of every run (about 60 ns a call on x86-64: a third of a 1×64×16 layer, 1 % of 1×768×768). So the layer
        /// runs without it, and the names come from a twin runtime of the same graph (same CPU, same flags, so the
        /// same operators and kernels) that is deleted at once. The cost is packing the weights twice at creation.
        /// </summary>
        private string[] ReadOperatorNames(uint convertFlags)
        {
            xnn_subgraph* subgraph;
            Ensure.Success(NativeMethods.xnn_create_subgraph(2, 0, &subgraph), "xnn_create_subgraph");
            xnn_runtime* twin = null;
            try
            {
                DefineGraph(subgraph, convertFlags);
                Ensure.Success(
                    NativeMethods.xnn_create_runtime_v4(subgraph, null, null, null, NativeMethods.XNN_FLAG_BASIC_PROFILING, &twin),
                    "xnn_create_runtime_v4(profiling)");
                return Linear.ReadOperatorNames(twin);
            }
            finally
            {
                if (twin != null)
                {
                    NativeMethods.xnn_delete_runtime(twin);
                }

                NativeMethods.xnn_delete_subgraph(subgraph);
            }
        }

        private void DefineGraph(xnn_subgraph* subgraph, uint convertFlags)
        {
            int k = weights.InputChannels;
            int n = weights.OutputChannels;
            nuint* inputDims = stackalloc nuint[] { 1, (nuint)k };
            nuint* weightDims = stackalloc nuint[] { (nuint)n, (nuint)k };
            nuint* biasDims = stackalloc nuint[] { (nuint)n };
            nuint* outputDims = stackalloc nuint[] { 1, (nuint)n };
            uint inputId, quantizedId, weightId, outputId;
            uint biasId = NativeMethods.XNN_INVALID_VALUE_ID;

            Ensure.Success(
                NativeMethods.xnn_define_tensor_value(subgraph, xnn_datatype.xnn_datatype_fp32, 2, inputDims, null, InputId, NativeMethods.XNN_VALUE_FLAG_EXTERNAL_INPUT, &inputId),
                "xnn_define_tensor_value(input)");
            if (weights.Scheme == WeightScheme.F32)
            {
                quantizedId = inputId;
            }
            else
            {
                Ensure.Success(
                    NativeMethods.xnn_define_dynamically_quantized_tensor_value(subgraph, xnn_datatype.xnn_datatype_qdint8, 2, 1, inputDims, NativeMethods.XNN_INVALID_VALUE_ID, 0, &quantizedId),
                    "xnn_define_dynamically_quantized_tensor_value");
            }

            void* weightPointer = weightData.Pointer;
            xnn_status status = weights.Scheme switch
            {
                WeightScheme.F32 => NativeMethods.xnn_define_tensor_value(
                    subgraph, xnn_datatype.xnn_datatype_fp32, 2, weightDims, weightPointer, NativeMethods.XNN_INVALID_VALUE_ID, 0, &weightId),
                WeightScheme.Qc8w => NativeMethods.xnn_define_channelwise_quantized_tensor_value_v2(
                    subgraph, xnn_datatype.xnn_datatype_qcint8, 0, (float*)scaleData!.Pointer, 2, 0, weightDims, weightPointer, NativeMethods.XNN_INVALID_VALUE_ID, 0, &weightId),
                WeightScheme.Qc4w => NativeMethods.xnn_define_channelwise_quantized_tensor_value_v2(
                    subgraph, xnn_datatype.xnn_datatype_qcint4, 8, (float*)scaleData!.Pointer, 2, 0, weightDims, weightPointer, NativeMethods.XNN_INVALID_VALUE_ID, 0, &weightId),
                _ => NativeMethods.xnn_define_blockwise_quantized_tensor_value(
                    subgraph, xnn_datatype.xnn_datatype_qbint4, 8, (ushort*)scaleData!.Pointer, 2, 0, (nuint)weights.BlockSize, weightDims, weightPointer, NativeMethods.XNN_INVALID_VALUE_ID, 0, &weightId),
            };
            Ensure.Success(status, "xnn_define_*_tensor_value(weights)");

            if (biasData is not null)
            {
                Ensure.Success(
                    NativeMethods.xnn_define_tensor_value(subgraph, xnn_datatype.xnn_datatype_fp32, 1, biasDims, biasData.Pointer, NativeMethods.XNN_INVALID_VALUE_ID, 0, &biasId),
                    "xnn_define_tensor_value(bias)");
            }

            Ensure.Success(
                NativeMethods.xnn_define_tensor_value(subgraph, xnn_datatype.xnn_datatype_fp32, 2, outputDims, null, OutputId, NativeMethods.XNN_VALUE_FLAG_EXTERNAL_OUTPUT, &outputId),
                "xnn_define_tensor_value(output)");
            if (weights.Scheme != WeightScheme.F32)
            {
                Ensure.Success(
                    NativeMethods.xnn_define_unary(subgraph, xnn_unary_operator.xnn_unary_convert, null, inputId, quantizedId, convertFlags),
                    "xnn_define_unary(convert)");
            }

            Ensure.Success(
                NativeMethods.xnn_define_fully_connected(subgraph, outputMin, outputMax, quantizedId, weightId, biasId, outputId, 0),
                "xnn_define_fully_connected");
        }

        private RuntimeHandle Instantiate(xnn_subgraph* subgraph, bool shared)
        {
            XnnThreadPool? pool = options.ThreadPool;
            XnnWeightsCache? cache = shared ? options.WeightsCache : null;
            XnnWorkspace? sharedWorkspace = shared ? options.Workspace : null;
            var runtime = new RuntimeHandle();
            runtimes.Add(runtime);

            // The runtime points into the pool and the cache: hold a reference on each until it is deleted.
            var dependencies = new List<SafeHandle>(2);
            try
            {
                AddRef(pool?.Handle, dependencies);
                AddRef(cache?.Handle, dependencies);
                xnn_runtime* created = null;
                if (cache is null)
                {
                    Ensure.Success(
                        NativeMethods.xnn_create_runtime_v4(subgraph, null, WorkspaceOf(sharedWorkspace), PoolOf(pool), RuntimeFlags, &created),
                        "xnn_create_runtime_v4");
                }
                else
                {
                    lock (cache.Gate)
                    {
                        if (cache.IsFinalized)
                        {
                            throw new InvalidOperationException(
                                "The shared weights cache was finalized when a layer using it first ran, and XNNPACK cannot add weights to a finalized cache. " +
                                "Create every layer that shares a weights cache before running any of them, or use another cache.");
                        }

                        Ensure.Success(
                            NativeMethods.xnn_create_runtime_v4(subgraph, cache.Handle.Cache, WorkspaceOf(sharedWorkspace), PoolOf(pool), RuntimeFlags, &created),
                            "xnn_create_runtime_v4");
                    }
                }

                runtime.Attach(created, [.. dependencies]);
                dependencies.Clear();
                return runtime;
            }
            finally
            {
                foreach (SafeHandle dependency in dependencies)
                {
                    dependency.DangerousRelease();
                }
            }
        }

        private static xnn_workspace* WorkspaceOf(XnnWorkspace? workspace) => workspace is null ? null : workspace.Handle.Workspace;

        private static pthreadpool* PoolOf(XnnThreadPool? pool) => pool is null ? null : pool.Handle.Pool;

        private static void AddRef(SafeHandle? handle, List<SafeHandle> added)
        {
            if (handle is null)
            {
                return;
            }

            bool success = false;
            handle.DangerousAddRef(ref success);
            if (success)
            {
                added.Add(handle);
            }
        }

        /// <summary>
        /// Times both runtimes on [AutoTuningBatch, K] inputs: two warm-up runs each (the first one also sizes
        /// XNNPACK's workspace), then pairs of timed runs, alternating so that frequency changes and noise fall
        /// on both alike, for as long as the budget lasts. The budget is checked before each pair and includes
        /// the warm-up, so the total exceeds it by at most one pair, or by the warm-up if that alone is longer.
        /// At least one pair is always timed.
        /// </summary>
        private ActivationPackingTiming TimeVariants(RuntimeHandle packed, RuntimeHandle unpacked)
        {
            const int WarmUpRuns = 2;
            const int MaximumRuns = 4096;
            int batch = options.AutoTuningBatch;
            int k = weights.InputChannels;
            long budgetTicks = (long)(options.AutoTuningBudget.TotalSeconds * Stopwatch.Frequency);
            using NativeBuffer input = NativeBuffer.Allocate(((nuint)batch * (nuint)k * sizeof(float)) + NativeMethods.XNN_EXTRA_BYTES);
            using NativeBuffer output = NativeBuffer.Allocate((nuint)batch * (nuint)weights.OutputChannels * sizeof(float));
            var values = new Span<float>(input.Pointer, batch * k);
            for (int i = 0; i < values.Length; i++)
            {
                // Any spread of values will do: the kernels' speed does not depend on them.
                values[i] = ((i * 7919) % 2001 / 1000f) - 1f;
            }

            RuntimeHandle[] variants = [packed, unpacked];
            var samples = new long[2][] { new long[MaximumRuns], new long[MaximumRuns] };
            long start = Stopwatch.GetTimestamp();
            foreach (RuntimeHandle variant in variants)
            {
                Reshape(variant, batch, k);
                Setup(variant, input.Pointer, output.Pointer);
                for (int i = 0; i < WarmUpRuns; i++)
                {
                    Ensure.Success(NativeMethods.xnn_invoke_runtime(variant.Runtime), "xnn_invoke_runtime");
                }
            }

            int runs = 0;
            do
            {
                for (int v = 0; v < 2; v++)
                {
                    long before = Stopwatch.GetTimestamp();
                    Ensure.Success(NativeMethods.xnn_invoke_runtime(variants[v].Runtime), "xnn_invoke_runtime");
                    samples[v][runs] = Stopwatch.GetTimestamp() - before;
                }

                runs++;
            }
            while (runs < MaximumRuns && Stopwatch.GetTimestamp() - start < budgetTicks);

            return new ActivationPackingTiming(
                batch,
                Median(samples[0], runs),
                Median(samples[1], runs),
                runs,
                runs,
                Stopwatch.GetElapsedTime(start));
        }

        private static TimeSpan Median(long[] samples, int count)
        {
            Array.Sort(samples, 0, count);
            long ticks = count % 2 == 1 ? samples[count / 2] : (samples[(count / 2) - 1] + samples[count / 2]) / 2;
            return TimeSpan.FromSeconds((double)ticks / Stopwatch.Frequency);
        }
    }
}
