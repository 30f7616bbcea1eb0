using NUnit.Framework;
using XnnKleidi.Cli.Bench;
using XnnKleidi.Oracle;

namespace XnnKleidi.Cli.Tests;

/// <summary>
/// The benchmark's own noise, from injected timings: the floor that runners with identical runtimes set, the ratios
/// inside it, and a case that ran while another process held a core.
/// </summary>
public class RunNoiseTests
{
    private static readonly LayerShape Gemm = new("vit-b16", "self_attention.in_proj", 197, 768, 2304);
    private static readonly LayerShape Gemv = new("vit-b16", "heads.head", 1, 768, 1000);
    private static readonly CheckResult Pass = new(true, 10, 0.05, null);

    private static CaseResult Case(LayerShape shape, int threads, ActivationPacking? packing, double p50Microseconds,
        bool packed = false, Backend backend = Backend.XnnKleidi)
    {
        double[] samples = [.. Enumerable.Range(0, 2000).Select(i => 1000 * p50Microseconds * (0.999 + (0.002 * i / 2000)))];
        return new CaseResult
        {
            Shape = shape, Scheme = WeightScheme.Qc8w, Threads = threads, Packing = packing, Backend = backend,
            Statistics = TimingStatistics.FromNanoseconds(samples), Check = Pass, PackingActive = packing == null ? null : packed,
        };
    }

    private static BenchReport Report(params CaseResult[] cases)
    {
        var options = new BenchOptions { Shapes = [Gemm, Gemv], Schemes = [WeightScheme.Qc8w], Packings = [ActivationPacking.Off, ActivationPacking.On], Threads = [1, 2] };
        BenchReport report = TestReports.For(options);
        report.Cases.AddRange(cases);
        return report;
    }

    [Test]
    public void IdenticalRuntimes_SetTheFloorPerThreadCount_FromTheWidestPair()
    {
        // On x86-64 packing never happens: off and on are the same QD8 runtime.
        BenchReport report = Report(
            Case(Gemm, 1, ActivationPacking.Off, 835), Case(Gemm, 1, ActivationPacking.On, 843),
            Case(Gemv, 1, ActivationPacking.Off, 6.89), Case(Gemv, 1, ActivationPacking.On, 6.82),
            Case(Gemm, 2, ActivationPacking.Off, 468), Case(Gemm, 2, ActivationPacking.On, 470),
            Case(Gemv, 2, ActivationPacking.Off, 4.60), Case(Gemv, 2, ActivationPacking.On, 8.40));

        IReadOnlyList<NoiseFloor> floors = RunNoise.Assess(report);

        Assert.That(floors.Select(f => f.Threads), Is.EqualTo(new[] { 1, 2 }));
        Assert.That(floors[0].Floor, Is.EqualTo((843.0 / 835) - 1).Within(1e-3));
        Assert.That(floors[0].Pairs, Is.EqualTo(2));
        Assert.That(floors[1].Floor, Is.EqualTo((8.40 / 4.60) - 1).Within(1e-3));
        Assert.That(floors[1].Widest, Does.StartWith("1x768x1000 qc8w on/off"));
    }

    [Test]
    public void ARatioInsideTheFloor_IsFlagged_AndOneOutsideItIsNot()
    {
        // Off and on identical (floor 1 %); auto 0.5 % faster (inside) at the GEMM, packed on Arm 20 % faster (outside).
        CaseResult autoInside = Case(Gemm, 1, ActivationPacking.Auto, 995, packed: false);
        CaseResult packedOutside = Case(Gemv, 1, ActivationPacking.On, 800, packed: true);
        BenchReport report = Report(
            Case(Gemm, 1, ActivationPacking.Off, 1000), Case(Gemm, 1, ActivationPacking.On, 1010), autoInside,
            Case(Gemv, 1, ActivationPacking.Off, 1000), packedOutside);

        RunNoise.Assess(report);

        Assert.That(autoInside.WithinNoiseFloor, Does.Contain("within the run's noise floor of ±1.0 %"));
        Assert.That(packedOutside.WithinNoiseFloor, Is.Null);
    }

    [Test]
    public void NoIdenticalPair_NoFloorIsClaimed()
    {
        BenchReport report = Report(
            Case(Gemm, 1, ActivationPacking.Off, 1000), Case(Gemm, 1, ActivationPacking.On, 700, packed: true));

        Assert.That(RunNoise.Assess(report), Is.Empty);
    }

    [Test]
    public void TwoThreadsNoFasterThanOne_OnASplittableLayer_IsAStolenCore_AndItsRatiosDoNotCount()
    {
        // The figures of a run beside a compiler: 1,665 µs on 2 threads against 1,664 on 1.
        CaseResult one = Case(Gemm, 1, ActivationPacking.Off, 1664);
        CaseResult two = Case(Gemm, 2, ActivationPacking.Off, 1665);
        CaseResult nativeTwo = Case(Gemm, 2, ActivationPacking.Off, 1600, backend: Backend.Native);
        nativeTwo.PackingActive = false;
        BenchReport report = Report(one, two, nativeTwo, Case(Gemm, 1, ActivationPacking.Off, 1500, backend: Backend.Native));

        RunNoise.Assess(report);

        Assert.That(two.CoreStolen, Does.Contain("another process probably held a core"));
        Assert.That(one.CoreStolen, Is.Null);
        Assert.That(ComparatorGate.WhyNotCounted(two, nativeTwo), Does.Contain("another process held a core"));
    }

    [Test]
    public void TwoThreadsThatScale_OrALayerTooSmallToSplit_AreNotFlagged()
    {
        CaseResult scaled = Case(Gemm, 2, ActivationPacking.Off, 468);
        CaseResult tiny = Case(Gemv, 2, ActivationPacking.Off, 7.5);
        BenchReport report = Report(Case(Gemm, 1, ActivationPacking.Off, 835), scaled, Case(Gemv, 1, ActivationPacking.Off, 6.9), tiny);

        RunNoise.Assess(report);

        Assert.That(scaled.CoreStolen, Is.Null);
        Assert.That(tiny.CoreStolen, Is.Null, "6.9 µs on one thread is below what a pool splits");
    }

    [Test]
    public void AStolenCoreCase_DoesNotWidenTheFloor()
    {
        BenchReport report = Report(
            Case(Gemm, 1, ActivationPacking.Off, 1000), Case(Gemm, 1, ActivationPacking.On, 1000),
            Case(Gemm, 2, ActivationPacking.Off, 600), Case(Gemm, 2, ActivationPacking.On, 1200));

        IReadOnlyList<NoiseFloor> floors = RunNoise.Assess(report);

        Assert.That(report.Cases.Single(c => c.Threads == 2 && c.Packing == ActivationPacking.On).CoreStolen, Is.Not.Null);
        Assert.That(floors.Select(f => f.Threads), Is.EqualTo(new[] { 1 }), "the only 2-thread pair had a stolen core");
    }

    [Test]
    public void ThreadsThatWaitedForACpu_AreAStolenCore_AtAnyThreadCountAndSize()
    {
        // The run-queue counter sees what scaling cannot: a one-thread case, and a GEMV too small to split.
        CaseResult oneThread = Case(Gemm, 1, ActivationPacking.Off, 1664);
        oneThread.WaitingThreads = 0.4;
        CaseResult tiny = Case(Gemv, 2, ActivationPacking.Off, 7.5);
        tiny.WaitingThreads = 1.0;
        CaseResult quiet = Case(Gemm, 2, ActivationPacking.Off, 900);
        quiet.WaitingThreads = 0.05;
        BenchReport report = Report(oneThread, tiny, quiet, Case(Gemv, 1, ActivationPacking.Off, 6.9));

        RunNoise.Assess(report);

        Assert.Multiple(() =>
        {
            Assert.That(oneThread.CoreStolen, Is.EqualTo("0.4 of the benchmark's threads waited for a CPU on average while it was timed: something else held a core"));
            Assert.That(tiny.CoreStolen, Does.StartWith("1 of the benchmark's threads waited"));
            Assert.That(quiet.CoreStolen, Is.Null, "0.05 threads waiting is below the quarter that counts, and 900 µs on 2 threads scales from 1,664");
        });
    }
}
