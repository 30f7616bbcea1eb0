using XnnKleidi.Internal;

namespace XnnKleidi;

/// <summary>
/// The weights of a <see cref="Linear"/> layer, [outputChannels, inputChannels] row-major (PyTorch's
/// <c>nn.Linear</c> layout), in one of the <see cref="WeightScheme"/>s. Create them from fp32 with
/// <see cref="Quantize"/>, or wrap values that are already quantized (for example exported by ExecuTorch) with
/// <see cref="FromQc8w"/>, <see cref="FromQc4w"/> or <see cref="FromQb4w"/>. Instances are immutable and hold
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
    private const int ZeroPoint = 8;

    // The smallest positive normal fp32 (and bf16): 2^-126.
    private const float SmallestNormal = 1.17549435E-38f;

    private readonly float[]? float32Values;
    private readonly sbyte[]? int8Values;
    private readonly byte[]? packedInt4Values;
    private readonly float[]? channelScales;
    private readonly ushort[]? blockScales;

    private LinearWeights(
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
        ValidateShape(outputChannels, inputChannels, weights.Length, nameof(weights));
        ValidateScheme(scheme, nameof(scheme));
        if (scheme == WeightScheme.Qb4w)
        {
            ValidateBlockSize(blockSize, inputChannels, nameof(blockSize));
        }

        ValidateFinite(weights, nameof(weights));
        return scheme switch
        {
            WeightScheme.F32 => new LinearWeights(scheme, outputChannels, inputChannels, 0, float32Values: weights.ToArray()),
            WeightScheme.Qc8w => QuantizeQc8w(weights, outputChannels, inputChannels),
            WeightScheme.Qc4w => QuantizeQc4w(weights, outputChannels, inputChannels),
            _ => QuantizeQb4w(weights, outputChannels, inputChannels, blockSize),
        };
    }

    /// <summary>Wraps already quantized int8 weights with one fp32 scale per output channel (zero point 0).</summary>
    /// <exception cref="ArgumentException">A length does not match N·K or N, or a scale is not a positive normal finite number.</exception>
    public static LinearWeights FromQc8w(ReadOnlySpan<sbyte> values, ReadOnlySpan<float> scales, int outputChannels, int inputChannels)
    {
        ValidateShape(outputChannels, inputChannels, values.Length, nameof(values));
        ValidateLength(scales.Length, outputChannels, nameof(scales), "one scale per output channel");
        ValidateScales(scales, nameof(scales));
        return new LinearWeights(WeightScheme.Qc8w, outputChannels, inputChannels, 0, int8Values: values.ToArray(), channelScales: scales.ToArray());
    }

    /// <summary>
    /// Wraps already quantized 4-bit weights (layout in the class remarks) with one fp32 scale per output channel.
    /// For odd K the padding nibble of each row is set to 8 (zero) whatever it held.
    /// </summary>
    /// <exception cref="ArgumentException">A length does not match N·⌈K/2⌉ or N, or a scale is not a positive normal finite number.</exception>
    public static LinearWeights FromQc4w(ReadOnlySpan<byte> packedValues, ReadOnlySpan<float> scales, int outputChannels, int inputChannels)
    {
        ValidateShape(outputChannels, inputChannels, -1, nameof(packedValues));
        ValidateLength(packedValues.Length, PackedLength(outputChannels, inputChannels), nameof(packedValues), "rows of ⌈K/2⌉ bytes, two 4-bit values a byte");
        ValidateLength(scales.Length, outputChannels, nameof(scales), "one scale per output channel");
        ValidateScales(scales, nameof(scales));
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
        ValidateShape(outputChannels, inputChannels, -1, nameof(packedValues));
        ValidateBlockSize(blockSize, inputChannels, nameof(blockSize));
        ValidateLength(packedValues.Length, PackedLength(outputChannels, inputChannels), nameof(packedValues), "rows of K/2 bytes, two 4-bit values a byte");
        ValidateLength(bf16Scales.Length, outputChannels * (inputChannels / blockSize), nameof(bf16Scales), "one scale per block");
        for (int i = 0; i < bf16Scales.Length; i++)
        {
            float scale = Bfloat16.ToSingle(bf16Scales[i]);
            if (!IsUsableScale(scale))
            {
                throw new ArgumentException(
                    $"Scale {i} is {scale} (bf16 0x{bf16Scales[i]:X4}); XNNPACK needs positive, normal, finite scales.", nameof(bf16Scales));
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

    private static LinearWeights QuantizeQc8w(ReadOnlySpan<float> weights, int outputChannels, int inputChannels)
    {
        var values = new sbyte[weights.Length];
        var scales = new float[outputChannels];
        for (int n = 0; n < outputChannels; n++)
        {
            ReadOnlySpan<float> row = weights.Slice(n * inputChannels, inputChannels);
            float largest = 0f;
            foreach (float w in row)
            {
                largest = MathF.Max(largest, MathF.Abs(w));
            }

            float scale = UsableScale(largest / 127f);
            scales[n] = scale;
            for (int k = 0; k < inputChannels; k++)
            {
                values[(n * inputChannels) + k] = (sbyte)Math.Clamp(MathF.Round(row[k] / scale), -127f, 127f);
            }
        }

        return new LinearWeights(WeightScheme.Qc8w, outputChannels, inputChannels, 0, int8Values: values, channelScales: scales);
    }

    private static LinearWeights QuantizeQc4w(ReadOnlySpan<float> weights, int outputChannels, int inputChannels)
    {
        var packed = new byte[PackedLength(outputChannels, inputChannels)];
        int rowBytes = (inputChannels + 1) / 2;
        var scales = new float[outputChannels];
        for (int n = 0; n < outputChannels; n++)
        {
            ReadOnlySpan<float> row = weights.Slice(n * inputChannels, inputChannels);
            float scale = UsableScale(Int4Scale(row));
            scales[n] = scale;
            Span<byte> rowBytesSpan = packed.AsSpan(n * rowBytes, rowBytes);
            rowBytesSpan.Fill(ZeroPoint | (ZeroPoint << 4)); // the padding nibble of an odd row stays 8 (zero)
            WriteInt4(rowBytesSpan, 0, row, scale);
        }

        return new LinearWeights(WeightScheme.Qc4w, outputChannels, inputChannels, 0, packedInt4Values: packed, channelScales: scales);
    }

    private static LinearWeights QuantizeQb4w(ReadOnlySpan<float> weights, int outputChannels, int inputChannels, int blockSize)
    {
        // K is a multiple of the block size, hence even: rows of K/2 bytes, no padding.
        int blocksPerRow = inputChannels / blockSize;
        var packed = new byte[PackedLength(outputChannels, inputChannels)];
        var scales = new ushort[outputChannels * blocksPerRow];
        for (int n = 0; n < outputChannels; n++)
        {
            for (int b = 0; b < blocksPerRow; b++)
            {
                int start = (n * inputChannels) + (b * blockSize);
                ReadOnlySpan<float> block = weights.Slice(start, blockSize);
                ushort bits = Bfloat16.RoundUp(UsableScale(Int4Scale(block)));
                scales[(n * blocksPerRow) + b] = bits;
                WriteInt4(packed, start, block, Bfloat16.ToSingle(bits));
            }
        }

        return new LinearWeights(WeightScheme.Qb4w, outputChannels, inputChannels, blockSize, packedInt4Values: packed, blockScales: scales);
    }

    /// <summary>The smallest scale that maps every value onto [-8, 7]: max(max/7, −min/8).</summary>
    private static float Int4Scale(ReadOnlySpan<float> values)
    {
        float lowest = 0f, highest = 0f;
        foreach (float w in values)
        {
            lowest = MathF.Min(lowest, w);
            highest = MathF.Max(highest, w);
        }

        return MathF.Max(highest / 7f, -lowest / 8f);
    }

    /// <summary>Writes q + 8 for each value into consecutive nibbles, starting at an even nibble index.</summary>
    private static void WriteInt4(Span<byte> packed, long firstNibble, ReadOnlySpan<float> values, float scale)
    {
        for (int i = 0; i < values.Length; i++)
        {
            int stored = (int)Math.Clamp(MathF.Round(values[i] / scale), -8f, 7f) + ZeroPoint;
            long nibble = firstNibble + i;
            int index = (int)(nibble >> 1);
            packed[index] = (nibble & 1) == 0
                ? (byte)((packed[index] & 0xF0) | stored)
                : (byte)((packed[index] & 0x0F) | (stored << 4));
        }
    }

    /// <summary>
    /// XNNPACK rejects scales that are zero, subnormal or infinite. An all-zero row gets scale 1 (its values
    /// are all 0); a row so small that its scale would be subnormal gets the smallest normal scale, which still
    /// maps each of its values inside the range.
    /// </summary>
    private static float UsableScale(float scale) =>
        scale == 0f ? 1f : MathF.Max(scale, SmallestNormal);

    private static bool IsUsableScale(float scale) => float.IsNormal(scale) && scale > 0f;

    private static int ValidateShape(int outputChannels, int inputChannels, int length, string lengthParameter)
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

        if (length >= 0 && length != count)
        {
            throw new ArgumentException(
                $"Expected {outputChannels} × {inputChannels} = {count} weights ([outputChannels, inputChannels] row-major), got {length}.",
                lengthParameter);
        }

        return (int)count;
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

    private static void ValidateScales(ReadOnlySpan<float> scales, string parameter)
    {
        for (int i = 0; i < scales.Length; i++)
        {
            if (!IsUsableScale(scales[i]))
            {
                throw new ArgumentException($"Scale {i} is {scales[i]}; XNNPACK needs positive, normal, finite scales.", parameter);
            }
        }
    }
}
