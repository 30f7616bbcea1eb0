using System.Text.RegularExpressions;
using NUnit.Framework;
using XnnKleidi.Tests.Bindings;
using XnnKleidi.Tests.Support;

namespace XnnKleidi.Tests;

/// <summary>
/// The README's C# example is the sample the build compiles, and the output the README shows for this CPU is what
/// the library reports for that layer here. The expected lines are the README's text, not the library's.
/// </summary>
public class ReadmeExampleTests
{
    /// <summary>The README's label of each CPU model's output (the x86-64 one is the native run).</summary>
    private static readonly Dictionary<string, string> OutputLabels = new()
    {
        ["x64"] = "x86-64",
        ["max"] = "arm64 (max)",
        ["max,sme=off"] = "arm64 (max,sme=off)",
        ["cortex-a72"] = "arm64 (cortex-a72)",
    };

    private static string ReadmeText() =>
        File.ReadAllText(Path.Combine(BindingsLocations.RepositoryRoot(), "README.md")).ReplaceLineEndings("\n");

    /// <summary>The body of the first fenced block that starts with <paramref name="fence"/>.</summary>
    private static string FencedBlock(string text, string fence)
    {
        int start = text.IndexOf(fence + "\n", StringComparison.Ordinal);
        Assert.That(start, Is.GreaterThanOrEqualTo(0), $"the README has no {fence} block");
        start += fence.Length + 1;
        int end = text.IndexOf("```\n", start, StringComparison.Ordinal);
        Assert.That(end, Is.GreaterThan(start), $"the README's {fence} block is not closed");
        return text[start..end];
    }

    [Test]
    public void TheReadmeExample_IsTheQuickStartSample()
    {
        string sample = File.ReadAllText(Path.Combine(BindingsLocations.RepositoryRoot(), "samples", "QuickStart", "Program.cs"))
            .ReplaceLineEndings("\n");
        Assert.That(FencedBlock(ReadmeText(), "```csharp"), Is.EqualTo(sample));
    }

    [Test]
    [Category(TestCategories.KernelDependent)]
    public void TheReadmeExampleOutput_IsWhatTheLibraryReportsOnThisCpu()
    {
        TestEnvironment.RequireKnownCpu();
        if (!OutputLabels.TryGetValue(TestEnvironment.ExpectedCpu, out string? label))
            Assert.Ignore($"the README shows no output for {TestEnvironment.ExpectedCpu}");

        // The output block: "label:  operators" then an indented "packed …" or "not packed …" line.
        string readme = ReadmeText();
        int block = readme.IndexOf("```\nx86-64:", StringComparison.Ordinal);
        Assert.That(block, Is.GreaterThanOrEqualTo(0), "the README has no output block starting with 'x86-64:'");
        string[] lines = FencedBlock(readme[block..], "```").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        int index = Array.FindIndex(lines, line => line.StartsWith(label + ":", StringComparison.Ordinal));
        Assert.That(index, Is.GreaterThanOrEqualTo(0).And.LessThan(lines.Length - 1), $"the README has no output for '{label}'");
        string readmeOperators = lines[index][(label.Length + 1)..].Trim();
        string readmeOutcome = lines[index + 1].Trim();

        // The README's layer: 4096 -> 1024, qc4w, packing forced, one row.
        const int K = 4096, N = 1024;
        float[] weights = TestData.Uniform(N * K, -0.5f, 0.5f, seed: 42);
        using Linear linear = Linear.Create(K, N, weights, WeightScheme.Qc4w, options: new LinearOptions { ForceActivationPacking = true });
        float[] output = new float[N];
        linear.Run(new float[K], output, batch: 1);

        Assert.That(readmeOperators, Is.EqualTo(string.Join(" -> ", linear.OperatorNames)), $"{label}: operators");
        Match packed = Regex.Match(readmeOutcome, @"^packed \(QP8\), KleidiAI kernel (\S+)$");
        Match notPacked = Regex.Match(readmeOutcome, @"^not packed \(QD8\): (.+)$");
        Assert.That(packed.Success || notPacked.Success, Is.True, $"{label}: unexpected outcome line '{readmeOutcome}'");
        Assert.That(linear.IsActivationPackingActive, Is.EqualTo(packed.Success), $"{label}: packed");
        if (packed.Success)
            Assert.That(linear.GetKleidiAIKernelName(1), Is.EqualTo(packed.Groups[1].Value), $"{label}: kernel");
        else
            Assert.That(linear.PackingFallbackReason, Is.EqualTo(notPacked.Groups[1].Value), $"{label}: reason");
    }
}
