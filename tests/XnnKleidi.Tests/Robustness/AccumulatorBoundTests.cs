using NUnit.Framework;
using XnnKleidi.Tests.Support;

namespace XnnKleidi.Tests.Robustness;

/// <summary>
/// The int32 sums of the quantized kernels: K at the largest value no input can overflow computes the worst case
/// correctly, one more is refused. The worst case is a row of equal positive inputs (every activation 127 with zero
/// point −128, 255 steps) against weights of the largest magnitude of one sign.
/// </summary>
[TestFixture]
public sealed class AccumulatorBoundTests
{
    // ⌊(2³¹ − 1) / (255 · 127)⌋ and ⌊(2³¹ − 1) / (255 · 128)⌋, worked out here from the arithmetic, not read from the library.
    private const int Qc8wBound = 66_311;
    private const int Qc4wBound = 65_793;
    private const int Qb4wBlockBound = 65_792;

    [Test]
    public void GetMaxInputChannels_StatesTheBoundOfEachScheme()
    {
        Assert.That(Linear.GetMaxInputChannels(WeightScheme.Qc8w), Is.EqualTo(Qc8wBound));
        Assert.That(Linear.GetMaxInputChannels(WeightScheme.Qc4w), Is.EqualTo(Qc4wBound));
        Assert.That(Linear.GetMaxInputChannels(WeightScheme.Qb4w), Is.EqualTo(int.MaxValue));
        Assert.That(Linear.GetMaxInputChannels(WeightScheme.F32), Is.EqualTo(int.MaxValue));
        Assert.That((long)Qc8wBound * 255 * 127, Is.LessThanOrEqualTo(int.MaxValue));
        Assert.That((long)(Qc8wBound + 1) * 255 * 127, Is.GreaterThan(int.MaxValue));
        Assert.That((long)Qc4wBound * 255 * 128, Is.LessThanOrEqualTo(int.MaxValue));
        Assert.That((long)(Qc4wBound + 1) * 255 * 128, Is.GreaterThan(int.MaxValue));
    }

    [TestCase(ActivationPacking.Off)]
    [TestCase(ActivationPacking.On)]
    public void Qc8w_AtTheBound_WorstCaseIsCorrect(ActivationPacking packing)
    {
        LinearWeights weights = LinearWeights.FromQc8w(Enumerable.Repeat((sbyte)-127, Qc8wBound).ToArray(), [1f / 127f], 1, Qc8wBound);
        AssertWorstCaseMatchesReference(weights, packing);
    }

    [TestCase(ActivationPacking.Off)]
    [TestCase(ActivationPacking.On)]
    public void Qc4w_AtTheBound_WorstCaseIsCorrect(ActivationPacking packing)
    {
        // Nibble 0 is q = −8, the 4-bit value of largest magnitude (16·q = −128 in the kernels).
        LinearWeights weights = LinearWeights.FromQc4w(new byte[(Qc4wBound + 1) / 2], [0.125f], 1, Qc4wBound);
        AssertWorstCaseMatchesReference(weights, packing);
    }

    [TestCase(ActivationPacking.Off)]
    [TestCase(ActivationPacking.On)]
    public void Qb4w_BlockAtTheBound_WorstCaseIsCorrect(ActivationPacking packing)
    {
        LinearWeights weights = LinearWeights.FromQb4w(new byte[Qb4wBlockBound / 2], [0x3E00], 1, Qb4wBlockBound, Qb4wBlockBound); // bf16 0.125
        AssertWorstCaseMatchesReference(weights, packing);
    }

    [TestCase(WeightScheme.Qc8w, Qc8wBound + 1)]
    [TestCase(WeightScheme.Qc4w, Qc4wBound + 1)]
    [TestCase(WeightScheme.Qc8w, 70_000)]
    public void Create_PastTheBound_IsRefusedStatingTheBound(WeightScheme scheme, int k)
    {
        LinearWeights weights = scheme == WeightScheme.Qc8w
            ? LinearWeights.FromQc8w(new sbyte[k], [1f], 1, k)
            : LinearWeights.FromQc4w(new byte[(k + 1) / 2], [1f], 1, k);

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Linear.Create(k, 1, weights));

        Assert.That(ex!.ParamName, Is.EqualTo("inputChannels"));
        Assert.That(ex.Message, Does.Contain($"at most {Linear.GetMaxInputChannels(scheme)} input channels").And.Contain("int32"));
    }

    [Test]
    public void Create_FromFp32PastTheBound_IsRefused()
    {
        const int K = Qc8wBound + 1;
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Linear.Create(K, 1, new float[K], WeightScheme.Qc8w));
        Assert.That(ex!.ParamName, Is.EqualTo("inputChannels"));
    }

    [Test]
    public void Qb4w_BlockPastTheBound_IsRefusedNamingBlockSize()
    {
        const int Block = Qb4wBlockBound + 32;
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => LinearWeights.FromQb4w(new byte[Block / 2], [0x3E00], 1, Block, Block));
        Assert.That(ex!.ParamName, Is.EqualTo("blockSize"));
        Assert.That(ex.Message, Does.Contain($"at most {Qb4wBlockBound}"));
    }

    private static void AssertWorstCaseMatchesReference(LinearWeights weights, ActivationPacking packing)
    {
        int k = weights.InputChannels;
        double[] dequantized = Reference.Dequantize(weights);
        using Linear linear = Linear.Create(k, 1, weights, options: new LinearOptions { ActivationPacking = packing });
        float[] input = Enumerable.Repeat(1f, k).ToArray();
        var output = new float[1];

        linear.Run(input, output, 1);

        // The reference is −K. An int32 overflow would be off by 2³² units of s_x · s_w, over 500 times the tolerance.
        TestData.AssertClose(
            output,
            Reference.Linear(input, dequantized, null, 1, k, 1, float.NegativeInfinity, float.PositiveInfinity),
            Reference.Tolerance(input, dequantized, null, 1, k, 1, weights.Scheme, Math.Max(weights.BlockSize, 1)),
            $"{linear} K={k}");
        Assert.That(output[0], Is.EqualTo(-(double)k).Within(k * 1e-5), $"{linear} K={k}");
    }
}
