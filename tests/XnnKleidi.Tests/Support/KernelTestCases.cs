using NUnit.Framework;

namespace XnnKleidi.Tests.Support;

/// <summary>The schemes and batch sizes the kernel-name suites ask about.</summary>
internal static class KernelTestCases
{
    /// <summary>One row (the GEMV case), just above it, above the 16-row GEMM tile, and ViT-B/16's sequence length.</summary>
    public static readonly int[] Batches = [1, 2, 17, 197];

    public static readonly WeightScheme[] QuantizedSchemes = [WeightScheme.Qc8w, WeightScheme.Qc4w, WeightScheme.Qb4w];

    public static IEnumerable<TestCaseData> SchemesAndBatches() =>
        from scheme in QuantizedSchemes from batch in Batches select new TestCaseData(scheme, batch);
}
