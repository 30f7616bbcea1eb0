using System.Numerics;

namespace XnnKleidi.Oracle;

/// <summary>
/// An independent float64 model of a linear layer: it dequantizes the stored weights itself (from the layout
/// documented on <see cref="LinearWeights"/>, not through the library) and multiplies in double precision.
/// </summary>
public static class Reference
{
    private const double Fp32UnitRoundoff = 1.0 / (1 << 24); // 2^-24, half an ulp of 1 in fp32

    /// <summary>What the quantized weights stand for, [N, K] row-major.</summary>
    public static double[] Dequantize(LinearWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
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

    /// <summary>The value of a bfloat16: the upper 16 bits of an fp32.</summary>
    public static double Bf16(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>The activation quantization of XNNPACK (and KleidiAI) for <paramref name="scheme"/> weights.</summary>
    public static ActivationQuantization ActivationQuantizationOf(WeightScheme scheme) =>
        scheme == WeightScheme.F32 ? ActivationQuantization.None : ActivationQuantization.PerRow;

    /// <summary>output[m, n] = clamp(Σₖ x[m, k]·w[n, k] + bias[n]) in float64.</summary>
    public static double[] Linear(float[] input, double[] weights, float[]? bias, int batch, int k, int n, float min, float max)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weights);
        var output = new double[batch * n];
        // Rows in parallel: `bench --check` runs this on every preset, up to 197 x 3072 x 3072.
        Parallel.For(0, batch, m =>
        {
            double[] row = Row(input, m, k, absolute: false);
            for (int j = 0; j < n; j++)
            {
                double sum = bias is null ? 0 : bias[j];
                sum += Dot(row, new ReadOnlySpan<double>(weights, j * k, k));
                output[(m * n) + j] = Math.Clamp(sum, min, max);
            }
        });

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
    public static double[] Tolerance(float[] input, double[] weights, float[]? bias, int batch, int k, int n, WeightScheme scheme, int blockSize) =>
        Tolerance(input, weights, bias, batch, k, n, scheme, blockSize, ActivationQuantizationOf(scheme));

    /// <summary>
    /// The bound of <see cref="Tolerance(float[], double[], float[], int, int, int, WeightScheme, int)"/> for a runtime
    /// that quantizes the activations another way (ONNX Runtime's operators). Only the step s changes, and the
    /// argument of step 1 holds for each: one asymmetric uint8 scale for the tensor (a step of its range / 255, a
    /// rounded zero point) again leaves every activation within one step; symmetric int8 blocks have the step
    /// max|x| / 127 at most and round to within half of it. Blockwise activation scales add per block the
    /// rescaling of that block's sum, which t = blocks + 3 already counts for qb4w weights; one more rounding covers
    /// multiplying the activation scale into the weight scale.
    /// </summary>
    public static double[] Tolerance(
        float[] input, double[] weights, float[]? bias, int batch, int k, int n, WeightScheme scheme, int blockSize, ActivationQuantization activations)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weights);
        var tolerance = new double[batch * n];
        double tensorStep = activations == ActivationQuantization.PerTensor ? RangeStep(input, 0, input.Length) : 0;
        int roundings = scheme switch
        {
            WeightScheme.F32 => k + 2,
            WeightScheme.Qb4w => (k / blockSize) + 3,
            _ => 4,
        };
        if (activations == ActivationQuantization.SymmetricPerBlock)
        {
            roundings = Math.Max(roundings, ((k + blockSize - 1) / blockSize) + 3) + 1;
        }

        double gamma = roundings * Fp32UnitRoundoff / (1 - (roundings * Fp32UnitRoundoff));
        var sumAbsW = new double[n];
        for (int j = 0; j < n; j++)
        {
            double sum = 0;
            for (int i = 0; i < k; i++)
            {
                sum += Math.Abs(weights[(j * k) + i]);
            }

            sumAbsW[j] = sum;
        }

        Parallel.For(0, batch, m =>
        {
            double step = activations switch
            {
                ActivationQuantization.PerRow => RangeStep(input, m * k, k),
                ActivationQuantization.PerTensor => tensorStep,
                ActivationQuantization.SymmetricPerBlock => MaxAbs(input, m * k, k) / 127.0,
                _ => 0,
            };
            double[] absRow = Row(input, m, k, absolute: true);
            var absWeights = new double[k];
            for (int j = 0; j < n; j++)
            {
                for (int i = 0; i < k; i++)
                {
                    absWeights[i] = Math.Abs(weights[(j * k) + i]);
                }

                // Σ (|x| + s)·|w| = Σ |x|·|w| + s·Σ |w|.
                double sumAbsXW = Dot(absRow, absWeights) + (step * sumAbsW[j]);
                double absBias = bias is null ? 0 : Math.Abs(bias[j]);
                // The last term is a floor for outputs that are exactly 0 in both.
                tolerance[(m * n) + j] = (step * sumAbsW[j]) + (gamma * (sumAbsXW + absBias)) + 1e-30;
            }
        });

        return tolerance;
    }

    /// <summary>(max(0, max x) − min(0, min x)) / 255 over <paramref name="count"/> values: an asymmetric 8-bit step.</summary>
    private static double RangeStep(float[] values, int start, int count)
    {
        double lo = 0, hi = 0;
        for (int i = start; i < start + count; i++)
        {
            lo = Math.Min(lo, values[i]);
            hi = Math.Max(hi, values[i]);
        }

        return (hi - lo) / 255.0;
    }

    private static double MaxAbs(float[] values, int start, int count)
    {
        double max = 0;
        for (int i = start; i < start + count; i++)
        {
            max = Math.Max(max, Math.Abs((double)values[i]));
        }

        return max;
    }

    private static double[] Row(float[] input, int m, int k, bool absolute)
    {
        var row = new double[k];
        for (int i = 0; i < k; i++)
        {
            double value = input[(m * k) + i];
            row[i] = absolute ? Math.Abs(value) : value;
        }

        return row;
    }

    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        int width = Vector<double>.Count;
        Vector<double> sum = Vector<double>.Zero;
        int i = 0;
        for (; i + width <= a.Length; i += width)
        {
            sum += new Vector<double>(a.Slice(i, width)) * new Vector<double>(b.Slice(i, width));
        }

        double result = Vector.Sum(sum);
        for (; i < a.Length; i++)
        {
            result += a[i] * b[i];
        }

        return result;
    }
}
