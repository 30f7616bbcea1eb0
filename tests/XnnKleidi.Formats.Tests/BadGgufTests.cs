using System.Buffers.Binary;
using NUnit.Framework;
using XnnKleidi.Formats.Tests.Support;

namespace XnnKleidi.Formats.Tests;

/// <summary>Broken GGUF files: each is refused with one ModelFileFormatException naming the file and the culprit.</summary>
public class BadGgufTests
{
    private static ModelFileFormatException Refused(byte[] bytes)
    {
        using var directory = new TempDirectory();
        string file = directory.Write("bad.gguf", bytes);
        var e = Assert.Throws<ModelFileFormatException>(() => GgufFile.Open(file).Dispose())!;
        Assert.That(e.FilePath, Is.EqualTo(file));
        Assert.That(e.Message, Does.StartWith(file));
        return e;
    }

    private static GgufBuilder TwoTensors() => new GgufBuilder()
        .MetadataString("general.name", "tiny")
        .Tensor("a", GgufBuilder.GgmlF32, [2], TensorBytes.F32(1, 2))
        .Tensor("b", GgufBuilder.GgmlQ8_0, [32], new byte[34]);

    [Test]
    public void EveryTruncation_IsRefused()
    {
        byte[] whole = TwoTensors().Build();

        for (int length = 0; length < whole.Length; length++)
        {
            Refused(whole[..length]);
        }
    }

    [Test]
    public void OffsetPastTheEnd_NamesTheTensor()
    {
        ModelFileFormatException e = Refused(new GgufBuilder().Tensor("w", GgufBuilder.GgmlF32, [2], TensorBytes.F32(1, 2), offsetOverride: 1024).Build());

        Assert.That(e.TensorName, Is.EqualTo("w"));
        Assert.That(e.Message, Does.Contain("past the end"));
    }

    [Test]
    public void UnalignedOffset_NamesTheTensor()
    {
        ModelFileFormatException e = Refused(new GgufBuilder().Tensor("w", GgufBuilder.GgmlF32, [1], new byte[64], offsetOverride: 4).Build());

        Assert.That(e.TensorName, Is.EqualTo("w"));
        Assert.That(e.Message, Does.Contain("alignment 32"));
    }

    [Test]
    public void OverlappingTensors_AreRefused()
    {
        ModelFileFormatException e = Refused(new GgufBuilder()
            .Tensor("a", GgufBuilder.GgmlF32, [16], new byte[64])
            .Tensor("b", GgufBuilder.GgmlF32, [16], new byte[64], offsetOverride: 32)
            .Build());

        Assert.That(e.TensorName, Is.EqualTo("b"));
        Assert.That(e.Message, Does.Contain("overlaps 'a'"));
    }

    [TestCase(8, "tensors")]
    [TestCase(16, "metadata entries")]
    public void CountLargerThanTheFile_IsRefusedBeforeAllocating(int fieldOffset, string what)
    {
        byte[] bytes = TwoTensors().Build();
        // Fields: magic (0), version (4), tensor count (8), metadata count (16).
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(fieldOffset), 1UL << 59);

        ModelFileFormatException e = Refused(bytes);

        Assert.That(e.Message, Does.Contain(what).And.Contain("more than its"));
    }

    [Test]
    public void StringLongerThanTheFile_IsRefusedAtItsOffset()
    {
        byte[] bytes = TwoTensors().Build();
        // The first metadata key's length is the first field after the 24-byte header.
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(24), ulong.MaxValue);

        ModelFileFormatException e = Refused(bytes);

        Assert.That(e.Offset, Is.EqualTo(24));
    }

    [Test]
    public void ArrayLongerThanTheFile_IsRefused()
    {
        ModelFileFormatException e = Refused(new GgufBuilder()
            .MetadataRaw("tokens", GgufBuilder.TypeArray, w =>
            {
                w.Write(GgufBuilder.TypeUInt32);
                w.Write(1UL << 40);
            })
            .Build());

        Assert.That(e.Message, Does.Contain("metadata 'tokens' claims an array"));
    }

    [Test]
    public void UnknownGgmlType_NamesTheTensor()
    {
        ModelFileFormatException e = Refused(new GgufBuilder().Tensor("w", 99, [4], new byte[16]).Build());

        Assert.That(e.TensorName, Is.EqualTo("w"));
        Assert.That(e.Message, Does.Contain("unknown ggml type 99"));
    }

    [Test]
    public void UnknownMetadataType_NamesTheKey()
    {
        ModelFileFormatException e = Refused(new GgufBuilder().MetadataRaw("odd", 13, w => w.Write(0UL)).Build());

        Assert.That(e.Message, Does.Contain("'odd'").And.Contain("unknown value type 13"));
    }

    [TestCase(new ulong[] { 1UL << 32, 1UL << 32, 1UL << 32 }, "overflows")]
    [TestCase(new ulong[] { 1UL << 40, 1UL << 20 }, "more than the file")]
    [TestCase(new ulong[] { ulong.MaxValue }, "absurd dimension")]
    [TestCase(new ulong[] { 1, 1, 1, 1, 1 }, "at most 4")]
    [TestCase(new ulong[] { 33 }, "whole number")]
    public void AbsurdDimensions_NameTheTensor(ulong[] dims, string reason)
    {
        ModelFileFormatException e = Refused(new GgufBuilder().Tensor("w", GgufBuilder.GgmlQ4_0, dims, new byte[36]).Build());

        Assert.That(e.TensorName, Is.EqualTo("w"));
        Assert.That(e.Message, Does.Contain(reason));
    }

    [Test]
    public void NonUtf8Name_IsRefusedAtItsOffset()
    {
        var builder = new GgufBuilder().Tensor([0x77, 0xC3, 0x28], GgufBuilder.GgmlF32, [1], TensorBytes.F32(1));
        byte[] bytes = builder.Build();

        ModelFileFormatException e = Refused(bytes);

        // No metadata: the tensor's name length is at 24, its bytes at 32.
        Assert.That(e.Offset, Is.EqualTo(32));
        Assert.That(e.Message, Does.Contain("not valid UTF-8"));
    }

    [Test]
    public void DuplicateTensorName_IsRefusedNamingIt()
    {
        ModelFileFormatException e = Refused(new GgufBuilder()
            .Tensor("w", GgufBuilder.GgmlF32, [1], TensorBytes.F32(1))
            .Tensor("w", GgufBuilder.GgmlF32, [1], TensorBytes.F32(2))
            .Build());

        Assert.That(e.TensorName, Is.EqualTo("w"));
        Assert.That(e.Message, Does.Contain("twice"));
    }

    [Test]
    public void DuplicateMetadataKey_IsRefused()
    {
        ModelFileFormatException e = Refused(new GgufBuilder().MetadataString("k", "a").MetadataString("k", "b").Build());

        Assert.That(e.Message, Does.Contain("'k' twice"));
    }

    [Test]
    public void AlignmentThatIsNotAPowerOfTwo_IsRefused()
    {
        ModelFileFormatException e = Refused(new GgufBuilder { Alignment = 48 }.MetadataUInt32("general.alignment", 48).Tensor("w", GgufBuilder.GgmlF32, [1], TensorBytes.F32(1)).Build());

        Assert.That(e.Message, Does.Contain("general.alignment"));
    }

    [TestCase(1u, "version 1")]
    [TestCase(4u, "version 4")]
    [TestCase(0x03000000u, "big-endian")]
    public void UnsupportedVersion_IsRefused(uint version, string reason)
    {
        ModelFileFormatException e = Refused(new GgufBuilder { Version = version }.Build());

        Assert.That(e.Offset, Is.EqualTo(4));
        Assert.That(e.Message, Does.Contain(reason));
    }

    [Test]
    public void WrongMagic_IsRefused()
    {
        byte[] bytes = TwoTensors().Build();
        bytes[3] = (byte)'G';

        Assert.That(Refused(bytes).Message, Does.Contain("does not start with \"GGUF\""));
    }
}
