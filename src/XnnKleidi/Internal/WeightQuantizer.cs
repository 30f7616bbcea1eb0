namespace XnnKleidi.Internal;

/// <summary>
/// How <see cref="LinearWeights.Quantize"/> turns fp32 weights into each scheme: symmetric int8 per output channel,
/// 4-bit per output channel onto [−8, 7], and 4-bit per block with bf16 scales rounded up.
/// </summary>
internal static class WeightQuantizer
{
    public static LinearWeights Qc8w(ReadOnlySpan<float> weights, int outputChannels, int inputChannels)
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

            float scale = UsableScale(largest / LinearWeights.Int8Magnitude, inputChannels, LinearWeights.Int8Magnitude, n, nameof(weights));
            scales[n] = scale;
            for (int k = 0; k < inputChannels; k++)
            {
                values[(n * inputChannels) + k] = (sbyte)Math.Clamp(MathF.Round(row[k] / scale), -127f, 127f);
            }
        }

        return new LinearWeights(WeightScheme.Qc8w, outputChannels, inputChannels, 0, int8Values: values, channelScales: scales);
    }

    public static LinearWeights Qc4w(ReadOnlySpan<float> weights, int outputChannels, int inputChannels)
    {
        var packed = new byte[LinearWeights.PackedLength(outputChannels, inputChannels)];
        int rowBytes = (inputChannels + 1) / 2;
        var scales = new float[outputChannels];
        for (int n = 0; n < outputChannels; n++)
        {
            ReadOnlySpan<float> row = weights.Slice(n * inputChannels, inputChannels);
            float scale = UsableScale(Int4Scale(row), inputChannels, LinearWeights.Int4Magnitude, n, nameof(weights));
            scales[n] = scale;
            Span<byte> rowBytesSpan = packed.AsSpan(n * rowBytes, rowBytes);
            rowBytesSpan.Fill(LinearWeights.ZeroPoint | (LinearWeights.ZeroPoint << 4)); // the padding nibble of an odd row stays 8 (zero)
            WriteInt4(rowBytesSpan, 0, row, scale);
        }

        return new LinearWeights(WeightScheme.Qc4w, outputChannels, inputChannels, 0, packedInt4Values: packed, channelScales: scales);
    }

    public static LinearWeights Qb4w(ReadOnlySpan<float> weights, int outputChannels, int inputChannels, int blockSize)
    {
        // K is a multiple of the block size, hence even: rows of K/2 bytes, no padding.
        int blocksPerRow = inputChannels / blockSize;
        var packed = new byte[LinearWeights.PackedLength(outputChannels, inputChannels)];
        var scales = new ushort[outputChannels * blocksPerRow];
        for (int n = 0; n < outputChannels; n++)
        {
            for (int b = 0; b < blocksPerRow; b++)
            {
                int start = (n * inputChannels) + (b * blockSize);
                ReadOnlySpan<float> block = weights.Slice(start, blockSize);
                ushort bits = Bfloat16.RoundUp(UsableScale(Int4Scale(block), inputChannels, LinearWeights.Int4Magnitude, n, nameof(weights)));
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
            int stored = (int)Math.Clamp(MathF.Round(values[i] / scale), -8f, 7f) + LinearWeights.ZeroPoint;
            long nibble = firstNibble + i;
            int index = (int)(nibble >> 1);
            packed[index] = (nibble & 1) == 0
                ? (byte)((packed[index] & 0xF0) | stored)
                : (byte)((packed[index] & 0x0F) | (stored << 4));
        }
    }

    /// <summary>
    /// The scale to quantize with, inside the range the layer can compute with (see <see cref="ScaleRange"/>). An all-zero
    /// row gets scale 1 (its values are all 0); a row so small that its scale would be below 2⁻⁸² gets 2⁻⁸², which still
    /// maps each of its values inside the range (rounding them to 0 or a few steps). Weights too large for the range are
    /// refused: their products could leave fp32. The bf16 rounding of qb4w scales goes up, never past the bound by more
    /// than the rounding, which <see cref="ScaleRange.Maximum"/>'s halved fp32 range absorbs.
    /// </summary>
    private static float UsableScale(float scale, int inputChannels, int largestMagnitude, int outputChannel, string weightsParameter)
    {
        if (scale == 0f)
        {
            return 1f;
        }

        scale = MathF.Max(scale, ScaleRange.Minimum);
        if (ScaleRange.Problem(scale, inputChannels, largestMagnitude) is { } problem)
        {
            throw new ArgumentException(
                $"Output channel {outputChannel} holds weights up to {scale * largestMagnitude:G9} in magnitude, which need the scale {scale:G9}; {problem}.",
                weightsParameter);
        }

        return scale;
    }
}
