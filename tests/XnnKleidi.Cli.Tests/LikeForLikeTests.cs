using NUnit.Framework;
using XnnKleidi.Cli.Bench;

namespace XnnKleidi.Cli.Tests;

/// <summary>The C harness is timed only when it runs the managed layer's very runtime: flags, operators, output.</summary>
public class LikeForLikeTests
{
    private static BenchReport RunWithHarness(Func<IManagedLayer, uint>? harnessFlags)
    {
        var options = new BenchOptions
        {
            Shapes = [new LayerShape("custom", "test", 3, 64, 16)],
            Schemes = [WeightScheme.Qc8w],
            Packings = [ActivationPacking.Off],
            Threads = [1],
            Warmup = 1,
            Iterations = 5,
            CompareNative = true,
        };
        BenchReport report = TestReports.For(options);
        using NativeHarness harness = NativeHarness.Start();
        var engine = harnessFlags == null
            ? new BenchEngine(options, ManagedLayer.Create)
            : new BenchEngine(options, ManagedLayer.Create) { HarnessRuntimeFlags = harnessFlags };
        engine.Run(report, harness, null, null);
        return report;
    }

    /// <summary>XNN_FLAG_BASIC_PROFILING as the library itself adds it: the flags of a profiled layer less a plain one's.</summary>
    private static uint ProfilingFlagOfTheLibrary()
    {
        float[] weights = new float[16 * 64];
        using var plain = Linear.Create(64, 16, weights, WeightScheme.Qc8w);
        using var profiled = Linear.Create(64, 16, weights, WeightScheme.Qc8w, options: new LinearOptions { EnableProfiling = true });
        uint flag = profiled.NativeRuntimeFlags & ~plain.NativeRuntimeFlags;
        Assert.That(flag, Is.Not.Zero, "a profiled layer must carry a flag a plain one lacks");
        return flag;
    }

    [Test]
    public void Harness_GivenTheLayersOwnFlags_IsLikeForLike_ChecksAndIsTimed()
    {
        BenchReport report = RunWithHarness(null);

        CaseResult native = report.Cases.Single(c => c.Backend == Backend.Native);
        Assert.That(native.Error, Is.Null);
        Assert.That(native.Operators, Is.EqualTo(report.Cases.Single(c => c.Backend == Backend.XnnKleidi).Operators).And.Not.Empty);
        Assert.That(native.Check, Is.Not.Null.And.Property(nameof(Oracle.CheckResult.Passed)).True);
        Assert.That(native.Statistics, Is.Not.Null);
    }

    [Test]
    public void Harness_GivenADeliberatelyDifferentFlag_FailsTheCase_NamingTheFlags()
    {
        uint profiling = ProfilingFlagOfTheLibrary();

        BenchReport report = RunWithHarness(managed => managed.RuntimeFlags | profiling);

        CaseResult native = report.Cases.Single(c => c.Backend == Backend.Native);
        // Profiling changes neither the operators nor the output: only the echoed flags tell the runtimes apart.
        Assert.That(native.Error, Does.StartWith("not like for like: runtime flags").And.Contain($"0x{profiling:x} in C"));
        Assert.That(native.Statistics, Is.Null);
        Assert.That(report.Cases.Single(c => c.Backend == Backend.XnnKleidi).ManagedNativeRatio, Is.Null);
    }

    [Test]
    public void Mismatch_OfOperatorsAndChecksum_NamesBoth()
    {
        using var managed = new StubLayer([1f, 2f, 3f], ["Convert (NC, F32, QD8)", "Fully Connected (NC, QD8, F32, QC8W) GEMM"]);

        string? mismatch = LikeForLike.Mismatch(managed, new HarnessLayer(6.5, 0, ["Fully Connected (NC, F32) GEMM"]));

        Assert.That(mismatch, Does.Contain("operators [Fully Connected (NC, F32) GEMM] in C").And.Contain("output checksum 6.5 in C, 6 in the managed layer"));
        Assert.That(mismatch, Does.Not.Contain("runtime flags"));
    }

    [Test]
    public void Mismatch_OfIdenticalLayers_IsNull()
    {
        using var managed = new StubLayer([0.25f, 0.5f], ["Fully Connected (NC, F32) GEMM"]);

        Assert.That(LikeForLike.Mismatch(managed, new HarnessLayer(0.75, 0, ["Fully Connected (NC, F32) GEMM"])), Is.Null);
    }
}
