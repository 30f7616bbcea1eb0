using NUnit.Framework;
using XnnKleidi.Tests.Support;

namespace XnnKleidi.Tests;

/// <summary>
/// Per-operator profiles: off by default, no effect on results, and the convert and the GEMM each present with times
/// that add up to the native call they happened in.
/// </summary>
[TestFixture]
public sealed class ProfilingTests
{
    private const int K = 768;
    private const int N = 768;

    [Test]
    public void Profiling_IsOffByDefault_AndAProfileIsThenRefused()
    {
        Assert.That(new LinearOptions().EnableProfiling, Is.False);
        using Linear linear = Linear.Create(64, 8, TestData.Uniform(8 * 64, -1f, 1f, seed: 1), WeightScheme.Qc8w);
        linear.Run(TestData.Uniform(64, -1f, 1f, seed: 2), new float[8], 1);

        Assert.That(linear.IsProfilingEnabled, Is.False);
        var ex = Assert.Throws<InvalidOperationException>(() => linear.GetLastRunProfile());
        Assert.That(ex!.Message, Does.Contain("EnableProfiling"));
    }

    [Test]
    public void Profile_BeforeAnyRun_IsRefused()
    {
        using Linear linear = Linear.Create(64, 8, TestData.Uniform(8 * 64, -1f, 1f, seed: 1), WeightScheme.Qc8w, options: new LinearOptions { EnableProfiling = true });
        Assert.Throws<InvalidOperationException>(() => linear.GetLastRunProfile());
    }

    [Test]
    public void NativeRuntimeFlags_AreTheLibrarysPlusProfilingWhenAskedFor()
    {
        float[] weights = TestData.Uniform(8 * 64, -1f, 1f, seed: 1);
        using Linear plain = Linear.Create(64, 8, weights, WeightScheme.Qc8w);
        using Linear profiled = Linear.Create(64, 8, weights, WeightScheme.Qc8w, options: new LinearOptions { EnableProfiling = true });

        Assert.That(plain.NativeRuntimeFlags, Is.EqualTo(XnnKleidiLibrary.RuntimeFlags));
        Assert.That(profiled.NativeRuntimeFlags, Is.EqualTo(XnnKleidiLibrary.RuntimeFlags | 0x8u), "XNN_FLAG_BASIC_PROFILING is 0x8 in xnnpack.h");
    }

    private static IEnumerable<TestCaseData> Layers()
    {
        foreach (WeightScheme scheme in new[] { WeightScheme.Qc8w, WeightScheme.Qc4w, WeightScheme.Qb4w, WeightScheme.F32 })
        {
            foreach (ActivationPacking packing in new[] { ActivationPacking.Off, ActivationPacking.On })
            {
                yield return new TestCaseData(scheme, packing).SetName($"Profiling_{scheme}_{packing}_ChangesNothingInTheResults");
            }
        }
    }

    [TestCaseSource(nameof(Layers))]
    public void Profiling_ChangesNothingInTheResults(WeightScheme scheme, ActivationPacking packing)
    {
        const int Batch = 17;
        LinearWeights weights = LinearWeights.Quantize(TestData.Uniform(N * K, -1f, 1f, seed: 3), N, K, scheme);
        using Linear plain = Linear.Create(K, N, weights, options: new LinearOptions { ActivationPacking = packing });
        using Linear profiled = Linear.Create(K, N, weights, options: new LinearOptions { ActivationPacking = packing, EnableProfiling = true });
        float[] input = TestData.Uniform(Batch * K, -1f, 1f, seed: 4);
        var plainOutput = new float[Batch * N];
        var profiledOutput = new float[Batch * N];

        plain.Run(input, plainOutput, Batch);
        profiled.Run(input, profiledOutput, Batch);

        Assert.That(profiled.OperatorNames, Is.EqualTo(plain.OperatorNames));
        Assert.That(profiledOutput, Is.EqualTo(plainOutput), "the same kernels must give the same bits");
    }

    [TestCase(WeightScheme.Qc8w, ActivationPacking.Off)]
    [TestCase(WeightScheme.Qc8w, ActivationPacking.On)]
    [TestCase(WeightScheme.Qc4w, ActivationPacking.On)]
    [TestCase(WeightScheme.Qb4w, ActivationPacking.On)]
    public void Profile_ConvertAndGemmArePresent_AndAddUpToTheNativeCall(WeightScheme scheme, ActivationPacking packing)
    {
        const int Batch = 197;
        LinearWeights weights = LinearWeights.Quantize(TestData.Uniform(N * K, -1f, 1f, seed: 5), N, K, scheme);
        using Linear linear = Linear.Create(K, N, weights, options: new LinearOptions { ActivationPacking = packing, EnableProfiling = true });
        float[] input = TestData.Uniform(Batch * K, -1f, 1f, seed: 6);
        var output = new float[Batch * N];

        // The first runs also fault in the output's and the workspace's pages; the profile is of the last run.
        for (int i = 0; i < 3; i++)
        {
            linear.Run(input, output, Batch);
        }

        OperatorProfile profile = linear.GetLastRunProfile();
        TestContext.Out.WriteLine(Describe(profile));
        string format = linear.IsActivationPackingActive ? "QP8" : "QD8";
        Assert.That(profile.Batch, Is.EqualTo(Batch));
        Assert.That(profile.Operators.Select(op => op.Name), Is.EqualTo(linear.OperatorNames));
        Assert.That(profile.Operators, Has.Count.EqualTo(2));
        Assert.That(profile.Operators[0].Name, Does.StartWith($"Convert (NC, F32, {format})"));
        Assert.That(profile.Operators[1].Name, Does.StartWith($"Fully Connected (NC, {format}, F32,"));
        Assert.That(profile.Operators[1].Time, Is.GreaterThan(TimeSpan.Zero), "a 197×768×768 GEMM takes more than a microsecond");

        // XNNPACK times each operator from the end of the one before, starting inside xnn_invoke_runtime, and rounds
        // each down to whole microseconds. So in every run the sum can exceed the call by nothing. It falls short of
        // the call by the call's own entry and exit and that rounding, at most 5 % of the call or 50 µs, whichever is
        // more, unless the thread is preempted outside XNNPACK's timestamps. Two cores shared with the build can do
        // that to any one run, so the lower bound must hold for the closest of several runs, not for each.
        bool someRunClose = false;
        TimeSpan closestGap = TimeSpan.MaxValue;
        string closestRun = string.Empty;
        for (int run = 0; run < 20 && !someRunClose; run++)
        {
            linear.Run(input, output, Batch);
            profile = linear.GetLastRunProfile();
            TimeSpan gap = profile.InvokeTime - profile.OperatorTotal;
            Assert.That(profile.OperatorTotal, Is.LessThanOrEqualTo(profile.InvokeTime), Describe(profile));
            someRunClose = gap <= Margin(profile);
            if (gap < closestGap)
            {
                closestGap = gap;
                closestRun = Describe(profile);
            }
        }

        Assert.That(someRunClose, Is.True, $"no run of 20 within 5 % or 50 µs of its call; the closest: {closestRun}");
    }

    private static TimeSpan Margin(OperatorProfile profile) =>
        TimeSpan.FromTicks(Math.Max(TimeSpan.FromMicroseconds(50).Ticks, profile.InvokeTime.Ticks / 20));

    private static string Describe(OperatorProfile profile) =>
        string.Join(", ", profile.Operators.Select(op => $"{op.Name}: {op.Time.TotalMicroseconds} µs"))
        + $"; operators {profile.OperatorTotal.TotalMicroseconds} µs, call {profile.InvokeTime.TotalMicroseconds:F1} µs";
}
