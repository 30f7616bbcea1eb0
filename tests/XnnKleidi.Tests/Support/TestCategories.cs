namespace XnnKleidi.Tests.Support;

/// <summary>
/// Categories of tests that hold on Linux only, each with its reason. A win-x64 run excludes them by name
/// (--filter "TestCategory!=UnixPaths&amp;TestCategory!=LinuxLibraries"; see docs/platforms.md), so every other test
/// runs on every platform.
/// </summary>
internal static class TestCategories
{
    /// <summary>Asserts the exact Unix paths the loader builds ("/repo/tests/bin/..."); Windows paths have a drive and backslashes.</summary>
    public const string UnixPaths = "UnixPaths";

    /// <summary>Reads the Linux libraries (ELF) under artifacts/native/linux-*; a Windows process loads a DLL and has none.</summary>
    public const string LinuxLibraries = "LinuxLibraries";
}
