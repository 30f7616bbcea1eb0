namespace XnnKleidi.Tests.Support;

/// <summary>NUnit categories the build selects suites by.</summary>
internal static class TestCategories
{
    /// <summary>
    /// Suites whose outcome depends on which kernels the CPU runs: selection, names, the family cap, the numerics of the
    /// packed and fp32 paths, and the preconditions of a meaningful run. The CPU models that differ from the ones running
    /// the whole suite only in their kernels run this category alone.
    /// </summary>
    public const string KernelDependent = "KernelDependent";
}
