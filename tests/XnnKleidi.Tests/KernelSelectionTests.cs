using NUnit.Framework;
using XnnKleidi.Tests.Support;

namespace XnnKleidi.Tests;

/// <summary>
/// Which kernels run where, read from the operator names XNNPACK reports, per XNNKLEIDI_EXPECTED_CPU:
/// x64 never packs (KleidiAI is Arm-only); QEMU max (i8mm, dotprod) and cortex-a76 (dotprod) pack qc4w, qb4w
/// and, with patch 0003, qc8w; cortex-a72 (neither) never packs. Without the flag nothing packs anywhere.
/// </summary>
[TestFixture]
[Category(TestCategories.KernelDependent)]
public sealed class KernelSelectionTests
{
    private const int K = 64;
    private const int N = 24;

    private static readonly WeightScheme[] QuantizedSchemes = [WeightScheme.Qc8w, WeightScheme.Qc4w, WeightScheme.Qb4w];

    [TestCaseSource(nameof(QuantizedSchemes))]
    public void NotForced_AnyCpu_RunsQd8WithoutReason(WeightScheme scheme)
    {
        using Linear linear = Create(scheme, ActivationPacking.Off);

        Assert.Multiple(() =>
        {
            Assert.That(linear.OperatorNames, Is.EqualTo(ExpectedNames("QD8", scheme)));
            Assert.That(linear.IsActivationPackingActive, Is.False);
            Assert.That(linear.PackingFallbackReason, Is.Null);
            Assert.That(linear.GetKleidiAIKernelName(1), Is.Null);
        });
    }

    [TestCaseSource(nameof(QuantizedSchemes))]
    public void ForcePacking_ReportsKernelAndReasonForThisCpu(WeightScheme scheme)
    {
        TestEnvironment.RequireKnownCpu();
        using Linear linear = Create(scheme, ActivationPacking.On);

        Assert.Multiple(() =>
        {
            Assert.That(linear.OperatorNames, Is.EqualTo(ExpectedNames(TestEnvironment.HasQp8 ? "QP8" : "QD8", scheme)));
            Assert.That(linear.IsActivationPackingActive, Is.EqualTo(TestEnvironment.HasQp8));
            Assert.That(linear.PackingFallbackReason, Is.EqualTo(ExpectedReason()));
            Assert.That(ActivationPackingSupport.GetUnavailableReason(scheme), Is.EqualTo(ExpectedReason()));
        });
    }

    [TestCase(WeightScheme.Qc8w, 1)]
    [TestCase(WeightScheme.Qc8w, 5)]
    [TestCase(WeightScheme.Qc4w, 1)]
    [TestCase(WeightScheme.Qc4w, 5)]
    [TestCase(WeightScheme.Qb4w, 1)]
    [TestCase(WeightScheme.Qb4w, 5)]
    public void ForcePacking_NamesTheKleidiAIKernelForThisCpu(WeightScheme scheme, int batch)
    {
        TestEnvironment.RequireKnownCpu();
        using Linear linear = Create(scheme, ActivationPacking.On);

        string? expected = ExpectedKernels.Name(ExpectedKernels.OfThisCpu, scheme, batch);
        Assert.That(linear.GetKleidiAIKernelName(batch), Is.EqualTo(expected));
    }

    private static IEnumerable<TestCaseData> FamilyCases() =>
        from scheme in new[] { WeightScheme.Qc8w, WeightScheme.Qc4w, WeightScheme.Qb4w, WeightScheme.F32 }
        from batch in new[] { 1, 5 }
        from packing in new[] { ActivationPacking.Off, ActivationPacking.On }
        select new TestCaseData(scheme, batch, packing);

    [TestCaseSource(nameof(FamilyCases))]
    public void Linear_ReportsTheKernelFamilyForThisCpu(WeightScheme scheme, int batch, ActivationPacking packing)
    {
        TestEnvironment.RequireKnownCpu();
        using Linear linear = Create(scheme, packing);

        ArmKernelFamily? expected = TestEnvironment.ExpectedCpu == "x64"
            ? null
            : ExpectedKernels.Family(ExpectedKernels.OfThisCpu, scheme, batch, linear.IsActivationPackingActive);
        Assert.That(linear.GetKernelFamily(batch), Is.EqualTo(expected));
    }

    [Test]
    public void ForcePacking_F32_RunsUnquantizedWithReason()
    {
        using Linear linear = Create(WeightScheme.F32, ActivationPacking.On);

        Assert.Multiple(() =>
        {
            // Where SME2 is, XNNPACK packs the fp32 input for KleidiAI's SME2 GEMM first (PackedFp32Tests).
            Assert.That(linear.OperatorNames, Has.Count.EqualTo(TestEnvironment.HasSme2 ? 2 : 1));
            Assert.That(linear.OperatorNames[^1], Does.StartWith("Fully Connected (NC, F32"));
            Assert.That(linear.IsActivationPackingActive, Is.False);
            Assert.That(linear.PackingFallbackReason, Does.Contain("F32 weights"));
        });
    }

    [TestCaseSource(nameof(QuantizedSchemes))]
    public void ForcePacking_WherePacked_AgreesWithUnpackedWithinTolerance(WeightScheme scheme)
    {
        TestEnvironment.RequireKnownCpu();
        if (!TestEnvironment.HasQp8)
        {
            Assert.Ignore($"{TestEnvironment.ExpectedCpu} runs no QP8 kernel; nothing to compare.");
        }

        // K = 17 is odd (a 4-bit row ends mid-byte) and below KleidiAI's 32-element K padding; M = 197 spans many GEMM tiles.
        foreach ((int k, int batch) in new[] { (scheme == WeightScheme.Qb4w ? 64 : 17, 197), (4096, 1) })
        {
            LinearWeights weights = LinearWeights.Quantize(TestData.Uniform(N * k, -1f, 1f, seed: 21), N, k, scheme);
            double[] dequantized = Reference.Dequantize(weights);
            float[] input = TestData.Uniform(batch * k, -3f, 1f, seed: 22);
            using Linear packed = Linear.Create(k, N, weights, options: new LinearOptions { ForceActivationPacking = true });
            using Linear unpacked = Linear.Create(k, N, weights, options: new LinearOptions { ForceActivationPacking = false });
            var packedOutput = new float[batch * N];
            var unpackedOutput = new float[batch * N];

            packed.Run(input, packedOutput, batch);
            unpacked.Run(input, unpackedOutput, batch);

            Assert.That(packed.IsActivationPackingActive, Is.True, packed.ToString());
            double[] tolerance = Reference.Tolerance(input, dequantized, null, batch, k, N, scheme, 32);
            TestData.AssertClose(packedOutput, Array.ConvertAll(unpackedOutput, v => (double)v), tolerance, $"QP8 against QD8, K={k} M={batch}");
        }
    }

    [TestCaseSource(nameof(QuantizedSchemes))]
    public void Auto_TimesBothVariantsWherePackingExists_AndKeepsTheFaster(WeightScheme scheme)
    {
        TestEnvironment.RequireKnownCpu();
        var budget = TimeSpan.FromMilliseconds(20);
        using Linear linear = Create(scheme, ActivationPacking.Auto, new LinearOptions { ActivationPacking = ActivationPacking.Auto, AutoTuningBudget = budget, AutoTuningBatch = 1 });

        if (!TestEnvironment.HasQp8)
        {
            Assert.Multiple(() =>
            {
                Assert.That(linear.AutoTiming, Is.Null, "nothing to time");
                Assert.That(linear.PackingFallbackReason, Is.EqualTo(ExpectedReason()));
                Assert.That(linear.OperatorNames, Is.EqualTo(ExpectedNames("QD8", scheme)));
            });
            return;
        }

        ActivationPackingTiming timing = linear.AutoTiming!;
        Assert.Multiple(() =>
        {
            Assert.That(timing, Is.Not.Null);
            Assert.That(timing.PackedRuns, Is.GreaterThanOrEqualTo(1));
            Assert.That(timing.UnpackedRuns, Is.GreaterThanOrEqualTo(1));
            Assert.That(timing.PackedTime, Is.GreaterThan(TimeSpan.Zero));
            Assert.That(timing.UnpackedTime, Is.GreaterThan(TimeSpan.Zero));
            // Runs are timed in pairs until the budget has passed or the run cap is reached, so fewer runs than the
            // cap mean the budget was spent. How far a loaded machine overshoots it is not asserted: a test that
            // depends on the machine's speed fails on someone else's.
            Assert.That(timing.PackedRuns, Is.EqualTo(timing.UnpackedRuns), "runs alternate in pairs");
            Assert.That(timing.PackedRuns, Is.LessThanOrEqualTo(4096));
            if (timing.PackedRuns < 4096)
            {
                Assert.That(timing.TotalTime, Is.GreaterThanOrEqualTo(budget), "it stopped before the cap, so only at the budget");
            }

            Assert.That(timing.TotalTime, Is.GreaterThanOrEqualTo(timing.PackedTime + timing.UnpackedTime), "the total holds at least the two medians' runs");
            // One tuned batch size has no neighbour to follow: only a verdict beyond the noise chooses packing.
            bool packed = timing.Verdict == AutoTuningVerdict.PackedFaster;
            Assert.That(linear.VariantCount, Is.EqualTo(1));
            Assert.That(linear.IsActivationPackingActive, Is.EqualTo(packed));
            Assert.That(linear.OperatorNames, Is.EqualTo(ExpectedNames(packed ? "QP8" : "QD8", scheme)));
            Assert.That(linear.PackingFallbackReason, packed ? Is.Null : Does.StartWith("Auto chose QD8"));
        });
    }

    [Test]
    public void ForceActivationPacking_IsTheOnMode()
    {
        var options = new LinearOptions { ForceActivationPacking = true };
        Assert.That(options.ActivationPacking, Is.EqualTo(ActivationPacking.On));
        options.ActivationPacking = ActivationPacking.Auto;
        Assert.That(options.ForceActivationPacking, Is.False);
        options.ForceActivationPacking = false;
        Assert.That(options.ActivationPacking, Is.EqualTo(ActivationPacking.Off));
    }

    private static Linear Create(WeightScheme scheme, ActivationPacking packing, LinearOptions? options = null) =>
        Linear.Create(
            K,
            N,
            TestData.Uniform(N * K, -1f, 1f, seed: 1),
            scheme,
            options: options ?? new LinearOptions { ActivationPacking = packing });

    private static string[] ExpectedNames(string activation, WeightScheme scheme)
    {
        string tag = scheme.ToString().ToUpperInvariant(); // QC8W, QC4W, QB4W as XNNPACK spells them
        return [$"Convert (NC, F32, {activation})", $"Fully Connected (NC, {activation}, F32, {tag}) GEMM"];
    }

    private static string? ExpectedReason() => TestEnvironment.ExpectedCpu switch
    {
        "x64" => "KleidiAI is Arm-only; this is x86-64",
        "cortex-a72" => "this CPU lacks dotprod and i8mm, which KleidiAI's packed-activation kernels need",
        _ => null,
    };
}
