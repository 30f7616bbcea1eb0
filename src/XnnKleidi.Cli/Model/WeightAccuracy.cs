using XnnKleidi.Formats;

namespace XnnKleidi.Cli.Model;

/// <summary>One layer's quantization error on the file's own weights.</summary>
/// <param name="Name">The layer.</param>
/// <param name="RelativeError">‖y − y_ref‖₂ / ‖y_ref‖₂ over the rows measured.</param>
/// <param name="ErrorSquares">Σ (y − y_ref)², for the model total.</param>
/// <param name="ReferenceSquares">Σ y_ref², for the model total.</param>
internal sealed record LayerAccuracy(string Name, double RelativeError, double ErrorSquares, double ReferenceSquares);

/// <summary>
/// How much a weight scheme costs in accuracy on a model file's own weights. Each layer gets
/// <see cref="Rows"/> input rows drawn from the standard normal distribution (seeded per layer), about the scale of a
/// transformer's activations after its RMS or layer norm. XnnKleidi runs the layer (packing off: the packed path
/// quantizes activations the same way, one step per row) and the output is compared with the float64 product of
/// the same rows and the file's unquantized weights (F32, F16 and BF16 exactly; Q4_0 and Q8_0 as the file's own
/// dequantized values) plus its bias. The layer's figure is the relative error ‖y − y_ref‖₂ / ‖y_ref‖₂; the model's
/// total is the same ratio over every layer's outputs together, √(Σ‖y − y_ref‖² / Σ‖y_ref‖²).
/// </summary>
internal sealed class WeightAccuracy
{
    /// <summary>Rows per layer: enough to average over inputs, few enough for a float64 product of a large layer.</summary>
    public const int Rows = 8;

    private WeightAccuracy(IReadOnlyList<LayerAccuracy> layers)
    {
        Layers = layers;
        double errors = layers.Sum(layer => layer.ErrorSquares), references = layers.Sum(layer => layer.ReferenceSquares);
        Total = references > 0 ? Math.Sqrt(errors / references) : 0;
    }

    public IReadOnlyList<LayerAccuracy> Layers { get; }

    /// <summary>√(Σ‖y − y_ref‖² / Σ‖y_ref‖²) over every layer.</summary>
    public double Total { get; }

    public static WeightAccuracy Measure(ModelFile file, IReadOnlyList<LinearLayer> sources, ModelWeights weights)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(weights);
        var results = new List<LayerAccuracy>(sources.Count);
        for (int index = 0; index < sources.Count; index++)
        {
            ModelLayer layer = weights.Layers[index];
            float[] input = StandardNormal(Rows * layer.K, weights.CheckInputSeed(index));
            float[] output = new float[Rows * layer.N];
            using (Linear linear = Linear.Create(layer.K, layer.N, weights.Weights[index], weights.Biases[index],
                       options: new LinearOptions { ActivationPacking = ActivationPacking.Off }))
            {
                linear.Run(input, output, Rows);
            }

            // The file's own values, read again one layer at a time so that a large model is never held in fp32.
            float[] original = file.ReadFloat32(sources[index].Weight);
            float[] bias = weights.Biases[index];
            double errorSquares = 0, referenceSquares = 0;
            for (int row = 0; row < Rows; row++)
            {
                ReadOnlySpan<float> x = input.AsSpan(row * layer.K, layer.K);
                for (int n = 0; n < layer.N; n++)
                {
                    ReadOnlySpan<float> w = original.AsSpan(n * layer.K, layer.K);
                    double expected = bias[n];
                    for (int k = 0; k < layer.K; k++)
                    {
                        expected += (double)x[k] * w[k];
                    }

                    double difference = output[(row * layer.N) + n] - expected;
                    errorSquares += difference * difference;
                    referenceSquares += expected * expected;
                }
            }

            double relative = referenceSquares > 0 ? Math.Sqrt(errorSquares / referenceSquares) : Math.Sqrt(errorSquares);
            results.Add(new LayerAccuracy(layer.Name, relative, errorSquares, referenceSquares));
        }

        return new WeightAccuracy(results);
    }

    /// <summary>Standard normal values from a seed (Box–Muller over .NET's seeded generator).</summary>
    private static float[] StandardNormal(int count, int seed)
    {
        var random = new Random(seed);
        float[] values = new float[count];
        for (int i = 0; i < count; i += 2)
        {
            double radius = Math.Sqrt(-2.0 * Math.Log(1.0 - random.NextDouble()));
            double angle = 2.0 * Math.PI * random.NextDouble();
            values[i] = (float)(radius * Math.Cos(angle));
            if (i + 1 < count)
            {
                values[i + 1] = (float)(radius * Math.Sin(angle));
            }
        }

        return values;
    }
}
