using System.Text.Json;
using NUnit.Framework;
using XnnKleidi.Cli.Bench;
using XnnKleidi.Cli.Output;
using XnnKleidi.Oracle;

namespace XnnKleidi.Cli.Tests;

/// <summary>
/// `bench --sweep`: where packing starts to pay, decided from injected timings (never from this machine's clock), and
/// the sweep end to end on this CPU.
/// </summary>
public class PackingCrossoverTests
{
    private const int K = 2048, N = 8192;
    private static readonly CheckResult Pass = new(true, 10, 0.05, null);

    /// <summary>A managed case whose 2,000 samples lie within ±<paramref name="spread"/> of <paramref name="p50Nanoseconds"/>.</summary>
    private static CaseResult Case(int m, ActivationPacking packing, double p50Nanoseconds, double spread = 0.001, bool packed = true)
    {
        double[] samples = [.. Enumerable.Range(0, 2000).Select(i => p50Nanoseconds * (1 - spread + (2 * spread * i / 2000)))];
        return new CaseResult
        {
            Shape = PackingCrossover.Shapes(K, N, 256).Single(shape => shape.M == m),
            Scheme = WeightScheme.Qb4w, Threads = 1, Packing = packing, Backend = Backend.XnnKleidi,
            Statistics = TimingStatistics.FromNanoseconds(samples), Check = Pass,
            PackingActive = packing == ActivationPacking.On && packed,
            FallbackReason = packing == ActivationPacking.On && !packed ? "this CPU lacks dotprod and i8mm" : null,
        };
    }

    /// <summary>A report of a sweep at M = 1, 2, 4, … with the given on/off p50 ratio at each batch size (off takes 1 ms).</summary>
    private static BenchReport Sweep(double[] onOverOff, double spread = 0.001, bool packed = true)
    {
        var options = new BenchOptions
        {
            Shapes = [.. PackingCrossover.Shapes(K, N, 256)], Schemes = [WeightScheme.Qb4w],
            Packings = [ActivationPacking.Off, ActivationPacking.On], Threads = [1],
        };
        BenchReport report = TestReports.For(options);
        for (int i = 0; i < onOverOff.Length; i++)
        {
            int m = 1 << i;
            report.Cases.Add(Case(m, ActivationPacking.Off, 1e6, spread));
            report.Cases.Add(Case(m, ActivationPacking.On, 1e6 * onOverOff[i], spread, packed));
        }

        return report;
    }

    [Test]
    public void Batches_ArePowersOfTwo_UpToTheLargestIncluded()
    {
        Assert.That(PackingCrossover.Batches(256), Is.EqualTo(new[] { 1, 2, 4, 8, 16, 32, 64, 128, 256 }));
        Assert.That(PackingCrossover.Batches(100), Is.EqualTo(new[] { 1, 2, 4, 8, 16, 32, 64, 100 }));
        Assert.That(PackingCrossover.Batches(1), Is.EqualTo(new[] { 1 }));
    }

    [Test]
    public void ClearCrossover_PackingLosesAtSmallBatches_AndPaysFromM8()
    {
        // The shape of a GEMV that packing slows (1.4x to 3x at M = 1, as reported for SME2 GEMVs) and GEMMs it speeds up.
        PackingCrossover crossover = PackingCrossover.Find(Sweep([3.0, 1.4, 1.1, 0.9, 0.8, 0.8, 0.75, 0.7, 0.7])).Single();

        Assert.That(crossover.Points.Select(p => p.Verdict).Take(4), Is.EqualTo(new[]
            { PackingVerdict.Loses, PackingVerdict.Loses, PackingVerdict.Loses, PackingVerdict.Pays }));
        Assert.That(crossover.PaysFromBatch, Is.EqualTo(8));
        Assert.That(crossover.Summary, Is.EqualTo("packing pays from M = 8 on (swept up to 256)"));
    }

    [Test]
    public void NoCrossover_PackingNeverPays()
    {
        PackingCrossover crossover = PackingCrossover.Find(Sweep([1.3, 1.2, 1.2, 1.1, 1.1, 1.1, 1.05, 1.05, 1.05])).Single();

        Assert.That(crossover.PaysFromBatch, Is.Null);
        Assert.That(crossover.Summary, Is.EqualTo("packing does not pay up to M = 256"));
    }

    [Test]
    public void TiesWithinTheNoise_AreNotCalledAWin()
    {
        // 0.05 % faster, each sample within ±2 %: the intervals of the medians overlap at every batch size.
        PackingCrossover crossover = PackingCrossover.Find(Sweep([0.9995, 0.9995, 0.9995, 0.9995, 0.9995, 0.9995, 0.9995, 0.9995, 0.9995], spread: 0.02)).Single();

        Assert.That(crossover.Points.Select(p => p.Verdict), Is.All.EqualTo(PackingVerdict.WithinNoise));
        Assert.That(crossover.PaysFromBatch, Is.Null);
    }

    [Test]
    public void OneNoisyBatchSize_BreaksTheRun_SoTheCrossoverIsClaimedOnlyAfterIt()
    {
        // Pays from M = 4, except at M = 32, where the two are within the noise.
        BenchReport report = Sweep([1.5, 1.2, 0.8, 0.8, 0.8, 1.0, 0.8, 0.8, 0.8]);
        CaseResult noisyOn = report.Cases.Single(c => c.Shape.M == 32 && c.Packing == ActivationPacking.On);
        noisyOn.Statistics = TimingStatistics.FromNanoseconds([.. Enumerable.Range(0, 2000).Select(i => 1e6 * (0.97 + (0.06 * i / 2000)))]);

        PackingCrossover crossover = PackingCrossover.Find(report).Single();

        Assert.That(crossover.Points.Single(p => p.M == 32).Verdict, Is.EqualTo(PackingVerdict.WithinNoise));
        Assert.That(crossover.PaysFromBatch, Is.EqualTo(64));
    }

    [Test]
    public void APackingThatCannotRun_IsUnavailableWithItsReason()
    {
        PackingCrossover crossover = PackingCrossover.Find(Sweep([1, 1, 1, 1, 1, 1, 1, 1, 1], packed: false)).Single();

        Assert.That(crossover.Points.Select(p => p.Verdict), Is.All.EqualTo(PackingVerdict.Unavailable));
        Assert.That(crossover.Summary, Is.EqualTo("packing is unavailable: this CPU lacks dotprod and i8mm"));
    }

    [Test]
    public void UnderEmulation_NoBatchSizeCounts()
    {
        BenchReport sweep = Sweep([3.0, 1.4, 1.1, 0.9, 0.8, 0.8, 0.75, 0.7, 0.7]);
        var report = new BenchReport { Options = sweep.Options, Host = sweep.Host with { EmulationReason = "QEMU user mode" } };
        report.Cases.AddRange(sweep.Cases);

        PackingCrossover crossover = PackingCrossover.Find(report).Single();

        Assert.That(crossover.Points.Select(p => p.Verdict), Is.All.EqualTo(PackingVerdict.NotCounted));
        Assert.That(crossover.PaysFromBatch, Is.Null);
        Assert.That(crossover.Summary, Does.StartWith("not decided: 9 of 9 batch sizes do not count (the CPU is emulated"));
    }

    [TestCase("2048x8192", 2048, 8192)]
    [TestCase("64X16", 64, 16)]
    public void Layer_IsParsed(string text, int k, int n) =>
        Assert.That(PackingCrossover.ParseLayer(text, out _), Is.EqualTo((k, n)));

    [TestCase("2048")]
    [TestCase("1x2048x8192")]
    [TestCase("0x16")]
    [TestCase("-4x16")]
    [TestCase("65536x65536")]
    public void MalformedLayer_IsRefusedWithAReason(string text)
    {
        Assert.That(PackingCrossover.ParseLayer(text, out string? error), Is.Null);
        Assert.That(error, Does.Contain(text));
    }

    [TestCase("--sweep", "64x16", "--packing", "on,auto")]
    [TestCase("--sweep", "64x", "--check")]
    [TestCase("--shape", "1x64x16", "--sweep-max", "8")]
    [TestCase("--sweep", "64x16", "--sweep-max", "0")]
    [TestCase("--model", "vit-b16", "--sweep", "64x16")]
    public void BadSweep_IsRefusedWithOneLineAndExitCode2(params string[] args)
    {
        (int code, _, string error) = ConsoleCapture.Run(["bench", .. args]);

        Assert.That(code, Is.EqualTo(Program.BadArguments), error);
        Assert.That(error.TrimEnd().Split('\n'), Has.Length.EqualTo(1), error);
        Assert.That(error, Does.StartWith("xnnkleidi: error: "));
    }

    [Test]
    public void SweepOnThisCpu_WritesOneCrossoverRecordWithEveryBatchSize()
    {
        string json = Path.Combine(Path.GetTempPath(), $"xnnkleidi-sweep-{Guid.NewGuid():N}.json");
        try
        {
            (int code, string output, string error) = ConsoleCapture.Run("bench", "--sweep", "64x16", "--sweep-max", "8",
                "--iterations", "20", "--warmup", "2", "--quiet", "--out", json);

            Assert.That(code, Is.EqualTo(0), output + error);
            using JsonDocument document = JsonDocument.Parse(File.ReadAllText(json));
            JsonElement[] crossovers = [.. document.RootElement.EnumerateArray()
                .Where(record => record.GetProperty("metric").GetString() == "packing_crossover_batch")];
            Assert.That(crossovers, Has.Length.EqualTo(1));
            Assert.That(crossovers[0].GetProperty("schemaVersion").GetInt32(), Is.EqualTo(RecordWriters.SchemaVersion));
            Assert.That(crossovers[0].GetProperty("batches").EnumerateArray().Select(b => b.GetProperty("m").GetInt32()),
                Is.EqualTo(new[] { 1, 2, 4, 8 }));
            Assert.That(crossovers[0].GetProperty("crossoverSummary").GetString(), Is.Not.Empty);
        }
        finally
        {
            File.Delete(json);
        }
    }
}
