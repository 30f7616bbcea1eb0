using NUnit.Framework;
using XnnKleidi.Tests.Support;

namespace XnnKleidi.Tests.Robustness;

/// <summary>
/// qc8w weights of −128 are refused, or clamped to −127 when asked, so that no CPU computes with them: the Arm kernels
/// for CPUs without dotprod add two products in int16, which (−128)·(−128) twice overflows. Run on every CPU model.
/// </summary>
[TestFixture]
public sealed class Minus128WeightTests
{
    // The smallest case that went wrong on Cortex-A72: K = 16, N = 1, every weight −128 with scale 2^-7 (w = −1),
    // input [0 × 15, 1]. The zero point of a non-negative row is −128, which pairs −128 with −128.
    private const int K = 16;
    private static readonly float Scale = MathF.ScaleB(1f, -7);
    private static readonly float[] MinimalInput = [.. Enumerable.Repeat(0f, K - 1), 1f];

    [Test]
    public void FromQc8w_Minus128_IsRefusedNamingValuesAndTheFirstIndex()
    {
        sbyte[] values = Enumerable.Repeat((sbyte)-127, 2 * K).ToArray();
        values[K + 5] = sbyte.MinValue;
        values[K + 9] = sbyte.MinValue;

        var ex = Assert.Throws<ArgumentException>(() => LinearWeights.FromQc8w(values, [Scale, Scale], 2, K));

        Assert.That(ex!.ParamName, Is.EqualTo("values"));
        Assert.That(ex.Message, Does.Contain($"Value {K + 5} (output channel 1, input channel 5) is −128").And.Contain("[−127, 127]"));
    }

    [Test]
    public void FromQc8w_MinimalCaseWithMinus128_IsRefusedOnEveryCpu()
    {
        sbyte[] values = Enumerable.Repeat(sbyte.MinValue, K).ToArray();
        Assert.Throws<ArgumentException>(() => LinearWeights.FromQc8w(values, [Scale], 1, K));
        Assert.Throws<ArgumentException>(() => LinearWeights.FromQc8w(values, [Scale], 1, K, Minus128Weights.Reject));
    }

    [TestCase(ActivationPacking.Off)]
    [TestCase(ActivationPacking.On)]
    public void MinimalCase_ClampedToMinus127_GivesMinus127StepsOnEveryCpu(ActivationPacking packing)
    {
        LinearWeights weights = LinearWeights.FromQc8w(Enumerable.Repeat(sbyte.MinValue, K).ToArray(), [Scale], 1, K, Minus128Weights.ClampToMinus127);
        using Linear linear = Linear.Create(K, 1, weights, options: new LinearOptions { ActivationPacking = packing });
        var output = new float[1];

        linear.Run(MinimalInput, output, 1);

        Assert.That(weights.ClampedValueCount, Is.EqualTo(K));
        Assert.That(weights.Int8Values.ToArray(), Is.All.EqualTo((sbyte)-127));
        // 1 · (−127 · 2^-7): the input row quantizes exactly (its only non-zero value is the top of its range).
        Assert.That(output[0], Is.EqualTo(-127f / 128f).Within(1e-6f), linear.ToString());
    }

    [TestCase(ActivationPacking.Off)]
    [TestCase(ActivationPacking.On)]
    public void MinimalCase_WithMinus127_IsExactOnEveryCpu(ActivationPacking packing)
    {
        LinearWeights weights = LinearWeights.FromQc8w(Enumerable.Repeat((sbyte)-127, K).ToArray(), [Scale], 1, K);
        using Linear linear = Linear.Create(K, 1, weights, options: new LinearOptions { ActivationPacking = packing });
        var output = new float[1];

        linear.Run(MinimalInput, output, 1);

        Assert.That(weights.ClampedValueCount, Is.Zero);
        Assert.That(output[0], Is.EqualTo(-127f / 128f).Within(1e-6f), linear.ToString());
    }

    [TestCase(ActivationPacking.Off)]
    [TestCase(ActivationPacking.On)]
    public void RandomWeightsWithMinus128_Clamped_MatchTheReferenceOfTheClampedValues(ActivationPacking packing)
    {
        // Non-negative inputs (zero point −128) and full-range weights: the combination that overflowed int16.
        foreach ((int k, int n, int batch) in new[] { (16, 1, 1), (64, 7, 5), (768, 33, 3) })
        {
            var random = new Random((k * 7) + n);
            sbyte[] values = Enumerable.Range(0, n * k).Select(_ => (sbyte)random.Next(-128, 128)).ToArray();
            values[0] = sbyte.MinValue;
            float[] scales = TestData.Uniform(n, 0.001f, 0.1f, seed: k);
            LinearWeights weights = LinearWeights.FromQc8w(values, scales, n, k, Minus128Weights.ClampToMinus127);
            // The reference dequantizes what the weights hold; it must hold −127 wherever −128 was given.
            double[] dequantized = Reference.Dequantize(weights);
            for (int i = 0; i < values.Length; i++)
            {
                int expected = values[i] == sbyte.MinValue ? -127 : values[i];
                Assert.That(dequantized[i], Is.EqualTo(expected * (double)scales[i / k]), $"weight {i}");
            }

            using Linear linear = Linear.Create(k, n, weights, options: new LinearOptions { ActivationPacking = packing });
            float[] input = TestData.Uniform(batch * k, 0f, 4f, seed: n);
            var output = new float[batch * n];
            linear.Run(input, output, batch);

            TestData.AssertClose(
                output,
                Reference.Linear(input, dequantized, null, batch, k, n, float.NegativeInfinity, float.PositiveInfinity),
                Reference.Tolerance(input, dequantized, null, batch, k, n, WeightScheme.Qc8w, 0),
                $"{linear} K={k} N={n} M={batch}");
        }
    }

    [Test]
    public void FromQc8w_UnknownMinus128Handling_IsRefused()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => LinearWeights.FromQc8w(new sbyte[K], [Scale], 1, K, (Minus128Weights)7));
        Assert.That(ex!.ParamName, Is.EqualTo("minus128"));
    }
}
