using NUnit.Framework;
using XnnKleidi.Formats.Tests.Support;

namespace XnnKleidi.Formats.Tests;

/// <summary>A model split over two safetensors files and the index that maps each tensor to its file.</summary>
public class ShardedSafetensorsTests
{
    private const string Index = """
        {"metadata": {"total_size": 40},
         "weight_map": {"q.weight": "model-00001-of-00002.safetensors",
                        "q.bias": "model-00001-of-00002.safetensors",
                        "out.weight": "model-00002-of-00002.safetensors"}}
        """;

    [Test]
    public void Index_GivesEveryTensorFromItsShard()
    {
        using var directory = new TempDirectory();
        var first = new SafetensorsBuilder().Add("q.weight", "F32", [2, 2], TensorBytes.F32(1, 2, 3, 4)).Add("q.bias", "F32", [2], TensorBytes.F32(-1, -2));
        var second = new SafetensorsBuilder().Add("out.weight", "BF16", [1, 2], TensorBytes.BF16(0.5f, -8f));
        string firstPath = directory.Write("model-00001-of-00002.safetensors", first.Build());
        string secondPath = directory.Write("model-00002-of-00002.safetensors", second.Build());
        string indexPath = directory.Write("model.safetensors.index.json", System.Text.Encoding.UTF8.GetBytes(Index));

        using ModelFile file = ModelFile.Open(indexPath);

        Assert.Multiple(() =>
        {
            Assert.That(file, Is.TypeOf<ShardedSafetensors>());
            Assert.That(file.Tensors.Select(t => t.Name), Is.EqualTo(new[] { "q.weight", "q.bias", "out.weight" }));
            Assert.That(file.Find("q.weight")!.FilePath, Is.EqualTo(firstPath));
            Assert.That(file.Find("out.weight")!.FilePath, Is.EqualTo(secondPath));
            Assert.That(file.Find("out.weight")!.Offset, Is.EqualTo(second.DataStart));
            Assert.That(file.ReadFloat32(file.Find("q.weight")!), Is.EqualTo(new[] { 1f, 2f, 3f, 4f }));
            Assert.That(file.ReadFloat32(file.Find("out.weight")!), Is.EqualTo(new[] { 0.5f, -8f }));
            Assert.That(file.LinearLayers.Select(l => (l.Name, l.Bias?.Name)), Is.EqualTo(new[] { ("q", (string?)"q.bias"), ("out", null) }));
        });
    }

    [Test]
    public void IndexNamingATensorItsShardLacks_IsRefusedNamingTheTensor()
    {
        using var directory = new TempDirectory();
        directory.Write("model-00001-of-00002.safetensors", new SafetensorsBuilder().Add("q.weight", "F32", [1], TensorBytes.F32(1)).Build());
        directory.Write("model-00002-of-00002.safetensors", new SafetensorsBuilder().Add("out.weight", "F32", [1], TensorBytes.F32(1)).Build());
        string indexPath = directory.Write("model.safetensors.index.json", System.Text.Encoding.UTF8.GetBytes(Index));

        var e = Assert.Throws<ModelFileFormatException>(() => ModelFile.Open(indexPath).Dispose());

        Assert.That(e!.TensorName, Is.EqualTo("q.bias"));
        Assert.That(e.Message, Does.Contain(indexPath));
    }

    [TestCase("../elsewhere.safetensors")]
    [TestCase("/etc/passwd")]
    [TestCase("..")]
    public void ShardOutsideTheIndexDirectory_IsRefused(string shard)
    {
        using var directory = new TempDirectory();
        string indexPath = directory.Write("model.safetensors.index.json",
            System.Text.Encoding.UTF8.GetBytes($$$"""{"weight_map": {"w": "{{{shard}}}"}}"""));

        var e = Assert.Throws<ModelFileFormatException>(() => ModelFile.Open(indexPath).Dispose());

        Assert.That(e!.TensorName, Is.EqualTo("w"));
    }

    [Test]
    public void MissingShard_IsRefusedNamingIt()
    {
        using var directory = new TempDirectory();
        string indexPath = directory.Write("model.safetensors.index.json", System.Text.Encoding.UTF8.GetBytes("""{"weight_map": {"w": "absent.safetensors"}}"""));

        var e = Assert.Throws<ModelFileFormatException>(() => ModelFile.Open(indexPath).Dispose());

        Assert.That(e!.Message, Does.Contain("absent.safetensors"));
    }
}
