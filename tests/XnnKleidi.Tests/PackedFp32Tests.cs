using NUnit.Framework;
using XnnKleidi.Tests.Support;

namespace XnnKleidi.Tests;

/// <summary>
/// fp32 layers where the OS enables SME2. XNNPACK 4ea82e5 then packs the input (Pack LH) and runs KleidiAI's SME2
/// GEMM <c>kai_run_matmul_clamp_f32_f32p2vlx1_f32p2vlx1biasf32_sme2_mopa</c>, whose tile is two streaming vectors
/// square (8, 16 or 32 rows and columns at SVL 128, 256 and 512 bits). Elsewhere the NEON f32 GEMM runs. The first
/// test pins which path ran, so that the numerics below are known to be those of the SME2 kernel on SME2 models.
/// </summary>
[TestFixture]
[Category(TestCategories.KernelDependent)]
public sealed class PackedFp32Tests
{
    [Test]
    public void F32Layer_RunsThePackedSme2GemmExactlyWhereSme2Is()
    {
        TestEnvironment.RequireKnownCpu();
        using Linear linear = Linear.Create(64, 24, TestData.Uniform(64 * 24, -1f, 1f, seed: 5), WeightScheme.F32);

        // XNNPACK names the packed operator like the plain one; the Pack LH node in front of it is what only the
        // SME2 configuration (pf32-gemm, whose one kernel is KleidiAI's SME2 MOPA) inserts.
        string[] expected = TestEnvironment.HasSme2
            ? ["Pack LH (X32)", "Fully Connected (NC, F32) GEMM"]
            : ["Fully Connected (NC, F32) GEMM"];
        Assert.That(linear.OperatorNames, Is.EqualTo(expected));
    }

    // Rows and columns on both sides of every SME2 tile edge (8, 16, 32) and K odd, one tile deep and deep.
    private static IEnumerable<TestCaseData> Shapes()
    {
        int[] batches = [1, 2, 3, 16, 17, 197];
        (int K, int N)[] sizes = [(13, 1), (32, 5), (768, 63), (13, 65), (32, 63), (768, 5)];
        foreach (int threads in new[] { 1, 2 })
        {
            foreach ((int k, int n) in sizes)
            {
                yield return new TestCaseData(k, n, batches, threads).SetName($"F32_K{k}_N{n}_Threads{threads}_MatchesReference");
            }
        }
    }

    [TestCaseSource(nameof(Shapes))]
    public void F32Layer_EveryBatch_MatchesReference(int k, int n, int[] batches, int threads)
    {
        float[] weightValues = TestData.Uniform(n * k, -1f, 1f, seed: (k * 7) + n);
        float[] bias = TestData.Uniform(n, -1f, 1f, seed: n + 1);
        LinearWeights weights = LinearWeights.Quantize(weightValues, n, k, WeightScheme.F32);
        double[] dequantized = Reference.Dequantize(weights);
        using var pool = new XnnThreadPool(threads);
        using Linear linear = Linear.Create(k, n, weights, bias, options: new LinearOptions { ThreadPool = pool });

        foreach (int batch in batches)
        {
            float[] input = TestData.Uniform(batch * k, -2f, 2f, seed: batch + (3 * k));
            var output = new float[batch * n];
            linear.Run(input, output, batch);
            TestData.AssertClose(
                output,
                Reference.Linear(input, dequantized, bias, batch, k, n, float.NegativeInfinity, float.PositiveInfinity),
                Reference.Tolerance(input, dequantized, bias, batch, k, n, WeightScheme.F32, LinearWeights.DefaultBlockSize),
                $"{linear} M={batch} threads={threads}");
        }
    }
}
