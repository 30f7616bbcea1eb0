using System.Runtime.InteropServices;
using System.Text.Json;
using NUnit.Framework;
using Spectre.Console;
using XnnKleidi.Cli.Bench;
using XnnKleidi.Cli.Output;
using XnnKleidi.Oracle;

namespace XnnKleidi.Cli.Tests;

/// <summary>
/// `bench --kernel-family`: what is refused, how the children's documents travel, and how their cases merge into one
/// report with the family ratio. The children themselves run under QEMU in the build's TestCli (x64 has no families).
/// </summary>
public class KernelFamilyRunTests
{
    private const CpuFeatures Sme2Cpu = CpuFeatures.ArmNeon | CpuFeatures.ArmDotprod | CpuFeatures.ArmI8mm | CpuFeatures.ArmSme | CpuFeatures.ArmSme2;
    private const CpuFeatures I8mmCpu = CpuFeatures.ArmNeon | CpuFeatures.ArmDotprod | CpuFeatures.ArmI8mm;

    private static readonly LayerShape Shape = new("vit-b16", "mlp.0 (fc1)", 197, 768, 3072);

    [TestCase("bench", "--preset", "vit-b16", "--kernel-family", "sme3")]
    [TestCase("bench", "--model", "vit-b16", "--kernel-family", "i8mm")]
    public void Refused_WithOneLineAndExitCode2(params string[] args)
    {
        (int code, _, string error) = ConsoleCapture.Run(args);
        Assert.That(code, Is.EqualTo(Program.BadArguments), error);
        Assert.That(error.TrimEnd().Split('\n'), Has.Length.EqualTo(1), error);
        Assert.That(error, Does.StartWith("xnnkleidi: error: ").And.Contain("--kernel-family"));
    }

    [Test]
    public void OnX64_IsRefused_BecauseThereIsNothingToCap()
    {
        Assume.That(RuntimeInformation.ProcessArchitecture, Is.EqualTo(Architecture.X64));
        (int code, _, string error) = ConsoleCapture.Run("bench", "--shape", "1x64x16", "--kernel-family", "sme2,i8mm", "--check");
        Assert.That(code, Is.EqualTo(Program.BadArguments), error);
        Assert.That(error, Does.Contain("compares Arm kernel families").And.Contain("this process runs on x64"));
    }

    [Test]
    public void WhyNot_AcceptsTheFamiliesTheCpuOffers_AndNamesTheFirstItDoesNot()
    {
        Assert.That(KernelFamilyRuns.WhyNot([ArmKernelFamily.Sme2, ArmKernelFamily.I8mm], Architecture.Arm64, Sme2Cpu, null), Is.Null);
        Assert.That(KernelFamilyRuns.WhyNot([ArmKernelFamily.I8mm, ArmKernelFamily.Neon], Architecture.Arm64, I8mmCpu, null), Is.Null);

        string? refused = KernelFamilyRuns.WhyNot([ArmKernelFamily.I8mm, ArmKernelFamily.Sme2], Architecture.Arm64, I8mmCpu, null);
        Assert.That(refused, Is.EqualTo("--kernel-family sme2: this CPU does not offer it (it offers i8mm, dotprod, neon)"));

        // A cap already in force explains why a CPU with SME2 seems to lack it.
        string? capped = KernelFamilyRuns.WhyNot([ArmKernelFamily.Sme], Architecture.Arm64, I8mmCpu, ArmKernelFamily.I8mm);
        Assert.That(capped, Does.EndWith("XNNKLEIDI_MAX_ARM_ISA=i8mm caps this process)"));

        Assert.That(KernelFamilyRuns.WhyNot([ArmKernelFamily.Neon], Architecture.X64, CpuFeatures.None, null), Does.Contain("runs on x64"));
    }

    [TestCase(Sme2Cpu, ArmKernelFamily.Sme2)]
    [TestCase(I8mmCpu, ArmKernelFamily.I8mm)]
    [TestCase(CpuFeatures.ArmNeon | CpuFeatures.ArmDotprod, ArmKernelFamily.Dotprod)]
    [TestCase(CpuFeatures.ArmNeon, ArmKernelFamily.Neon)]
    public void BestFamily_IsTheMostCapableTheFeaturesOffer(CpuFeatures features, ArmKernelFamily expected) =>
        Assert.That(KernelFamilyRuns.BestFamily(features), Is.EqualTo(expected));

    [Test]
    public void Response_RoundTripsThroughJson_WithNaNIntervalsAndEqualShapes()
    {
        CaseResult measured = Case(ArmKernelFamily.I8mm, ActivationPacking.On, [100, 110, 120]);
        measured.KernelFamily = ArmKernelFamily.Dotprod;
        var response = new KernelFamilyRuns.Response(
            KernelFamilyRuns.Protocol, ArmKernelFamily.I8mm, ArmKernelFamily.I8mm,
            new HostSummary("linux-arm64", "CPU", "neon", "build", "emulated", ".NET", I8mmCpu, Architecture.Arm64),
            [measured], [new PeakResult("smmla", "int8", "smmla (i8mm)", null, "identified")],
            [new TargetVerdict("t", "w", 1.0, 1.0, null, "d")], ["a note"]);

        string json = JsonSerializer.Serialize(response, KernelFamilyRuns.SerializerOptions);
        KernelFamilyRuns.Response? back = JsonSerializer.Deserialize<KernelFamilyRuns.Response>(json, KernelFamilyRuns.SerializerOptions);

        Assert.That(back, Is.Not.Null);
        CaseResult c = back!.Cases.Single();
        Assert.That(c.Shape, Is.EqualTo(Shape), "the parent finds a case's shape in its own options by value");
        Assert.That(c.KernelFamilyCap, Is.EqualTo(ArmKernelFamily.I8mm));
        Assert.That(c.KernelFamily, Is.EqualTo(ArmKernelFamily.Dotprod));
        Assert.That(c.Packing, Is.EqualTo(ActivationPacking.On));
        Assert.That(c.Statistics!.P50, Is.EqualTo(110));
        Assert.That(double.IsNaN(c.Statistics.MedianLow), Is.True, "three samples have no interval; NaN must survive");
        Assert.That(c.Check, Is.EqualTo(measured.Check));
        Assert.That(back.Host.Features, Is.EqualTo(I8mmCpu));
        Assert.That(back.Peaks.Single().Probe, Is.EqualTo("smmla"));
        Assert.That(json, Does.Contain("\"I8mm\""), "enums travel by name, not by number");
    }

    [Test]
    public void Merge_DividesEachP50ByTheSameCaseUnderTheFirstFamily()
    {
        BenchOptions options = Options([ArmKernelFamily.Sme2, ArmKernelFamily.I8mm]);
        KernelFamilyRuns.Response sme2 = Response(ArmKernelFamily.Sme2,
            Case(ArmKernelFamily.Sme2, ActivationPacking.Off, StableSamples(200)),
            Case(ArmKernelFamily.Sme2, ActivationPacking.On, StableSamples(100)));
        KernelFamilyRuns.Response i8mm = Response(ArmKernelFamily.I8mm,
            Case(ArmKernelFamily.I8mm, ActivationPacking.Off, StableSamples(200)),
            Case(ArmKernelFamily.I8mm, ActivationPacking.On, StableSamples(150)));

        BenchReport report = KernelFamilyRuns.Merge(options, Host(), [sme2, i8mm]);

        Assert.That(report.Cases.Select(c => (c.KernelFamilyCap, c.Packing)), Is.EqualTo(new (ArmKernelFamily?, ActivationPacking?)[]
        {
            (ArmKernelFamily.Sme2, ActivationPacking.Off), (ArmKernelFamily.Sme2, ActivationPacking.On),
            (ArmKernelFamily.I8mm, ActivationPacking.Off), (ArmKernelFamily.I8mm, ActivationPacking.On),
        }));
        CaseResult i8mmOn = report.Cases[3];
        Assert.That(i8mmOn.FamilyBaseline, Is.SameAs(report.Cases[1]));
        Assert.That(i8mmOn.FamilyRatio, Is.EqualTo(1.5).Within(1e-12));
        Assert.That(report.Cases[2].FamilyRatio, Is.EqualTo(1.0).Within(1e-12));
        Assert.That(report.Cases.Take(2).Select(c => c.FamilyRatio), Is.All.Null, "the first family is the baseline");
        Assert.That(KernelFamilyRuns.WhyFamilyRatioNotCounted(i8mmOn, i8mmOn.FamilyBaseline!), Is.Null);
        Assert.That(report.Notes, Has.Some.Contains("kernel families sme2, i8mm"));
    }

    [Test]
    public void Merge_OrdersByShapeThenFamily_WhenTheChildrenTookTurnsShapeByShape()
    {
        var small = new LayerShape("vit-b16", "heads.head", 1, 768, 1000);
        BenchOptions options = Options([ArmKernelFamily.I8mm, ArmKernelFamily.Sme2]) with { Shapes = [Shape, small] };
        CaseResult At(LayerShape shape, ArmKernelFamily family)
        {
            CaseResult c = Case(family, ActivationPacking.On, StableSamples(100));
            return new CaseResult
            {
                Shape = shape, Scheme = c.Scheme, Threads = c.Threads, Packing = c.Packing, Backend = c.Backend,
                Statistics = c.Statistics, Check = c.Check, KernelFamilyCap = family,
            };
        }

        BenchReport report = KernelFamilyRuns.Merge(options, Host(),
        [
            Response(ArmKernelFamily.I8mm, At(Shape, ArmKernelFamily.I8mm)), Response(ArmKernelFamily.Sme2, At(Shape, ArmKernelFamily.Sme2)),
            Response(ArmKernelFamily.I8mm, At(small, ArmKernelFamily.I8mm)), Response(ArmKernelFamily.Sme2, At(small, ArmKernelFamily.Sme2)),
        ]);

        Assert.That(report.Cases.Select(c => (c.Shape.Layer, c.KernelFamilyCap)), Is.EqualTo(new (string, ArmKernelFamily?)[]
        {
            (Shape.Layer, ArmKernelFamily.I8mm), (Shape.Layer, ArmKernelFamily.Sme2),
            (small.Layer, ArmKernelFamily.I8mm), (small.Layer, ArmKernelFamily.Sme2),
        }));
        Assert.That(report.Cases[1].FamilyBaseline, Is.SameAs(report.Cases[0]));
        Assert.That(report.Cases[3].FamilyBaseline, Is.SameAs(report.Cases[2]), "a ratio never crosses shapes");
    }

    [Test]
    public void AFamilyRatio_AgainstAFailedOutput_IsShownButNotCounted()
    {
        BenchOptions options = Options([ArmKernelFamily.Sme2, ArmKernelFamily.I8mm]);
        CaseResult wrong = Case(ArmKernelFamily.Sme2, ActivationPacking.On, StableSamples(100));
        wrong.Check = new CheckResult(false, 16, 3.5, "element 0: 1 vs 0 ± 0.1");
        BenchReport report = KernelFamilyRuns.Merge(options, Host(),
            [Response(ArmKernelFamily.Sme2, wrong), Response(ArmKernelFamily.I8mm, Case(ArmKernelFamily.I8mm, ActivationPacking.On, StableSamples(150)))]);

        using JsonDocument json = JsonDocument.Parse(RecordWriters.ToJson(report));
        JsonElement ratio = json.RootElement.EnumerateArray().Single(r => r.GetProperty("metric").GetString() == "kernel_family_p50_ratio");
        Assert.That(ratio.GetProperty("actualValue").GetDouble(), Is.EqualTo(1.5).Within(1e-12));
        Assert.That(ratio.GetProperty("kernelFamilyCap").GetString(), Is.EqualTo("i8mm"));
        Assert.That(ratio.GetProperty("kernelFamilyBaseline").GetString(), Is.EqualTo("sme2"));
        Assert.That(ratio.GetProperty("ratioCounted").GetBoolean(), Is.False);
        Assert.That(ratio.GetProperty("ratioNotCountedBecause").GetString(), Is.EqualTo("the sme2 run faster but outside the error bound x3.5"));
    }

    [Test]
    public void TheTable_NamesTheFamilyOfEachRow_AndItsRatio()
    {
        BenchOptions options = Options([ArmKernelFamily.Sme2, ArmKernelFamily.I8mm]);
        CaseResult gemv = Case(ArmKernelFamily.I8mm, ActivationPacking.On, StableSamples(150));
        gemv.KernelFamily = ArmKernelFamily.Dotprod;
        BenchReport report = KernelFamilyRuns.Merge(options, Host(),
            [Response(ArmKernelFamily.Sme2, Case(ArmKernelFamily.Sme2, ActivationPacking.On, StableSamples(100))), Response(ArmKernelFamily.I8mm, gemv)]);

        var writer = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors,
        });
        console.Profile.Width = 400;
        ReportTable.Write(console, report);
        string table = writer.ToString();

        Assert.That(table, Does.Contain("Family").And.Contain("vs sme2"));
        Assert.That(table, Does.Contain("i8mm (ran dotprod)"), "a cap above what ran names both");
        Assert.That(table, Does.Contain("1.50"));
        Assert.That(RecordWriters.ToCsv(report).Split('\n')[2], Does.EndWith(",dotprod,i8mm,1.5\r").Or.EndWith(",dotprod,i8mm,1.5"));
    }

    [Test]
    public void TheCharts_DrawAGroupPerLayerAndFamily()
    {
        BenchOptions options = Options([ArmKernelFamily.Sme2, ArmKernelFamily.I8mm]);
        BenchReport report = KernelFamilyRuns.Merge(options, Host(),
        [
            Response(ArmKernelFamily.Sme2, Case(ArmKernelFamily.Sme2, ActivationPacking.Off, StableSamples(200)), Case(ArmKernelFamily.Sme2, ActivationPacking.On, StableSamples(100))),
            Response(ArmKernelFamily.I8mm, Case(ArmKernelFamily.I8mm, ActivationPacking.Off, StableSamples(200)), Case(ArmKernelFamily.I8mm, ActivationPacking.On, StableSamples(150))),
        ]);
        string directory = Directory.CreateTempSubdirectory("xnnkleidi-family-plot-").FullName;
        try
        {
            string path = Path.Combine(directory, "families.svg");
            PlotWriter.Write(report, path);
            foreach (string chart in new[] { path, PlotWriter.P50ChartPath(path) })
            {
                string svg = File.ReadAllText(chart);
                // Each line of a tick label is a <text> element of its own.
                Assert.That(svg, Does.Match(@">\s*sme2\s*<").And.Match(@">\s*i8mm\s*<"), chart + " names each family's group");
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static BenchOptions Options(IReadOnlyList<ArmKernelFamily> families) => new()
    {
        Shapes = [Shape],
        Schemes = [WeightScheme.Qc8w],
        Packings = [ActivationPacking.Off, ActivationPacking.On],
        Threads = [1],
        KernelFamilies = families,
    };

    private static HostSummary Host() =>
        new("linux-arm64", "Test CPU", "neon dotprod i8mm sme sme2", "build", null, ".NET", Sme2Cpu, Architecture.Arm64);

    /// <summary>Many equal samples: a median with a zero-width interval, so that only the checks decide whether a ratio counts.</summary>
    private static double[] StableSamples(double nanoseconds) => Enumerable.Repeat(nanoseconds, 200).ToArray();

    private static CaseResult Case(ArmKernelFamily cap, ActivationPacking packing, double[] samples) => new()
    {
        Shape = Shape, Scheme = WeightScheme.Qc8w, Threads = 1, Packing = packing, Backend = Backend.XnnKleidi,
        Statistics = TimingStatistics.FromNanoseconds(samples),
        Check = new CheckResult(true, 16, 0.1, null),
        KernelFamilyCap = cap,
        KernelFamily = cap,
        PackingActive = packing == ActivationPacking.On,
    };

    private static KernelFamilyRuns.Response Response(ArmKernelFamily family, params CaseResult[] cases) =>
        new(KernelFamilyRuns.Protocol, family, family, Host(), [.. cases], [], [], []);
}
