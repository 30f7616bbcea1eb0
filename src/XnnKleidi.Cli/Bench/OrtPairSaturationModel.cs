namespace XnnKleidi.Cli.Bench;

/// <summary>
/// ONNX Runtime's DynamicQuantizeMatMul on qc8w weights written as integer arithmetic, twice: with the u8·s8 products
/// of neighbouring inputs (k, k + 1) summed exactly, as a VNNI dot product does in int32, and with each such pair
/// saturated to int16, as AVX2's vpmaddubsw does. Activations are quantized as DynamicQuantizeLinear specifies (one
/// uint8 scale and zero point for the tensor, rounding half to even); the zero point is taken out afterwards with
/// the weights' column sums. Which model ONNX Runtime's output matches tells, in the run, whether its kernel saturated.
/// </summary>
internal static class OrtPairSaturationModel
{
    public static float[] Output(BenchData data, bool saturatePairs)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Scheme != WeightScheme.Qc8w)
        {
            throw new InvalidOperationException("the model is of DynamicQuantizeMatMul with int8 weights");
        }

        int m = data.M, k = data.K, n = data.N;
        float low = Math.Min(0f, data.Input.Min()), high = Math.Max(0f, data.Input.Max());
        float scale = (high - low) / 255f;
        int zeroPoint = scale == 0 ? 0 : (int)Math.Clamp(Math.Round(-low / scale, MidpointRounding.ToEven), 0, 255);
        int[] activations = new int[m * k];
        for (int i = 0; i < activations.Length; i++)
        {
            activations[i] = scale == 0 ? zeroPoint
                : (int)Math.Clamp(Math.Round(data.Input[i] / scale, MidpointRounding.ToEven) + zeroPoint, 0, 255);
        }

        float[] output = new float[m * n];
        sbyte[] weights = data.Qc8wWeights;
        Parallel.For(0, n, column =>
        {
            ReadOnlySpan<sbyte> w = weights.AsSpan(column * k, k);
            long columnSum = 0;
            foreach (sbyte value in w)
            {
                columnSum += value;
            }

            for (int row = 0; row < m; row++)
            {
                ReadOnlySpan<int> a = activations.AsSpan(row * k, k);
                long sum = 0;
                for (int i = 0; i < k; i += 2)
                {
                    int pair = a[i] * w[i] + (i + 1 < k ? a[i + 1] * w[i + 1] : 0);
                    sum += saturatePairs ? Math.Clamp(pair, short.MinValue, short.MaxValue) : pair;
                }

                output[(row * n) + column] = (float)((double)scale * data.ChannelScales[column] * (sum - (zeroPoint * columnSum)) + data.Bias[column]);
            }
        });
        return output;
    }

    /// <summary>
    /// Which model <paramref name="ortOutput"/> follows, in one sentence: the worst distance to each model in units of
    /// ONNX Runtime's error bound.
    /// </summary>
    public static string Diagnose(BenchData data, LayerReference reference, ReadOnlySpan<float> ortOutput)
    {
        ArgumentNullException.ThrowIfNull(reference);
        double exact = reference.WorstRatioTo(ortOutput, Output(data, saturatePairs: false), Oracle.ActivationQuantization.PerTensor);
        double saturating = reference.WorstRatioTo(ortOutput, Output(data, saturatePairs: true), Oracle.ActivationQuantization.PerTensor);
        string verdict = saturating < exact ? "follows the model whose u8*s8 pairs saturate to int16 (AVX2 vpmaddubsw)"
            : "follows the model with exact int32 pair sums (no int16 saturation)";
        return FormattableString.Invariant(
            $"{verdict}: worst distance to it x{Math.Min(exact, saturating):0.000} of the bound, to the other x{Math.Max(exact, saturating):0.000}");
    }
}
