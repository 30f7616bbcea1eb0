using NUnit.Framework;
using XnnKleidi.Cli.Bench;
using XnnKleidi.Oracle;

namespace XnnKleidi.Cli.Tests;

/// <summary>Accuracy before speed: a comparator outside its error bound has its time shown and its ratio never counted.</summary>
public class AccuracyGateTests
{
    private static readonly LayerShape Shape = new("custom", "test", 197, 768, 768);

    private static readonly CheckResult Pass = new(true, 10, 0.05, null);

    private static CaseResult Case(Backend backend, double p50Nanoseconds, CheckResult check, ActivationPacking? packing = ActivationPacking.Off)
    {
        // 2000 samples within ±0.1 % of the median: stable.
        double[] samples = [.. Enumerable.Range(0, 2000).Select(i => p50Nanoseconds * (0.999 + (0.002 * i / 2000)))];
        return new CaseResult
        {
            Shape = Shape, Scheme = WeightScheme.Qc8w, Threads = 1, Packing = packing, Backend = backend,
            Statistics = TimingStatistics.FromNanoseconds(samples), Check = check, Kernel = "DynamicQuantizeMatMul",
        };
    }

    private static BenchReport ReportWith(CaseResult ours, CaseResult ort)
    {
        var options = new BenchOptions { Shapes = [Shape], Schemes = [WeightScheme.Qc8w], Packings = [ActivationPacking.Off], Threads = [1] };
        BenchReport report = TestReports.For(options);
        ours.OrtCounterpart = ort;
        ours.SpeedupOverOrt = ort.Statistics!.P50 / ours.Statistics!.P50;
        report.Cases.Add(ours);
        report.Cases.Add(ort);
        return report;
    }

    [Test]
    public void FasterOrtOutsideItsBound_IsNotCounted_AndTheTargetSaysWhy()
    {
        // ORT made to fail: 2.1 times its own error bound, and 1.5 times faster than ours.
        CaseResult ours = Case(Backend.XnnKleidi, 3000, Pass);
        CaseResult ort = Case(Backend.OnnxRuntime, 2000, new CheckResult(false, 10, 2.1, "4 of 10 outputs out of bounds"), packing: null);
        BenchReport report = ReportWith(ours, ort);

        Targets.Evaluate(report);

        Assert.That(ComparatorGate.WhyNotCounted(ours, ort), Is.EqualTo("ORT faster but outside the error bound x2.1"));
        TargetVerdict verdict = report.Targets.Single(t => t.Target.StartsWith(Targets.SpeedupOverOrt, StringComparison.Ordinal));
        Assert.That(verdict.Met, Is.Null);
        Assert.That(verdict.Detail, Is.EqualTo("ORT faster but outside the error bound x2.1"));
        Assert.That(verdict.Measured, Is.EqualTo(2000.0 / 3000.0).Within(1e-3));
    }

    [Test]
    public void OrtWithinItsBound_IsCounted_AsAWinOrALoss()
    {
        CaseResult ours = Case(Backend.XnnKleidi, 3000, Pass);
        CaseResult ort = Case(Backend.OnnxRuntime, 2000, Pass, packing: null);
        BenchReport report = ReportWith(ours, ort);

        Targets.Evaluate(report);

        Assert.That(ComparatorGate.WhyNotCounted(ours, ort), Is.Null);
        Assert.That(report.Targets.Single().Met, Is.False);
    }

    [Test]
    public void OurOwnOutputOutsideItsBound_CountsNoRatio()
    {
        CaseResult ours = Case(Backend.XnnKleidi, 1000, new CheckResult(false, 10, 3.0, "bad"));
        CaseResult ort = Case(Backend.OnnxRuntime, 2000, Pass, packing: null);
        BenchReport report = ReportWith(ours, ort);

        Targets.Evaluate(report);

        Assert.That(report.Targets.Single().Met, Is.Null);
        Assert.That(report.Targets.Single().Detail, Does.StartWith("our output outside its error bound"));
    }

    [Test]
    public void UnstableMedian_EvaluatesNoTarget()
    {
        CaseResult ours = Case(Backend.XnnKleidi, 3000, Pass);
        CaseResult ort = Case(Backend.OnnxRuntime, 2000, Pass, packing: null);
        // Ten samples from 1000 to 5500 ns: the interval of the median spans most of them.
        ours.Statistics = TimingStatistics.FromNanoseconds([.. Enumerable.Range(0, 10).Select(i => 1000.0 + (500 * i))]);
        BenchReport report = ReportWith(ours, ort);

        Targets.Evaluate(report);

        Assert.That(ours.Unstable, Is.True);
        Assert.That(report.Targets.Single().Met, Is.Null);
        Assert.That(report.Targets.Single().Detail, Is.EqualTo("unstable median"));
    }

    [Test]
    public void InTheEngine_AManagedLayerOutsideItsBound_FailsItsCheck_AndItsOrtRatioDoesNotCount()
    {
        var options = new BenchOptions
        {
            Shapes = [new LayerShape("custom", "test", 4, 64, 8)],
            Schemes = [WeightScheme.Qc8w],
            Packings = [ActivationPacking.Off],
            Threads = [1],
            Warmup = 1,
            Iterations = 20,
            CompareOrt = true,
        };
        BenchReport report = TestReports.For(options);

        // A layer made to fail: it leaves its output at zero.
        new BenchEngine(options, (data, packing, threads) => new StubLayer(data)).Run(report, null, null, null);
        Targets.Evaluate(report);

        CaseResult ours = report.Cases.Single(c => c.Backend == Backend.XnnKleidi);
        CaseResult ort = report.Cases.Single(c => c.Backend == Backend.OnnxRuntime);
        Assert.That(ours.Check!.Passed, Is.False);
        Assert.That(ort.Check!.Passed, Is.True, ort.Check.Failure);
        Assert.That(ours.SpeedupOverOrt, Is.Not.Null, "the time is still shown");
        Assert.That(ComparatorGate.WhyNotCounted(ours, ort), Does.StartWith("our output outside its error bound"));
        Assert.That(report.Targets.Where(t => t.Target.StartsWith(Targets.SpeedupOverOrt, StringComparison.Ordinal)).Select(t => t.Met), Is.All.Null);
    }
}
