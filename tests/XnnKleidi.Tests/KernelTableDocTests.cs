using System.Text.RegularExpressions;
using NUnit.Framework;
using XnnKleidi.Tests.Bindings;
using XnnKleidi.Tests.Support;

namespace XnnKleidi.Tests;

/// <summary>
/// The table of the kernels each QEMU model runs in docs/kernels.md is what <see cref="ExpectedKernels"/> says, which the
/// kernel-selection tests assert per model: a kernel changed in one place and not the other fails here, on any CPU.
/// </summary>
public class KernelTableDocTests
{
    private const string Header = "| model | scheme | M = 1 (GEMV) | M > 1 (GEMM) | family (M = 1 / M > 1) |";

    /// <summary>What each model named in the table offers the kernels (see <see cref="TestEnvironment"/>).</summary>
    private static readonly Dictionary<string, ExpectedKernels.Features> Models = new()
    {
        ["max"] = new(Sme2: true, Sme: true, I8mm: true, Dotprod: true),
        ["max,sme=off"] = new(Sme2: false, Sme: false, I8mm: true, Dotprod: true),
        ["neoverse-v1"] = new(Sme2: false, Sme: false, I8mm: true, Dotprod: true),
        ["cortex-a76"] = new(Sme2: false, Sme: false, I8mm: false, Dotprod: true),
        ["cortex-a72"] = new(Sme2: false, Sme: false, I8mm: false, Dotprod: false),
    };

    [Test]
    public void TheDocumentedKernelTable_IsTheTableTheTestsAssert()
    {
        string[] lines = File.ReadAllLines(Path.Combine(BindingsLocations.RepositoryRoot(), "docs", "kernels.md"));
        int start = Array.IndexOf(lines, Header);
        Assert.That(start, Is.GreaterThanOrEqualTo(0), $"docs/kernels.md has no line '{Header}'");

        var checkedRows = new HashSet<string>();
        string[] models = [];
        foreach (string line in lines.Skip(start + 2).TakeWhile(l => l.StartsWith('|')))
        {
            string[] cells = line.Trim('|').Split('|').Select(c => c.Trim()).ToArray();
            Assert.That(cells, Has.Length.EqualTo(5), line);
            if (cells[0].Length > 0)
            {
                models = [.. Regex.Matches(cells[0], "`([^`]+)`").Select(m => m.Groups[1].Value)];
                Assert.That(models, Is.Not.Empty.And.All.AnyOf([.. Models.Keys]), line);
            }

            WeightScheme[] schemes = cells[1] == "all"
                ? [WeightScheme.Qc8w, WeightScheme.Qc4w, WeightScheme.Qb4w]
                : [Enum.Parse<WeightScheme>(cells[1], ignoreCase: true)];
            // "sme2 / sme2" names M = 1 and M > 1; "dotprod" or "neon (none on x86-64)" both.
            string[] families = cells[4].Contains('/', StringComparison.Ordinal)
                ? [.. cells[4].Split('/').Select(FirstWord)]
                : [FirstWord(cells[4]), FirstWord(cells[4])];
            foreach (string model in models)
            {
                ExpectedKernels.Features cpu = Models[model];
                foreach (WeightScheme scheme in schemes)
                {
                    string where = $"docs/kernels.md, {model} {scheme}";
                    Assert.That(families[0], Is.EqualTo(XnnKleidiLibrary.GetName(ExpectedKernels.Family(cpu, scheme, 1, packed: true))), where + " family at M = 1");
                    Assert.That(families[1], Is.EqualTo(XnnKleidiLibrary.GetName(ExpectedKernels.Family(cpu, scheme, 5, packed: true))), where + " family at M > 1");
                    if (scheme != WeightScheme.F32)
                    {
                        string? gemv = KernelIn(cells[2], null);
                        Assert.That(gemv, Is.EqualTo(ExpectedKernels.Name(cpu, scheme, 1)), where + " M = 1");
                        Assert.That(KernelIn(cells[3], gemv), Is.EqualTo(ExpectedKernels.Name(cpu, scheme, 5)), where + " M > 1");
                    }

                    checkedRows.Add($"{model}/{scheme}");
                }
            }
        }

        // Every model with each quantized scheme, and the fp32 SME2 path of max.
        Assert.That(checkedRows, Has.Count.EqualTo((Models.Count * 3) + 1), string.Join(", ", checkedRows));
    }

    /// <summary>The kernel a cell names: its first code span (with the prefix every name shares), "the same" as the
    /// GEMV cell, or none (QD8).</summary>
    private static string? KernelIn(string cell, string? gemv)
    {
        if (cell == "the same")
        {
            return gemv;
        }

        Match code = Regex.Match(cell, "`([^`]+)`");
        return code.Success ? "kai_matmul_clamp_f32_" + code.Groups[1].Value : null;
    }

    private static string FirstWord(string text) => text.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
}
