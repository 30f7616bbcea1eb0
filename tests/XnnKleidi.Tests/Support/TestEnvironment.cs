using System.Runtime.InteropServices;

namespace XnnKleidi.Tests.Support;

/// <summary>The CPU the tests run on, as the test driver states it, and the scale of the long tests.</summary>
internal static class TestEnvironment
{
    /// <summary>
    /// The CPU models the tests know: x64 natively, and QEMU 11's arm64 models as build.cake passes them to
    /// <c>-cpu</c>. <c>max</c> has SME2, SME, i8mm and dotprod (its streaming vector length is QEMU's default, 256 bits,
    /// unless <c>sme-default-vector-length</c> sets it in bytes); <c>max,sme=off</c> and <c>neoverse-v1</c> have i8mm
    /// and dotprod without SME; <c>cortex-a76</c> only dotprod; <c>cortex-a72</c> neither.
    /// </summary>
    public static readonly string[] KnownCpus =
    [
        "x64", "max", "max,sme-default-vector-length=16", "max,sme-default-vector-length=32", "max,sme-default-vector-length=64",
        "max,sme=off", "neoverse-v1", "cortex-a76", "cortex-a72",
    ];

    /// <summary>
    /// The CPU model from XNNKLEIDI_EXPECTED_CPU, read as the oracle's run summary reads it. Unset means x64 on
    /// x86-64 and "native" elsewhere, which the per-CPU tests ignore rather than guess.
    /// </summary>
    public static string ExpectedCpu { get; } = RunSummaryLine.ExpectedCpu;

    /// <summary>The arm64 models run under QEMU, about 10–50× slower than native, so long loops are cut.</summary>
    public static bool IsEmulated => ExpectedCpu != "x64" && KnownCpus.Contains(ExpectedCpu);

    /// <summary>QEMU's <c>max</c> with SME left on: the OS (QEMU's user mode) reports SME and SME2.</summary>
    public static bool HasSme2 => ExpectedCpu.StartsWith("max", StringComparison.Ordinal) && ExpectedCpu != "max,sme=off";

    /// <summary>Models with i8mm (and dotprod): every <c>max</c> variant and <c>neoverse-v1</c>.</summary>
    public static bool HasI8mm => ExpectedCpu.StartsWith("max", StringComparison.Ordinal) || ExpectedCpu == "neoverse-v1";

    /// <summary>CPUs with dotprod or i8mm: KleidiAI's QP8 kernels run there.</summary>
    public static bool HasQp8 => HasI8mm || ExpectedCpu == "cortex-a76";

    public static string RuntimeIdentifier => RuntimeInformation.RuntimeIdentifier;

    /// <summary><paramref name="native"/> on x64, <paramref name="emulated"/> under QEMU.</summary>
    public static int Count(int native, int emulated) => IsEmulated ? emulated : native;

    public static void RequireKnownCpu()
    {
        if (!KnownCpus.Contains(ExpectedCpu))
        {
            NUnit.Framework.Assert.Ignore(
                $"XNNKLEIDI_EXPECTED_CPU is '{ExpectedCpu}'; set it to one of {string.Join(", ", KnownCpus)} to check kernel selection.");
        }
    }
}
