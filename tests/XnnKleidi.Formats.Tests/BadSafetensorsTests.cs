using System.Text;
using NUnit.Framework;
using XnnKleidi.Formats.Tests.Support;

namespace XnnKleidi.Formats.Tests;

/// <summary>Broken safetensors files: each is refused with one ModelFileFormatException naming the file and the culprit.</summary>
public class BadSafetensorsTests
{
    private static ModelFileFormatException Refused(byte[] bytes, out string path)
    {
        var directory = new TempDirectory();
        try
        {
            string file = directory.Write("bad.safetensors", bytes);
            path = file;
            var e = Assert.Throws<ModelFileFormatException>(() => SafetensorsFile.Open(file).Dispose())!;
            Assert.That(e.FilePath, Is.EqualTo(file));
            Assert.That(e.Message, Does.StartWith(file));
            return e;
        }
        finally
        {
            directory.Dispose();
        }
    }

    private static ModelFileFormatException Refused(byte[] bytes) => Refused(bytes, out _);

    [Test]
    public void EveryTruncation_IsRefused()
    {
        byte[] whole = new SafetensorsBuilder().Add("a", "F32", [2], TensorBytes.F32(1, 2)).Add("b", "F16", [3], TensorBytes.F16(1, 2, 3)).Build();

        for (int length = 0; length < whole.Length; length++)
        {
            Refused(whole[..length]);
        }
    }

    [Test]
    public void TruncatedData_NamesTheTensorPastTheEnd()
    {
        byte[] whole = new SafetensorsBuilder().Add("a", "F32", [2], TensorBytes.F32(1, 2)).Add("b", "F32", [2], TensorBytes.F32(3, 4)).Build();

        ModelFileFormatException e = Refused(whole[..^1]);

        Assert.That(e.TensorName, Is.EqualTo("b"));
        Assert.That(e.Message, Does.Contain("past the end"));
    }

    [Test]
    public void HeaderLargerThanTheFile_IsRefusedAtOffsetZero()
    {
        byte[] good = new SafetensorsBuilder().Add("a", "F32", [1], TensorBytes.F32(1)).Build();
        byte[] header = good[8..^4];

        ModelFileFormatException e = Refused(SafetensorsBuilder.Raw(header, TensorBytes.F32(1), claimedHeaderLength: 1UL << 62));

        Assert.That(e.Offset, Is.EqualTo(0));
        Assert.That(e.Message, Does.Contain("larger than the file"));
    }

    [Test]
    public void OffsetsThatDisagreeWithTheShape_NameTheTensor()
    {
        ModelFileFormatException e = Refused(SafetensorsBuilder.Raw(
            """{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}""", new byte[24]));

        Assert.That(e.TensorName, Is.EqualTo("w"));
        Assert.That(e.Message, Does.Contain("takes 24 bytes"));
    }

    [Test]
    public void OverlappingTensors_AreRefused()
    {
        ModelFileFormatException e = Refused(SafetensorsBuilder.Raw(
            """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", new byte[12]));

        Assert.That(e.TensorName, Is.EqualTo("b"));
        Assert.That(e.Message, Does.Contain("overlaps 'a'"));
    }

    [Test]
    public void UnknownDtype_NamesTheTensor()
    {
        ModelFileFormatException e = Refused(SafetensorsBuilder.Raw("""{"w":{"dtype":"F12","shape":[1],"data_offsets":[0,2]}}""", new byte[2]));

        Assert.That(e.TensorName, Is.EqualTo("w"));
        Assert.That(e.Message, Does.Contain("unknown dtype 'F12'"));
    }

    [TestCase("[4294967296,4294967296,4294967296]", "overflows")]
    [TestCase("[1099511627776,1048576]", "more than the file")]
    [TestCase("[-1,2]", "not a non-negative")]
    [TestCase("[1.5]", "not a non-negative")]
    public void AbsurdDimensions_NameTheTensor(string shape, string reason)
    {
        ModelFileFormatException e = Refused(SafetensorsBuilder.Raw($$$"""{"w":{"dtype":"F32","shape":{{{shape}}},"data_offsets":[0,4]}}""", new byte[4]));

        Assert.That(e.TensorName, Is.EqualTo("w"));
        Assert.That(e.Message, Does.Contain(reason));
    }

    [Test]
    public void NonUtf8Name_IsRefusedAtItsOffset()
    {
        byte[] header = Encoding.ASCII.GetBytes("""{"w?":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""");
        header[3] = 0xFF;

        ModelFileFormatException e = Refused(SafetensorsBuilder.Raw(header, new byte[4]));

        Assert.That(e.Offset, Is.EqualTo(8 + 3));
        Assert.That(e.Message, Does.Contain("not valid UTF-8"));
    }

    [Test]
    public void LoneSurrogateEscapeInAName_IsRefused()
    {
        ModelFileFormatException e = Refused(SafetensorsBuilder.Raw("""{"w\ud800":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", new byte[4]));

        Assert.That(e.Message, Does.Contain("not valid Unicode"));
    }

    [Test]
    public void DuplicateName_IsRefusedNamingIt()
    {
        ModelFileFormatException e = Refused(SafetensorsBuilder.Raw(
            """{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", new byte[8]));

        Assert.That(e.TensorName, Is.EqualTo("w"));
        Assert.That(e.Message, Does.Contain("twice"));
    }

    [TestCase("not json at all")]
    [TestCase("[1, 2, 3]")]
    [TestCase("""{"w": 5}""")]
    [TestCase("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}""")]
    [TestCase("""{"__metadata__": {"a": 1}}""")]
    public void MalformedHeader_IsRefused(string header)
    {
        Refused(SafetensorsBuilder.Raw(header, new byte[4]));
    }
}
