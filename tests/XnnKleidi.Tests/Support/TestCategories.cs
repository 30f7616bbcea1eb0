namespace XnnKleidi.Tests.Support;

/// <summary>NUnit categories the build selects suites by, each with its reason.</summary>
internal static class TestCategories
{
    /// <summary>
    /// Suites whose outcome depends on which kernels the CPU runs: selection, names, the family cap, the numerics of the
    /// packed and fp32 paths, and the preconditions of a meaningful run. The CPU models that differ from the ones running
    /// the whole suite only in their kernels run this category alone.
    /// </summary>
    public const string KernelDependent = "KernelDependent";

    /// <summary>
    /// Asserts the exact Unix paths the loader builds ("/repo/tests/bin/..."); Windows paths have a drive and
    /// backslashes. The win-x64 run under Wine excludes it, as it does every category below (build.cake's
    /// windowsSuiteFilter; see docs/platforms.md).
    /// </summary>
    public const string UnixPaths = "UnixPaths";

    /// <summary>Reads the Linux libraries (ELF) under artifacts/native/linux-*; a Windows process loads a DLL and has none.</summary>
    public const string LinuxLibraries = "LinuxLibraries";

    /// <summary>
    /// Reads the loaded library's ELF <c>.symtab</c>, the oracle the kernel names are checked against (the Windows DLL is
    /// PE and carries no such table; there the names are checked by their form and by the C smoke test).
    /// </summary>
    public const string ElfSymbols = "ElfSymbols";

    /// <summary>
    /// Measures the native heap through glibc's mallinfo and the resident set through /proc/self/statm; a Windows
    /// process has neither (the Windows build's memory use is not measured).
    /// </summary>
    public const string GlibcHeap = "GlibcHeap";
}
