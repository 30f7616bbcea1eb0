using XnnKleidi.Oracle;

namespace XnnKleidi.Cli.Bench;

/// <summary>
/// The float64 reference of one benchmark layer and its error bound, both from XnnKleidi.Oracle (the oracle of the
/// library's own tests). The weights it judges are <see cref="BenchData.CreateWeights"/>, the very ones the layer
/// under test is given. The bound is computed once per activation quantization asked for: XnnKleidi's cases use
/// XNNPACK's per-row quantization, ONNX Runtime's its own.
/// </summary>
internal sealed class LayerReference
{
    private readonly BenchData data;
    private readonly double[] weights;
    private readonly double[] expected;
    private readonly Dictionary<ActivationQuantization, double[]> tolerances = [];

    public LayerReference(BenchData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        this.data = data;
        weights = Reference.Dequantize(data.CreateWeights());
        expected = Reference.Linear(data.Input, weights, data.Bias, data.M, data.K, data.N, float.NegativeInfinity, float.PositiveInfinity);
    }

    public double Expected(int m, int n) => expected[(m * data.N) + n];

    public double Tolerance(int m, int n, ActivationQuantization quantization) => Tolerances(quantization)[(m * data.N) + n];

    /// <summary>Compares an M x N output with the reference, every element within its own bound.</summary>
    public CheckResult Check(ReadOnlySpan<float> output, ActivationQuantization quantization) =>
        CheckResult.Compare(output, expected, Tolerances(quantization), data.N);

    /// <summary>The largest |output − other| over the bound of <paramref name="quantization"/>: how far apart two outputs are, in bounds.</summary>
    public double WorstRatioTo(ReadOnlySpan<float> output, float[] other, ActivationQuantization quantization)
    {
        ArgumentNullException.ThrowIfNull(other);
        return CheckResult.Compare(output, [.. other.Select(value => (double)value)], Tolerances(quantization), data.N).WorstRatio;
    }

    private double[] Tolerances(ActivationQuantization quantization)
    {
        // The engine checks one group at a time from one thread, so a plain dictionary is enough.
        if (!tolerances.TryGetValue(quantization, out double[]? tolerance))
        {
            tolerance = Reference.Tolerance(
                data.Input, weights, data.Bias, data.M, data.K, data.N, data.Scheme, data.BlockSize, quantization);
            tolerances[quantization] = tolerance;
        }

        return tolerance;
    }
}
