using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using XnnKleidi.Internal;

namespace XnnKleidi;

/// <summary>
/// Everything outside the layer that makes a timing of <see cref="ActivationPacking.Auto"/> valid: the library build,
/// the CPU and the kernel-family cap. An <see cref="AutoTuningCache"/> uses an entry only where all of them, and the
/// thread count and the layer, equal the current ones.
/// </summary>
/// <param name="LibraryBuild">The managed assembly's version and the native library's build string.</param>
/// <param name="AbiVersion">The native library's ABI version.</param>
/// <param name="Cpu">
/// The processor: on x86-64 "x86-64 &lt;vendor&gt; family F model M" from CPUID; on arm64 Linux "arm64" and the
/// distinct implementer:part numbers of /proc/cpuinfo (libxnnkleidi does not pass cpuinfo's part numbers on), or
/// "arm64 part unknown" where that file says nothing.
/// </param>
/// <param name="CpuFeatures">The CPU features XNNPACK detected, by their short names.</param>
/// <param name="SmeVectorLengthBits">The streaming vector length in bits; 0 without SME.</param>
/// <param name="KernelFamilyCap">The Arm kernel-family cap in force ("sme2" … "neon"), or "none".</param>
public sealed record AutoTuningEnvironment(
    string LibraryBuild,
    uint AbiVersion,
    string Cpu,
    string CpuFeatures,
    int SmeVectorLengthBits,
    string KernelFamilyCap)
{
    private static readonly Lazy<AutoTuningEnvironment> CurrentValue = new(Read);

    /// <summary>This process's environment, read once (it loads the library and initializes XNNPACK).</summary>
    public static AutoTuningEnvironment Current => CurrentValue.Value;

    private static AutoTuningEnvironment Read()
    {
        string managed = typeof(AutoTuningEnvironment).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        ArmKernelFamily? cap = XnnKleidiLibrary.MaxArmKernelFamily;
        return new AutoTuningEnvironment(
            $"XnnKleidi {managed}; {XnnKleidiLibrary.BuildInfo}",
            XnnKleidiLibrary.AbiVersion,
            ReadCpu(),
            string.Join(' ', XnnKleidiLibrary.GetNames(XnnKleidiLibrary.CpuFeatures)),
            XnnKleidiLibrary.SmeVectorLengthBits,
            cap is null ? "none" : XnnKleidiLibrary.GetName(cap.Value));
    }

    private static string ReadCpu()
    {
        if (X86Base.IsSupported)
        {
            (int _, int ebx, int ecx, int edx) = X86Base.CpuId(0, 0);
            Span<byte> vendor = stackalloc byte[12];
            BitConverter.TryWriteBytes(vendor[..4], ebx);
            BitConverter.TryWriteBytes(vendor[4..8], edx);
            BitConverter.TryWriteBytes(vendor[8..], ecx);
            int signature = X86Base.CpuId(1, 0).Eax;
            int family = (signature >> 8) & 0xF;
            int model = (signature >> 4) & 0xF;
            // The display family and model of Intel's and AMD's manuals: the extended fields count only for these families.
            int displayFamily = family == 0xF ? family + ((signature >> 20) & 0xFF) : family;
            int displayModel = family is 0x6 or 0xF ? (((signature >> 16) & 0xF) << 4) + model : model;
            string architecture = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? "x86-64" : "x86";
            return $"{architecture} {System.Text.Encoding.ASCII.GetString(vendor)} family {displayFamily} model {displayModel}";
        }

        string name = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
        return RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? $"{name} {ReadArmParts()}" : name;
    }

    private static string ReadArmParts()
    {
        const string CpuInfo = "/proc/cpuinfo";
        var parts = new SortedSet<string>(StringComparer.Ordinal);
        try
        {
            string implementer = "?";
            foreach (string line in File.ReadLines(CpuInfo))
            {
                int colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon < 0)
                {
                    continue;
                }

                string field = line[..colon].Trim();
                string value = line[(colon + 1)..].Trim();
                if (field == "CPU implementer")
                {
                    implementer = value;
                }
                else if (field == "CPU part")
                {
                    parts.Add($"{implementer}:{value}");
                }
            }
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            // A sandbox may hide the file: the features and the vector length still tell most CPUs apart.
        }

        return parts.Count == 0 ? "part unknown" : $"parts {string.Join(',', parts)}";
    }
}
