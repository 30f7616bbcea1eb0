using System.Diagnostics;
using NUnit.Framework;
using XnnKleidi.Formats.Tests.Support;

namespace XnnKleidi.Formats.Tests;

/// <summary>A file far larger than what is read from it: opening and converting one small tensor touches only its pages.</summary>
public class MemoryMappingTests
{
    [Test]
    public void SmallTensorOfAFourGigabyteFile_IsReadWithoutReadingTheRest()
    {
        using var directory = new TempDirectory();
        string path = Path.Combine(directory.Path, "big.gguf");
        // A 2^16 × 2^14 fp32 tensor (4 GiB) after a small one. The big tensor's bytes are a hole in a sparse file:
        // it costs no disk, and reading it would cost 4 GiB of resident memory.
        const ulong Rows = 1 << 16, Columns = 1 << 14;
        byte[] head = new GgufBuilder()
            .Tensor("small.weight", GgufBuilder.GgmlF32, [2, 2], TensorBytes.F32(1, 2, 3, 4))
            .Tensor("big.weight", GgufBuilder.GgmlF32, [Columns, Rows], [])
            .Build();
        using (var stream = new FileStream(path, FileMode.CreateNew))
        {
            stream.Write(head);
            // The big tensor starts at the next multiple of 32 after the small one and runs to the end.
            stream.SetLength(head.Length + (long)(Rows * Columns * 4) + 32);
        }

        long residentBefore = CurrentResidentBytes();
        using ModelFile file = ModelFile.Open(path);
        float[] small = file.ReadFloat32(file.Find("small.weight")!);
        long residentAfter = CurrentResidentBytes();

        Assert.Multiple(() =>
        {
            Assert.That(small, Is.EqualTo(new[] { 1f, 2f, 3f, 4f }));
            Assert.That(file.Find("big.weight")!.ByteLength, Is.EqualTo(1L << 32));
            Assert.That(residentAfter - residentBefore, Is.LessThan(256L << 20), "resident memory grew by more than 256 MiB");
        });
    }

    private static long CurrentResidentBytes()
    {
        using Process self = Process.GetCurrentProcess();
        self.Refresh();
        return self.WorkingSet64;
    }
}
