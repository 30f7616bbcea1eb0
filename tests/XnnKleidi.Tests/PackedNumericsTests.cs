using NUnit.Framework;
using XnnKleidi.Tests.Support;

namespace XnnKleidi.Tests;

/// <summary>
/// Packed (QP8) layers over the shapes that cross every tile edge of KleidiAI's kernels, against the float64 reference
/// of the dequantized weights and against the same layer unpacked (QD8, XNNPACK's own NEON kernels on Arm), each within
/// the bound derived from the quantization steps. On the SME2 models this is the SME2 and SME kernels at that model's
/// streaming vector length; on the i8mm and dotprod models the NEON ones. The cross product of M, K, N and threads is
/// cut for emulation: every value of each appears, M = 197 with the narrow layers, N = 3072 with few rows.
/// </summary>
[TestFixture]
[Category(TestCategories.KernelDependent)]
public sealed class PackedNumericsTests
{
    // M = 1 (GEMV), 2 and 3 (inside the smallest MOPA tile, 4 rows at SVL 128), 16 and 17 (one tile of 16 rows at SVL
    // 512, and one past it), 197 (ViT-B/16's sequence).
    private static readonly int[] AllBatches = [1, 2, 3, 16, 17, 197];
    private static readonly int[] FewBatches = [1, 17];

    private static IEnumerable<TestCaseData> Cases()
    {
        // N = 1, 5, 63, 65 (around the 16, 32 and 64 columns of the SME tiles), 3072 (ViT-B/16's MLP).
        (int K, int N, int[] Batches, int Threads)[] channelwise =
        [
            (13, 1, AllBatches, 1), (13, 65, AllBatches, 2), (32, 5, AllBatches, 2), (32, 63, AllBatches, 1),
            (768, 63, AllBatches, 2), (4096, 5, AllBatches, 1), (768, 3072, FewBatches, 2),
        ];
        // Blockwise weights take K in whole blocks of 32.
        (int K, int N, int[] Batches, int Threads)[] blockwise =
        [
            (32, 1, AllBatches, 2), (32, 65, AllBatches, 1), (768, 63, AllBatches, 2), (4096, 5, AllBatches, 1),
            (768, 3072, FewBatches, 2),
        ];
        foreach (WeightScheme scheme in new[] { WeightScheme.Qc8w, WeightScheme.Qc4w, WeightScheme.Qb4w })
        {
            foreach ((int k, int n, int[] batches, int threads) in scheme == WeightScheme.Qb4w ? blockwise : channelwise)
            {
                yield return new TestCaseData(scheme, k, n, batches, threads)
                    .SetName($"Packed_{scheme}_K{k}_N{n}_Threads{threads}_MatchesReferenceAndUnpacked");
            }
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void Packed_EveryBatch_MatchesReferenceAndUnpacked(WeightScheme scheme, int k, int n, int[] batches, int threads)
    {
        TestEnvironment.RequireKnownCpu();
        LinearWeights weights = LinearWeights.Quantize(TestData.Uniform(n * k, -1f, 1f, seed: (k * 13) + n), n, k, scheme);
        float[] bias = TestData.Uniform(n, -0.5f, 0.5f, seed: n + 7);
        double[] dequantized = Reference.Dequantize(weights);
        using var pool = new XnnThreadPool(threads);
        using Linear packed = Linear.Create(k, n, weights, bias, options: new LinearOptions { ActivationPacking = ActivationPacking.On, ThreadPool = pool });
        using Linear unpacked = Linear.Create(k, n, weights, bias, options: new LinearOptions { ActivationPacking = ActivationPacking.Off, ThreadPool = pool });
        Assert.That(packed.IsActivationPackingActive, Is.EqualTo(TestEnvironment.HasQp8), packed.ToString());

        foreach (int batch in batches)
        {
            float[] input = TestData.Uniform(batch * k, -3f, 1f, seed: batch + k);
            var packedOutput = new float[batch * n];
            var unpackedOutput = new float[batch * n];
            packed.Run(input, packedOutput, batch);
            unpacked.Run(input, unpackedOutput, batch);

            double[] tolerance = Reference.Tolerance(input, dequantized, bias, batch, k, n, scheme, LinearWeights.DefaultBlockSize);
            string what = $"{packed.GetKleidiAIKernelName(batch) ?? "QD8"} K={k} N={n} M={batch} threads={threads}";
            TestData.AssertClose(
                packedOutput,
                Reference.Linear(input, dequantized, bias, batch, k, n, float.NegativeInfinity, float.PositiveInfinity),
                tolerance,
                what + " against the reference");
            // Each is within the bound of the reference, so the two are within twice the bound of each other.
            TestData.AssertClose(packedOutput, Array.ConvertAll(unpackedOutput, value => (double)value),
                Array.ConvertAll(tolerance, bound => 2 * bound), what + " against QD8");
        }
    }
}
