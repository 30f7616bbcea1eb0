using System.Runtime.InteropServices;

namespace XnnKleidi.Cli.Platform;

/// <summary>What the process runs on: RID, CPU name, and whether the CPU is emulated.</summary>
internal static class HostInfo
{
    /// <summary>
    /// The RID of this process as the library sees it (linux-x64, linux-musl-arm64, win-x64, ...): the folder its native
    /// files are looked for in, which on Linux depends on the C library as well as the architecture.
    /// </summary>
    public static string Rid => XnnKleidiLibrary.RuntimeIdentifier;

    /// <summary>
    /// Why this process is believed to run under emulation, or null. Timings taken under
    /// emulation measure the emulator, not the CPU. The signs, any one of which is enough:
    /// XNNKLEIDI_EMULATED=1 (set by the build when it runs us under QEMU); XNNKLEIDI_EXPECTED_CPU
    /// naming one of the QEMU CPU models the tests use; or an arm64 process that reads an x86
    /// /proc/cpuinfo (qemu-user passes the host's through).
    /// </summary>
    public static string? EmulationReason { get; } = DetectEmulation();

    /// <summary>
    /// The CPU model from /proc/cpuinfo, or the architecture when there is none. Under emulation
    /// /proc/cpuinfo describes the host, so the name says so.
    /// </summary>
    public static string CpuName { get; } = EmulationReason != null
        ? $"emulated {RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant()} (QEMU {Environment.GetEnvironmentVariable("XNNKLEIDI_EXPECTED_CPU") ?? "CPU"}) on {ReadCpuName()}"
        : ReadCpuName();

    private static string ReadCpuName()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("model name", StringComparison.Ordinal) && line.Contains(':', StringComparison.Ordinal))
                {
                    return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    public static bool IsEmulated => EmulationReason != null;

    private static string? DetectEmulation()
    {
        if (Environment.GetEnvironmentVariable("XNNKLEIDI_EMULATED") is "1" or "true")
        {
            return "XNNKLEIDI_EMULATED=1";
        }
        string? expected = Environment.GetEnvironmentVariable("XNNKLEIDI_EXPECTED_CPU");
        if (expected is "max" or "cortex-a76" or "cortex-a72")
        {
            return $"XNNKLEIDI_EXPECTED_CPU={expected} is a QEMU CPU model";
        }
        if (RuntimeInformation.ProcessArchitecture == Architecture.Arm64)
        {
            try
            {
                string cpuinfo = File.ReadAllText("/proc/cpuinfo");
                if (cpuinfo.Contains("vendor_id", StringComparison.Ordinal) ||
                    cpuinfo.Contains("GenuineIntel", StringComparison.Ordinal) ||
                    cpuinfo.Contains("AuthenticAMD", StringComparison.Ordinal))
                {
                    return "an arm64 process reads an x86 /proc/cpuinfo (qemu-user)";
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return null;
    }
}
