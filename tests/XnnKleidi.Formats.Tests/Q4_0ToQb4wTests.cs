using NUnit.Framework;
using XnnKleidi.Formats.Tests.Support;

namespace XnnKleidi.Formats.Tests;

/// <summary>
/// GGUF Q4_0 weights handed to qb4w with blocks of 32. The expectation is computed here from the definitions alone:
/// each block dequantized (d·(q − 8)) and quantized onto −8..7 with its own scale |d| rounded to the nearest bf16;
/// a block that scale cannot hold (d &lt; 0 with a q of 0, whose weight is +8 steps) quantized the library's
/// documented way instead (scale max(max/7, −min/8) rounded up to bf16).
/// </summary>
public class Q4_0ToQb4wTests
{
    private const int N = 6, K = 96, Blocks = K / 32;

    [Test]
    public void EveryBlock_EqualsItsDequantizedValuesQuantizedWithItsOwnBf16Scale()
    {
        (ushort[] d, int[][] q) = MakeBlocks();
        using var directory = new TempDirectory();
        using ModelFile file = ModelFile.Open(directory.Write("m.gguf", Gguf(d, q)));

        WeightConversion conversion = file.ToLinearWeights(file.Tensors[0], WeightScheme.Qb4w);

        LinearWeights weights = conversion.Weights;
        Assert.That(weights.Scheme, Is.EqualTo(WeightScheme.Qb4w));
        Assert.That(weights.BlockSize, Is.EqualTo(32));
        for (int block = 0; block < N * Blocks; block++)
        {
            (ushort scale, int[] values) = Expected(d[block], q[block]);
            int row = block / Blocks, firstColumn = block % Blocks * 32;
            int[] actual = Enumerable.Range(0, 32).Select(j => Reference.Nibble(weights.PackedInt4Values.Span, K, row, firstColumn + j)).ToArray();
            Assert.That(weights.BlockScalesBf16.Span[block], Is.EqualTo(scale), $"scale of block {block}");
            Assert.That(actual, Is.EqualTo(values), $"values of block {block}");
        }
    }

    [Test]
    public void Report_CountsTheRequantizedBlocksAndTheLargestScaleChange()
    {
        (ushort[] d, int[][] q) = MakeBlocks();
        using var directory = new TempDirectory();
        using ModelFile file = ModelFile.Open(directory.Write("m.gguf", Gguf(d, q)));

        WeightConversion conversion = file.ToLinearWeights(file.Tensors[0], WeightScheme.Qb4w);

        int requantized = Enumerable.Range(0, d.Length).Count(b => NeedsRequantizing(d[b], q[b]));
        double largestScaleChange = Enumerable.Range(0, d.Length)
            .Where(b => !NeedsRequantizing(d[b], q[b]) && TensorBytes.Fp16Value(d[b]) != 0)
            .Max(b =>
            {
                double magnitude = Math.Abs(TensorBytes.Fp16Value(d[b]));
                return Math.Abs(Bf16Value(NearestBf16((float)magnitude)) - magnitude) / magnitude;
            });
        Assert.Multiple(() =>
        {
            Assert.That(requantized, Is.GreaterThan(0), "the blocks made include some to requantize");
            Assert.That(conversion.RequantizedBlocks, Is.EqualTo(requantized));
            Assert.That(conversion.CarriedBlocks, Is.EqualTo((N * Blocks) - requantized));
            Assert.That(conversion.Requantized, Is.True);
            Assert.That(conversion.MaxScaleRelativeError, Is.EqualTo(largestScaleChange));
            // Rounding to bf16's 8-bit significand moves a value by at most half a step: 2^-8 relative.
            Assert.That(conversion.MaxScaleRelativeError, Is.GreaterThan(0).And.LessThanOrEqualTo(Math.ScaleB(1, -8)));
            Assert.That(conversion.Description, Does.Contain("bf16").And.Contain(FormattableString.Invariant($"{requantized} of {N * Blocks} blocks requantized")));
        });
    }

    [Test]
    public void BlocksWithPositiveScales_AreCarriedWithoutRequantizing()
    {
        ushort[] d = Enumerable.Repeat(TensorBytes.Fp16Bits(0.1f), N * Blocks).ToArray();
        int[][] q = Enumerable.Range(0, N * Blocks).Select(b => Enumerable.Range(0, 32).Select(j => (b + j) % 16).ToArray()).ToArray();
        using var directory = new TempDirectory();
        using ModelFile file = ModelFile.Open(directory.Write("m.gguf", Gguf(d, q)));

        WeightConversion conversion = file.ToLinearWeights(file.Tensors[0], WeightScheme.Qb4w);

        // fp16 0.1 is 0.0999755859375 = 1638·2^-14; bf16 keeps 8 significant bits: 0.10009765625 (205·2^-11).
        double expectedChange = (0.10009765625 - 0.0999755859375) / 0.0999755859375;
        Assert.Multiple(() =>
        {
            Assert.That(conversion.RequantizedBlocks, Is.Zero);
            Assert.That(conversion.Requantized, Is.False);
            Assert.That(conversion.MaxScaleRelativeError, Is.EqualTo(expectedChange).Within(1e-15));
            Assert.That(conversion.MaxWeightError, Is.EqualTo(8 * (0.10009765625 - 0.0999755859375)).Within(1e-15));
        });
    }

    [Test]
    public void ZeroScaleBlock_HoldsZeros()
    {
        ushort[] d = Enumerable.Repeat((ushort)0, N * Blocks).ToArray();
        int[][] q = Enumerable.Range(0, N * Blocks).Select(b => Enumerable.Range(0, 32).Select(j => j % 16).ToArray()).ToArray();
        using var directory = new TempDirectory();
        using ModelFile file = ModelFile.Open(directory.Write("m.gguf", Gguf(d, q)));

        WeightConversion conversion = file.ToLinearWeights(file.Tensors[0], WeightScheme.Qb4w);

        Assert.That(Reference.Dequantize(conversion.Weights), Is.All.EqualTo(0.0));
    }

    [Test]
    public void OtherSchemes_DequantizeAndQuantizeAgain()
    {
        (ushort[] d, int[][] q) = MakeBlocks();
        using var directory = new TempDirectory();
        using ModelFile file = ModelFile.Open(directory.Write("m.gguf", Gguf(d, q)));

        WeightConversion conversion = file.ToLinearWeights(file.Tensors[0], WeightScheme.Qc8w);

        float[] dequantized = Enumerable.Range(0, N * Blocks)
            .SelectMany(b => q[b].Select(v => TensorBytes.Fp16Value(d[b]) * (v - 8))).ToArray();
        LinearWeights expected = LinearWeights.Quantize(dequantized, N, K, WeightScheme.Qc8w);
        Assert.Multiple(() =>
        {
            Assert.That(conversion.Requantized, Is.True);
            Assert.That(conversion.Description, Does.Contain("requantized to qc8w"));
            Assert.That(conversion.Weights.Int8Values.ToArray(), Is.EqualTo(expected.Int8Values.ToArray()));
            Assert.That(conversion.Weights.ChannelScales.ToArray(), Is.EqualTo(expected.ChannelScales.ToArray()));
        });
    }

    [Test]
    public void BlocksQuantizedTheLlamaCppWay_AboutHalfAreRequantizedWithinHalfAStep()
    {
        // Normal weights quantized as GGUF describes Q4_0 and llama.cpp writes it: d = (the value of largest
        // magnitude) / −8, q = the nearest of 0..15 to w/d + 8. A block whose largest value is positive gets d < 0
        // and that value q = 0, so about half the blocks cannot keep their 4-bit values.
        const int Rows = 64, Columns = 256;
        var random = new Random(5);
        var scales = new ushort[Rows * Columns / 32];
        var values = new int[scales.Length][];
        for (int b = 0; b < scales.Length; b++)
        {
            double[] w = Enumerable.Range(0, 32).Select(_ => Normal(random) * 0.02).ToArray();
            double extreme = w.MaxBy(Math.Abs);
            scales[b] = TensorBytes.Fp16Bits((float)(extreme / -8));
            double d = TensorBytes.Fp16Value(scales[b]);
            values[b] = w.Select(x => (int)Math.Clamp(Math.Floor((x / d) + 8.5), 0, 15)).ToArray();
        }

        byte[] data = Enumerable.Range(0, scales.Length).SelectMany(b => TensorBytes.Q4_0Block(scales[b], values[b])).ToArray();
        using var directory = new TempDirectory();
        using ModelFile file = ModelFile.Open(directory.Write("m.gguf", new GgufBuilder().Tensor("w", GgufBuilder.GgmlQ4_0, [Columns, Rows], data).Build()));

        WeightConversion conversion = file.ToLinearWeights(file.Tensors[0], WeightScheme.Qb4w);

        TestContext.Out.WriteLine(conversion.Description);
        TestContext.Out.WriteLine(FormattableString.Invariant(
            $"largest weight error {conversion.MaxWeightError:G3} of the largest weight {conversion.LargestWeight:G3} ({conversion.MaxWeightError / conversion.LargestWeight:P2})"));
        int expectedRequantized = Enumerable.Range(0, scales.Length).Count(b => NeedsRequantizing(scales[b], values[b]));
        Assert.Multiple(() =>
        {
            Assert.That(conversion.RequantizedBlocks, Is.EqualTo(expectedRequantized));
            Assert.That((double)expectedRequantized / scales.Length, Is.InRange(0.35, 0.65));
            // A requantized block's step is about 8|d|/7 (bf16 rounding up adds < 2^-7), and rounding is off by at most
            // half a step: 4|d|/7 of the largest weight 8|d| of its block, 1/14, or a little more.
            Assert.That(conversion.MaxWeightError / conversion.LargestWeight, Is.LessThanOrEqualTo((1.0 / 14) * (1 + Math.ScaleB(1, -7))));
        });
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>Blocks of every kind: positive, negative with and without a q of 0, zero, and seeded random ones.</summary>
    private static (ushort[] Scales, int[][] Values) MakeBlocks()
    {
        var random = new Random(20261207);
        var scales = new ushort[N * Blocks];
        var values = new int[N * Blocks][];
        for (int b = 0; b < scales.Length; b++)
        {
            float scale = (float)((random.NextDouble() * 0.02) + 0.0005) * (random.Next(2) == 0 ? 1 : -1);
            scales[b] = TensorBytes.Fp16Bits(scale);
            values[b] = Enumerable.Range(0, 32).Select(_ => random.Next(16)).ToArray();
        }

        scales[0] = TensorBytes.Fp16Bits(0.1f);
        scales[1] = TensorBytes.Fp16Bits(-0.3f);
        values[1] = Enumerable.Range(0, 32).Select(j => 1 + (j % 15)).ToArray();
        scales[2] = TensorBytes.Fp16Bits(-0.25f);
        values[2] = Enumerable.Range(0, 32).Select(j => j % 16).ToArray();
        scales[3] = 0;
        // As llama.cpp writes a block whose largest value is positive: d = max / −8, that value at q = 0.
        scales[4] = TensorBytes.Fp16Bits(-0.75f / 8);
        values[4] = Enumerable.Range(0, 32).Select(j => j == 5 ? 0 : 3 + (j % 10)).ToArray();
        return (scales, values);
    }

    private static byte[] Gguf(ushort[] scales, int[][] values)
    {
        byte[] data = Enumerable.Range(0, scales.Length).SelectMany(b => TensorBytes.Q4_0Block(scales[b], values[b])).ToArray();
        return new GgufBuilder().Tensor("blk.0.attn_q.weight", GgufBuilder.GgmlQ4_0, [K, N], data).Build();
    }

    private static bool NeedsRequantizing(ushort d, int[] q) => TensorBytes.Fp16Value(d) < 0 && q.Contains(0);

    /// <summary>The expected bf16 scale and stored values q' (−8..7) of one block.</summary>
    private static (ushort Scale, int[] Values) Expected(ushort dBits, int[] q)
    {
        float d = TensorBytes.Fp16Value(dBits);
        float[] weights = q.Select(v => d * (v - 8)).ToArray();
        if (d == 0)
        {
            // Zero weights: every value 0 at whatever positive scale; the conversion uses 1.
            return (Bf16Bits(1f), Enumerable.Repeat(0, 32).ToArray());
        }

        ushort scale = NeedsRequantizing(dBits, q)
            ? UpwardBf16(MathF.Max(weights.Append(0f).Max() / 7f, -weights.Append(0f).Min() / 8f))
            : NearestBf16(MathF.Abs(d));
        float s = Bf16Value(scale);
        return (scale, weights.Select(w => (int)Math.Clamp(MathF.Round(w / s), -8f, 7f)).ToArray());
    }

    private static ushort Bf16Bits(float exact) => (ushort)(BitConverter.SingleToUInt32Bits(exact) >> 16);

    private static float Bf16Value(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>The bf16 nearest a positive value, the even one on a tie: compare the two neighbours' distances.</summary>
    private static ushort NearestBf16(float value)
    {
        ushort below = Bf16Bits(BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(value) & 0xFFFF0000u));
        ushort above = (ushort)(below + 1);
        double toBelow = value - (double)Bf16Value(below), toAbove = Bf16Value(above) - (double)value;
        return toBelow < toAbove ? below : toAbove < toBelow ? above : (below % 2 == 0 ? below : above);
    }

    /// <summary>The smallest bf16 not below a positive value.</summary>
    private static ushort UpwardBf16(float value)
    {
        ushort below = Bf16Bits(BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(value) & 0xFFFF0000u));
        return Bf16Value(below) >= value ? below : (ushort)(below + 1);
    }
}
