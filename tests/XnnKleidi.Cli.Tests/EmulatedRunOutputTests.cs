using System.Text.Json;
using NUnit.Framework;

namespace XnnKleidi.Cli.Tests;

/// <summary>
/// What the CLI wrote when the build ran it under QEMU <c>max</c> (SME2 at QEMU's default streaming vector length of
/// 256 bits, SME, i8mm, dotprod): its <c>info --json</c>, and the JSON of
/// <c>bench --preset vit-b16 --scheme qc8w,qc4w,qb4w --packing off,on --kernel-family sme2,i8mm --check</c>.
/// The build writes both files into one folder and runs this fixture alone with <see cref="OutputFolderVariable"/>
/// naming it. The fixture is explicit: a plain run of the suite has no such files and does not run it.
/// </summary>
[TestFixture]
[Explicit("reads the files the build's emulated CLI runs write")]
[Category(Category)]
public sealed class EmulatedRunOutputTests
{
    public const string Category = "EmulatedCliOutput";
    public const string OutputFolderVariable = "XNNKLEIDI_CLI_OUTPUT_DIR";
    public const string InfoFileName = "info-max.json";
    public const string KernelFamilyFileName = "kernel-family-max.json";

    private static JsonDocument ReadOutput(string fileName)
    {
        string? folder = Environment.GetEnvironmentVariable(OutputFolderVariable);
        if (string.IsNullOrEmpty(folder))
            Assert.Fail($"{OutputFolderVariable} is not set: it names the folder the build's emulated CLI runs wrote to");
        string path = Path.Combine(folder!, fileName);
        if (!File.Exists(path))
            Assert.Fail($"{path} does not exist: the emulated CLI run that writes it did not run or wrote elsewhere");
        return JsonDocument.Parse(File.ReadAllText(path));
    }

    [TestCase("qc8w")]
    [TestCase("qc4w")]
    [TestCase("qb4w")]
    public void Info_ListsActivationPackingAsAvailable(string scheme)
    {
        using JsonDocument info = ReadOutput(InfoFileName);
        JsonElement packing = info.RootElement.GetProperty("activationPacking").GetProperty(scheme);
        Assert.That(packing.GetProperty("available").GetBoolean(), Is.True, $"QP8 for {scheme}: {packing}");
    }

    [Test]
    public void Info_ReportsSme2WithA256BitStreamingVectorLength()
    {
        using JsonDocument info = ReadOutput(InfoFileName);
        Assert.That(info.RootElement.GetProperty("sme2").GetBoolean(), Is.True, "sme2");
        Assert.That(info.RootElement.GetProperty("smeVectorLengthBits").GetInt32(), Is.EqualTo(256), "smeVectorLengthBits");
    }

    [TestCase("qc8w")]
    [TestCase("qc4w")]
    [TestCase("qb4w")]
    [TestCase("f32")]
    public void Info_EverySchemeRunsSme2AtEveryBatchSize(string scheme)
    {
        using JsonDocument info = ReadOutput(InfoFileName);
        JsonElement families = info.RootElement.GetProperty("kernelFamily").GetProperty(scheme);
        Assert.That(families.GetProperty("m1").GetString(), Is.EqualTo("sme2"), $"{scheme} at M = 1");
        Assert.That(families.GetProperty("mGreaterThan1").GetString(), Is.EqualTo("sme2"), $"{scheme} at M > 1");
    }

    /// <summary>
    /// Each cap took effect in its child processes: packed, the sme2 cap ran SME2 for every scheme and the i8mm cap
    /// i8mm (dotprod for the one-row GEMV, which has no i8mm kernel); unpacked, both ran XNNPACK's i8mm QD8 kernels.
    /// Every combination of cap, scheme, packing and M = 1 or M &gt; 1 must be present.
    /// </summary>
    [Test]
    public void KernelFamilyRun_EachCapRanItsFamilies()
    {
        using JsonDocument run = ReadOutput(KernelFamilyFileName);
        var seen = new HashSet<string>();
        var wrong = new List<string>();
        foreach (JsonElement record in run.RootElement.EnumerateArray())
        {
            if (record.GetProperty("metric").GetString() != "check_worst_error_over_tolerance")
                continue;
            string scheme = Text(record.GetProperty("benchmarkModel").GetProperty("quantization")).Split('-')[^1];
            string cap = Text(record.GetProperty("kernelFamilyCap"));
            string packing = Text(record.GetProperty("packing"));
            int m = record.GetProperty("shape").GetProperty("m").GetInt32();
            string ran = Text(record.GetProperty("kernelFamily"));
            string expected = packing == "off" ? "i8mm"
                : cap == "sme2" ? "sme2"
                : m == 1 ? "dotprod" : "i8mm";
            if (ran != expected)
                wrong.Add($"{scheme} packing {packing} M={m} under the {cap} cap ran {ran}, expected {expected}");
            seen.Add($"{cap}/{scheme}/{packing}/{(m == 1 ? "m1" : "m>1")}");
        }

        Assert.That(wrong, Is.Empty);
        var all = from cap in new[] { "sme2", "i8mm" }
                  from scheme in new[] { "qc8w", "qc4w", "qb4w" }
                  from packing in new[] { "off", "on" }
                  from m in new[] { "m1", "m>1" }
                  select $"{cap}/{scheme}/{packing}/{m}";
        Assert.That(seen, Is.EquivalentTo(all), "the cap/scheme/packing/M combinations the run checked");
    }

    /// <summary>A missing string field reads as "(none)", which no expectation matches.</summary>
    private static string Text(JsonElement element) =>
        element.ValueKind == JsonValueKind.String ? element.GetString()! : "(none)";
}
