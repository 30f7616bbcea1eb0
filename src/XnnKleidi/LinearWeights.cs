using XnnKleidi.Internal;

namespace XnnKleidi;

/// <summary>
/// The weights of a <see cref="Linear"/> layer, [outputChannels, inputChannels] row-major (PyTorch's
/// <c>nn.Linear</c> layout), in one of the <see cref="WeightScheme"/>s. Create them from fp32 with
/// <see cref="Quantize"/>, or wrap values that are already quantized (for example exported by ExecuTorch) with
/// <see cref="FromQc8w(ReadOnlySpan{sbyte}, ReadOnlySpan{float}, int, int)"/>, <see cref="FromQc4w"/> or <see cref="FromQb4w"/>. Instances are immutable and hold
/// their own copies.
/// </summary>
/// <remarks>
/// 4-bit layouts (<see cref="WeightScheme.Qc4w"/>, <see cref="WeightScheme.Qb4w"/>): each value is stored as
/// q + 8 (q in [-8, 7]) in a nibble, two a byte, the first of a pair in the low nibble. Each row of K values
/// starts on a new byte, so a row takes ⌈K/2⌉ bytes: value (n, k) is in byte n·⌈K/2⌉ + k/2, in the low nibble
/// when k is even. For odd K the high nibble of a row's last byte is padding; it holds 8 (zero), because
/// XNNPACK's qc4w kernels round K up to even and read it. This is the layout both XNNPACK's QD8 packer (which
/// rounds K up to its two "planes") and KleidiAI's QP8 packer (rows of ⌈K/2⌉ bytes) read.
/// </remarks>
public sealed class LinearWeights
{
    /// <summary>The default number of input channels per bf16 scale of <see cref="WeightScheme.Qb4w"/>.</summary>
    public const int DefaultBlockSize = 32;

    // XNNPACK's XNN_MIN_BLOCKSIZE: blockwise kernels need blocks of a multiple of 32 input channels.
    private const int BlockSizeMultiple = 32;

    // 4-bit values are stored unsigned with this zero point (XNNPACK's kernel_zero_point 8).
    internal const int ZeroPoint = 8;

    // The largest |q| of each stored type: −128 is refused for int8 (see Minus128Weights); 4-bit values are [−8, 7].
    internal const sbyte Int8Magnitude = 127;
    internal const int Int4Magnitude = 8;

    private readonly float[]? float32Values;
    private readonly sbyte[]? int8Values;
    private readonly byte[]? packedInt4Values;
    private readonly float[]? channelScales;
    private readonly ushort[]? blockScales;

    internal LinearWeights(
        WeightScheme scheme,
        int outputChannels,
        int inputChannels,
        int blockSize,
        float[]? float32Values = null,
        sbyte[]? int8Values = null,
        byte[]? packedInt4Values = null,
        float[]? channelScales = null,
        ushort[]? blockScales = null)
    {
        Scheme = scheme;
        OutputChannels = outputChannels;
        InputChannels = inputChannels;
        BlockSize = blockSize;
        this.float32Values = float32Values;
        this.int8Values = int8Values;
        this.packedInt4Values = packedInt4Values;
        this.channelScales = channelScales;
        this.blockScales = blockScales;
    }

    /// <summary>How the values are stored.</summary>
    public WeightScheme Scheme { get; }

    /// <summary>N, the number of output channels (rows).</summary>
    public int OutputChannels { get; }

    /// <summary>K, the number of input channels (columns).</summary>
    public int InputChannels { get; }

    /// <summary>Input channels per scale for <see cref="WeightScheme.Qb4w"/>; 0 for the other schemes.</summary>
    public int BlockSize { get; }

    /// <summary>How many −128 values <see cref="Minus128Weights.ClampToMinus127"/> stored as −127; 0 otherwise.</summary>
    public int ClampedValueCount { get; private init; }

    /// <summary>The fp32 values of <see cref="WeightScheme.F32"/>, N·K; empty otherwise.</summary>
    public ReadOnlyMemory<float> Float32Values => float32Values;

    /// <summary>The int8 values of <see cref="WeightScheme.Qc8w"/>, N·K; empty otherwise.</summary>
    public ReadOnlyMemory<sbyte> Int8Values => int8Values;

    /// <summary>The packed 4-bit values of <see cref="WeightScheme.Qc4w"/> and <see cref="WeightScheme.Qb4w"/>, N·⌈K/2⌉ bytes; empty otherwise.</summary>
    public ReadOnlyMemory<byte> PackedInt4Values => packedInt4Values;

    /// <summary>One fp32 scale per output channel for <see cref="WeightScheme.Qc8w"/> and <see cref="WeightScheme.Qc4w"/>; empty otherwise.</summary>
    public ReadOnlyMemory<float> ChannelScales => channelScales;

    /// <summary>bf16 scales [N, K / BlockSize] of <see cref="WeightScheme.Qb4w"/>; empty otherwise.</summary>
    public ReadOnlyMemory<ushort> BlockScalesBf16 => blockScales;

    /// <summary>
    /// Quantizes fp32 weights [<paramref name="outputChannels"/>, <paramref name="inputChannels"/>] row-major:
    /// <see cref="WeightScheme.Qc8w"/> symmetric per output channel (scale max|w|/127);
    /// <see cref="WeightScheme.Qc4w"/> per output channel onto [-8, 7] (scale max(max/7, −min/8));
    /// <see cref="WeightScheme.Qb4w"/> the same per block of <paramref name="blockSize"/> input channels with the
    /// scale rounded up to bf16; <see cref="WeightScheme.F32"/> copies them.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A channel count is not positive, or the block size is not a positive multiple of 32.</exception>
    /// <exception cref="ArgumentException">The length of <paramref name="weights"/> is not N·K, a weight is NaN or infinite, or K is not a multiple of the block size.</exception>
    public static LinearWeights Quantize(
        ReadOnlySpan<float> weights,
        int outputChannels,
        int inputChannels,
        WeightScheme scheme,
        int blockSize = DefaultBlockSize)
    {
        ValidateShape(outputChannels, inputChannels);
        ValidateWeightCount(weights.Length, outputChannels, inputChannels, nameof(weights));
        ValidateScheme(scheme, nameof(scheme));
        if (scheme == WeightScheme.Qb4w)
        {
            ValidateBlockSize(blockSize, inputChannels, nameof(blockSize));
        }

        ValidateFinite(weights, nameof(weights));
        return scheme switch
        {
            WeightScheme.F32 => new LinearWeights(scheme, outputChannels, inputChannels, 0, float32Values: weights.ToArray()),
            WeightScheme.Qc8w => WeightQuantizer.Qc8w(weights, outputChannels, inputChannels),
            WeightScheme.Qc4w => WeightQuantizer.Qc4w(weights, outputChannels, inputChannels),
            _ => WeightQuantizer.Qb4w(weights, outputChannels, inputChannels, blockSize),
        };
    }

    /// <summary>
    /// Wraps already quantized int8 weights in [−127, 127] with one fp32 scale per output channel (zero point 0).
    /// A −128 is refused (see <see cref="Minus128Weights"/> for why, and for the overload that clamps it).
    /// </summary>
    /// <exception cref="ArgumentException">A length does not match N·K or N, a value is −128 (the message names the
    /// first one's index, output channel and input channel), or a scale is outside the valid range (see the class remarks).</exception>
    public static LinearWeights FromQc8w(ReadOnlySpan<sbyte> values, ReadOnlySpan<float> scales, int outputChannels, int inputChannels) =>
        FromQc8w(values, scales, outputChannels, inputChannels, Minus128Weights.Reject);

    /// <summary>
    /// Wraps already quantized int8 weights with one fp32 scale per output channel (zero point 0), doing with −128 what
    /// <paramref name="minus128"/> says.
    /// </summary>
    /// <exception cref="ArgumentException">A length does not match N·K or N, a value is −128 and <paramref name="minus128"/> is
    /// <see cref="Minus128Weights.Reject"/>, or a scale is outside the valid range (see the class remarks).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="minus128"/> is not a defined value.</exception>
    public static LinearWeights FromQc8w(
        ReadOnlySpan<sbyte> values,
        ReadOnlySpan<float> scales,
        int outputChannels,
        int inputChannels,
        Minus128Weights minus128)
    {
        ValidateShape(outputChannels, inputChannels);
        ValidateWeightCount(values.Length, outputChannels, inputChannels, nameof(values));
        ValidateLength(scales.Length, outputChannels, nameof(scales), "one scale per output channel");
        if (!Enum.IsDefined(minus128))
        {
            throw new ArgumentOutOfRangeException(nameof(minus128), minus128, "Unknown way of handling −128 weights.");
        }

        ValidateChannelScales(scales, inputChannels, Int8Magnitude, nameof(scales));
        sbyte[] copy = values.ToArray();
        int first = Array.IndexOf(copy, sbyte.MinValue);
        int clamped = 0;
        if (first >= 0 && minus128 == Minus128Weights.Reject)
        {
            throw new ArgumentException(
                $"Value {first} (output channel {first / inputChannels}, input channel {first % inputChannels}) is −128; qc8w weights must lie in [−127, 127]. " +
                "XNNPACK's kernels for Arm CPUs without dotprod add two int8 products in int16, which (−128)·(−128) twice overflows, giving wrong results " +
                "without an error. Pass Minus128Weights.ClampToMinus127 to store −128 as −127 (an error of one step on those weights).",
                nameof(values));
        }

        for (int i = first; i >= 0 && i < copy.Length; i++)
        {
            if (copy[i] == sbyte.MinValue)
            {
                copy[i] = -Int8Magnitude;
                clamped++;
            }
        }

        return new LinearWeights(WeightScheme.Qc8w, outputChannels, inputChannels, 0, int8Values: copy, channelScales: scales.ToArray())
        {
            ClampedValueCount = clamped,
        };
    }

    /// <summary>
    /// Wraps already quantized 4-bit weights (layout in the class remarks) with one fp32 scale per output channel.
    /// For odd K the padding nibble of each row is set to 8 (zero) whatever it held.
    /// </summary>
    /// <exception cref="ArgumentException">A length does not match N·⌈K/2⌉ or N, or a scale is not a positive normal finite number.</exception>
    public static LinearWeights FromQc4w(ReadOnlySpan<byte> packedValues, ReadOnlySpan<float> scales, int outputChannels, int inputChannels)
    {
        ValidateShape(outputChannels, inputChannels);
        ValidateLength(packedValues.Length, PackedLength(outputChannels, inputChannels), nameof(packedValues), "rows of ⌈K/2⌉ bytes, two 4-bit values a byte");
        ValidateLength(scales.Length, outputChannels, nameof(scales), "one scale per output channel");
        ValidateChannelScales(scales, inputChannels, Int4Magnitude, nameof(scales));
        byte[] packed = packedValues.ToArray();
        if (inputChannels % 2 == 1)
        {
            int rowBytes = (inputChannels + 1) / 2;
            for (int n = 0; n < outputChannels; n++)
            {
                int last = (n * rowBytes) + rowBytes - 1;
                packed[last] = (byte)((packed[last] & 0x0F) | (ZeroPoint << 4));
            }
        }

        return new LinearWeights(WeightScheme.Qc4w, outputChannels, inputChannels, 0, packedInt4Values: packed, channelScales: scales.ToArray());
    }

    /// <summary>Wraps already quantized blockwise 4-bit weights (layout in the class remarks) with bf16 scales [N, K / blockSize].</summary>
    /// <exception cref="ArgumentOutOfRangeException">The block size is not a positive multiple of 32.</exception>
    /// <exception cref="ArgumentException">K is not a multiple of the block size, a length does not match, or a scale is not a positive normal finite number.</exception>
    public static LinearWeights FromQb4w(
        ReadOnlySpan<byte> packedValues,
        ReadOnlySpan<ushort> bf16Scales,
        int outputChannels,
        int inputChannels,
        int blockSize = DefaultBlockSize)
    {
        ValidateShape(outputChannels, inputChannels);
        ValidateBlockSize(blockSize, inputChannels, nameof(blockSize));
        ValidateLength(packedValues.Length, PackedLength(outputChannels, inputChannels), nameof(packedValues), "rows of K/2 bytes, two 4-bit values a byte");
        ValidateLength(bf16Scales.Length, outputChannels * (inputChannels / blockSize), nameof(bf16Scales), "one scale per block");
        int blocksPerRow = inputChannels / blockSize;
        for (int i = 0; i < bf16Scales.Length; i++)
        {
            float scale = Bfloat16.ToSingle(bf16Scales[i]);
            if (ScaleRange.Problem(scale, inputChannels, Int4Magnitude) is { } problem)
            {
                throw new ArgumentException(
                    $"Scale {i} (output channel {i / blocksPerRow}, block {i % blocksPerRow}) is {scale:G9} (bf16 0x{bf16Scales[i]:X4}); {problem}.",
                    nameof(bf16Scales));
            }
        }

        return new LinearWeights(WeightScheme.Qb4w, outputChannels, inputChannels, blockSize, packedInt4Values: packedValues.ToArray(), blockScales: bf16Scales.ToArray());
    }

    /// <summary>N rows of ⌈K/2⌉ bytes.</summary>
    internal static int PackedLength(int outputChannels, int inputChannels) => outputChannels * ((inputChannels + 1) / 2);

    internal float[]? RawFloat32 => float32Values;

    internal sbyte[]? RawInt8 => int8Values;

    internal byte[]? RawInt4 => packedInt4Values;

    internal float[]? RawChannelScales => channelScales;

    internal ushort[]? RawBlockScales => blockScales;

    private static void ValidateShape(int outputChannels, int inputChannels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(outputChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(inputChannels, 1);
        long count = (long)outputChannels * inputChannels;
        if (count > Array.MaxLength)
        {
            throw new ArgumentException(
                $"{outputChannels} output channels × {inputChannels} input channels = {count} weights, more than a .NET array holds ({Array.MaxLength}).",
                nameof(inputChannels));
        }
    }

    private static void ValidateWeightCount(int length, int outputChannels, int inputChannels, string parameter)
    {
        if (length != outputChannels * inputChannels)
        {
            throw new ArgumentException(
                $"Expected {outputChannels} × {inputChannels} = {outputChannels * inputChannels} weights ([outputChannels, inputChannels] row-major), got {length}.",
                parameter);
        }
    }

    private static void ValidateScheme(WeightScheme scheme, string parameter)
    {
        if (!Enum.IsDefined(scheme))
        {
            throw new ArgumentOutOfRangeException(parameter, scheme, "Unknown weight scheme.");
        }
    }

    private static void ValidateBlockSize(int blockSize, int inputChannels, string parameter)
    {
        if (blockSize < BlockSizeMultiple || blockSize % BlockSizeMultiple != 0)
        {
            throw new ArgumentOutOfRangeException(parameter, blockSize, $"The block size must be a positive multiple of {BlockSizeMultiple} (XNNPACK's XNN_MIN_BLOCKSIZE).");
        }

        if (blockSize > Int32Accumulator.Qb4wMaxBlockSize)
        {
            throw new ArgumentOutOfRangeException(
                parameter,
                blockSize,
                $"The block size must be at most {Int32Accumulator.Qb4wMaxBlockSize}: the kernels sum each block's int8 products in int32, which a longer block can overflow, giving wrong results without an error.");
        }

        if (inputChannels % blockSize != 0)
        {
            throw new ArgumentException(
                $"Qb4w needs the input channels to be a multiple of the block size; {inputChannels} is not a multiple of {blockSize}.",
                nameof(inputChannels));
        }
    }

    private static void ValidateLength(int actual, int expected, string parameter, string what)
    {
        if (actual != expected)
        {
            throw new ArgumentException($"Expected {expected} elements ({what}), got {actual}.", parameter);
        }
    }

    private static void ValidateFinite(ReadOnlySpan<float> values, string parameter)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                throw new ArgumentException($"Element {i} is {values[i]}; weights must be finite.", parameter);
            }
        }
    }

    private static void ValidateChannelScales(ReadOnlySpan<float> scales, int inputChannels, int largestMagnitude, string parameter)
    {
        for (int i = 0; i < scales.Length; i++)
        {
            if (ScaleRange.Problem(scales[i], inputChannels, largestMagnitude) is { } problem)
            {
                throw new ArgumentException($"Scale {i} (output channel {i}) is {scales[i]:G9}; {problem}.", parameter);
            }
        }
    }
}
