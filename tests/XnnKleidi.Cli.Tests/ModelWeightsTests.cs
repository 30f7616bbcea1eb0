using NUnit.Framework;
using XnnKleidi.Cli.Model;

namespace XnnKleidi.Cli.Tests;

/// <summary>
/// A model's generated weights are quantized a chunk of rows at a time, so that a large head never exists in fp32 at
/// once; they must be exactly what quantizing the whole matrix of the same draws gives.
/// </summary>
public class ModelWeightsTests
{
    [TestCase(WeightScheme.Qc8w, 96)]
    [TestCase(WeightScheme.Qc4w, 97)]
    [TestCase(WeightScheme.Qb4w, 96)]
    public void GenerateLayer_InChunks_EqualsTheWholeMatrixQuantizedAtOnce(WeightScheme scheme, int k)
    {
        // 2,500 rows: two whole chunks of 1,024 and a partial one.
        var layer = new ModelLayer("test.layer", 1, k, 2500, 1);
        const int Seed = 77;

        LinearWeights chunked = ModelWeights.GenerateLayer(new Random(Seed), layer, scheme, 32);

        var random = new Random(Seed);
        float bound = MathF.Sqrt(3.0f / k);
        float[] whole = new float[layer.N * k];
        for (int i = 0; i < whole.Length; i++)
        {
            whole[i] = bound * ((2.0f * random.NextSingle()) - 1.0f);
        }

        LinearWeights expected = LinearWeights.Quantize(whole, layer.N, k, scheme, 32);
        Assert.Multiple(() =>
        {
            Assert.That(chunked.Scheme, Is.EqualTo(scheme));
            Assert.That(chunked.OutputChannels, Is.EqualTo(layer.N));
            Assert.That(chunked.InputChannels, Is.EqualTo(k));
            Assert.That(chunked.Int8Values.ToArray(), Is.EqualTo(expected.Int8Values.ToArray()));
            Assert.That(chunked.PackedInt4Values.ToArray(), Is.EqualTo(expected.PackedInt4Values.ToArray()));
            Assert.That(chunked.ChannelScales.ToArray(), Is.EqualTo(expected.ChannelScales.ToArray()));
            Assert.That(chunked.BlockScalesBf16.ToArray(), Is.EqualTo(expected.BlockScalesBf16.ToArray()));
        });
    }
}
