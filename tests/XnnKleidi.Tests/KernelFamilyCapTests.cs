using System.Diagnostics;
using System.Runtime.CompilerServices;
using NUnit.Framework;
using XnnKleidi.Tests.Support;

namespace XnnKleidi.Tests;

/// <summary>
/// The cap on the Arm kernel families (XNNKLEIDI_MAX_ARM_ISA, or XnnKleidiLibrary.SetMaxArmKernelFamily before first
/// use) is process-wide and read once, so each case runs in a child process of this test executable, which reports
/// the kernel and family of every scheme for one row and for five. The expected kernels are those of this CPU model
/// with the families above the cap taken away (ExpectedKernels), so the cap must lower as documented; and no capped
/// family may be above the uncapped one this process runs.
/// </summary>
[TestFixture]
[Category(TestCategories.KernelDependent)]
public sealed class KernelFamilyCapTests
{
    private const string ProbeVariable = "XNNKLEIDI_CAP_PROBE";
    private const string ProbeCallVariable = "XNNKLEIDI_CAP_PROBE_CALL";
    private static readonly WeightScheme[] Schemes = [WeightScheme.Qc8w, WeightScheme.Qc4w, WeightScheme.Qb4w, WeightScheme.F32];
    private static readonly int[] Batches = [1, 5];

    /// <summary>
    /// Started with the probe variable, the executable reports what it runs under the cap and exits before the test
    /// platform starts: one line "kernel SCHEME BATCH NAME FAMILY" per case ("none" for no name or family), or
    /// "error MESSAGE" when the library refuses.
    /// </summary>
    [ModuleInitializer]
    internal static void RunProbeIfAsked()
    {
        if (Environment.GetEnvironmentVariable(ProbeVariable) != "1")
        {
            return;
        }

        try
        {
            if (Environment.GetEnvironmentVariable(ProbeCallVariable) is { Length: > 0 } call)
            {
                XnnKleidiLibrary.SetMaxArmKernelFamily(Enum.Parse<ArmKernelFamily>(call));
            }

            Console.Out.WriteLine($"cap {XnnKleidiLibrary.MaxArmKernelFamily?.ToString() ?? "none"}");
            foreach (WeightScheme scheme in Schemes)
            {
                using Linear linear = Linear.Create(64, 24, TestData.Uniform(64 * 24, -1f, 1f, seed: 9), scheme,
                    options: new LinearOptions { ActivationPacking = ActivationPacking.On });
                foreach (int batch in Batches)
                {
                    Console.Out.WriteLine($"kernel {scheme} {batch} {linear.GetKleidiAIKernelName(batch) ?? "none"} {linear.GetKernelFamily(batch)?.ToString() ?? "none"}");
                }
            }
        }
        catch (Exception exception) when (exception is InvalidOperationException or ArgumentException)
        {
            Console.Out.WriteLine($"error {exception.Message}");
        }

        Console.Out.Flush();
        Environment.Exit(0);
    }

    private static IEnumerable<ArmKernelFamily> Caps() => Enum.GetValues<ArmKernelFamily>();

    [TestCaseSource(nameof(Caps))]
    public void EnvironmentCap_LowersToTheCappedCpusKernels_AndNeverRaises(ArmKernelFamily cap)
    {
        TestEnvironment.RequireKnownCpu();
        ProbeResult result = RunProbe(environmentCap: XnnKleidiLibrary.GetName(cap), callCap: null);

        AssertCappedAt(cap, result);
    }

    [Test]
    public void CallBeforeFirstUse_CapsLikeTheVariable_AndTakesPrecedenceOverIt()
    {
        TestEnvironment.RequireKnownCpu();
        ProbeResult result = RunProbe(environmentCap: "sme2", callCap: ArmKernelFamily.Neon);

        AssertCappedAt(ArmKernelFamily.Neon, result);
    }

    [Test]
    public void InvalidVariable_IsRefusedWithTheValidValues()
    {
        TestEnvironment.RequireKnownCpu();
        ProbeResult result = RunProbe(environmentCap: "avx512", callCap: null);

        Assert.That(result.Error, Does.Contain("XNNKLEIDI_MAX_ARM_ISA is 'avx512'").And.Contain("sme2, sme, i8mm, dotprod, neon"),
            result.Output);
    }

    [Test]
    public void CallAfterFirstUse_IsRefusedAndKeepsTheCapInForce()
    {
        ArmKernelFamily? inForce = XnnKleidiLibrary.MaxArmKernelFamily; // the library is in use from here on

        Assert.Multiple(() =>
        {
            Assert.That(() => XnnKleidiLibrary.SetMaxArmKernelFamily(ArmKernelFamily.Neon),
                Throws.InvalidOperationException.With.Message.Contains("before the library's first use"));
            Assert.That(XnnKleidiLibrary.MaxArmKernelFamily, Is.EqualTo(inForce));
        });
    }

    [Test]
    public void UndefinedFamily_IsRefusedBeforeReachingTheLibrary()
    {
        Assert.That(() => XnnKleidiLibrary.SetMaxArmKernelFamily((ArmKernelFamily)42),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("family"));
    }

    private static void AssertCappedAt(ArmKernelFamily cap, ProbeResult result)
    {
        bool arm64 = TestEnvironment.ExpectedCpu != "x64";
        ExpectedKernels.Features capped = ExpectedKernels.OfThisCpu.CappedAt(cap);
        Assert.Multiple(() =>
        {
            Assert.That(result.Error, Is.Null, result.Output);
            Assert.That(result.Cap, Is.EqualTo(cap.ToString()), result.Output);
            foreach (WeightScheme scheme in Schemes)
            {
                using Linear uncapped = Linear.Create(64, 24, TestData.Uniform(64 * 24, -1f, 1f, seed: 9), scheme,
                    options: new LinearOptions { ActivationPacking = ActivationPacking.On });
                foreach (int batch in Batches)
                {
                    (string name, string family) = result.Kernels[(scheme, batch)];
                    bool packed = name != "none";
                    Assert.That(name, Is.EqualTo(arm64 ? ExpectedKernels.Name(capped, scheme, batch) ?? "none" : "none"),
                        $"{scheme} M={batch} under the {cap} cap");
                    if (!arm64)
                    {
                        Assert.That(family, Is.EqualTo("none"), $"{scheme} M={batch}: no Arm family on x64");
                        continue;
                    }

                    ArmKernelFamily actual = Enum.Parse<ArmKernelFamily>(family);
                    Assert.That(actual, Is.EqualTo(ExpectedKernels.Family(capped, scheme, batch, packed)), $"{scheme} M={batch} under the {cap} cap");
                    Assert.That(actual, Is.LessThanOrEqualTo(cap), $"{scheme} M={batch}: above the {cap} cap");
                    Assert.That(actual, Is.LessThanOrEqualTo(uncapped.GetKernelFamily(batch)!.Value), $"{scheme} M={batch}: the {cap} cap raised the family");
                }
            }
        });
    }

    private sealed record ProbeResult(string Output, string? Error, string? Cap, Dictionary<(WeightScheme, int), (string Name, string Family)> Kernels);

    private static ProbeResult RunProbe(string? environmentCap, ArmKernelFamily? callCap)
    {
        ProcessStartInfo start = ChildProcess.StartInfoForThisExecutable();
        start.Environment[ProbeVariable] = "1";
        start.Environment[XnnKleidiLibrary.MaxArmKernelFamilyVariable] = environmentCap ?? "";
        start.Environment[ProbeCallVariable] = callCap?.ToString() ?? "";
        (int exitCode, string output) = ChildProcess.Run(start);
        Assert.That(exitCode, Is.Zero, $"the probe process failed; its output:\n{output}");

        string? error = null, cap = null;
        var kernels = new Dictionary<(WeightScheme, int), (string, string)>();
        foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string[] parts = line.Split(' ');
            switch (parts[0])
            {
                case "error":
                    error = line["error ".Length..];
                    break;
                case "cap":
                    cap = parts[1];
                    break;
                case "kernel" when parts.Length == 5:
                    kernels[(Enum.Parse<WeightScheme>(parts[1]), int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture))] = (parts[3], parts[4]);
                    break;
            }
        }

        return new ProbeResult(output, error, cap, kernels);
    }
}
