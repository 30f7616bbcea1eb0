using XnnKleidi.Cli.Bench;

namespace XnnKleidi.Cli.Platform;

/// <summary>Collects what a report says about the machine and the native library.</summary>
internal static class HostSummaryFactory
{
    public static HostSummary Create()
    {
        var native = NativeInfo.Read();
        return new HostSummary(
            HostInfo.Rid,
            HostInfo.CpuName,
            native.CpuFeatures.Count == 0 ? "(unknown)" : string.Join(' ', native.CpuFeatures),
            native.BuildInfo,
            HostInfo.EmulationReason,
            $".NET {Environment.Version}");
    }
}
