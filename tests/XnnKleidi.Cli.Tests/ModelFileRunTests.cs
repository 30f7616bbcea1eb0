using System.Text.Json;
using NUnit.Framework;
using XnnKleidi.Formats.Tests.Support;

namespace XnnKleidi.Cli.Tests;

/// <summary>
/// `bench --model FILE` on a safetensors file written here: its layers found in the file's order, every output checked
/// against the oracle, and each scheme's quantization error on the file's own weights next to the speed.
/// </summary>
public class ModelFileRunTests
{
    private const int Hidden = 256, Intermediate = 32;

    /// <summary>
    /// An embedding and a norm (skipped), an up projection 256 → 32 whose rows each hold one outlier of 8 among small
    /// weights in ±0.1 (the outlier channels of real models), with a bias, and a down projection 32 → 256.
    /// </summary>
    private static byte[] OutlierModel()
    {
        var random = new Random(7);
        float[] up = new float[Intermediate * Hidden];
        for (int n = 0; n < Intermediate; n++)
        {
            for (int k = 0; k < Hidden; k++)
            {
                up[(n * Hidden) + k] = k == (n * 7) % Hidden ? 8.0f : (0.2f * random.NextSingle()) - 0.1f;
            }
        }

        float[] bias = [.. Enumerable.Range(0, Intermediate).Select(i => 0.01f * i)];
        // Multiples of 1/256 within ±0.2: exact in bf16, as the file's BF16 tensor must hold them.
        float[] down = [.. Enumerable.Range(0, Hidden * Intermediate).Select(_ => MathF.Round(((0.4f * random.NextSingle()) - 0.2f) * 256) / 256)];
        return new SafetensorsBuilder()
            .Add("model.embed_tokens.weight", "F32", [100, Hidden], TensorBytes.F32(new float[100 * Hidden]))
            .Add("model.layers.0.post_attention_layernorm.weight", "F32", [Hidden], TensorBytes.F32(new float[Hidden]))
            .Add("model.layers.0.mlp.up_proj.weight", "F32", [Intermediate, Hidden], TensorBytes.F32(up))
            .Add("model.layers.0.mlp.up_proj.bias", "F32", [Intermediate], TensorBytes.F32(bias))
            .Add("model.layers.0.mlp.down_proj.weight", "BF16", [Hidden, Intermediate], TensorBytes.BF16(down))
            .Build();
    }

    [Test]
    public void Check_ValidatesEveryLayerOfTheFile_InEveryScheme()
    {
        using var directory = new TempDirectory();
        string path = directory.Write("outliers.safetensors", OutlierModel());

        (int code, string output, string error) = ConsoleCapture.Run("bench", "--model", path, "--scheme", "qc8w,qc4w,qb4w",
            "--tokens", "5", "--packing", "off,on", "--check", "--quiet");

        Assert.That(code, Is.EqualTo(0), output + error);
        // 2 layers x 2 packings per scheme, and the closing line over the three schemes.
        Assert.That(output, Does.Match(@"linux-\w+/\S+: 12 passed, 0 failed\s*$"));
    }

    [Test]
    public void TimedRun_ReportsEachSchemesErrorOnTheFilesWeights_BlockwiseBeatingChannelwiseOnOutliers()
    {
        using var directory = new TempDirectory();
        string path = directory.Write("outliers.safetensors", OutlierModel());
        string json = Path.Combine(directory.Path, "run.json");

        (int code, string output, string error) = ConsoleCapture.Run("bench", "--model", path, "--scheme", "f32,qc8w,qc4w,qb4w",
            "--tokens", "4", "--packing", "off", "--iterations", "3", "--warmup", "1", "--quiet", "--out", json);

        Assert.That(code, Is.EqualTo(0), output + error);
        var totals = new Dictionary<string, double>();
        foreach (string scheme in new[] { "f32", "qc8w", "qc4w", "qb4w" })
        {
            using JsonDocument document = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory.Path, $"run.{scheme}.json")));
            JsonElement root = document.RootElement;
            Assert.That(root.GetProperty("model").GetString(), Is.EqualTo("outliers.safetensors"));
            Assert.That(root.GetProperty("tokens").GetInt32(), Is.EqualTo(4));
            JsonElement accuracy = root.GetProperty("accuracy");
            string[] layers = [.. accuracy.GetProperty("layers").EnumerateArray().Select(layer => layer.GetProperty("name").GetString()!)];
            Assert.That(layers, Is.EqualTo(new[] { "model.layers.0.mlp.up_proj", "model.layers.0.mlp.down_proj" }), "the file's order, embedding and norm skipped");
            double[] errors = [.. accuracy.GetProperty("layers").EnumerateArray().Select(layer => layer.GetProperty("relativeError").GetDouble())];
            double total = accuracy.GetProperty("total").GetDouble();
            Assert.That(total, Is.InRange(errors.Min(), errors.Max()), $"{scheme}: the total is a weighted mean of the layers'");
            totals[scheme] = total;
        }

        TestContext.Out.WriteLine(string.Join(", ", totals.Select(pair => FormattableString.Invariant($"{pair.Key} {pair.Value:0.00000}"))));
        // fp32 weights: only fp32 rounding against the float64 reference.
        Assert.That(totals["f32"], Is.LessThan(1e-5));
        // Quantized: a real error, larger for 4 bits per channel than for 8.
        Assert.That(totals["qc8w"], Is.GreaterThan(1e-4));
        Assert.That(totals["qc4w"], Is.GreaterThan(totals["qc8w"]));
        // One outlier per row makes a channel's 4-bit step coarse for the whole row; blocks of 32 keep it to one block.
        Assert.That(totals["qb4w"], Is.LessThan(totals["qc4w"] / 2));
    }

    [Test]
    public void Phases_RunEveryLayerAtThePromptLengthAndAtOneRow()
    {
        using var directory = new TempDirectory();
        string path = directory.Write("outliers.safetensors", OutlierModel());
        string json = Path.Combine(directory.Path, "run.json");

        (int code, string output, string error) = ConsoleCapture.Run("bench", "--model", path, "--scheme", "qb4w",
            "--prompt-tokens", "6", "--packing", "off,on", "--check", "--quiet", "--out", json);

        Assert.That(code, Is.EqualTo(0), output + error);
        foreach ((string phase, int m) in new[] { ("prefill", 6), ("decode", 1) })
        {
            using JsonDocument document = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory.Path, $"run.{phase}.json")));
            JsonElement layers = document.RootElement.GetProperty("runs")[0].GetProperty("layers");
            Assert.That(layers.EnumerateArray().Select(layer => layer.GetProperty("m").GetInt32()), Is.All.EqualTo(m), phase);
        }
    }

    [Test]
    public void ABrokenFile_IsOneLineNamingTheFile_AndExitCode2()
    {
        using var directory = new TempDirectory();
        byte[] bytes = OutlierModel();
        string path = directory.Write("truncated.safetensors", bytes[..(bytes.Length / 2)]);

        (int code, _, string error) = ConsoleCapture.Run("bench", "--model", path, "--check");

        Assert.That(code, Is.EqualTo(Program.BadArguments), error);
        Assert.That(error.TrimEnd().Split('\n'), Has.Length.EqualTo(1), error);
        Assert.That(error, Does.Contain(path));
    }

    [TestCase("--model", "missing.safetensors")]
    [TestCase("--model", "vit-b16", "--tokens", "4")]
    [TestCase("--model", "FILE", "--tokens", "4", "--phase", "decode")]
    [TestCase("--model", "FILE", "--layers", "^nothing$")]
    public void BadCombination_IsRefusedWithOneLineAndExitCode2(params string[] args)
    {
        using var directory = new TempDirectory();
        string path = directory.Write("outliers.safetensors", OutlierModel());

        (int code, _, string error) = ConsoleCapture.Run(["bench", .. args.Select(a => a == "FILE" ? path : a), "--check"]);

        Assert.That(code, Is.EqualTo(Program.BadArguments), error);
        Assert.That(error.TrimEnd().Split('\n'), Has.Length.EqualTo(1), error);
    }
}
