using XnnKleidi.Interop;

namespace XnnKleidi;

/// <summary>
/// The CPU features XNNPACK detected on this machine, as <see cref="XnnKleidiLibrary.CpuFeatures"/> reports them.
/// Every value is taken from the C enum <c>xnnkleidi_cpu_feature</c> of xnnkleidi.h (through the generated
/// bindings), so a bit cannot drift from the one the native library sets; a test checks that every C enumerator
/// has a member here.
/// </summary>
[Flags]
public enum CpuFeatures : ulong
{
    /// <summary>No feature reported (or XNNPACK could not initialize).</summary>
    None = 0,

    /// <summary>Arm NEON (Advanced SIMD).</summary>
    ArmNeon = (ulong)xnnkleidi_cpu_feature.xnnkleidi_cpu_feature_arm_neon,

    /// <summary>Arm dot product instructions (SDOT/UDOT), which KleidiAI's QP8 kernels need at least.</summary>
    ArmDotprod = (ulong)xnnkleidi_cpu_feature.xnnkleidi_cpu_feature_arm_dotprod,

    /// <summary>Arm int8 matrix multiply (SMMLA), used by KleidiAI's QP8 GEMM kernels.</summary>
    ArmI8mm = (ulong)xnnkleidi_cpu_feature.xnnkleidi_cpu_feature_arm_i8mm,

    /// <summary>Arm SVE.</summary>
    ArmSve = (ulong)xnnkleidi_cpu_feature.xnnkleidi_cpu_feature_arm_sve,

    /// <summary>Arm SVE2.</summary>
    ArmSve2 = (ulong)xnnkleidi_cpu_feature.xnnkleidi_cpu_feature_arm_sve2,

    /// <summary>Arm SME.</summary>
    ArmSme = (ulong)xnnkleidi_cpu_feature.xnnkleidi_cpu_feature_arm_sme,

    /// <summary>Arm SME2.</summary>
    ArmSme2 = (ulong)xnnkleidi_cpu_feature.xnnkleidi_cpu_feature_arm_sme2,

    /// <summary>Arm BF16 instructions.</summary>
    ArmBf16 = (ulong)xnnkleidi_cpu_feature.xnnkleidi_cpu_feature_arm_bf16,

    /// <summary>Arm half-precision arithmetic.</summary>
    ArmFp16Arith = (ulong)xnnkleidi_cpu_feature.xnnkleidi_cpu_feature_arm_fp16_arith,

    /// <summary>x86 AVX2.</summary>
    X86Avx2 = (ulong)xnnkleidi_cpu_feature.xnnkleidi_cpu_feature_x86_avx2,

    /// <summary>x86 FMA3.</summary>
    X86Fma3 = (ulong)xnnkleidi_cpu_feature.xnnkleidi_cpu_feature_x86_fma3,

    /// <summary>x86 AVX-512 Foundation.</summary>
    X86Avx512f = (ulong)xnnkleidi_cpu_feature.xnnkleidi_cpu_feature_x86_avx512f,

    /// <summary>x86 AVX-512 as on Skylake-X (F, CD, BW, DQ, VL).</summary>
    X86Avx512Skx = (ulong)xnnkleidi_cpu_feature.xnnkleidi_cpu_feature_x86_avx512skx,

    /// <summary>x86 AVX-512 VNNI.</summary>
    X86Avx512Vnni = (ulong)xnnkleidi_cpu_feature.xnnkleidi_cpu_feature_x86_avx512vnni,

    /// <summary>x86 AVX-VNNI (VEX-encoded).</summary>
    X86AvxVnni = (ulong)xnnkleidi_cpu_feature.xnnkleidi_cpu_feature_x86_avxvnni,

    /// <summary>x86 AMX.</summary>
    X86Avx512Amx = (ulong)xnnkleidi_cpu_feature.xnnkleidi_cpu_feature_x86_avx512amx,

    /// <summary>x86 AVX-512 VNNI on 256-bit vectors.</summary>
    X86Avx256Vnni = (ulong)xnnkleidi_cpu_feature.xnnkleidi_cpu_feature_x86_avx256vnni,

    /// <summary>x86 AVX-VNNI-INT8.</summary>
    X86AvxVnniInt8 = (ulong)xnnkleidi_cpu_feature.xnnkleidi_cpu_feature_x86_avxvnniint8,
}
