using XnnKleidi.Interop;

namespace XnnKleidi;

/// <summary>
/// The Arm kernel families, from the least to the most capable; each includes the ones below it (a CPU with SME2 has
/// SME, i8mm, dotprod and NEON). The values are those of the C enum <c>xnnkleidi_arm_isa</c> of xnnkleidi.h.
/// </summary>
public enum ArmKernelFamily
{
    /// <summary>Plain NEON (Advanced SIMD): XNNPACK's QD8 kernels without dot products; no KleidiAI packed kernel.</summary>
    Neon = (int)xnnkleidi_arm_isa.xnnkleidi_arm_isa_neon,

    /// <summary>The dot-product extension (SDOT): KleidiAI's <c>…_neon_dotprod</c> kernels.</summary>
    Dotprod = (int)xnnkleidi_arm_isa.xnnkleidi_arm_isa_dotprod,

    /// <summary>The int8 matrix-multiply extension (SMMLA): KleidiAI's <c>…_neon_i8mm</c> kernels.</summary>
    I8mm = (int)xnnkleidi_arm_isa.xnnkleidi_arm_isa_i8mm,

    /// <summary>The Scalable Matrix Extension: KleidiAI's <c>…_sme_</c> kernels.</summary>
    Sme = (int)xnnkleidi_arm_isa.xnnkleidi_arm_isa_sme,

    /// <summary>SME2: KleidiAI's <c>…_sme2_</c> kernels, and its fp32 SME2 GEMM for <see cref="WeightScheme.F32"/>.</summary>
    Sme2 = (int)xnnkleidi_arm_isa.xnnkleidi_arm_isa_sme2,
}
