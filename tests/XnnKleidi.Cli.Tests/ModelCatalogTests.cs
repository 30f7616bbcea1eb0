using NUnit.Framework;
using XnnKleidi.Cli.Bench;
using XnnKleidi.Cli.Model;

namespace XnnKleidi.Cli.Tests;

/// <summary>The models' layer lists: ViT-B/16 as published (written out here), and every model against its preset's counts.</summary>
public class ModelCatalogTests
{
    [Test]
    public void VitB16_IsThePatchEmbeddingTwelveBlocksAndTheHead_InForwardOrder()
    {
        IReadOnlyList<ModelLayer> layers = ModelCatalog.Get("vit-b16");

        Assert.That(layers, Has.Count.EqualTo(1 + (12 * 4) + 1));
        Assert.That(layers[0], Is.EqualTo(new ModelLayer("conv_proj", 196, 768, 768)));
        for (int block = 0; block < 12; block++)
        {
            string prefix = $"encoder.layers.encoder_layer_{block}.";
            Assert.That(layers.Skip(1 + (4 * block)).Take(4), Is.EqualTo(new[]
            {
                new ModelLayer(prefix + "self_attention.in_proj", 197, 768, 2304),
                new ModelLayer(prefix + "self_attention.out_proj", 197, 768, 768),
                new ModelLayer(prefix + "mlp.0", 197, 768, 3072),
                new ModelLayer(prefix + "mlp.3", 197, 3072, 768),
            }));
        }

        Assert.That(layers[^1], Is.EqualTo(new ModelLayer("heads.head", 1, 768, 1000)));
    }

    [Test]
    public void VitB16_Qc8wWeights_HoldOneByteAWeightAndAFloatScaleAChannel()
    {
        // 768x768 + 12 x (768x2304 + 768x768 + 768x3072 + 3072x768) + 768x1000 int8 weights, one fp32 scale per output.
        const long Weights = (768L * 768) + (12L * ((768 * 2304) + (768 * 768) + (768 * 3072) + (3072 * 768))) + (768 * 1000);
        const long Scales = 4L * (768 + (12 * (2304 + 768 + 3072 + 768)) + 1000);

        long bytes = ModelCatalog.Get("vit-b16").Sum(layer => layer.WeightBytes(WeightScheme.Qc8w, 32));

        Assert.That(bytes, Is.EqualTo(Weights + Scales));
        Assert.That(bytes / 1e6, Is.EqualTo(86.6).Within(0.05), "the figure docs/model-runs.md gives");
    }

    [TestCase("vit-b16")]
    [TestCase("w2l")]
    [TestCase("emformer")]
    [TestCase("mobilebert")]
    public void EveryPresetShape_OccursAsOftenAsThePresetCounts(string model)
    {
        var calls = ModelCatalog.Get(model)
            .GroupBy(layer => (layer.M, layer.K, layer.N))
            .ToDictionary(group => group.Key, group => group.Sum(layer => layer.CallsPerPass));
        // The presets name a shape once with its count; the overhead probe is not a layer of the model, and
        // MobileBERT's pooler has no dense layer in google/mobilebert-uncased (classifier_activation is false).
        var expected = Presets.Get(model)
            .Where(shape => shape.Count > 0 && !(model == "mobilebert" && shape.Layer == "pooler.dense"))
            .GroupBy(shape => (shape.M, shape.K, shape.N))
            .ToDictionary(group => group.Key, group => group.Sum(shape => shape.Count));

        Assert.That(calls, Is.EquivalentTo(expected));
    }

    [Test]
    public void Qb4w_IsRefusedForAModelWithAKThatIsNoMultipleOfTheBlock()
    {
        string? reason = ModelWeights.Unsupported(ModelCatalog.Get("w2l"), WeightScheme.Qb4w, 32);

        Assert.That(reason, Does.Contain("acoustic_model.0").And.Contain("K = 250"));
        Assert.That(ModelWeights.Unsupported(ModelCatalog.Get("vit-b16"), WeightScheme.Qb4w, 32), Is.Null);
    }
}
