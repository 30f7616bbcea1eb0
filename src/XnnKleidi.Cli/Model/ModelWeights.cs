using XnnKleidi.Formats;

namespace XnnKleidi.Cli.Model;

/// <summary>
/// A model's layers with their own random weights, generated from a seed: the model's shapes and byte sizes, not its
/// numerics. Each layer's weights are uniform in ±√(3/K), so a layer keeps the variance of its input (Var w = 1/K, as
/// a trained layer roughly does): the forward pass feeds each layer the previous one's output, and activations that
/// grew by √K a layer would overflow within the pass.
/// </summary>
internal sealed class ModelWeights
{
    private ModelWeights(string model, IReadOnlyList<ModelLayer> layers, WeightScheme scheme, int blockSize, uint seed,
        IReadOnlyList<LinearWeights> weights, IReadOnlyList<float[]> biases)
    {
        Model = model;
        Layers = layers;
        Scheme = scheme;
        BlockSize = blockSize;
        Seed = seed;
        Weights = weights;
        Biases = biases;
    }

    public string Model { get; }

    public IReadOnlyList<ModelLayer> Layers { get; }

    public WeightScheme Scheme { get; }

    public int BlockSize { get; }

    public uint Seed { get; }

    /// <summary>One set of weights per layer, in forward order; every runtime of the run builds from these.</summary>
    public IReadOnlyList<LinearWeights> Weights { get; }

    public IReadOnlyList<float[]> Biases { get; }

    public long WeightBytes => Layers.Sum(layer => layer.WeightBytes(Scheme, BlockSize));

    /// <summary>
    /// The same weights for <paramref name="layers"/>, the same layers at another M (a prefill and a decode of one
    /// model); null when any layer differs in name, K or N.
    /// </summary>
    public ModelWeights? WithLayers(IReadOnlyList<ModelLayer> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        bool same = layers.Count == Layers.Count
            && layers.Zip(Layers).All(pair => pair.First.Name == pair.Second.Name && pair.First.K == pair.Second.K && pair.First.N == pair.Second.N);
        return same ? new ModelWeights(Model, layers, Scheme, BlockSize, Seed, Weights, Biases) : null;
    }

    /// <summary>Why <paramref name="scheme"/> cannot hold every layer of <paramref name="layers"/>, or null.</summary>
    public static string? Unsupported(IReadOnlyList<ModelLayer> layers, WeightScheme scheme, int blockSize)
    {
        ArgumentNullException.ThrowIfNull(layers);
        ModelLayer? misfit = scheme switch
        {
            WeightScheme.Qb4w => layers.FirstOrDefault(layer => layer.K % blockSize != 0),
            WeightScheme.Qc4w => layers.FirstOrDefault(layer => layer.K % 2 != 0),
            _ => null,
        };
        return misfit == null ? null
            : scheme == WeightScheme.Qb4w
                ? $"qb4w needs every K to be a multiple of the block size ({blockSize}); {misfit.Name} has K = {misfit.K}"
                : $"qc4w packs two weights per byte and needs an even K; {misfit.Name} has K = {misfit.K}";
    }

    public static ModelWeights Generate(string model, IReadOnlyList<ModelLayer> layers, WeightScheme scheme, int blockSize, uint seed)
    {
        ArgumentNullException.ThrowIfNull(layers);
        var weights = new LinearWeights[layers.Count];
        var biases = new float[layers.Count][];
        // Layers are independent, so they are generated and quantized in parallel; each from its own seed, so the
        // result does not depend on the order.
        Parallel.For(0, layers.Count, index =>
        {
            ModelLayer layer = layers[index];
            var random = new Random(LayerSeed(seed, index));
            weights[index] = GenerateLayer(random, layer, scheme, blockSize);
            float[] bias = new float[layer.N];
            for (int i = 0; i < bias.Length; i++)
            {
                bias[i] = 0.1f * ((2.0f * random.NextSingle()) - 1.0f);
            }

            biases[index] = bias;
        });
        return new ModelWeights(model, layers, scheme, blockSize, seed, weights, biases);
    }

    /// <summary>Output channels generated and quantized at a time: a head of 128,256 × 2,048 would need 1 GiB of fp32 at once.</summary>
    private const int RowsPerChunk = 1024;

    /// <summary>
    /// One layer's weights, uniform in ±√(3/K), drawn row after row from <paramref name="random"/> and quantized a chunk
    /// of rows at a time. Every scheme quantizes each output channel on its own (one scale per channel, or per block of
    /// a channel), so the chunks give exactly the weights the whole matrix would, without its fp32 copy.
    /// </summary>
    internal static LinearWeights GenerateLayer(Random random, ModelLayer layer, WeightScheme scheme, int blockSize)
    {
        float bound = MathF.Sqrt(3.0f / layer.K);
        int rowBytes = (layer.K + 1) / 2;
        int blocksPerRow = scheme == WeightScheme.Qb4w ? layer.K / blockSize : 0;
        sbyte[] int8 = scheme == WeightScheme.Qc8w ? new sbyte[(long)layer.N * layer.K] : [];
        byte[] int4 = scheme is WeightScheme.Qc4w or WeightScheme.Qb4w ? new byte[(long)layer.N * rowBytes] : [];
        float[] channelScales = scheme is WeightScheme.Qc8w or WeightScheme.Qc4w ? new float[layer.N] : [];
        ushort[] blockScales = new ushort[layer.N * blocksPerRow];
        float[] chunk = new float[Math.Min(layer.N, RowsPerChunk) * layer.K];
        for (int first = 0; first < layer.N; first += RowsPerChunk)
        {
            int rows = Math.Min(RowsPerChunk, layer.N - first);
            Span<float> values = chunk.AsSpan(0, rows * layer.K);
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = bound * ((2.0f * random.NextSingle()) - 1.0f);
            }

            LinearWeights part = LinearWeights.Quantize(values, rows, layer.K, scheme, blockSize);
            switch (scheme)
            {
                case WeightScheme.Qc8w:
                    part.Int8Values.Span.CopyTo(int8.AsSpan(first * layer.K));
                    part.ChannelScales.Span.CopyTo(channelScales.AsSpan(first));
                    break;
                case WeightScheme.Qc4w:
                    part.PackedInt4Values.Span.CopyTo(int4.AsSpan(first * rowBytes));
                    part.ChannelScales.Span.CopyTo(channelScales.AsSpan(first));
                    break;
                case WeightScheme.Qb4w:
                    part.PackedInt4Values.Span.CopyTo(int4.AsSpan(first * rowBytes));
                    part.BlockScalesBf16.Span.CopyTo(blockScales.AsSpan(first * blocksPerRow));
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(scheme), scheme, "model runs quantize their weights");
            }
        }

        return scheme switch
        {
            WeightScheme.Qc8w => LinearWeights.FromQc8w(int8, channelScales, layer.N, layer.K),
            WeightScheme.Qc4w => LinearWeights.FromQc4w(int4, channelScales, layer.N, layer.K),
            _ => LinearWeights.FromQb4w(int4, blockScales, layer.N, layer.K, blockSize),
        };
    }

    /// <summary>
    /// The weights and biases of a model file's layers, converted to <paramref name="scheme"/>, and one line per kind of
    /// conversion saying what it kept and what it lost (fp16 scales rounded to bf16, Q8_0 requantized, …).
    /// </summary>
    public static (ModelWeights Weights, IReadOnlyList<string> Conversions) FromFile(
        ModelFile file, IReadOnlyList<LinearLayer> sources, IReadOnlyList<ModelLayer> layers, WeightScheme scheme, int blockSize, uint seed)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(layers);
        var weights = new LinearWeights[layers.Count];
        var biases = new float[layers.Count][];
        var conversions = new WeightConversion[layers.Count];
        for (int index = 0; index < layers.Count; index++)
        {
            conversions[index] = file.ToLinearWeights(sources[index].Weight, scheme, blockSize);
            weights[index] = conversions[index].Weights;
            biases[index] = file.ReadBias(sources[index]) ?? new float[layers[index].N];
        }

        var lines = conversions
            .GroupBy(conversion => conversion.Description)
            .Select(group => FormattableString.Invariant($"{group.Count()} layer(s): {group.Key}") + Lost(group.ToList()))
            .ToList();
        return (new ModelWeights(file.Path, layers, scheme, blockSize, seed, weights, biases), lines);
    }

    /// <summary>What a group of conversions lost, in figures: scale rounding, blocks requantized, the largest weight error.</summary>
    private static string Lost(IReadOnlyList<WeightConversion> group)
    {
        double scaleError = group.Max(conversion => conversion.MaxScaleRelativeError);
        long requantized = group.Sum(conversion => conversion.RequantizedBlocks);
        long carried = group.Sum(conversion => conversion.CarriedBlocks);
        var parts = new List<string>();
        if (scaleError > 0)
        {
            parts.Add(FormattableString.Invariant($"scales rounded by at most {100 * scaleError:0.###} %"));
        }

        if (carried + requantized > 0)
        {
            parts.Add(FormattableString.Invariant($"{carried} blocks carried as they are, {requantized} requantized"));
        }

        return parts.Count == 0 ? "" : " (" + string.Join("; ", parts) + ")";
    }

    /// <summary>Uniform values in [-1, 1) from a seed: the model's input, or a layer's own input for --check.</summary>
    public static void FillUniform(Span<float> destination, int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = (2.0f * random.NextSingle()) - 1.0f;
        }
    }

    /// <summary>The seed of the input that --check gives layer <paramref name="index"/>.</summary>
    public int CheckInputSeed(int index) => LayerSeed(Seed, index) ^ 0x5EED;

    public int ModelInputSeed => LayerSeed(Seed, -1);

    // A fixed mix (HashCode.Combine is randomized per process, and the weights must repeat from run to run).
    private static int LayerSeed(uint seed, int index) =>
        (int)(unchecked((seed * 2654435761u) ^ ((uint)(index + 2) * 2246822519u)) & int.MaxValue);
}
