using System.Runtime.InteropServices;

namespace XnnKleidi.Oracle;

/// <summary>
/// The closing line of every test run and of `xnnkleidi bench --check`: "&lt;rid&gt;/&lt;cpu&gt;: N passed, N failed".
/// build.cake counts these lines and insists on N passed &gt; 0 and 0 failed, so the form is written once, here.
/// </summary>
public static class RunSummaryLine
{
    /// <summary>The environment variable that names the CPU model a run is on (x64, or a QEMU model such as max).</summary>
    public const string ExpectedCpuVariable = "XNNKLEIDI_EXPECTED_CPU";

    /// <summary>The CPU model named by <see cref="ExpectedCpuVariable"/>; without it "x64" on x86-64, else "native".</summary>
    public static string ExpectedCpu =>
        Environment.GetEnvironmentVariable(ExpectedCpuVariable) is { Length: > 0 } cpu
            ? cpu
            : RuntimeInformation.ProcessArchitecture == Architecture.X64 ? "x64" : "native";

    /// <summary>The line for <paramref name="passed"/> and <paramref name="failed"/> on <paramref name="runtimeIdentifier"/>/<paramref name="cpu"/>.</summary>
    public static string Format(string runtimeIdentifier, string cpu, int passed, int failed) =>
        FormattableString.Invariant($"{runtimeIdentifier}/{cpu}: {passed} passed, {failed} failed");
}
