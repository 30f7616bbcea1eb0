namespace XnnKleidi.Formats;

/// <summary>
/// GGUF's Q4_0 carried to XnnKleidi's qb4w with blocks of 32, keeping the 4-bit values.
/// </summary>
/// <remarks>
/// <para>A Q4_0 block is an fp16 scale d and 16 bytes: weight j (0..15) is the low nibble q of byte j, weight 16 + j
/// its high nibble, each worth d·(q − 8). qb4w stores weight k of a row in byte k/2 of the row (low nibble for even k)
/// as q + 8 with q in −8..7, worth s·q for the block's bf16 scale s &gt; 0. So the nibbles move to their qb4w places
/// unchanged and s is d rounded to the nearest bf16: each weight changes by at most 8·|d|·2⁻⁸ = |d|/32.</para>
/// <para>d is often negative: llama.cpp's quantizer takes d = (the value of largest magnitude) / −8. With s = |d| the
/// nibble becomes 16 − q, which holds every q but 0, whose weight 8·|d| is one step past qb4w's top value 7·s. A
/// block with d &lt; 0 and a nibble 0 is therefore dequantized and quantized again by <see cref="LinearWeights.Quantize"/>
/// (scale max(max/7, −min/8) rounded up to bf16), and counted in <see cref="WeightConversion.RequantizedBlocks"/>.</para>
/// </remarks>
internal static class Q4Blocks
{
    public const int BlockSize = 32;
    public const int BlockBytes = 2 + (BlockSize / 2);

    // bf16 1.0: the scale of a block whose d is 0 (all of its weights are 0, stored as nibble 8).
    private const ushort OneBf16 = 0x3F80;

    /// <summary>Q4_0's nibble of weight <paramref name="j"/> (0..31) of a block: low nibbles first, then high.</summary>
    public static int Nibble(ReadOnlySpan<byte> block, int j) =>
        j < 16 ? block[2 + j] & 0x0F : block[2 + j - 16] >> 4;

    public static WeightConversion ToQb4w(MappedFile file, TensorInfo tensor, int outputChannels, int inputChannels)
    {
        try
        {
            return Convert(file, tensor, outputChannels, inputChannels);
        }
        catch (ArgumentException e) when (e.ParamName is "weights" or "bf16Scales")
        {
            // A scale the layer cannot compute with comes from the file's values.
            throw new ModelFileFormatException(tensor.FilePath, $"cannot be held as qb4w: {e.Message}", tensor.Name, innerException: e);
        }
    }

    private static WeightConversion Convert(MappedFile file, TensorInfo tensor, int outputChannels, int inputChannels)
    {
        int blocksPerRow = inputChannels / BlockSize;
        int rowBytes = inputChannels / 2;
        var packed = new byte[(long)outputChannels * rowBytes];
        var scales = new ushort[(long)outputChannels * blocksPerRow];
        var needsRequantizing = new bool[blocksPerRow];
        double maxScaleError = 0, maxWeightError = 0, largest = 0;
        long requantized = 0;
        for (int n = 0; n < outputChannels; n++)
        {
            ReadOnlySpan<byte> row = file.Bytes(tensor.Offset + ((long)n * blocksPerRow * BlockBytes), (long)blocksPerRow * BlockBytes, "tensor data", tensor.Name);
            bool anyRequantized = false;
            for (int b = 0; b < blocksPerRow; b++)
            {
                ReadOnlySpan<byte> block = row.Slice(b * BlockBytes, BlockBytes);
                float d = TensorDecoder.Half(block);
                if (!float.IsFinite(d))
                {
                    throw new ModelFileFormatException(
                        tensor.FilePath, FormattableString.Invariant($"has the scale {d} in block {b} of row {n}; scales must be finite"), tensor.Name);
                }

                for (int j = 0; j < BlockSize; j++)
                {
                    largest = Math.Max(largest, Math.Abs((double)d * (Nibble(block, j) - 8)));
                }

                needsRequantizing[b] = d < 0 && HasNibbleZero(block);
                if (needsRequantizing[b])
                {
                    anyRequantized = true;
                    continue;
                }

                Span<byte> target = packed.AsSpan((n * rowBytes) + (b * BlockSize / 2), BlockSize / 2);
                if (d == 0)
                {
                    target.Fill(0x88);
                    scales[(n * blocksPerRow) + b] = OneBf16;
                    continue;
                }

                ushort bits = RoundToNearestBf16(Math.Abs(d));
                float s = BitConverter.UInt32BitsToSingle((uint)bits << 16);
                scales[(n * blocksPerRow) + b] = bits;
                maxScaleError = Math.Max(maxScaleError, Math.Abs(((double)s - Math.Abs(d)) / Math.Abs(d)));
                for (int j = 0; j < BlockSize; j++)
                {
                    int q = Nibble(block, j);
                    int stored = d > 0 ? q : 16 - q;
                    target[j / 2] |= (byte)((j % 2 == 0) ? stored : stored << 4);
                    maxWeightError = Math.Max(maxWeightError, Math.Abs(((double)s * (stored - 8)) - ((double)d * (q - 8))));
                }
            }

            if (anyRequantized)
            {
                requantized += RequantizeBlocks(row, n, inputChannels, needsRequantizing, packed, scales, ref maxWeightError);
            }
        }

        long total = (long)outputChannels * blocksPerRow;
        LinearWeights weights = LinearWeights.FromQb4w(packed, scales, outputChannels, inputChannels, BlockSize);
        string description = FormattableString.Invariant(
            $"Q4_0 carried to qb4w (block 32): 4-bit values kept, fp16 scales rounded to the nearest bf16 (largest relative scale change {maxScaleError:G3}); ") +
            (requantized == 0
                ? "no block requantized"
                : FormattableString.Invariant($"{requantized} of {total} blocks requantized (negative scale with a weight of +8 steps)"));
        return new WeightConversion(weights, TensorType.Q4_0, requantized > 0, description)
        {
            MaxScaleRelativeError = maxScaleError,
            CarriedBlocks = total - requantized,
            RequantizedBlocks = requantized,
            MaxWeightError = maxWeightError,
            LargestWeight = largest,
        };
    }

    /// <summary>Round to nearest, ties to even, of a positive finite fp32 to bf16 (no NaN can reach here).</summary>
    public static ushort RoundToNearestBf16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        uint lowestKept = (bits >> 16) & 1;
        return (ushort)((bits + 0x7FFFu + lowestKept) >> 16);
    }

    private static bool HasNibbleZero(ReadOnlySpan<byte> block)
    {
        for (int j = 0; j < BlockSize; j++)
        {
            if (Nibble(block, j) == 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Quantizes row <paramref name="n"/> from its dequantized values with the library's own qb4w rule and takes the
    /// blocks marked in <paramref name="marked"/> from the result (each block is quantized on its own, so the others
    /// do not affect them).
    /// </summary>
    private static long RequantizeBlocks(ReadOnlySpan<byte> row, int n, int inputChannels, bool[] marked, byte[] packed, ushort[] scales, ref double maxWeightError)
    {
        int blocksPerRow = marked.Length, rowBytes = inputChannels / 2;
        var values = new float[inputChannels];
        for (int b = 0; b < blocksPerRow; b++)
        {
            ReadOnlySpan<byte> block = row.Slice(b * BlockBytes, BlockBytes);
            float d = TensorDecoder.Half(block);
            for (int j = 0; j < BlockSize; j++)
            {
                values[(b * BlockSize) + j] = d * (Nibble(block, j) - 8);
            }
        }

        LinearWeights requantized = LinearWeights.Quantize(values, 1, inputChannels, WeightScheme.Qb4w, BlockSize);
        ReadOnlySpan<byte> newValues = requantized.PackedInt4Values.Span;
        ReadOnlySpan<ushort> newScales = requantized.BlockScalesBf16.Span;
        long count = 0;
        for (int b = 0; b < blocksPerRow; b++)
        {
            if (!marked[b])
            {
                continue;
            }

            count++;
            newValues.Slice(b * BlockSize / 2, BlockSize / 2).CopyTo(packed.AsSpan((n * rowBytes) + (b * BlockSize / 2)));
            scales[(n * blocksPerRow) + b] = newScales[b];
            double s = BitConverter.UInt32BitsToSingle((uint)newScales[b] << 16);
            for (int j = 0; j < BlockSize; j++)
            {
                int k = (b * BlockSize) + j;
                int stored = (k % 2 == 0 ? newValues[k / 2] & 0x0F : newValues[k / 2] >> 4) - 8;
                maxWeightError = Math.Max(maxWeightError, Math.Abs((s * stored) - values[k]));
            }
        }

        return count;
    }
}
