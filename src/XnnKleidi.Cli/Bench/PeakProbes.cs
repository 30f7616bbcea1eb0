using System.Runtime.InteropServices;

namespace XnnKleidi.Cli.Bench;

/// <summary>
/// One register-resident peak probe of native/bench/peak-probe.c: the instruction family it times, what it counts
/// (int8 or fp32 multiply-adds) and the CPU features it needs, as the library reports them.
/// </summary>
/// <param name="Name">The probe's name in the harness protocol, also the family's name in the report.</param>
/// <param name="Kind">"int8" or "fp32".</param>
/// <param name="Instruction">What the loop runs.</param>
/// <param name="Requires">Every feature the probe's instructions need.</param>
/// <param name="Timed">False for a family that is identified only (no timed loop is written for it yet).</param>
internal sealed record PeakProbe(string Name, string Kind, string Instruction, CpuFeatures Requires, bool Timed = true);

/// <summary>
/// Which peak probes a CPU gets, and which probe bounds a given GEMM: the family of kernel XNNPACK (4ea82e5, its
/// gemm-config.c) or KleidiAI selects on that CPU.
/// </summary>
internal static class PeakProbes
{
    public const string Int8 = "int8";
    public const string Fp32 = "fp32";

    /// <summary>x86-64's probes, the widest int8 family first.</summary>
    public static readonly IReadOnlyList<PeakProbe> X64 =
    [
        new("amx-int8", Int8, "tdpbssd (AMX-INT8)", CpuFeatures.X86Avx512Amx),
        new("avx512vnni-zmm", Int8, "vpdpbusd zmm (AVX512-VNNI)", CpuFeatures.X86Avx512Vnni),
        new("avx512vnni-ymm", Int8, "vpdpbusd ymm (AVX512-VNNI)", CpuFeatures.X86Avx512Vnni | CpuFeatures.X86Avx512Skx),
        new("avxvnni", Int8, "vpdpbusd ymm (AVX-VNNI)", CpuFeatures.X86AvxVnni),
        new("avx512bw-vpmaddwd", Int8, "vpmaddwd zmm (AVX512BW)", CpuFeatures.X86Avx512Skx),
        new("avx2-vpmaddubsw", Int8, "vpmaddubsw + vpmaddwd ymm (AVX2)", CpuFeatures.X86Avx2),
        new("avx2-vpmaddwd", Int8, "vpmaddwd ymm (AVX2)", CpuFeatures.X86Avx2),
        new("avx512f-fma", Fp32, "vfmadd231ps zmm (AVX512F)", CpuFeatures.X86Avx512f),
        new("fma3", Fp32, "vfmadd231ps ymm (FMA3)", CpuFeatures.X86Avx2 | CpuFeatures.X86Fma3),
    ];

    /// <summary>arm64's probes. SME2's outer products are identified, not timed: no streaming-mode loop is written.</summary>
    public static readonly IReadOnlyList<PeakProbe> Arm64 =
    [
        new("sme2-mopa", Int8, "smopa (SME2)", CpuFeatures.ArmSme2, Timed: false),
        new("smmla", Int8, "smmla (i8mm)", CpuFeatures.ArmI8mm),
        new("sdot", Int8, "sdot (dotprod)", CpuFeatures.ArmDotprod),
        new("neon-fmla", Fp32, "fmla 4s (NEON)", CpuFeatures.ArmNeon),
    ];

    /// <summary>The probes whose every required feature <paramref name="features"/> has.</summary>
    public static IReadOnlyList<PeakProbe> Select(Architecture architecture, CpuFeatures features)
    {
        IReadOnlyList<PeakProbe> candidates = architecture switch
        {
            Architecture.X64 => X64,
            Architecture.Arm64 => Arm64,
            _ => [],
        };
        return [.. candidates.Where(p => (features & p.Requires) == p.Requires)];
    }

    /// <summary>
    /// The probe that bounds the GEMM of <paramref name="scheme"/> weights: the instruction family of the kernel that
    /// ran, read from its name (a KleidiAI kernel's <c>_sme2_</c>, <c>_i8mm</c>, <c>_dotprod</c>; an XNNPACK QD8
    /// microkernel's <c>__avx512vnni</c>, <c>__avx256vnni</c>, <c>__avxvnni</c>, <c>__avx512skx</c>, <c>__avx2</c>,
    /// <c>__avx512amx</c>, <c>__neoni8mm</c>, <c>__neondot</c>), or null when no probe matches it. Only fp32 layers, whose
    /// kernel the library does not name, take the family from the CPU's features.
    /// </summary>
    public static string? FamilyOf(Architecture architecture, CpuFeatures features, WeightScheme scheme, string? kernel)
    {
        bool Has(CpuFeatures f) => (features & f) == f;
        if (scheme == WeightScheme.F32)
        {
            return architecture == Architecture.Arm64 ? "neon-fmla"
                : architecture != Architecture.X64 ? null
                : Has(CpuFeatures.X86Avx512f) ? "avx512f-fma" : Has(CpuFeatures.X86Fma3) ? "fma3" : null;
        }

        if (kernel == null)
        {
            return null;
        }

        // The ISA suffix of an XNNPACK microkernel name follows its "__"; a KleidiAI name carries its family inside.
        string isa = kernel.Contains("__", StringComparison.Ordinal) ? kernel[(kernel.LastIndexOf("__", StringComparison.Ordinal) + 2)..] : kernel;
        bool Says(string part) => isa.Contains(part, StringComparison.Ordinal);
        return architecture switch
        {
            Architecture.Arm64 => Says("sme2") ? "sme2-mopa"
                : Says("i8mm") ? "smmla"
                : Says("dot") ? "sdot"
                : null,
            Architecture.X64 => Says("avx512amx") ? "amx-int8"
                : Says("avx512vnni") ? "avx512vnni-zmm"
                : Says("avx256vnni") ? "avx512vnni-ymm"
                : Says("avxvnni") ? "avxvnni"
                : Says("avx512skx") ? "avx512bw-vpmaddwd"
                : Says("avx2") ? "avx2-vpmaddwd"
                : null,
            _ => null,
        };
    }
}
