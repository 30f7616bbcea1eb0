using NUnit.Framework;
using static XnnKleidi.Cli.Commands.BenchCommand;

namespace XnnKleidi.Cli.Tests;

public class CommandLineTests
{
    [TestCase("bench", "--preset", "nope")]
    [TestCase("bench", "--shape", "12x3")]
    [TestCase("bench", "--preset", "w2l", "--threads", "0")]
    [TestCase("bench", "--preset", "w2l", "--out", "/proc/no-such-dir/x.json")]
    [TestCase("bench", "--preset", "w2l", "--scheme", "int3")]
    [TestCase("bench")]
    [TestCase("frobnicate")]
    public void BadArguments_ExitWithCode2(params string[] args)
    {
        var error = new StringWriter();
        var saved = Console.Error;
        Console.SetError(error);
        try
        {
            Assert.That(Program.Main(args), Is.EqualTo(2));
        }
        finally
        {
            Console.SetError(saved);
        }
        string[] lines = error.ToString().TrimEnd().Split('\n');
        Assert.That(lines, Has.Length.EqualTo(1), error.ToString());
        Assert.That(lines[0], Does.StartWith("xnnkleidi: error: "));
    }

    [Test]
    public void Check_OfSmallLayers_PassesForEveryScheme()
    {
        var output = new StringWriter();
        var saved = Console.Out;
        Console.SetOut(output);
        int code;
        try
        {
            code = Program.Main(["bench", "--shape", "5x64x24", "--shape", "1x96x17", "--scheme", "qc8w,qc4w,qb4w,f32",
                "--packing", "off,on,auto", "--threads", "1,2", "--check", "--quiet"]);
        }
        finally
        {
            Console.SetOut(saved);
        }
        Assert.That(code, Is.EqualTo(0), output.ToString());
        // 2 shapes x 4 schemes x 3 packings x 2 thread counts, each checked once.
        Assert.That(output.ToString(), Does.Match(@"linux-\w+/\S+: 48 passed, 0 failed"));
    }

    [Test]
    public void CompareNativeAndPeak_OnWindows_AreRefusedNamingTheHarnessAndWhy()
    {
        string? refusal = ComparisonRefusal([CompareWith.Native, CompareWith.Ort, CompareWith.Peak], windows: true);
        Assert.That(refusal, Is.EqualTo(
            "bench: --compare native,peak is not available on Windows: it runs in the C harness xnnkleidi-bench, which is " +
            "not built for Windows (its peak probe reads the CPU through Linux system calls); --compare ort runs here, " +
            "or run the comparison on Linux"));
    }

    [TestCase(true, "ort")]
    [TestCase(false, "native", "peak")]
    [TestCase(false, "native", "ort", "peak")]
    public void Compare_WithoutTheHarnessOnWindows_OrOnLinux_IsNotRefused(bool windows, params string[] comparisons)
    {
        CompareWith[] parsed = [.. comparisons.Select(name => Enum.Parse<CompareWith>(name, ignoreCase: true))];
        Assert.That(ComparisonRefusal(parsed, windows), Is.Null);
    }
}
