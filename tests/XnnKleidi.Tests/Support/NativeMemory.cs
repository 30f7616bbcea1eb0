using System.Runtime.InteropServices;

namespace XnnKleidi.Tests.Support;

/// <summary>
/// The process's native memory, two ways: the resident set (everything, including the GC heap, JIT code and,
/// under QEMU, the emulator's own translation cache) and glibc's malloc heap in use, which is where XNNPACK,
/// pthreadpool and NativeMemory allocate, and little else moves.
/// </summary>
internal static partial class NativeMemory
{
    public readonly record struct Sample(long ResidentBytes, long MallocInUseBytes)
    {
        public static Sample operator -(Sample after, Sample before) =>
            new(after.ResidentBytes - before.ResidentBytes, after.MallocInUseBytes - before.MallocInUseBytes);

        public override string ToString() =>
            $"RSS {ResidentBytes / 1024:+0;-0;0} KiB, malloc in use {MallocInUseBytes / 1024:+0;-0;0} KiB";
    }

    /// <summary>Takes a sample after a full, finalizing garbage collection.</summary>
    public static Sample Measure()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        string[] fields = File.ReadAllText("/proc/self/statm").Split(' ');
        long resident = long.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) * Environment.SystemPageSize;
        // mallinfo (not mallinfo2, which glibc 2.31 lacks): int fields, ample for the few MB measured here.
        MallInfo info = mallinfo();
        return new Sample(resident, (long)(uint)info.uordblks + (uint)info.hblkhd);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo
    {
        public int arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
    }

    [LibraryImport("libc.so.6")]
    private static partial MallInfo mallinfo();
}
