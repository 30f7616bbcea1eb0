using NUnit.Framework;
using XnnKleidi.Tests.Support;

namespace XnnKleidi.Tests;

/// <summary>The quantizers, checked against values worked out by hand.</summary>
[TestFixture]
public sealed class QuantizationTests
{
    [Test]
    public void Qc8w_IsSymmetricPerOutputChannel()
    {
        // Row 0: max |w| = 2.54, scale 0.02 (0.024 / 0.02 = 1.2 → 1); row 1: max |w| = 1.27, scale 0.01.
        float[] weights = [2.54f, -1f, 0.024f, 0f, -1.27f, 0.5f];
        LinearWeights quantized = LinearWeights.Quantize(weights, 2, 3, WeightScheme.Qc8w);

        Assert.That(quantized.ChannelScales.ToArray(), Is.EqualTo(new[] { 0.02f, 0.01f }).Within(1e-7f));
        Assert.That(quantized.Int8Values.ToArray(), Is.EqualTo(new sbyte[] { 127, -50, 1, 0, -127, 50 }));
    }

    [Test]
    public void Qc4w_PacksNibblesLowFirst_EachRowStartingOnAByte_WithZeroPoint8()
    {
        // K = 3 (odd): each row takes two bytes, the last nibble is padding (8). Row 0: max 7, min -8 → scale 1. Row 1: max 0.7,
        // min −0.4 → scale max(0.7/7, 0.4/8) = 0.1.
        float[] weights = [7f, -8f, 1f, 0.7f, -0.4f, 0f];
        LinearWeights quantized = LinearWeights.Quantize(weights, 2, 3, WeightScheme.Qc4w);

        Assert.That(quantized.ChannelScales.ToArray(), Is.EqualTo(new[] { 1f, 0.1f }).Within(1e-7f));
        // Stored q + 8: row 0 → 15, 0, 9 (+ pad 8); row 1 → 15, 4, 8 (+ pad 8).
        Assert.That(quantized.PackedInt4Values.ToArray(), Is.EqualTo(new byte[] { 0x0F, 0x89, 0x4F, 0x88 }));
    }

    [Test]
    public void Qb4w_ScalesAreBf16RoundedUpPerBlock()
    {
        // Two blocks of 32: the first holds 0.7 (scale 0.1 → bf16 rounded up), the second only zeros (scale 1).
        var weights = new float[64];
        weights[5] = 0.7f;
        LinearWeights quantized = LinearWeights.Quantize(weights, 1, 64, WeightScheme.Qb4w);
        ushort[] scales = quantized.BlockScalesBf16.ToArray();
        double firstScale = Reference.Bf16(scales[0]);

        Assert.Multiple(() =>
        {
            Assert.That(scales, Has.Length.EqualTo(2));
            Assert.That(firstScale, Is.GreaterThanOrEqualTo(0.1).And.LessThan(0.1 * (1 + (1.0 / 128))), "0.1 rounded up to 8 significant bits");
            Assert.That(Reference.Bf16(scales[1]), Is.EqualTo(1.0), "an all-zero block still gets a valid scale");
            Assert.That(Reference.Nibble(quantized.PackedInt4Values.Span, 64, 0, 5), Is.EqualTo(7), "0.7 / 0.1003 rounds to 7");
            Assert.That(Reference.Nibble(quantized.PackedInt4Values.Span, 64, 0, 4), Is.EqualTo(0));
            Assert.That(quantized.BlockSize, Is.EqualTo(32));
        });
    }

    [TestCase(WeightScheme.Qc8w)]
    [TestCase(WeightScheme.Qc4w)]
    [TestCase(WeightScheme.Qb4w)]
    public void Quantize_DequantizedValuesAreWithinHalfAStep(WeightScheme scheme)
    {
        const int N = 5, K = 64;
        float[] weights = TestData.Uniform(N * K, -3f, 2f, seed: 9);
        LinearWeights quantized = LinearWeights.Quantize(weights, N, K, scheme);
        double[] dequantized = Reference.Dequantize(quantized);

        for (int i = 0; i < weights.Length; i++)
        {
            int row = i / K;
            double scale = scheme == WeightScheme.Qb4w
                ? Reference.Bf16(quantized.BlockScalesBf16.Span[(row * 2) + (i % K / 32)])
                : quantized.ChannelScales.Span[row];
            // Round-to-nearest inside the range: half a step, plus fp32 rounding of w / scale.
            Assert.That(Math.Abs(dequantized[i] - weights[i]), Is.LessThanOrEqualTo((scale * 0.5) + 1e-6), $"weight {i}");
        }
    }

    [Test]
    public void Quantize_TinyRow_GetsANormalScale()
    {
        // max |w| / 127 would be subnormal, which XNNPACK refuses.
        float[] weights = [1e-37f, -1e-37f];
        LinearWeights quantized = LinearWeights.Quantize(weights, 1, 2, WeightScheme.Qc8w);
        Assert.That(float.IsNormal(quantized.ChannelScales.Span[0]), Is.True);
        Assert.DoesNotThrow(() => Linear.Create(2, 1, quantized).Dispose());
    }
}
