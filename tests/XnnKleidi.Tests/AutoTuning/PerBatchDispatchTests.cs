using NUnit.Framework;
using XnnKleidi.Tests.Support;

namespace XnnKleidi.Tests.AutoTuning;

/// <summary>
/// A layer whose Auto decisions are given through the tuning cache (QD8 at batch 1, QP8 from batch 4, so QD8 for
/// M = 1–3 and QP8 from M = 4) runs, at each M, the variant chosen for it: the per-batch report and XNNPACK's
/// profile of the last run name its operators, and every output is held to the float64 reference. Where packing
/// cannot run (x86-64, cortex-a72) the same layer keeps one QD8 variant and says why. No decision here comes from a
/// clock.
/// </summary>
[TestFixture]
[Category(TestCategories.KernelDependent)]
public sealed class PerBatchDispatchTests
{
    private const int K = 64;
    private const int N = 24;

    private static readonly WeightScheme[] Schemes = [WeightScheme.Qc8w, WeightScheme.Qc4w, WeightScheme.Qb4w];

    [TestCaseSource(nameof(Schemes))]
    public void InjectedDecisions_EachBatchReportsTheVariantChosenForIt(WeightScheme scheme)
    {
        TestEnvironment.RequireKnownCpu();
        LinearWeights weights = Weights(scheme);
        using Linear linear = CreateWithInjectedDecisions(weights, out AutoTuningCache cache);

        for (int batch = 1; batch <= 6; batch++)
        {
            LinearExecutionInfo info = linear.GetExecutionInfo(batch);
            bool packed = TestEnvironment.HasQp8 && batch >= 4;
            Assert.Multiple(() =>
            {
                Assert.That(info.Batch, Is.EqualTo(batch));
                Assert.That(info.IsActivationPackingActive, Is.EqualTo(packed), $"M={batch}");
                Assert.That(info.OperatorNames, Is.EqualTo(ExpectedNames(packed ? "QP8" : "QD8", scheme)), $"M={batch}");
                Assert.That(info.KleidiAIKernelName, Is.EqualTo(packed ? ActivationPackingSupport.GetKleidiAIKernelName(scheme, batch) : null));
                // Every packed layout holds at least each weight and each output channel's fp32 bias and scale.
                Assert.That(info.PackedWeightBytes, Is.GreaterThanOrEqualTo(StoredWeightBytes(weights) + (2L * N * sizeof(float))), $"M={batch}");
                if (!TestEnvironment.HasQp8)
                {
                    Assert.That(info.PackingFallbackReason, Is.EqualTo(ExpectedUnavailableReason()));
                    Assert.That(info.TunedBatch, Is.Null, "nothing was tuned");
                }
                else if (packed)
                {
                    Assert.That(info.PackingFallbackReason, Is.Null);
                    Assert.That(info.TunedBatch, Is.EqualTo(4));
                    Assert.That(info.Timing!.IsFromCache, Is.True);
                }
                else
                {
                    Assert.That(info.PackingFallbackReason, Does.StartWith("Auto chose QD8 at batch 1: it ran faster beyond the noise"));
                    Assert.That(info.TunedBatch, Is.EqualTo(1));
                    Assert.That(info.Timing!.IsFromCache, Is.True);
                }
            });
        }

        Assert.Multiple(() =>
        {
            Assert.That(linear.VariantCount, Is.EqualTo(TestEnvironment.HasQp8 ? 2 : 1));
            Assert.That(linear.AutoTimings, Has.Count.EqualTo(TestEnvironment.HasQp8 ? 2 : 0));
            Assert.That(
                linear.PackedWeightBytes,
                Is.EqualTo(TestEnvironment.HasQp8 ? linear.GetExecutionInfo(1).PackedWeightBytes + linear.GetExecutionInfo(4).PackedWeightBytes : linear.GetExecutionInfo(1).PackedWeightBytes));
            Assert.That(cache.Count, Is.EqualTo(2), "a hit stores nothing new");
        });
    }

    [TestCaseSource(nameof(Schemes))]
    public void InjectedDecisions_BothRunOverloadsAsTheBatchChangesBackAndForth_MatchTheReferenceAndRunTheChosenOperators(WeightScheme scheme)
    {
        TestEnvironment.RequireKnownCpu();
        LinearWeights weights = Weights(scheme);
        float[] bias = TestData.Uniform(N, -0.5f, 0.5f, seed: 5);
        using Linear linear = CreateWithInjectedDecisions(weights, out _, bias);
        double[] dequantized = Reference.Dequantize(weights);

        foreach (int batch in new[] { 1, 4, 2, 5, 3, 8, 1, 4, 3 })
        {
            float[] input = TestData.Uniform(batch * K, -2f, 2f, seed: 100 + batch);
            double[] expected = Reference.Linear(input, dequantized, bias, batch, K, N, float.NegativeInfinity, float.PositiveInfinity);
            double[] tolerance = Reference.Tolerance(input, dequantized, bias, batch, K, N, scheme, LinearWeights.DefaultBlockSize);
            string[] names = ExpectedNames(TestEnvironment.HasQp8 && batch >= 4 ? "QP8" : "QD8", scheme);

            var output = new float[batch * N];
            linear.Run(input, output, batch);
            TestData.AssertClose(output, expected, tolerance, $"span overload, M={batch}");
            OperatorProfile profile = linear.GetLastRunProfile();
            Assert.That(profile.Operators.Select(op => op.Name), Is.EqualTo(names), $"span overload, M={batch}");
            Assert.That(profile.Batch, Is.EqualTo(batch));

            using var padded = new PaddedInputBuffer(input.Length);
            input.CopyTo(padded.Span);
            var paddedOutput = new float[batch * N];
            linear.Run(padded, paddedOutput, batch);
            TestData.AssertClose(paddedOutput, expected, tolerance, $"padded overload, M={batch}");
            Assert.That(linear.GetLastRunProfile().Operators.Select(op => op.Name), Is.EqualTo(names), $"padded overload, M={batch}");
        }
    }

    [Test]
    public void InjectedDecisions_FourThreadsAtDifferentBatchSizesAtOnce_EachGetsItsOwnCorrectOutput()
    {
        TestEnvironment.RequireKnownCpu();
        const WeightScheme scheme = WeightScheme.Qb4w;
        LinearWeights weights = Weights(scheme);
        using Linear linear = CreateWithInjectedDecisions(weights, out _);
        double[] dequantized = Reference.Dequantize(weights);
        int[] batches = [1, 3, 4, 7];
        int rounds = TestEnvironment.Count(native: 200, emulated: 10);
        using var start = new Barrier(batches.Length);
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();

        Thread[] threads = [.. batches.Select(batch => new Thread(() =>
        {
            float[] input = TestData.Uniform(batch * K, -2f, 2f, seed: 300 + batch);
            double[] expected = Reference.Linear(input, dequantized, null, batch, K, N, float.NegativeInfinity, float.PositiveInfinity);
            double[] tolerance = Reference.Tolerance(input, dequantized, null, batch, K, N, scheme, LinearWeights.DefaultBlockSize);
            var output = new float[batch * N];
            start.SignalAndWait();
            for (int round = 0; round < rounds; round++)
            {
                Array.Clear(output);
                linear.Run(input, output, batch);
                for (int i = 0; i < output.Length; i++)
                {
                    if (!(Math.Abs(output[i] - expected[i]) <= tolerance[i]))
                    {
                        failures.Enqueue($"M={batch} round {round} element {i}: {output[i]} against {expected[i]} ± {tolerance[i]}");
                        return;
                    }
                }
            }
        }))];
        foreach (Thread thread in threads)
        {
            thread.Start();
        }

        foreach (Thread thread in threads)
        {
            thread.Join();
        }

        Assert.That(failures, Is.Empty);
    }

    [TestCase(1, false)]
    [TestCase(6, true)]
    public void SingleVariantBatch_KeepsOneRuntime_TheOneChosenThere(int singleVariantBatch, bool packedWherePossible)
    {
        TestEnvironment.RequireKnownCpu();
        LinearWeights weights = Weights(WeightScheme.Qc4w);
        using Linear linear = CreateWithInjectedDecisions(weights, out _, singleVariantBatch: singleVariantBatch);
        bool packed = packedWherePossible && TestEnvironment.HasQp8;

        Assert.Multiple(() =>
        {
            Assert.That(linear.VariantCount, Is.EqualTo(1));
            Assert.That(linear.GetExecutionInfo(1).IsActivationPackingActive, Is.EqualTo(packed));
            Assert.That(linear.GetExecutionInfo(64).IsActivationPackingActive, Is.EqualTo(packed));
            Assert.That(linear.PackedWeightBytes, Is.EqualTo(linear.GetExecutionInfo(1).PackedWeightBytes));
        });
    }

    [Test]
    public void InjectedDecisions_TwoLayersSharingAWeightsCacheAndWorkspace_RunCorrectlyAtAlternatingBatches()
    {
        TestEnvironment.RequireKnownCpu();
        const WeightScheme scheme = WeightScheme.Qc4w;
        using var weightsCache = new XnnWeightsCache();
        using var workspace = new XnnWorkspace();
        LinearWeights first = Weights(scheme, seed: 11);
        LinearWeights second = Weights(scheme, seed: 12);
        using Linear a = CreateWithInjectedDecisions(first, out _, weightsCache: weightsCache, workspace: workspace);
        using Linear b = CreateWithInjectedDecisions(second, out _, weightsCache: weightsCache, workspace: workspace);

        foreach (int batch in new[] { 1, 4, 2, 6, 1 })
        {
            foreach ((Linear layer, LinearWeights weights) in new[] { (a, first), (b, second) })
            {
                float[] input = TestData.Uniform(batch * K, -2f, 2f, seed: 700 + batch);
                double[] dequantized = Reference.Dequantize(weights);
                var output = new float[batch * N];
                layer.Run(input, output, batch);
                TestData.AssertClose(
                    output,
                    Reference.Linear(input, dequantized, null, batch, K, N, float.NegativeInfinity, float.PositiveInfinity),
                    Reference.Tolerance(input, dequantized, null, batch, K, N, scheme, LinearWeights.DefaultBlockSize),
                    $"shared cache and workspace, M={batch}");
            }
        }
    }

    [Test]
    public void EmptyCache_IsFilledWithEveryTunedBatchWherePackingExists_AndThenSkipsTheTiming()
    {
        TestEnvironment.RequireKnownCpu();
        LinearWeights weights = Weights(WeightScheme.Qc4w);
        var cache = new AutoTuningCache();
        var options = new LinearOptions
        {
            ActivationPacking = ActivationPacking.Auto,
            AutoTuningBatches = [1, 4],
            AutoTuningBudget = TimeSpan.FromMilliseconds(4),
            AutoTuningCache = cache,
            // A quiet machine, given: on a loaded one (or a loaded emulator) the real reading would rightly keep the
            // timings out of the cache, which ContendedTimingTests covers.
            RunQueueWaitSource = () => TimeSpan.Zero,
        };

        using Linear timed = Linear.Create(K, N, weights, options: options);
        int stored = cache.Count;
        using Linear fromCache = Linear.Create(K, N, weights, options: options);

        Assert.Multiple(() =>
        {
            Assert.That(stored, Is.EqualTo(TestEnvironment.HasQp8 ? 2 : 0), "one entry per tuned batch size, and none where there is nothing to time");
            Assert.That(timed.AutoTimings.Select(timing => timing.IsFromCache), Has.All.False);
            Assert.That(fromCache.AutoTimings.Select(timing => timing.IsFromCache), Has.All.True);
            Assert.That(fromCache.AutoTimings.Select(timing => timing.Verdict), Is.EqualTo(timed.AutoTimings.Select(timing => timing.Verdict)));
        });
    }

    private static long StoredWeightBytes(LinearWeights weights) => weights.Scheme switch
    {
        WeightScheme.Qc8w => (long)N * K,
        _ => (long)N * K / 2,
    };

    private static LinearWeights Weights(WeightScheme scheme, int seed = 3) =>
        LinearWeights.Quantize(TestData.Uniform(N * K, -1f, 1f, seed), N, K, scheme);

    /// <summary>A layer with Auto over batches 1 and 4, whose cache already says QD8 at 1 and QP8 at 4.</summary>
    private static Linear CreateWithInjectedDecisions(
        LinearWeights weights,
        out AutoTuningCache cache,
        float[]? bias = null,
        int? singleVariantBatch = null,
        XnnWeightsCache? weightsCache = null,
        XnnWorkspace? workspace = null)
    {
        cache = new AutoTuningCache();
        cache.Store(AutoTuningEnvironment.Current, 1, weights, Decided(1, AutoTuningVerdict.UnpackedFaster));
        cache.Store(AutoTuningEnvironment.Current, 1, weights, Decided(4, AutoTuningVerdict.PackedFaster));
        var options = new LinearOptions
        {
            ActivationPacking = ActivationPacking.Auto,
            AutoTuningBatches = [1, 4],
            AutoTuningCache = cache,
            AutoTuningSingleVariantBatch = singleVariantBatch,
            EnableProfiling = true,
            WeightsCache = weightsCache,
            Workspace = workspace,
        };
        return Linear.Create(K, N, weights, bias, options: options);
    }

    private static ActivationPackingTiming Decided(int batch, AutoTuningVerdict verdict)
    {
        bool packedFaster = verdict == AutoTuningVerdict.PackedFaster;
        return new ActivationPackingTiming(batch, TimeSpan.FromTicks(packedFaster ? 80 : 120), TimeSpan.FromTicks(100), 40, 40, TimeSpan.Zero)
        {
            Ratio = packedFaster ? 0.8 : 1.2,
            RatioLow = packedFaster ? 0.78 : 1.17,
            RatioHigh = packedFaster ? 0.83 : 1.24,
            Verdict = verdict,
        };
    }

    private static string[] ExpectedNames(string activation, WeightScheme scheme)
    {
        string tag = scheme.ToString().ToUpperInvariant();
        return [$"Convert (NC, F32, {activation})", $"Fully Connected (NC, {activation}, F32, {tag}) GEMM"];
    }

    private static string? ExpectedUnavailableReason() => TestEnvironment.ExpectedCpu switch
    {
        "x64" => "KleidiAI is Arm-only; this is x86-64",
        "cortex-a72" => "this CPU lacks dotprod and i8mm, which KleidiAI's packed-activation kernels need",
        _ => null,
    };
}
