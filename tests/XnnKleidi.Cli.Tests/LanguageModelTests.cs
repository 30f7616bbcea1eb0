using System.Text.Json;
using NUnit.Framework;
using XnnKleidi.Cli.Model;

namespace XnnKleidi.Cli.Tests;

/// <summary>
/// The language models of `bench --model`: their layers against the published configurations (written out here, and
/// the parameter counts their publishers state), the two phases, `--layers`, and what is refused.
/// </summary>
public class LanguageModelTests
{
    [Test]
    public void Llama32_1B_Decode_IsSixteenBlocksOfSevenLinearsAndTheHead_AllAtOneRow()
    {
        IReadOnlyList<ModelLayer> layers = ModelCatalog.Get("llama-3.2-1b", GenerationPhase.Decode, 128);

        Assert.That(layers, Has.Count.EqualTo((16 * 7) + 1));
        Assert.That(layers.Take(7), Is.EqualTo(new[]
        {
            // 32 query heads and 8 key-value heads of 64: q 2048 -> 2048, k and v 2048 -> 512.
            new ModelLayer("model.layers.0.self_attn.q_proj", 1, 2048, 2048),
            new ModelLayer("model.layers.0.self_attn.k_proj", 1, 2048, 512),
            new ModelLayer("model.layers.0.self_attn.v_proj", 1, 2048, 512),
            new ModelLayer("model.layers.0.self_attn.o_proj", 1, 2048, 2048),
            new ModelLayer("model.layers.0.mlp.gate_proj", 1, 2048, 8192),
            new ModelLayer("model.layers.0.mlp.up_proj", 1, 2048, 8192),
            new ModelLayer("model.layers.0.mlp.down_proj", 1, 8192, 2048),
        }));
        Assert.That(layers[^2].Name, Is.EqualTo("model.layers.15.mlp.down_proj"));
        Assert.That(layers[^1], Is.EqualTo(new ModelLayer("lm_head", 1, 2048, 128_256)));
    }

    [Test]
    public void Qwen25_05B_Prefill_RunsEveryBlockAtThePromptLength_AndTheHeadOnTheLastToken()
    {
        IReadOnlyList<ModelLayer> layers = ModelCatalog.Get("qwen2.5-0.5b", GenerationPhase.Prefill, 37);

        Assert.That(layers, Has.Count.EqualTo((24 * 7) + 1));
        Assert.That(layers.Take(7), Is.EqualTo(new[]
        {
            // 14 query heads and 2 key-value heads of 64: q 896 -> 896, k and v 896 -> 128.
            new ModelLayer("model.layers.0.self_attn.q_proj", 37, 896, 896),
            new ModelLayer("model.layers.0.self_attn.k_proj", 37, 896, 128),
            new ModelLayer("model.layers.0.self_attn.v_proj", 37, 896, 128),
            new ModelLayer("model.layers.0.self_attn.o_proj", 37, 896, 896),
            new ModelLayer("model.layers.0.mlp.gate_proj", 37, 896, 4864),
            new ModelLayer("model.layers.0.mlp.up_proj", 37, 896, 4864),
            new ModelLayer("model.layers.0.mlp.down_proj", 37, 4864, 896),
        }));
        Assert.That(layers.Take(24 * 7).Select(layer => layer.M), Is.All.EqualTo(37));
        Assert.That(layers[^1], Is.EqualTo(new ModelLayer("lm_head", 1, 896, 151_936)));
    }

    /// <summary>
    /// The linears plus what the catalogue leaves out (the tied embedding, which the head's weights are, the RMS norms'
    /// weights, and Qwen's q, k and v biases) add up to the parameter counts the checkpoints publish.
    /// </summary>
    [TestCase("llama-3.2-1b", 16, 2048, 0, 1_235_814_400L)]
    [TestCase("qwen2.5-0.5b", 24, 896, 896 + 128 + 128, 494_032_768L)]
    public void Linears_AddUpToThePublishedParameterCount(string model, int blocks, int hidden, int qkvBiasPerBlock, long published)
    {
        IReadOnlyList<ModelLayer> layers = ModelCatalog.Get(model, GenerationPhase.Decode, 1);
        long linears = layers.Take(layers.Count - 1).Sum(layer => (long)layer.K * layer.N);
        ModelLayer head = layers[^1];
        long tiedEmbedding = (long)head.K * head.N;
        long norms = (2L * blocks * hidden) + hidden;

        Assert.That(linears + tiedEmbedding + norms + ((long)blocks * qkvBiasPerBlock), Is.EqualTo(published));
    }

    [Test]
    public void PromptTokens_OutsideTheRange_AreRefusedByTheCatalogue()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelCatalog.Get("llama-3.2-1b", GenerationPhase.Prefill, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelCatalog.Get("llama-3.2-1b", GenerationPhase.Prefill, LanguageModel.MaxPromptTokens + 1));
        Assert.Throws<ArgumentException>(() => ModelCatalog.Get("llama-3.2-1b"), "a language model has no phase-less pass");
    }

    [TestCase("--model", "vit-b16", "--phase", "decode")]
    [TestCase("--model", "mobilebert", "--prompt-tokens", "16")]
    [TestCase("--model", "qwen2.5-0.5b", "--phase", "decode", "--prompt-tokens", "16")]
    [TestCase("--model", "qwen2.5-0.5b", "--layers", "^no such layer$")]
    [TestCase("--model", "qwen2.5-0.5b", "--layers", "model.layers.(")]
    [TestCase("--model", "qwen2.5-0.5b", "--phase", "generate")]
    [TestCase("--model", "qwen2.5-0.5b", "--prompt-tokens", "0")]
    [TestCase("--preset", "vit-b16", "--phase", "decode")]
    [TestCase("--preset", "vit-b16", "--layers", "mlp")]
    [TestCase("--preset", "vit-b16", "--memory-budget", "100")]
    [TestCase("--model", "mobilebert", "--memory-budget", "0")]
    public void BadCombination_IsRefusedWithOneLineAndExitCode2(params string[] args)
    {
        (int code, _, string error) = ConsoleCapture.Run(["bench", .. args, "--check"]);

        Assert.That(code, Is.EqualTo(Program.BadArguments), error);
        Assert.That(error.TrimEnd().Split('\n'), Has.Length.EqualTo(1), error);
        Assert.That(error, Does.StartWith("xnnkleidi: error: "));
    }

    [Test]
    public void BothPhases_OfOneBlock_AreCheckedAgainstTheOracle_AndWrittenToAFileEach()
    {
        string directory = Path.Combine(Path.GetTempPath(), $"xnnkleidi-llm-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        try
        {
            string json = Path.Combine(directory, "qwen.json");
            (int code, string output, string error) = ConsoleCapture.Run("bench", "--model", "qwen2.5-0.5b", "--layers", @"^model\.layers\.0\.",
                "--phase", "prefill,decode", "--prompt-tokens", "5", "--scheme", "qb4w", "--packing", "off,on", "--check", "--quiet", "--out", json);

            Assert.That(code, Is.EqualTo(0), output + error);
            // Each phase closes with its own line, 7 layers x 2 packing modes, and the last line counts both.
            Assert.That(output, Does.Match(@"(?s)linux-\w+/\S+: 14 passed, 0 failed.*linux-\w+/\S+: 14 passed, 0 failed.*linux-\w+/\S+: 28 passed, 0 failed\s*$"));
            Assert.That(File.Exists(json), Is.False, "with two phases each file carries its phase");
            foreach ((string phase, int m) in new[] { ("prefill", 5), ("decode", 1) })
            {
                using JsonDocument document = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, $"qwen.{phase}.json")));
                JsonElement root = document.RootElement;
                Assert.That(root.GetProperty("model").GetString(), Is.EqualTo("qwen2.5-0.5b"));
                Assert.That(root.GetProperty("phase").GetString(), Is.EqualTo(phase));
                Assert.That(root.GetProperty("layerCount").GetInt32(), Is.EqualTo(7));
                Assert.That(root.GetProperty("promptTokens").ValueKind, Is.EqualTo(phase == "prefill" ? JsonValueKind.Number : JsonValueKind.Null));
                Assert.That(root.GetProperty("notes").EnumerateArray().Select(note => note.GetString()),
                    Has.Some.Contains("KV cache").And.Some.Contains("--layers"));
                JsonElement firstLayer = root.GetProperty("runs")[0].GetProperty("layers")[0];
                Assert.That(firstLayer.GetProperty("m").GetInt32(), Is.EqualTo(m), $"{phase}: rows of q_proj");
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
