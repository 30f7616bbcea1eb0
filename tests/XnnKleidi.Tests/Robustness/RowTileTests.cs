using NUnit.Framework;
using XnnKleidi.Tests.Support;

namespace XnnKleidi.Tests.Robustness;

/// <summary>
/// Every batch from 1 to 33 rows, so that each GEMM kernel the CPU selects (up to 16 rows per tile) also runs on a
/// last tile of every height. A kernel run on fewer rows than it has aliases the missing rows to the last real one and
/// reads their per-row quantization parameters past the end; on a Zen 5 core the 14-row qb4w kernel once read beyond
/// XNNPACK's padding there and wrote a wrong last row for M mod 14 in {1, 2, 3}. The rows have scales a factor of 16
/// apart, so a row computed with another row's parameters is far outside the bound.
/// </summary>
[TestFixture]
public sealed class RowTileTests
{
    private const int K = 64;
    private const int N = 24;
    private const int MaxBatch = 33;

    [TestCase(WeightScheme.F32, ActivationPacking.Off)]
    [TestCase(WeightScheme.Qc8w, ActivationPacking.Off)]
    [TestCase(WeightScheme.Qc8w, ActivationPacking.On)]
    [TestCase(WeightScheme.Qc4w, ActivationPacking.Off)]
    [TestCase(WeightScheme.Qc4w, ActivationPacking.On)]
    [TestCase(WeightScheme.Qb4w, ActivationPacking.Off)]
    [TestCase(WeightScheme.Qb4w, ActivationPacking.On)]
    public void Run_EveryBatchUpTo33Rows_EveryRowMatchesReference(WeightScheme scheme, ActivationPacking packing)
    {
        LinearWeights weights = LinearWeights.Quantize(TestData.Uniform(N * K, -1f, 1f, seed: 21), N, K, scheme);
        double[] dequantized = Reference.Dequantize(weights);
        using Linear linear = Linear.Create(K, N, weights, options: new LinearOptions { ActivationPacking = packing });

        for (int batch = 1; batch <= MaxBatch; batch++)
        {
            float[] input = RowsOfDifferentScales(batch, seed: 100 + batch);
            var output = new float[batch * N];
            linear.Run(input, output, batch);
            TestData.AssertClose(
                output,
                Reference.Linear(input, dequantized, null, batch, K, N, float.NegativeInfinity, float.PositiveInfinity),
                Reference.Tolerance(input, dequantized, null, batch, K, N, scheme, LinearWeights.DefaultBlockSize),
                $"{linear} M={batch}");
        }
    }

    private static float[] RowsOfDifferentScales(int batch, int seed)
    {
        float[] input = TestData.Uniform(batch * K, -1f, 1f, seed);
        for (int row = 0; row < batch; row++)
        {
            // 1/16, 1, 16 in turn: neighbouring rows, and the last row and the one before, always differ.
            float scale = MathF.ScaleB(1f, ((row % 3) - 1) * 4);
            for (int column = 0; column < K; column++)
            {
                input[(row * K) + column] *= scale;
            }
        }

        return input;
    }
}
