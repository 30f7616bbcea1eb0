using NUnit.Framework;
using XnnKleidi.Formats.Tests.Support;

namespace XnnKleidi.Formats.Tests;

/// <summary>safetensors files written by the tests from the format's description, read back to known values.</summary>
public class SafetensorsReaderTests
{
    [Test]
    public void F32Tensor_ReadsItsValuesShapeAndPlace()
    {
        using var directory = new TempDirectory();
        float[] values = [1.5f, -2.25f, 3e-8f, 1e20f, 0f, -0f];
        var builder = new SafetensorsBuilder().Add("layer.weight", "F32", [2, 3], TensorBytes.F32(values));
        string path = directory.Write("model.safetensors", builder.Build());

        using ModelFile file = ModelFile.Open(path);

        TensorInfo tensor = file.Tensors.Single();
        Assert.Multiple(() =>
        {
            Assert.That(file, Is.TypeOf<SafetensorsFile>());
            Assert.That(tensor.Name, Is.EqualTo("layer.weight"));
            Assert.That(tensor.Type, Is.EqualTo(TensorType.F32));
            Assert.That(tensor.Shape, Is.EqualTo(new long[] { 2, 3 }));
            Assert.That(tensor.Offset, Is.EqualTo(builder.DataStart));
            Assert.That(tensor.ByteLength, Is.EqualTo(24));
            Assert.That(file.ReadFloat32(tensor), Is.EqualTo(values));
        });
    }

    [Test]
    public void F16Tensor_ReadsExactValues()
    {
        using var directory = new TempDirectory();
        // fp16's largest finite value, its smallest subnormal and ordinary values: each exact in fp16.
        float[] values = [65504f, MathF.ScaleB(1f, -24), -0.5f, 1000.5f];
        string path = directory.Write("m.safetensors", new SafetensorsBuilder().Add("w", "F16", [4], TensorBytes.F16(values)).Build());

        using ModelFile file = ModelFile.Open(path);

        Assert.That(file.ReadFloat32(file.Tensors[0]), Is.EqualTo(values));
    }

    [Test]
    public void BF16Tensor_ReadsExactValues()
    {
        using var directory = new TempDirectory();
        // bf16 keeps fp32's exponent range: 2^100 and 2^-100 are exact, as are values of 8 significant bits.
        float[] values = [MathF.ScaleB(1f, 100), MathF.ScaleB(1f, -100), -1.5f, 255f];
        string path = directory.Write("m.safetensors", new SafetensorsBuilder().Add("w", "BF16", [2, 2], TensorBytes.BF16(values)).Build());

        using ModelFile file = ModelFile.Open(path);

        Assert.That(file.ReadFloat32(file.Tensors[0]), Is.EqualTo(values));
    }

    [Test]
    public void SeveralTensors_AreListedInHeaderOrderAtTheirOffsets()
    {
        using var directory = new TempDirectory();
        var builder = new SafetensorsBuilder()
            .Metadata("format", "pt")
            .Add("b", "F16", [3], TensorBytes.F16(1, 2, 3))
            .Add("a", "F32", [1, 2], TensorBytes.F32(4, 5));
        string path = directory.Write("m.safetensors", builder.Build());

        using var file = SafetensorsFile.Open(path);

        Assert.Multiple(() =>
        {
            Assert.That(file.Tensors.Select(t => t.Name), Is.EqualTo(new[] { "b", "a" }));
            Assert.That(file.Tensors.Select(t => t.Offset), Is.EqualTo(new[] { builder.DataStart, builder.DataStart + 6 }));
            Assert.That(file.Metadata["format"], Is.EqualTo("pt"));
            Assert.That(file.ReadFloat32(file.Find("a")!), Is.EqualTo(new[] { 4f, 5f }));
        });
    }

    [Test]
    public void ListedButNotConvertedType_IsListedAndRefusedOnConversion()
    {
        using var directory = new TempDirectory();
        string path = directory.Write("m.safetensors", new SafetensorsBuilder().Add("ids", "I64", [2], new byte[16]).Build());

        using ModelFile file = ModelFile.Open(path);

        Assert.That(file.Tensors[0].Type, Is.EqualTo(TensorType.I64));
        Assert.Throws<NotSupportedException>(() => file.ReadFloat32(file.Tensors[0]));
    }
}
