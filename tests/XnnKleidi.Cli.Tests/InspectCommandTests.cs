using NUnit.Framework;
using XnnKleidi.Formats.Tests.Support;

namespace XnnKleidi.Cli.Tests;

/// <summary>
/// `xnnkleidi inspect` on a GGUF file written here: the layers found and each scheme's bytes, counted by hand below;
/// a broken file ends with one line on stderr and exit code 2.
/// </summary>
public class InspectCommandTests
{
    /// <summary>
    /// An embedding, a norm, a Q4_0 64×64 projection with a bias, an F16 16×48 layer (K not a multiple of 32) and a
    /// Q8_0 10×64 output layer. The data are zeros: inspect reads the header only.
    /// </summary>
    internal static byte[] SmallModel() => new GgufBuilder()
        .MetadataString("general.architecture", "llama")
        .Tensor("token_embd.weight", GgufBuilder.GgmlF16, [64, 10], new byte[64 * 10 * 2])
        .Tensor("blk.0.attn_norm.weight", GgufBuilder.GgmlF32, [64], new byte[64 * 4])
        .Tensor("blk.0.attn_q.weight", GgufBuilder.GgmlQ4_0, [64, 64], new byte[64 * 2 * 18])
        .Tensor("blk.0.attn_q.bias", GgufBuilder.GgmlF32, [64], new byte[64 * 4])
        .Tensor("blk.0.ffn_down.weight", GgufBuilder.GgmlF16, [48, 16], new byte[16 * 48 * 2])
        .Tensor("output.weight", GgufBuilder.GgmlQ8_0, [64, 10], new byte[10 * 2 * 34])
        .Build();

    [Test]
    public void GgufFile_ListsItsLinearLayersAndEachSchemesBytes()
    {
        using var directory = new TempDirectory();
        string path = directory.Write("small.gguf", SmallModel());

        (int code, string output, string error) = ConsoleCapture.Run("inspect", path);

        // file bytes: Q4_0 64 rows × 2 blocks × 18; F16 16 × 48 × 2; Q8_0 10 rows × 2 blocks × 34.
        // qc8w N·K + 4N; qc4w N·⌈K/2⌉ + 4N; qb4w N·K/2 + 2·N·K/32 (none for K = 48).
        string expected = $"""
            {path}: GGUF v3, 6 tensors, 3 linear layers

            | layer | N×K | type | bias | file bytes | qc8w bytes | qc4w bytes | qb4w bytes |
            |---|---|---|---|---:|---:|---:|---:|
            | blk.0.attn_q | 64×64 | Q4_0 | F32 | 2304 | 4352 | 2304 | 2304 |
            | blk.0.ffn_down | 16×48 | F16 | - | 1536 | 832 | 448 | - |
            | output | 10×64 | Q8_0 | - | 680 | 680 | 360 | 360 |
            | total | | | | 4520 | 5864 | 3112 | - |

            qb4w needs K to be a multiple of 32 ("-" where it is not); a total with a "-" has a layer qb4w cannot hold.
            Not linear layers (2): token_embd.weight (F16 10×64), blk.0.attn_norm.weight (F32 64)

            """;
        Assert.That(code, Is.EqualTo(0), error);
        Assert.That(output.ReplaceLineEndings("\n"), Is.EqualTo(expected.ReplaceLineEndings("\n")));
    }

    [Test]
    public void TruncatedFile_IsRefusedWithOneLineAndExitCode2()
    {
        using var directory = new TempDirectory();
        byte[] whole = SmallModel();
        string path = directory.Write("cut.gguf", whole[..^100]);

        (int code, string output, string error) = ConsoleCapture.Run("inspect", path);

        Assert.That(code, Is.EqualTo(2));
        Assert.That(output, Is.Empty);
        string[] lines = error.TrimEnd().Split('\n');
        Assert.That(lines, Has.Length.EqualTo(1), error);
        Assert.That(lines[0], Does.StartWith($"xnnkleidi: error: inspect: {path}: tensor 'output.weight'").And.Contain("past the end"));
    }

    [Test]
    public void MissingFile_IsRefusedWithExitCode2()
    {
        (int code, _, string error) = ConsoleCapture.Run("inspect", "/nonexistent/model.safetensors");

        Assert.That(code, Is.EqualTo(2));
        Assert.That(error, Does.Contain("/nonexistent/model.safetensors").And.Contain("cannot be opened"));
    }
}
