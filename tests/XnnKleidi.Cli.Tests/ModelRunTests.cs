using System.Text.Json;
using NUnit.Framework;
using XnnKleidi.Cli.Model;
using XnnKleidi.Oracle;

namespace XnnKleidi.Cli.Tests;

/// <summary>`bench --model` end to end on MobileBERT (small layers): the check against the oracle, a timed run's files, and bad combinations.</summary>
public class ModelRunTests
{
    private static (int Code, string Output, string Error) Run(params string[] args) => ConsoleCapture.Run(args);

    [Test]
    public void Check_ValidatesEveryLayerOfEveryMode_AgainstTheOracle()
    {
        (int code, string output, string error) = Run("bench", "--model", "mobilebert", "--packing", "off,on,auto", "--threads", "1,2", "--check", "--quiet");

        Assert.That(code, Is.EqualTo(0), output + error);
        // 361 layers x 3 packing modes x 2 thread counts.
        Assert.That(output, Does.Match(@"linux-\w+/\S+: 2166 passed, 0 failed"));
    }

    [Test]
    public void TimedRun_WritesJsonThatCompareReadsBack_AndCsv()
    {
        string directory = Path.Combine(Path.GetTempPath(), $"xnnkleidi-model-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        try
        {
            string json = Path.Combine(directory, "run.json"), csv = Path.Combine(directory, "run.csv"), png = Path.Combine(directory, "run.png");
            (int code, string output, string error) = Run("bench", "--model", "mobilebert", "--packing", "off,on,auto", "--iterations", "3",
                "--warmup", "1", "--quiet", "--out", json, "--out", csv, "--plot", png);
            Assert.That(code, Is.EqualTo(0), output + error);

            using (JsonDocument document = JsonDocument.Parse(File.ReadAllText(json)))
            {
                JsonElement root = document.RootElement;
                Assert.That(root.GetProperty("schemaVersion").GetInt32(), Is.EqualTo(1));
                Assert.That(root.GetProperty("runs").GetArrayLength(), Is.EqualTo(3));
                foreach (JsonElement run in root.GetProperty("runs").EnumerateArray())
                {
                    Assert.That(run.GetProperty("passes").GetInt32(), Is.EqualTo(3));
                    Assert.That(run.GetProperty("layers").GetArrayLength(), Is.EqualTo(361));
                    double p50 = run.GetProperty("totalP50Us").GetDouble();
                    Assert.That(p50, Is.GreaterThan(0));
                    Assert.That(run.GetProperty("totalCiLowUs").GetDouble(), Is.LessThanOrEqualTo(p50));
                    Assert.That(run.GetProperty("totalCiHighUs").GetDouble(), Is.GreaterThanOrEqualTo(p50));
                    Assert.That(run.GetProperty("layers")[0].GetProperty("gemmP50Us").ValueKind, Is.EqualTo(JsonValueKind.Number));
                }

                JsonElement auto = root.GetProperty("runs")[2];
                Assert.That(auto.GetProperty("packing").GetString(), Is.EqualTo("auto"));
                Assert.That(auto.GetProperty("bestFixed").GetString(), Is.AnyOf("off", "on"));
                Assert.That(root.GetProperty("runs")[1].GetProperty("onOffRatio").ValueKind, Is.EqualTo(JsonValueKind.Number));
            }

            string[] lines = File.ReadAllLines(csv);
            Assert.That(lines, Has.Length.EqualTo(1 + (3 * (361 + 1))), "a header, then per mode every layer and the total");
            Assert.That(new FileInfo(png).Length, Is.GreaterThan(0));

            (int compareCode, string table, string compareError) = Run("compare", json, json);
            Assert.That(compareCode, Is.EqualTo(0), compareError);
            Assert.That(table.Split('\n').Count(line => line.StartsWith("| run |", StringComparison.Ordinal)), Is.EqualTo(6));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Test]
    public void Check_OverTheMemoryBudget_BuildsTheModesInTurn_AndStillValidatesEveryLayerOfEveryMode()
    {
        // MobileBERT's packed weights take about 21 MiB a mode: a budget of 1 MiB holds one mode at a time.
        (int code, string output, string error) = Run("bench", "--model", "mobilebert", "--packing", "off,on,auto", "--threads", "1,2",
            "--check", "--memory-budget", "1");

        Assert.That(code, Is.EqualTo(0), output + error);
        Assert.That(output, Does.Match(@"linux-\w+/\S+: 2166 passed, 0 failed"));
        Assert.That(System.Text.RegularExpressions.Regex.Replace(output, @"\s+", " "),
            Does.Contain("exceed the budget of 1 MiB (--memory-budget), so each mode was built, timed and freed in turn"));
    }

    [Test]
    public void TimedRun_OverTheMemoryBudget_TimesEveryModeInTurn_AndSaysSo()
    {
        string directory = Path.Combine(Path.GetTempPath(), $"xnnkleidi-model-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        try
        {
            string json = Path.Combine(directory, "run.json");
            (int code, string output, string error) = Run("bench", "--model", "qwen2.5-0.5b", "--layers", @"^model\.layers\.0\.",
                "--phase", "decode", "--scheme", "qb4w", "--packing", "off,on,auto", "--iterations", "2", "--warmup", "1", "--quiet",
                "--memory-budget", "1", "--out", json);
            Assert.That(code, Is.EqualTo(0), output + error);

            using JsonDocument document = JsonDocument.Parse(File.ReadAllText(json));
            JsonElement root = document.RootElement;
            Assert.That(root.GetProperty("runs").GetArrayLength(), Is.EqualTo(3));
            foreach (JsonElement run in root.GetProperty("runs").EnumerateArray())
            {
                Assert.That(run.GetProperty("passes").GetInt32(), Is.EqualTo(2), run.GetProperty("packing").GetString());
                Assert.That(run.GetProperty("totalP50Us").GetDouble(), Is.GreaterThan(0));
            }

            Assert.That(
                root.GetProperty("notes").EnumerateArray().Select(note => note.GetString()),
                Has.Some.Contains("exceed the budget of 1 MiB (--memory-budget), so each mode was built, timed and freed in turn"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Test]
    public void TimedRun_WithinTheDefaultBudget_HoldsTheModesSideBySide()
    {
        (int code, string output, string error) = Run("bench", "--model", "qwen2.5-0.5b", "--layers", @"^model\.layers\.0\.",
            "--phase", "decode", "--scheme", "qb4w", "--packing", "off,on", "--iterations", "2", "--warmup", "1");

        Assert.That(code, Is.EqualTo(0), output + error);
        // The table wraps long notes to the console's width.
        Assert.That(System.Text.RegularExpressions.Regex.Replace(output, @"\s+", " "),
            Does.Contain("(half the memory this process may use; --memory-budget sets it); the modes were held and timed side by side"));
    }

    [Test]
    public void TimedRun_OfOneMode_SaysTheBudgetDecidesNothing_EvenOverIt()
    {
        (int code, string output, string error) = Run("bench", "--model", "qwen2.5-0.5b", "--layers", @"^model\.layers\.0\.",
            "--phase", "decode", "--scheme", "qb4w", "--packing", "off", "--iterations", "2", "--warmup", "1", "--memory-budget", "1");

        Assert.That(code, Is.EqualTo(0), output + error);
        string text = System.Text.RegularExpressions.Regex.Replace(output, @"\s+", " ");
        Assert.That(text, Does.Contain("Memory: one packing mode, off, with about"));
        Assert.That(text, Does.Not.Contain("fit the budget"));
    }

    [Test]
    public void CheckRows_SpreadFromTheFirstToTheLastRow()
    {
        Assert.That(ModelBenchmark.CheckedRows(197, 8), Is.EqualTo(new[] { 0, 28, 56, 84, 112, 140, 168, 196 }));
        Assert.That(ModelBenchmark.CheckedRows(1, 8), Is.EqualTo(new[] { 0 }));
        Assert.That(ModelBenchmark.CheckedRows(8, null), Is.EqualTo(Enumerable.Range(0, 8)));
    }

    [Test]
    public void Check_OfSomeRows_CountsEveryLayer()
    {
        (int code, string output, string error) = Run("bench", "--model", "w2l", "--packing", "on", "--check", "--check-rows", "3", "--quiet");

        Assert.That(code, Is.EqualTo(0), output + error);
        Assert.That(output, Does.Match(@"linux-\w+/\S+: 12 passed, 0 failed"));
    }

    [TestCase("bench", "--model", "nope")]
    [TestCase("bench", "--model", "w2l", "--check-rows", "3")]
    [TestCase("bench", "--preset", "w2l", "--check", "--check-rows", "3")]
    [TestCase("bench", "--model", "vit-b16", "--preset", "vit-b16")]
    [TestCase("bench", "--model", "mobilebert", "--scheme", "qc8w,qc4w")]
    [TestCase("bench", "--model", "w2l", "--scheme", "qb4w")]
    public void BadCombinations_ExitWithCode2AndOneLine(params string[] args)
    {
        (int code, _, string error) = Run(args);

        Assert.That(code, Is.EqualTo(2));
        string[] lines = error.TrimEnd().Split('\n');
        Assert.That(lines, Has.Length.EqualTo(1), error);
        Assert.That(lines[0], Does.StartWith("xnnkleidi: error: "));
    }

    [Test]
    public void ProfileSplit_TakesTheConvertAndTheGemmByTheirOperatorNames()
    {
        var profile = new OperatorProfile(197,
        [
            new OperatorTiming("Convert (NC, F32, QP8)", TimeSpan.FromMicroseconds(12)),
            new OperatorTiming("Fully Connected (NC, QP8, F32, QC8W) GEMM", TimeSpan.FromMicroseconds(530)),
        ], TimeSpan.FromMicroseconds(545));

        Assert.That(ModelBenchmark.Split(profile), Is.EqualTo(((double?)12.0, (double?)530.0)));
        Assert.That(ModelBenchmark.Split(new OperatorProfile(1, [new OperatorTiming("Fully Connected (NC, F32) GEMM", TimeSpan.FromMicroseconds(7))], TimeSpan.FromMicroseconds(8))),
            Is.EqualTo(((double?)null, (double?)7.0)), "an fp32 layer has no convert");
    }
}
