namespace XnnKleidi.Tests.Support;

/// <summary>
/// An independent float64 model of a linear layer: it dequantizes the stored weights itself (from the layout
/// documented on <see cref="LinearWeights"/>, not through the library) and multiplies in double precision.
/// </summary>
internal static class Reference
{
    private const double Fp32UnitRoundoff = 1.0 / (1 << 24); // 2^-24, half an ulp of 1 in fp32

    /// <summary>What the quantized weights stand for, [N, K] row-major.</summary>
    public static double[] Dequantize(LinearWeights weights)
    {
        int n = weights.OutputChannels, k = weights.InputChannels;
        var result = new double[n * k];
        for (int row = 0; row < n; row++)
        {
            for (int col = 0; col < k; col++)
            {
                int index = (row * k) + col;
                result[index] = weights.Scheme switch
                {
                    WeightScheme.F32 => weights.Float32Values.Span[index],
                    WeightScheme.Qc8w => weights.Int8Values.Span[index] * (double)weights.ChannelScales.Span[row],
                    WeightScheme.Qc4w => Nibble(weights.PackedInt4Values.Span, k, row, col) * (double)weights.ChannelScales.Span[row],
                    _ => Nibble(weights.PackedInt4Values.Span, k, row, col)
                        * Bf16(weights.BlockScalesBf16.Span[(row * (k / weights.BlockSize)) + (col / weights.BlockSize)]),
                };
            }
        }

        return result;
    }

    /// <summary>Value (row, col) of 4-bit weights stored as rows of ⌈K/2⌉ bytes, low nibble first, minus the zero point 8.</summary>
    public static int Nibble(ReadOnlySpan<byte> packed, int k, int row, int col)
    {
        byte pair = packed[(row * ((k + 1) / 2)) + (col / 2)];
        return (col % 2 == 0 ? pair & 0x0F : pair >> 4) - 8;
    }

    public static double Bf16(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>output[m, n] = clamp(Σₖ x[m, k]·w[n, k] + bias[n]) in float64.</summary>
    public static double[] Linear(float[] input, double[] weights, float[]? bias, int batch, int k, int n, float min, float max)
    {
        var output = new double[batch * n];
        for (int m = 0; m < batch; m++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = bias is null ? 0 : bias[j];
                for (int i = 0; i < k; i++)
                {
                    sum += input[(m * k) + i] * weights[(j * k) + i];
                }

                output[(m * n) + j] = Math.Clamp(sum, min, max);
            }
        }

        return output;
    }

    /// <summary>
    /// How far a correct result may be from <see cref="Linear"/>, per output element. Derivation:
    /// <list type="number">
    /// <item>Activation quantization (QD8 and QP8 alike): each input row is mapped onto int8 with the step
    /// s = (max(0, max x) − min(0, min x)) / 255 and a rounded zero point. Rounding x/s costs at most s/2; at the
    /// ends of the range the rounded zero point can push a value half a step outside int8, where it is clamped,
    /// so every dequantized activation is within one step s of x. Through the (exact, dequantized) weights that
    /// gives at most s · Σₖ |w[n, k]|. The weights need no term: the reference uses their dequantized values.</item>
    /// <item>Arithmetic: the int8·int8 dot products accumulate exactly in int32 (|q| ≤ 255·127·K &lt; 2³¹ for
    /// K ≤ 4096). What remains in fp32 is scaling each partial sum (one per block for qb4w, one per channel
    /// otherwise), adding them and the bias: at most t = blocks + 3 roundings, each bounded relative to
    /// Σ|x'|·|w| + |bias| (x' the dequantized activation, |x'| ≤ |x| + s), so the classic γₜ = t·u/(1 − t·u)
    /// bound with u = 2⁻²⁴ applies. fp32 weights skip step 1 and accumulate K products in fp32: t = K + 2.</item>
    /// </list>
    /// The clamp is 1-Lipschitz, so the bound holds after clamping too.
    /// </summary>
    public static double[] Tolerance(float[] input, double[] weights, float[]? bias, int batch, int k, int n, WeightScheme scheme, int blockSize)
    {
        var tolerance = new double[batch * n];
        for (int m = 0; m < batch; m++)
        {
            double step = 0;
            if (scheme != WeightScheme.F32)
            {
                double lo = 0, hi = 0;
                for (int i = 0; i < k; i++)
                {
                    lo = Math.Min(lo, input[(m * k) + i]);
                    hi = Math.Max(hi, input[(m * k) + i]);
                }

                step = (hi - lo) / 255.0;
            }

            int roundings = scheme switch
            {
                WeightScheme.F32 => k + 2,
                WeightScheme.Qb4w => (k / blockSize) + 3,
                _ => 4,
            };
            double gamma = roundings * Fp32UnitRoundoff / (1 - (roundings * Fp32UnitRoundoff));
            for (int j = 0; j < n; j++)
            {
                double sumAbsW = 0, sumAbsXW = 0;
                for (int i = 0; i < k; i++)
                {
                    double w = Math.Abs(weights[(j * k) + i]);
                    sumAbsW += w;
                    sumAbsXW += (Math.Abs(input[(m * k) + i]) + step) * w;
                }

                double absBias = bias is null ? 0 : Math.Abs(bias[j]);
                // The last term is a floor for outputs that are exactly 0 in both.
                tolerance[(m * n) + j] = (step * sumAbsW) + (gamma * (sumAbsXW + absBias)) + 1e-30;
            }
        }

        return tolerance;
    }
}
