using System.Runtime.InteropServices;
using XnnKleidi.Internal;
using XnnKleidi.Interop;

namespace XnnKleidi;

/// <summary>
/// Asks the native library whether KleidiAI's packed-activation (QP8) GEMM can run here for a weight scheme, and
/// if not, why, in words a person can act on. <see cref="Linear"/> asks the same question before it ever sets a
/// packing flag, so a weight type without a QP8 kernel never reaches XNNPACK with packed activations.
/// </summary>
public static unsafe class ActivationPackingSupport
{
    /// <summary>True when <paramref name="scheme"/> can run with packed activations on this machine.</summary>
    public static bool IsAvailable(WeightScheme scheme) => GetUnavailableReason(scheme) is null;

    /// <summary>Null when packing is available for <paramref name="scheme"/>; otherwise why it is not.</summary>
    public static string? GetUnavailableReason(WeightScheme scheme)
    {
        if (scheme == WeightScheme.F32)
        {
            return "F32 weights run without quantizing the activations, so there are no int8 activations to pack";
        }

        XnnLibrary.EnsureInitialized();
        xnn_datatype datatype = Datatype(scheme);
        xnnkleidi_qp8_support support = NativeMethods.xnnkleidi_qp8_support(datatype);
        if (support == xnnkleidi_qp8_support.xnnkleidi_qp8_available)
        {
            return NativeMethods.xnnkleidi_pack_flag_for_weights(datatype) == 0
                ? $"libxnnkleidi reports QP8 support for {Name(scheme)} weights but hands out no packing flag for them"
                : null;
        }

        return Describe(support, scheme);
    }

    /// <summary>
    /// The KleidiAI kernel a packed layer with <paramref name="scheme"/> weights runs for
    /// <paramref name="batch"/> rows (a GEMV kernel for one row, a GEMM kernel otherwise), or null when packing is unavailable.
    /// </summary>
    public static string? GetKleidiAIKernelName(WeightScheme scheme, int batch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        if (scheme == WeightScheme.F32)
        {
            return null;
        }

        XnnLibrary.EnsureInitialized();
        return XnnLibrary.ReadStaticString(NativeMethods.xnnkleidi_qp8_kernel_name(Datatype(scheme), (nuint)batch));
    }

    /// <summary>
    /// The XNNPACK microkernel an unpacked (QD8) layer with <paramref name="scheme"/> weights runs for
    /// <paramref name="batch"/> rows on this CPU, as XNNPACK names it (for example
    /// <c>xnn_qd8_f32_qc8w_gemm_minmax_ukernel_4x16c8__avx512vnni</c>): read from the function pointer XNNPACK's QD8
    /// configuration selects, never from a table of which CPU gets what. Null for <see cref="WeightScheme.F32"/>, and
    /// when the library cannot name the kernel (one its list of XNNPACK's declared kernels does not hold).
    /// </summary>
    public static string? GetQd8KernelName(WeightScheme scheme, int batch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        if (scheme == WeightScheme.F32)
        {
            return null;
        }

        XnnLibrary.EnsureInitialized();
        return XnnLibrary.ReadStaticString(NativeMethods.xnnkleidi_qd8_kernel_name(Datatype(scheme), (nuint)batch));
    }

    internal static uint PackFlag(WeightScheme scheme) =>
        scheme == WeightScheme.F32 ? 0u : NativeMethods.xnnkleidi_pack_flag_for_weights(Datatype(scheme));

    // Callers answer for F32 before they ask: fp32 weights have no int8 activations to pack.
    internal static xnn_datatype Datatype(WeightScheme scheme) => scheme switch
    {
        WeightScheme.Qc8w => xnn_datatype.xnn_datatype_qcint8,
        WeightScheme.Qc4w => xnn_datatype.xnn_datatype_qcint4,
        WeightScheme.Qb4w => xnn_datatype.xnn_datatype_qbint4,
        _ => throw new ArgumentOutOfRangeException(nameof(scheme), scheme, "Only quantized weight schemes have a QP8 datatype."),
    };

    internal static string Name(WeightScheme scheme) => scheme switch
    {
        WeightScheme.Qc8w => "qc8w",
        WeightScheme.Qc4w => "qc4w",
        WeightScheme.Qb4w => "qb4w",
        _ => "f32",
    };

    private static string Describe(xnnkleidi_qp8_support support, WeightScheme scheme) => support switch
    {
        xnnkleidi_qp8_support.xnnkleidi_qp8_unavailable_not_arm =>
            $"KleidiAI is Arm-only; this is {ArchitectureName(RuntimeInformation.ProcessArchitecture)}",
        xnnkleidi_qp8_support.xnnkleidi_qp8_unavailable_kleidiai_disabled =>
            "this libxnnkleidi was built for Arm without KleidiAI; rebuild it with KleidiAI enabled",
        xnnkleidi_qp8_support.xnnkleidi_qp8_unavailable_cpu_lacks_dotprod_i8mm =>
            "this CPU lacks dotprod and i8mm, which KleidiAI's packed-activation kernels need",
        xnnkleidi_qp8_support.xnnkleidi_qp8_unavailable_no_kernel_for_weights =>
            $"this XNNPACK has no QP8 kernel for {Name(scheme)} weights",
        xnnkleidi_qp8_support.xnnkleidi_qp8_unavailable_capped =>
            $"the Arm kernel families are capped at neon ({XnnKleidiLibrary.MaxArmKernelFamilyVariable} or XnnKleidiLibrary.SetMaxArmKernelFamily), which leaves out the dotprod and i8mm that KleidiAI's packed-activation kernels need",
        xnnkleidi_qp8_support.xnnkleidi_qp8_unavailable_not_initialized =>
            "XNNPACK failed to initialize, so nothing is known about this CPU",
        _ => $"libxnnkleidi does not offer packing for {Name(scheme)} weights (xnnkleidi_qp8_support = {(int)support})",
    };

    private static string ArchitectureName(Architecture architecture) => architecture switch
    {
        Architecture.X64 => "x86-64",
        Architecture.X86 => "x86",
        _ => architecture.ToString().ToLowerInvariant(),
    };
}
