using NUnit.Framework;
using XnnKleidi.Tests.Support;

namespace XnnKleidi.Tests;

/// <summary>Every weight scheme against the float64 reference of its dequantized weights, over odd shapes.</summary>
[TestFixture]
public sealed class NumericsTests
{
    private static readonly int[] Batches = [0, 1, 5, 197];

    private static IEnumerable<TestCaseData> Shapes()
    {
        foreach (WeightScheme scheme in new[] { WeightScheme.F32, WeightScheme.Qc8w, WeightScheme.Qc4w })
        {
            foreach (int k in new[] { 1, 3, 17, 4096 })
            {
                foreach (int n in new[] { 1, 7 })
                {
                    foreach (ActivationPacking packing in new[] { ActivationPacking.Off, ActivationPacking.On })
                    {
                        yield return new TestCaseData(scheme, k, n, 32, packing).SetName($"Run_{scheme}_K{k}_N{n}_{packing}_MatchesReference");
                    }
                }
            }
        }

        // Blockwise weights need K to be a multiple of the block size (a multiple of 32).
        foreach ((int k, int blockSize) in new[] { (32, 32), (96, 32), (4096, 32), (128, 64) })
        {
            foreach (int n in new[] { 1, 7 })
            {
                foreach (ActivationPacking packing in new[] { ActivationPacking.Off, ActivationPacking.On })
                {
                    yield return new TestCaseData(WeightScheme.Qb4w, k, n, blockSize, packing).SetName($"Run_Qb4w_K{k}_Block{blockSize}_N{n}_{packing}_MatchesReference");
                }
            }
        }
    }

    [TestCaseSource(nameof(Shapes))]
    public void Run_EveryBatch_MatchesReference(WeightScheme scheme, int k, int n, int blockSize, ActivationPacking packing)
    {
        float[] weightValues = TestData.Uniform(n * k, -1f, 1f, seed: (k * 31) + n);
        float[] bias = TestData.Uniform(n, -1f, 1f, seed: n);
        LinearWeights weights = LinearWeights.Quantize(weightValues, n, k, scheme, blockSize);
        double[] dequantized = Reference.Dequantize(weights);
        using Linear linear = Linear.Create(k, n, weights, bias, options: new LinearOptions { ActivationPacking = packing });

        // The batch changes between calls, and 5 comes back after 197, so reshaping both ways is covered.
        foreach (int batch in Batches.Append(5))
        {
            float[] input = TestData.Uniform(batch * k, -2f, 2f, seed: batch + k);
            var output = new float[batch * n];
            linear.Run(input, output, batch);
            TestData.AssertClose(
                output,
                Reference.Linear(input, dequantized, bias, batch, k, n, float.NegativeInfinity, float.PositiveInfinity),
                Reference.Tolerance(input, dequantized, bias, batch, k, n, scheme, blockSize),
                $"{linear} M={batch}");
        }
    }

    [TestCase(WeightScheme.F32)]
    [TestCase(WeightScheme.Qc8w)]
    [TestCase(WeightScheme.Qc4w)]
    [TestCase(WeightScheme.Qb4w)]
    public void Run_WithBiasAndClamp_MatchesClampedReference(WeightScheme scheme)
    {
        const int K = 64, N = 7, Batch = 5;
        const float Min = -0.5f, Max = 0.75f;
        LinearWeights weights = LinearWeights.Quantize(TestData.Uniform(N * K, -1f, 1f, seed: 3), N, K, scheme);
        float[] bias = TestData.Uniform(N, -0.5f, 0.5f, seed: 13);
        double[] dequantized = Reference.Dequantize(weights);
        using Linear linear = Linear.Create(K, N, weights, bias, Min, Max);
        float[] input = TestData.Uniform(Batch * K, -2f, 2f, seed: 4);
        var output = new float[Batch * N];

        linear.Run(input, output, Batch);

        double[] expected = Reference.Linear(input, dequantized, bias, Batch, K, N, Min, Max);
        Assert.That(output, Has.All.InRange(Min, Max), "every output inside the clamp");
        Assert.That(expected.Count(v => v == Min || v == Max), Is.GreaterThan(0), "the data reaches the clamp");
        TestData.AssertClose(
            output,
            expected,
            Reference.Tolerance(input, dequantized, bias, Batch, K, N, scheme, LinearWeights.DefaultBlockSize),
            linear.ToString());
    }

    [TestCase(WeightScheme.Qc8w)]
    [TestCase(WeightScheme.Qc4w)]
    [TestCase(WeightScheme.Qb4w)]
    public void Run_AlreadyQuantizedWeights_MatchesReference(WeightScheme scheme)
    {
        const int K = 64, N = 3, Batch = 2;
        var random = new Random(11);
        LinearWeights weights = scheme switch
        {
            WeightScheme.Qc8w => LinearWeights.FromQc8w(
                Enumerable.Range(0, N * K).Select(_ => (sbyte)random.Next(-127, 128)).ToArray(), [0.01f, 0.02f, 0.03f], N, K), // −128 is refused
            WeightScheme.Qc4w => LinearWeights.FromQc4w(
                Enumerable.Range(0, N * K / 2).Select(_ => (byte)random.Next(256)).ToArray(), [0.1f, 0.2f, 0.3f], N, K),
            _ => LinearWeights.FromQb4w(
                Enumerable.Range(0, N * K / 2).Select(_ => (byte)random.Next(256)).ToArray(),
                [0x3DCC, 0x3E4C, 0x3C23, 0x3F80, 0x3E80, 0x3D00], N, K), // bf16 0.1, 0.2, 0.01, 1, 0.25, 0.03125
        };
        double[] dequantized = Reference.Dequantize(weights);
        using Linear linear = Linear.Create(K, N, weights);
        float[] input = TestData.Uniform(Batch * K, -1f, 1f, seed: 12);
        var output = new float[Batch * N];

        linear.Run(input, output, Batch);

        TestData.AssertClose(
            output,
            Reference.Linear(input, dequantized, null, Batch, K, N, float.NegativeInfinity, float.PositiveInfinity),
            Reference.Tolerance(input, dequantized, null, Batch, K, N, scheme, LinearWeights.DefaultBlockSize),
            linear.ToString());
    }

    [Test]
    public void Run_WithThreadPool_MatchesReference()
    {
        const int K = 256, N = 64, Batch = 33;
        using var pool = new XnnThreadPool(2);
        LinearWeights weights = LinearWeights.Quantize(TestData.Uniform(N * K, -1f, 1f, seed: 5), N, K, WeightScheme.Qc4w);
        double[] dequantized = Reference.Dequantize(weights);
        using Linear linear = Linear.Create(K, N, weights, options: new LinearOptions { ThreadPool = pool, ForceActivationPacking = true });
        float[] input = TestData.Uniform(Batch * K, -2f, 2f, seed: 6);
        var output = new float[Batch * N];

        linear.Run(input, output, Batch);

        Assert.That(pool.ThreadCount, Is.EqualTo(2));
        TestData.AssertClose(
            output,
            Reference.Linear(input, dequantized, null, Batch, K, N, float.NegativeInfinity, float.PositiveInfinity),
            Reference.Tolerance(input, dequantized, null, Batch, K, N, WeightScheme.Qc4w, 32),
            linear.ToString());
    }

    [Test]
    public void Run_ReshapesOnlyWhenTheBatchChanges()
    {
        const int K = 32, N = 4;
        using Linear linear = Linear.Create(K, N, TestData.Uniform(N * K, -1f, 1f, seed: 9), WeightScheme.Qc8w);
        using var padded = new PaddedInputBuffer(5 * K);

        // 1 (new), 1, 1, 5 (new), 5 through the padded overload, 0 (nothing runs), 5, 1 (new).
        foreach (int batch in new[] { 1, 1, 1, 5 })
        {
            linear.Run(new float[batch * K], new float[batch * N], batch);
        }

        linear.Run(padded, new float[5 * N], 5);
        linear.Run([], [], 0);
        linear.Run(new float[5 * K], new float[5 * N], 5);
        linear.Run(new float[K], new float[N], 1);

        Assert.That(linear.ReshapeCount, Is.EqualTo(3));
    }

    [Test]
    public void Run_PaddedInputBuffer_GivesTheSameOutputAsASpan()
    {
        const int K = 17, N = 7, Batch = 5;
        LinearWeights weights = LinearWeights.Quantize(TestData.Uniform(N * K, -1f, 1f, seed: 7), N, K, WeightScheme.Qc8w);
        double[] dequantized = Reference.Dequantize(weights);
        using Linear linear = Linear.Create(K, N, weights);
        float[] input = TestData.Uniform(Batch * K, -2f, 2f, seed: 8);
        using var padded = new PaddedInputBuffer(input.Length + K); // longer than needed: only the first rows are read
        input.CopyTo(padded.Span);
        var fromSpan = new float[Batch * N];
        var fromPadded = new float[Batch * N];

        linear.Run(input, fromSpan, Batch);
        linear.Run(padded, fromPadded, Batch);

        TestData.AssertClose(
            fromPadded,
            Reference.Linear(input, dequantized, null, Batch, K, N, float.NegativeInfinity, float.PositiveInfinity),
            Reference.Tolerance(input, dequantized, null, Batch, K, N, WeightScheme.Qc8w, 32),
            "padded buffer");
        Assert.That(fromPadded, Is.EqualTo(fromSpan), "the same kernel on the same values is deterministic");
    }
}
