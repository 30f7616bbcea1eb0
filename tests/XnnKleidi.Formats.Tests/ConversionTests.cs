using NUnit.Framework;
using XnnKleidi.Formats.Tests.Support;

namespace XnnKleidi.Formats.Tests;

/// <summary>
/// Float and Q8_0 weights handed to LinearWeights: the values the file holds (known here), quantized with the
/// library's public quantizer, whatever the format.
/// </summary>
public class ConversionTests
{
    // [N = 2, K = 32], values exact in fp16 and bf16 alike (at most 8 significant bits, small exponents).
    private static readonly float[] Values = Enumerable.Range(0, 64).Select(i => (i - 31) * 0.125f).ToArray();

    [TestCase("F32", WeightScheme.Qc8w)]
    [TestCase("F16", WeightScheme.Qc4w)]
    [TestCase("BF16", WeightScheme.Qb4w)]
    public void SafetensorsFloatWeight_EqualsTheLibrarysQuantizationOfItsValues(string dtype, WeightScheme scheme)
    {
        byte[] data = dtype switch
        {
            "F32" => TensorBytes.F32(Values),
            "F16" => TensorBytes.F16(Values),
            _ => TensorBytes.BF16(Values),
        };
        using var directory = new TempDirectory();
        using ModelFile file = ModelFile.Open(directory.Write("m.safetensors", new SafetensorsBuilder().Add("fc.weight", dtype, [2, 32], data).Build()));

        WeightConversion conversion = file.ToLinearWeights(file.Tensors[0], scheme);

        LinearWeights expected = LinearWeights.Quantize(Values, 2, 32, scheme);
        Assert.Multiple(() =>
        {
            Assert.That(conversion.Requantized, Is.False);
            Assert.That(conversion.Description, Does.Contain($"quantized to {scheme.ToString().ToLowerInvariant()}"));
            Assert.That(Reference.Dequantize(conversion.Weights), Is.EqualTo(Reference.Dequantize(expected)));
            Assert.That(conversion.Weights.PackedInt4Values.ToArray(), Is.EqualTo(expected.PackedInt4Values.ToArray()));
            Assert.That(conversion.Weights.Int8Values.ToArray(), Is.EqualTo(expected.Int8Values.ToArray()));
        });
    }

    [Test]
    public void F32ToF32_KeepsTheValues()
    {
        using var directory = new TempDirectory();
        using ModelFile file = ModelFile.Open(directory.Write("m.gguf", new GgufBuilder().Tensor("w", GgufBuilder.GgmlF32, [32, 2], TensorBytes.F32(Values)).Build()));

        WeightConversion conversion = file.ToLinearWeights(file.Tensors[0], WeightScheme.F32);

        Assert.That(conversion.Weights.Float32Values.ToArray(), Is.EqualTo(Values));
        Assert.That(conversion.Description, Does.Contain("exact"));
    }

    [Test]
    public void Q8_0Weight_IsDequantizedAndRequantizedAndSaysSo()
    {
        var random = new Random(7);
        sbyte[][] q = [.. Enumerable.Range(0, 4).Select(_ => Enumerable.Range(0, 32).Select(_ => (sbyte)random.Next(-127, 128)).ToArray())];
        ushort[] d = [TensorBytes.Fp16Bits(0.01f), TensorBytes.Fp16Bits(-0.02f), TensorBytes.Fp16Bits(0.5f), TensorBytes.Fp16Bits(0.001f)];
        byte[] data = Enumerable.Range(0, 4).SelectMany(b => TensorBytes.Q8_0Block(d[b], q[b])).ToArray();
        using var directory = new TempDirectory();
        // ne = [64, 2]: two rows of two blocks.
        using ModelFile file = ModelFile.Open(directory.Write("m.gguf", new GgufBuilder().Tensor("w", GgufBuilder.GgmlQ8_0, [64, 2], data).Build()));

        WeightConversion conversion = file.ToLinearWeights(file.Tensors[0], WeightScheme.Qc8w);

        float[] dequantized = Enumerable.Range(0, 4).SelectMany(b => q[b].Select(v => TensorBytes.Fp16Value(d[b]) * v)).ToArray();
        LinearWeights expected = LinearWeights.Quantize(dequantized, 2, 64, WeightScheme.Qc8w);
        Assert.Multiple(() =>
        {
            Assert.That(conversion.Requantized, Is.True);
            Assert.That(conversion.SourceType, Is.EqualTo(TensorType.Q8_0));
            Assert.That(conversion.Description, Does.Contain("Q8_0 dequantized").And.Contain("requantized to qc8w"));
            Assert.That(conversion.Weights.Int8Values.ToArray(), Is.EqualTo(expected.Int8Values.ToArray()));
            Assert.That(conversion.Weights.ChannelScales.ToArray(), Is.EqualTo(expected.ChannelScales.ToArray()));
        });
    }

    [Test]
    public void NonFiniteWeight_IsRefusedNamingTheTensor()
    {
        using var directory = new TempDirectory();
        byte[] data = TensorBytes.F32(1, float.NaN, 3, 4);
        string path = directory.Write("m.safetensors", new SafetensorsBuilder().Add("fc.weight", "F32", [2, 2], data).Build());
        using ModelFile file = ModelFile.Open(path);

        var e = Assert.Throws<ModelFileFormatException>(() => file.ToLinearWeights(file.Tensors[0], WeightScheme.Qc8w));

        Assert.That(e!.TensorName, Is.EqualTo("fc.weight"));
        Assert.That(e.Message, Does.Contain(path).And.Contain("element 1"));
    }

    [Test]
    public void OneDimensionalTensor_IsNotALinearWeight()
    {
        using var directory = new TempDirectory();
        using ModelFile file = ModelFile.Open(directory.Write("m.safetensors", new SafetensorsBuilder().Add("b", "F32", [2], TensorBytes.F32(1, 2)).Build()));

        Assert.Throws<ArgumentException>(() => file.ToLinearWeights(file.Tensors[0], WeightScheme.Qc8w));
    }
}
