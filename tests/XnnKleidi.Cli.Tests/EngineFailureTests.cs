using NUnit.Framework;
using XnnKleidi.Cli.Bench;

namespace XnnKleidi.Cli.Tests;

/// <summary>A native failure in one case, out-of-memory included, is that case's error; the other cases still run.</summary>
public class EngineFailureTests
{
    private static BenchReport Run(Func<BenchData, ActivationPacking, int, IManagedLayer> createManaged)
    {
        var options = new BenchOptions
        {
            Shapes = [new LayerShape("custom", "test", 2, 32, 4)],
            Schemes = [WeightScheme.Qc8w],
            Packings = [ActivationPacking.Off, ActivationPacking.On, ActivationPacking.Auto],
            Threads = [1],
            Warmup = 1,
            Iterations = 3,
        };
        BenchReport report = TestReports.For(options);
        new BenchEngine(options, createManaged).Run(report, null, null, null);
        return report;
    }

    [Test]
    public void NativeOutOfMemory_WhileBuildingOneCase_IsThatCasesError_AndTheOthersAreMeasured()
    {
        BenchReport report = Run((data, packing, threads) =>
            packing == ActivationPacking.On ? throw StubLayer.NativeOutOfMemory : new StubLayer(data, failAfterCalls: null));

        CaseResult failed = report.Cases.Single(c => c.Packing == ActivationPacking.On);
        Assert.That(failed.Error, Does.StartWith(nameof(XnnPackException)).And.Contain("out of memory"));
        Assert.That(report.Cases.Where(c => c.Packing != ActivationPacking.On).Select(c => c.Statistics), Has.All.Not.Null);
    }

    [Test]
    public void NativeOutOfMemory_WhileTimingOneCase_IsThatCasesError_AndTheOthersAreMeasured()
    {
        BenchReport report = Run((data, packing, threads) =>
            new StubLayer(data, failAfterCalls: packing == ActivationPacking.Auto ? 2 : null));

        CaseResult failed = report.Cases.Single(c => c.Packing == ActivationPacking.Auto);
        Assert.That(failed.Error, Does.StartWith(nameof(XnnPackException)));
        Assert.That(failed.Statistics, Is.Null);
        Assert.That(report.Cases.Where(c => c.Packing != ActivationPacking.Auto).Select(c => c.Statistics), Has.All.Not.Null);
    }

    [Test]
    public void ManagedOutOfMemory_EndsTheRun() =>
        Assert.That(() => Run((data, packing, threads) => throw new OutOfMemoryException()), Throws.TypeOf<OutOfMemoryException>());
}
