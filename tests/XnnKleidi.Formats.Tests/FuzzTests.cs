using System.Buffers.Binary;
using NUnit.Framework;
using XnnKleidi.Formats.Tests.Support;

namespace XnnKleidi.Formats.Tests;

/// <summary>
/// Thousands of seeded mutations of valid files' headers: each one either opens, lists and converts like a valid
/// file, or is refused with a ModelFileFormatException. Any other exception, a crash or a hang fails.
/// </summary>
public class FuzzTests
{
    private const int Mutations = 2500;

    [Test]
    public void MutatedSafetensorsHeaders_EndInTheDocumentedExceptionOrAValidResult()
    {
        byte[] valid = new SafetensorsBuilder()
            .Metadata("format", "pt")
            .Add("fc.weight", "F32", [2, 32], TensorBytes.F32(Enumerable.Range(0, 64).Select(i => i * 0.25f).ToArray()))
            .Add("fc.bias", "F16", [2], TensorBytes.F16(1, -1))
            .Add("out.weight", "BF16", [1, 32], TensorBytes.BF16(new float[32]))
            .Build();
        int headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(valid);

        (int opened, int refused) = Fuzz(valid, headerEnd, seed: 11, "m.safetensors");

        Assert.That(opened + refused, Is.EqualTo(Mutations));
        Assert.That(refused, Is.GreaterThan(0), "some mutations must break the file");
    }

    [Test]
    public void MutatedGgufHeaders_EndInTheDocumentedExceptionOrAValidResult()
    {
        var builder = new GgufBuilder()
            .MetadataString("general.architecture", "llama")
            .MetadataRaw("tokenizer.ggml.scores", GgufBuilder.TypeArray, w =>
            {
                w.Write(GgufBuilder.TypeFloat32);
                w.Write(2UL);
                w.Write(0.5f);
                w.Write(1.5f);
            })
            .Tensor("blk.0.attn_q.weight", GgufBuilder.GgmlQ4_0, [32, 2], new byte[36])
            .Tensor("blk.0.attn_k.weight", GgufBuilder.GgmlQ8_0, [32, 1], new byte[34])
            .Tensor("blk.0.attn_q.bias", GgufBuilder.GgmlF32, [2], TensorBytes.F32(1, 2))
            .Tensor("output.weight", GgufBuilder.GgmlF16, [32, 1], new byte[64]);
        byte[] valid = builder.Build();

        (int opened, int refused) = Fuzz(valid, (int)builder.DataStart, seed: 12, "m.gguf");

        Assert.That(opened + refused, Is.EqualTo(Mutations));
        Assert.That(refused, Is.GreaterThan(0), "some mutations must break the file");
    }

    private static (int Opened, int Refused) Fuzz(byte[] valid, int headerEnd, int seed, string name)
    {
        var random = new Random(seed);
        using var directory = new TempDirectory();
        int opened = 0, refused = 0;
        for (int i = 0; i < Mutations; i++)
        {
            byte[] bytes = Mutate(valid, headerEnd, random);
            string path = directory.Write(name, bytes);
            try
            {
                using ModelFile file = ModelFile.Open(path);
                Exercise(file);
                opened++;
            }
            catch (ModelFileFormatException e)
            {
                Assert.That(e.Message, Does.StartWith(path), $"mutation {i}");
                refused++;
            }
            catch (Exception e)
            {
                Assert.Fail($"mutation {i} of seed {seed} ended in {e.GetType().Name}: {e.Message}\n{Convert.ToHexString(bytes)}");
            }
        }

        return (opened, refused);
    }

    /// <summary>Everything a valid file allows: every convertible tensor read, every linear layer converted.</summary>
    private static void Exercise(ModelFile file)
    {
        foreach (TensorInfo tensor in file.Tensors.Where(t => t.IsConvertible))
        {
            _ = file.ReadFloat32(tensor);
        }

        foreach (LinearLayer layer in file.LinearLayers.Where(l => l.Weight.IsConvertible && l.Weight.ElementCount > 0))
        {
            _ = file.ToLinearWeights(layer.Weight, WeightScheme.Qc8w);
            if (layer.InputChannels % 32 == 0)
            {
                _ = file.ToLinearWeights(layer.Weight, WeightScheme.Qb4w);
            }

            _ = file.ReadBias(layer);
        }
    }

    /// <summary>One to four changes within the header: a random byte, a bit flip, a 64-bit field, or a cut.</summary>
    private static byte[] Mutate(byte[] valid, int headerEnd, Random random)
    {
        byte[] bytes = (byte[])valid.Clone();
        int changes = random.Next(1, 5);
        for (int c = 0; c < changes; c++)
        {
            int at = random.Next(headerEnd);
            switch (random.Next(4))
            {
                case 0:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 1:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 2:
                    ulong value = random.Next(3) switch
                    {
                        0 => (ulong)random.NextInt64(),
                        1 => (ulong)random.Next(64),
                        _ => ulong.MaxValue - (ulong)random.Next(16),
                    };
                    int field = Math.Min(at, bytes.Length - 8);
                    BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(field), value);
                    break;
                default:
                    return bytes[..random.Next(bytes.Length)];
            }
        }

        return bytes;
    }
}
