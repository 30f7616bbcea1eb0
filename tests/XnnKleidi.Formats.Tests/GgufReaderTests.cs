using NUnit.Framework;
using XnnKleidi.Formats.Tests.Support;

namespace XnnKleidi.Formats.Tests;

/// <summary>GGUF files written by the tests from the format's description, read back to known values.</summary>
public class GgufReaderTests
{
    [Test]
    public void F32Tensor_HasItsDimensionsReversedAndItsValues()
    {
        using var directory = new TempDirectory();
        // ne = [3, 2]: rows of 3 (K), 2 rows (N); outermost first that is [2, 3].
        float[] values = [1, 2, 3, 4, 5, -6.5f];
        var builder = new GgufBuilder().Tensor("blk.0.ffn_up.weight", GgufBuilder.GgmlF32, [3, 2], TensorBytes.F32(values));
        string path = directory.Write("m.gguf", builder.Build());

        using ModelFile file = ModelFile.Open(path);

        TensorInfo tensor = file.Tensors.Single();
        Assert.Multiple(() =>
        {
            Assert.That(file, Is.TypeOf<GgufFile>());
            Assert.That(tensor.Shape, Is.EqualTo(new long[] { 2, 3 }));
            Assert.That(tensor.Offset, Is.EqualTo(builder.DataStart));
            Assert.That(tensor.ByteLength, Is.EqualTo(24));
            Assert.That(file.ReadFloat32(tensor), Is.EqualTo(values));
        });
    }

    [Test]
    public void F16AndBF16Tensors_ReadExactValues()
    {
        using var directory = new TempDirectory();
        float[] halves = [0.0999755859375f, -65504f, MathF.ScaleB(1f, -14), 2f];
        float[] brains = [MathF.ScaleB(1f, -120), 3.140625f, -1f, MathF.ScaleB(1.5f, 33)];
        string path = directory.Write("m.gguf", new GgufBuilder()
            .Tensor("h", GgufBuilder.GgmlF16, [4], TensorBytes.F16(halves))
            .Tensor("b", GgufBuilder.GgmlBF16, [2, 2], TensorBytes.BF16(brains))
            .Build());

        using ModelFile file = ModelFile.Open(path);

        Assert.Multiple(() =>
        {
            Assert.That(file.ReadFloat32(file.Find("h")!), Is.EqualTo(halves));
            Assert.That(file.ReadFloat32(file.Find("b")!), Is.EqualTo(brains));
            Assert.That(file.Find("b")!.Type, Is.EqualTo(TensorType.BF16));
        });
    }

    [Test]
    public void Q8_0Tensor_DequantizesToScaleTimesValue()
    {
        using var directory = new TempDirectory();
        sbyte[] q = Enumerable.Range(0, 32).Select(j => (sbyte)((j * 9) - 128)).ToArray();
        ushort d = TensorBytes.Fp16Bits(0.0625f);
        string path = directory.Write("m.gguf", new GgufBuilder().Tensor("w", GgufBuilder.GgmlQ8_0, [32, 1], TensorBytes.Q8_0Block(d, q)).Build());

        using ModelFile file = ModelFile.Open(path);

        Assert.That(file.ReadFloat32(file.Tensors[0]), Is.EqualTo(q.Select(v => 0.0625f * v).ToArray()));
    }

    [Test]
    public void Q4_0Tensor_DequantizesLowNibblesFirstThenHighNibbles()
    {
        using var directory = new TempDirectory();
        // Every q distinct where it can be, so a swapped half or nibble order shows.
        int[] q = Enumerable.Range(0, 32).Select(j => j < 16 ? j : 31 - j).ToArray();
        string path = directory.Write("m.gguf", new GgufBuilder()
            .Tensor("w", GgufBuilder.GgmlQ4_0, [32, 1], TensorBytes.Q4_0Block(TensorBytes.Fp16Bits(-0.5f), q))
            .Build());

        using ModelFile file = ModelFile.Open(path);

        Assert.That(file.ReadFloat32(file.Tensors[0]), Is.EqualTo(q.Select(v => -0.5f * (v - 8)).ToArray()));
    }

    [Test]
    public void Metadata_StringsNumbersAndArraysAreRead()
    {
        using var directory = new TempDirectory();
        string path = directory.Write("m.gguf", new GgufBuilder()
            .MetadataString("general.architecture", "llama")
            .MetadataUInt32("llama.block_count", 2)
            .MetadataRaw("tokenizer.ggml.tokens", GgufBuilder.TypeArray, w =>
            {
                w.Write(GgufBuilder.TypeString);
                w.Write(2UL);
                GgufBuilder.WriteString(w, "<s>");
                GgufBuilder.WriteString(w, "héllo");
            })
            .MetadataRaw("scores", GgufBuilder.TypeArray, w =>
            {
                w.Write(GgufBuilder.TypeFloat32);
                w.Write(3UL);
                w.Write(0.5f);
                w.Write(-1f);
                w.Write(2f);
            })
            .MetadataRaw("nested", GgufBuilder.TypeArray, w =>
            {
                w.Write(GgufBuilder.TypeArray);
                w.Write(1UL);
                w.Write(GgufBuilder.TypeInt32);
                w.Write(2UL);
                w.Write(-7);
                w.Write(9);
            })
            .MetadataRaw("flag", GgufBuilder.TypeBool, w => w.Write((byte)1))
            .Tensor("w", GgufBuilder.GgmlF32, [1], TensorBytes.F32(1))
            .Build());

        using var file = GgufFile.Open(path);

        Assert.Multiple(() =>
        {
            Assert.That(file.Version, Is.EqualTo(3));
            Assert.That(file.Alignment, Is.EqualTo(32));
            Assert.That(file.Metadata["general.architecture"], Is.EqualTo("llama"));
            Assert.That(file.Metadata["llama.block_count"], Is.EqualTo(2u));
            Assert.That(file.Metadata["tokenizer.ggml.tokens"], Is.EqualTo(new[] { "<s>", "héllo" }));
            Assert.That(file.Metadata["scores"], Is.EqualTo(new[] { 0.5f, -1f, 2f }));
            Assert.That(((object[])file.Metadata["nested"])[0], Is.EqualTo(new[] { -7, 9 }));
            Assert.That(file.Metadata["flag"], Is.EqualTo(true));
        });
    }

    [Test]
    public void GeneralAlignment_PlacesTheDataAtItsMultiples()
    {
        using var directory = new TempDirectory();
        var builder = new GgufBuilder { Alignment = 256 }
            .MetadataUInt32("general.alignment", 256)
            .Tensor("a", GgufBuilder.GgmlF32, [3], TensorBytes.F32(1, 2, 3))
            .Tensor("b", GgufBuilder.GgmlF32, [2], TensorBytes.F32(4, 5));
        string path = directory.Write("m.gguf", builder.Build());

        using var file = GgufFile.Open(path);

        Assert.Multiple(() =>
        {
            Assert.That(file.Alignment, Is.EqualTo(256));
            Assert.That(file.DataOffset, Is.EqualTo(256));
            Assert.That(file.Find("b")!.Offset, Is.EqualTo(512));
            Assert.That(file.ReadFloat32(file.Find("b")!), Is.EqualTo(new[] { 4f, 5f }));
        });
    }

    [Test]
    public void Version2_IsReadLikeVersion3()
    {
        using var directory = new TempDirectory();
        string path = directory.Write("m.gguf", new GgufBuilder { Version = 2 }.Tensor("w", GgufBuilder.GgmlF32, [2], TensorBytes.F32(7, 8)).Build());

        using var file = GgufFile.Open(path);

        Assert.That(file.Version, Is.EqualTo(2));
        Assert.That(file.ReadFloat32(file.Tensors[0]), Is.EqualTo(new[] { 7f, 8f }));
    }

    [Test]
    public void FileWithoutTensors_MayEndRightAfterItsMetadata()
    {
        using var directory = new TempDirectory();
        byte[] padded = new GgufBuilder().MetadataString("general.name", "x").Build();
        // 24 bytes of fixed header; the entry: key (8 + 12), type (4), value (8 + 1).
        const int HeaderEnd = 24 + 8 + 12 + 4 + 8 + 1;
        Assert.That(padded, Has.Length.GreaterThan(HeaderEnd), "the builder pads to the alignment");

        using var file = GgufFile.Open(directory.Write("m.gguf", padded[..HeaderEnd]));

        Assert.That(file.Tensors, Is.Empty);
        Assert.That(file.Metadata["general.name"], Is.EqualTo("x"));
    }

    [Test]
    public void KQuantTensor_IsListedWithItsSizeButNotConverted()
    {
        using var directory = new TempDirectory();
        // Q4_K: super-blocks of 256 weights in 144 bytes (two fp16, 12 bytes of scales, 128 of nibbles).
        string path = directory.Write("m.gguf", new GgufBuilder().Tensor("w", GgufBuilder.GgmlQ4_K, [256, 2], new byte[288]).Build());

        using ModelFile file = ModelFile.Open(path);

        Assert.Multiple(() =>
        {
            Assert.That(file.Tensors[0].Type, Is.EqualTo(TensorType.Q4_K));
            Assert.That(file.Tensors[0].ByteLength, Is.EqualTo(288));
            Assert.That(file.Tensors[0].IsConvertible, Is.False);
            Assert.Throws<NotSupportedException>(() => file.ReadFloat32(file.Tensors[0]));
        });
    }
}
