using NUnit.Framework;
using XnnKleidi.Tests.Support;

namespace XnnKleidi.Tests.Robustness;

/// <summary>
/// Pre-quantized scales outside the range the kernels can compute with are refused naming the channel; scales at the
/// edges of the range compute correctly with inputs at the edges of the documented activation envelope [2⁻³², 2³²].
/// </summary>
[TestFixture]
public sealed class WeightScaleTests
{
    private const int K = 64;
    private const int N = 4;
    private static readonly float Minimum = MathF.ScaleB(1f, -82);

    // 2^95 / (|q|max · K), worked out here: 127 for int8 weights, 8 for 4-bit weights.
    private static float Maximum(int largestMagnitude) => (float)(Math.ScaleB(1.0, 95) / (largestMagnitude * (double)K));

    private static IEnumerable<TestCaseData> InvalidChannelScales()
    {
        foreach ((string name, float scale) in new (string, float)[]
        {
            ("Zero", 0f), ("Negative", -0.5f), ("NaN", float.NaN), ("Infinity", float.PositiveInfinity),
            ("Subnormal", 1e-40f), ("SmallestNormal", MathF.ScaleB(1f, -126)), ("BelowMinimum", MathF.ScaleB(1f, -83)),
            ("AboveMaximum", 1e30f),
        })
        {
            yield return new TestCaseData(WeightScheme.Qc8w, scale).SetName($"FromQc8w_{name}Scale_IsRefusedNamingTheChannel");
            yield return new TestCaseData(WeightScheme.Qc4w, scale).SetName($"FromQc4w_{name}Scale_IsRefusedNamingTheChannel");
        }

        yield return new TestCaseData(WeightScheme.Qc8w, BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(Maximum(127)) + 1))
            .SetName("FromQc8w_JustAboveMaximum_IsRefusedNamingTheChannel");
        yield return new TestCaseData(WeightScheme.Qc4w, BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(Maximum(8)) + 1))
            .SetName("FromQc4w_JustAboveMaximum_IsRefusedNamingTheChannel");
    }

    [TestCaseSource(nameof(InvalidChannelScales))]
    public void FromPrequantized_InvalidScale_IsRefusedNamingTheChannel(WeightScheme scheme, float bad)
    {
        float[] scales = [0.1f, 0.1f, bad, 0.1f];
        var ex = Assert.Throws<ArgumentException>(() => Wrap(scheme, scales));
        Assert.That(ex!.ParamName, Is.EqualTo("scales"));
        Assert.That(ex.Message, Does.Contain("(output channel 2)"));
    }

    [TestCase((ushort)0x7FC0, "NaN")]
    [TestCase((ushort)0x7F80, "Infinity")]
    [TestCase((ushort)0x0000, "Zero")]
    [TestCase((ushort)0xBF80, "Negative")]
    [TestCase((ushort)0x0040, "Subnormal")]
    [TestCase((ushort)0x1600, "BelowMinimum")] // 2^-83
    [TestCase((ushort)0x7100, "AboveMaximum")] // 2^99
    public void FromQb4w_InvalidScale_IsRefusedNamingChannelAndBlock(ushort bad, string what)
    {
        ushort[] scales = [0x3F80, 0x3F80, 0x3F80, bad, 0x3F80, 0x3F80, 0x3F80, 0x3F80]; // 4 channels × 2 blocks of 32
        var ex = Assert.Throws<ArgumentException>(() => LinearWeights.FromQb4w(new byte[N * K / 2], scales, N, K), what);
        Assert.That(ex!.ParamName, Is.EqualTo("bf16Scales"), what);
        Assert.That(ex.Message, Does.Contain("(output channel 1, block 1)"), what);
    }

    [Test]
    public void Quantize_WeightsTooLargeForTheRange_AreRefusedNamingWeights()
    {
        float[] weights = TestData.Uniform(N * K, -1f, 1f, seed: 1);
        weights[(2 * K) + 3] = 1e36f;
        foreach (WeightScheme scheme in new[] { WeightScheme.Qc8w, WeightScheme.Qc4w, WeightScheme.Qb4w })
        {
            var ex = Assert.Throws<ArgumentException>(() => LinearWeights.Quantize(weights, N, K, scheme), scheme.ToString());
            Assert.That(ex!.ParamName, Is.EqualTo("weights"), scheme.ToString());
            Assert.That(ex.Message, Does.Contain("Output channel 2"), scheme.ToString());
        }
    }

    [Test]
    public void Quantize_TinyWeights_GetTheSmallestScale()
    {
        LinearWeights weights = LinearWeights.Quantize(Enumerable.Repeat(1e-30f, K).ToArray(), 1, K, WeightScheme.Qc8w);
        Assert.That(weights.ChannelScales.Span[0], Is.EqualTo(Minimum));
    }

    private static IEnumerable<TestCaseData> EdgesOfTheRange()
    {
        foreach (WeightScheme scheme in new[] { WeightScheme.Qc8w, WeightScheme.Qc4w })
        {
            foreach (ActivationPacking packing in new[] { ActivationPacking.Off, ActivationPacking.On })
            {
                yield return new TestCaseData(scheme, packing, true).SetName($"{scheme}_{packing}_SmallestScaleWithSmallestInputs_IsNotFlushed");
                yield return new TestCaseData(scheme, packing, false).SetName($"{scheme}_{packing}_LargestScaleWithLargestInputs_StaysFinite");
            }
        }
    }

    [TestCaseSource(nameof(EdgesOfTheRange))]
    public void EdgeScale_WithEdgeInputs_ComputesCorrectly(WeightScheme scheme, ActivationPacking packing, bool smallest)
    {
        int magnitude = scheme == WeightScheme.Qc8w ? 127 : 8;
        float scale = smallest ? Minimum : Maximum(magnitude);
        // A row of equal values quantizes exactly (every element is the top of its range), so only fp32 rounding remains.
        float x = MathF.ScaleB(1f, smallest ? -32 : 32);
        LinearWeights weights = scheme == WeightScheme.Qc8w
            ? LinearWeights.FromQc8w(Enumerable.Repeat((sbyte)-127, K).ToArray(), [scale], 1, K)
            : LinearWeights.FromQc4w(new byte[K / 2], [scale], 1, K); // nibble 0: q = −8
        using Linear linear = Linear.Create(K, 1, weights, options: new LinearOptions { ActivationPacking = packing });
        var output = new float[1];

        linear.Run(Enumerable.Repeat(x, K).ToArray(), output, 1);

        double expected = -(double)K * magnitude * scale * x;
        Assert.That(float.IsFinite(output[0]) && output[0] != 0f, $"{linear}: got {output[0]}, expected {expected:G9}");
        Assert.That(Math.Abs(output[0] - expected) / Math.Abs(expected), Is.LessThan(1e-5), $"{linear}: got {output[0]}, expected {expected:G9}");
    }

    private static LinearWeights Wrap(WeightScheme scheme, float[] scales) => scheme == WeightScheme.Qc8w
        ? LinearWeights.FromQc8w(new sbyte[N * K], scales, N, K)
        : LinearWeights.FromQc4w(new byte[N * K / 2], scales, N, K);
}
