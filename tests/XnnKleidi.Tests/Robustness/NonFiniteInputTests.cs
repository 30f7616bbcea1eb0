using NUnit.Framework;
using XnnKleidi.Tests.Support;

namespace XnnKleidi.Tests.Robustness;

/// <summary>
/// NaN and ±Inf in the input are refused by both Run overloads, naming the row and column, before anything runs, for
/// every weight scheme; with the check off, the other rows stay correct.
/// </summary>
[TestFixture]
public sealed class NonFiniteInputTests
{
    private const int K = 64;
    private const int N = 5;
    private const int Batch = 5;
    private const float Sentinel = 12345f;

    private static readonly float[] BadValues = [float.NaN, float.PositiveInfinity, float.NegativeInfinity];

    // First, a middle and the last column, in the first and the last row.
    private static readonly (int Row, int Column)[] Places = [(0, 0), (0, 39), (0, K - 1), (Batch - 1, 0), (Batch - 1, 39), (Batch - 1, K - 1)];

    private static IEnumerable<TestCaseData> QuantizedLayers()
    {
        foreach (WeightScheme scheme in new[] { WeightScheme.F32, WeightScheme.Qc8w, WeightScheme.Qc4w, WeightScheme.Qb4w })
        {
            foreach (ActivationPacking packing in new[] { ActivationPacking.Off, ActivationPacking.On })
            {
                yield return new TestCaseData(scheme, packing).SetName($"Run_{scheme}_{packing}_NonFiniteInput_IsRefusedNamingRowAndColumn");
            }
        }
    }

    [TestCaseSource(nameof(QuantizedLayers))]
    public void Run_NonFiniteInput_IsRefusedNamingRowAndColumn(WeightScheme scheme, ActivationPacking packing)
    {
        LinearWeights weights = LinearWeights.Quantize(TestData.Uniform(N * K, -1f, 1f, seed: 2), N, K, scheme);
        using Linear linear = Linear.Create(K, N, weights, options: new LinearOptions { ActivationPacking = packing });
        using var padded = new PaddedInputBuffer(Batch * K);
        float[] clean = TestData.Uniform(Batch * K, -1f, 1f, seed: 3);
        var output = new float[Batch * N];
        foreach (float bad in BadValues)
        {
            foreach ((int row, int column) in Places)
            {
                float[] input = (float[])clean.Clone();
                input[(row * K) + column] = bad;
                input.CopyTo(padded.Span);
                string place = $"{bad} at [{row}, {column}]";

                Array.Fill(output, Sentinel);
                var fromSpan = Assert.Throws<ArgumentException>(() => linear.Run(input, output, Batch), place);
                Assert.That(fromSpan!.ParamName, Is.EqualTo("input"), place);
                Assert.That(fromSpan.Message, Does.Contain($"{bad} at row {row}, column {column}"), place);
                Assert.That(output, Is.All.EqualTo(Sentinel), $"{place}: nothing may be written");

                var fromPadded = Assert.Throws<ArgumentException>(() => linear.Run(padded, output, Batch), place);
                Assert.That(fromPadded!.ParamName, Is.EqualTo("input"), place);
                Assert.That(fromPadded.Message, Does.Contain($"{bad} at row {row}, column {column}"), place);
                Assert.That(output, Is.All.EqualTo(Sentinel), $"{place}: nothing may be written");
            }
        }

        // The refusals left the layer as it was: a clean input still gives the reference.
        linear.Run(clean, output, Batch);
        AssertMatchesReference(weights, clean, output, rows: Enumerable.Range(0, Batch), linear.ToString());
    }

    [Test]
    public void Run_NonFiniteBeyondTheBatch_InPaddedBuffer_IsNotLookedAt()
    {
        // Only batch × K floats are the input; what the buffer holds after them is not.
        LinearWeights weights = LinearWeights.Quantize(TestData.Uniform(N * K, -1f, 1f, seed: 2), N, K, WeightScheme.Qc8w);
        using Linear linear = Linear.Create(K, N, weights);
        using var padded = new PaddedInputBuffer((Batch + 1) * K);
        float[] clean = TestData.Uniform(Batch * K, -1f, 1f, seed: 3);
        clean.CopyTo(padded.Span);
        padded.Span[Batch * K] = float.NaN;
        var output = new float[Batch * N];

        linear.Run(padded, output, Batch);

        AssertMatchesReference(weights, clean, output, rows: Enumerable.Range(0, Batch), linear.ToString());
    }

    [Test]
    public void Run_F32WeightsWithTheCheckOff_PropagateInfinityIntoThatRowOnly()
    {
        // NaN is not asserted: XNNPACK's clamp on x86-64 (minps) turns a NaN output into +Inf, one reason the check is on by default.
        LinearWeights weights = LinearWeights.Quantize(TestData.Uniform(N * K, 0.1f, 1f, seed: 2), N, K, WeightScheme.F32);
        using Linear linear = Linear.Create(K, N, weights, options: new LinearOptions { RejectNonFiniteInput = false });
        float[] input = TestData.Uniform(Batch * K, -1f, 1f, seed: 3);
        input[(2 * K) + 5] = float.PositiveInfinity;
        var output = new float[Batch * N];

        linear.Run(input, output, Batch);

        // Every weight is positive, so each output of row 2 is +Inf, as in any fp32 matmul.
        for (int n = 0; n < N; n++)
        {
            Assert.That(output[(2 * N) + n], Is.EqualTo(float.PositiveInfinity), $"output [2, {n}]");
        }

        AssertMatchesReference(weights, input, output, rows: [0, 1, 3, 4], linear.ToString());
    }

    [Test]
    public void RejectNonFiniteInput_IsOnByDefault()
    {
        Assert.That(new LinearOptions().RejectNonFiniteInput, Is.True);
    }

    [TestCase(ActivationPacking.Off)]
    [TestCase(ActivationPacking.On)]
    public void Run_WithTheCheckOff_RunsAndLeavesOtherRowsCorrect(ActivationPacking packing)
    {
        LinearWeights weights = LinearWeights.Quantize(TestData.Uniform(N * K, -1f, 1f, seed: 2), N, K, WeightScheme.Qc8w);
        using Linear linear = Linear.Create(K, N, weights, options: new LinearOptions { ActivationPacking = packing, RejectNonFiniteInput = false });
        float[] input = TestData.Uniform(Batch * K, -1f, 1f, seed: 3);
        input[(1 * K) + 5] = float.NaN;
        var output = new float[Batch * N];

        Assert.DoesNotThrow(() => linear.Run(input, output, Batch));

        AssertMatchesReference(weights, input, output, rows: [0, 2, 3, 4], linear.ToString());
    }

    private static void AssertMatchesReference(LinearWeights weights, float[] input, float[] output, IEnumerable<int> rows, string what)
    {
        double[] dequantized = Reference.Dequantize(weights);
        foreach (int row in rows)
        {
            float[] rowInput = input.AsSpan(row * K, K).ToArray();
            TestData.AssertClose(
                output.AsSpan(row * N, N),
                Reference.Linear(rowInput, dequantized, null, 1, K, N, float.NegativeInfinity, float.PositiveInfinity),
                Reference.Tolerance(rowInput, dequantized, null, 1, K, N, weights.Scheme, LinearWeights.DefaultBlockSize),
                $"{what} row {row}");
        }
    }
}
