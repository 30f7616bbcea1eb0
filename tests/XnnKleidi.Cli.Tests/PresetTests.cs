using NUnit.Framework;
using XnnKleidi.Cli.Bench;

namespace XnnKleidi.Cli.Tests;

public class PresetTests
{
    [TestCase("197x768x3072", 197, 768, 3072)]
    [TestCase("1X768X768", 1, 768, 768)]
    [TestCase(" 8*512*128 ", 8, 512, 128)]
    public void ParseShape_WellFormed_GivesMKN(string text, int m, int k, int n)
    {
        var shape = Presets.ParseShape(text, out string? error);
        Assert.That(error, Is.Null);
        Assert.That((shape!.M, shape.K, shape.N), Is.EqualTo((m, k, n)));
    }

    [TestCase("197x768")]
    [TestCase("0x768x768")]
    [TestCase("-1x2x3")]
    [TestCase("ax2x3")]
    [TestCase("1x2x3x4")]
    [TestCase("100000x100000x1")]
    public void ParseShape_Malformed_SaysWhy(string text)
    {
        var shape = Presets.ParseShape(text, out string? error);
        Assert.That(shape, Is.Null);
        Assert.That(error, Does.Contain(text.Trim()).Or.Contain("too large"));
    }

    // Published configurations: ViT-B/16 hidden 768, MLP 3072, 197 tokens (Dosovitskiy et al., Table 1).
    [Test]
    public void VitB16_HasTheTransformerLayersOfThePaper()
    {
        var shapes = Presets.Get(Presets.VitB16).Select(s => (s.M, s.K, s.N)).ToList();
        Assert.That(shapes, Does.Contain((197, 768, 2304)));
        Assert.That(shapes, Does.Contain((197, 768, 768)));
        Assert.That(shapes, Does.Contain((197, 768, 3072)));
        Assert.That(shapes, Does.Contain((197, 3072, 768)));
    }

    [Test]
    public void EveryPreset_HasOnlyPositiveShapes_AndNamesTheModel()
    {
        foreach (string name in Presets.Names)
        {
            var layers = Presets.Get(name);
            Assert.That(layers, Is.Not.Empty, name);
            Assert.That(layers.All(l => l.M > 0 && l.K > 0 && l.N > 0 && l.Model == name), name);
        }
    }

    [Test]
    public void Wav2Letter_ConvolutionsSayTheyAreNotPlainLinears()
    {
        Assert.That(Presets.Get(Presets.Wav2Letter).All(l => l.Note != null && l.Note.Contains("Conv1d", StringComparison.Ordinal)));
    }
}
