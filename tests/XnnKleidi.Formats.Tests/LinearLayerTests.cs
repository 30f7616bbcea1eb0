using NUnit.Framework;
using XnnKleidi.Formats.Tests.Support;

namespace XnnKleidi.Formats.Tests;

/// <summary>Which tensors count as linear layers, and their biases.</summary>
public class LinearLayerTests
{
    [Test]
    public void Discovery_KeepsTwoDimensionalWeightsAndSkipsEmbeddingsAndNorms()
    {
        using var directory = new TempDirectory();
        byte[] Floats(int count) => TensorBytes.F32(new float[count]);
        var builder = new SafetensorsBuilder()
            .Add("model.embed_tokens.weight", "F32", [10, 4], Floats(40))
            .Add("model.layers.0.input_layernorm.weight", "F32", [4], Floats(4))
            .Add("model.layers.0.self_attn.q_proj.weight", "F32", [4, 4], Floats(16))
            .Add("model.layers.0.mixer.norm.weight", "F32", [2, 2], Floats(4))
            .Add("transformer.wte.weight", "F32", [10, 4], Floats(40))
            .Add("transformer.wpe.weight", "F32", [8, 4], Floats(32))
            .Add("token_embd.weight", "F32", [10, 4], Floats(40))
            .Add("conv.weight", "F32", [2, 1, 2, 2], Floats(8))
            .Add("position_ids", "I64", [1, 8], new byte[64])
            .Add("lm_head.weight", "F16", [10, 4], TensorBytes.F16(new float[40]));
        using ModelFile file = ModelFile.Open(directory.Write("m.safetensors", builder.Build()));

        Assert.That(file.LinearLayers.Select(layer => layer.Name), Is.EqualTo(new[] { "model.layers.0.self_attn.q_proj", "lm_head" }));
    }

    [Test]
    public void Bias_IsTheOneDimensionalTensorOfNElementsBesideTheWeight()
    {
        using var directory = new TempDirectory();
        var builder = new SafetensorsBuilder()
            .Add("fc.weight", "F32", [2, 3], TensorBytes.F32(1, 2, 3, 4, 5, 6))
            .Add("fc.bias", "F16", [2], TensorBytes.F16(0.5f, -1.25f))
            .Add("proj.weight", "F32", [2, 3], TensorBytes.F32(new float[6]))
            .Add("proj.bias", "F32", [3], TensorBytes.F32(new float[3]))
            .Add("head.weight", "F32", [4, 3], TensorBytes.F32(new float[12]));
        using ModelFile file = ModelFile.Open(directory.Write("m.safetensors", builder.Build()));

        LinearLayer fc = file.LinearLayers.Single(layer => layer.Name == "fc");
        Assert.Multiple(() =>
        {
            Assert.That(fc.OutputChannels, Is.EqualTo(2));
            Assert.That(fc.InputChannels, Is.EqualTo(3));
            Assert.That(file.ReadBias(fc), Is.EqualTo(new[] { 0.5f, -1.25f }));
            Assert.That(file.LinearLayers.Single(layer => layer.Name == "proj").Bias, Is.Null, "a bias of K elements is not this layer's");
            Assert.That(file.ReadBias(file.LinearLayers.Single(layer => layer.Name == "head")), Is.Null);
        });
    }

    [Test]
    public void GgufBias_IsReadFromItsOwnType()
    {
        using var directory = new TempDirectory();
        string path = directory.Write("m.gguf", new GgufBuilder()
            .Tensor("blk.0.attn_q.weight", GgufBuilder.GgmlF16, [2, 3], TensorBytes.F16(new float[6]))
            .Tensor("blk.0.attn_q.bias", GgufBuilder.GgmlF32, [3], TensorBytes.F32(7, 8, 9))
            .Build());
        using ModelFile file = ModelFile.Open(path);

        LinearLayer layer = file.LinearLayers.Single();

        Assert.That(layer.Name, Is.EqualTo("blk.0.attn_q"));
        Assert.That(file.ReadBias(layer), Is.EqualTo(new[] { 7f, 8f, 9f }));
    }
}
