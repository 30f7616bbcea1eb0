using System.Runtime.InteropServices;

namespace XnnKleidi.Tests.Support;

/// <summary>The CPU the tests run on, as the test driver states it, and the scale of the long tests.</summary>
internal static class TestEnvironment
{
    /// <summary>
    /// The CPU model from XNNKLEIDI_EXPECTED_CPU: x64, max, cortex-a76 or cortex-a72 (QEMU models), read as the
    /// oracle's run summary reads it. Unset means x64 on x86-64 and "native" elsewhere, which the per-CPU tests
    /// ignore rather than guess.
    /// </summary>
    public static string ExpectedCpu { get; } = RunSummaryLine.ExpectedCpu;

    /// <summary>The arm64 models run under QEMU, about 10–50× slower than native, so long loops are cut.</summary>
    public static bool IsEmulated => ExpectedCpu is "max" or "cortex-a76" or "cortex-a72";

    /// <summary>CPUs with dotprod (cortex-a76) or dotprod and i8mm (max): KleidiAI's QP8 kernels run there.</summary>
    public static bool HasQp8 => ExpectedCpu is "max" or "cortex-a76";

    public static string RuntimeIdentifier => RuntimeInformation.RuntimeIdentifier;

    /// <summary><paramref name="native"/> on x64, <paramref name="emulated"/> under QEMU.</summary>
    public static int Count(int native, int emulated) => IsEmulated ? emulated : native;

    public static void RequireKnownCpu()
    {
        if (ExpectedCpu is not ("x64" or "max" or "cortex-a76" or "cortex-a72"))
        {
            NUnit.Framework.Assert.Ignore(
                $"XNNKLEIDI_EXPECTED_CPU is '{ExpectedCpu}'; set it to x64, max, cortex-a76 or cortex-a72 to check kernel selection.");
        }
    }
}
