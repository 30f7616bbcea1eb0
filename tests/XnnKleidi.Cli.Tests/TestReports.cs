using XnnKleidi.Cli.Bench;

namespace XnnKleidi.Cli.Tests;

/// <summary>The report of a run on an x64 test host.</summary>
internal static class TestReports
{
    public static BenchReport For(BenchOptions options) =>
        new() { Options = options, Host = new HostSummary("linux-x64", "Test CPU", "", "", null, ".NET") };
}
