using System.Runtime.InteropServices;

namespace XnnKleidi.Cli.Platform;

/// <summary>What the native library says about itself and this CPU.</summary>
internal sealed record NativeInfo(string BuildInfo, IReadOnlyList<string> CpuFeatures, IReadOnlyList<PackingSupport> Packing, string? LoadError)
{
    private static readonly (ulong Bit, string Name)[] FeatureNames =
    [
        (1UL << 0, "neon"), (1UL << 1, "dotprod"), (1UL << 2, "i8mm"), (1UL << 3, "sve"), (1UL << 4, "sve2"),
        (1UL << 5, "sme"), (1UL << 6, "sme2"), (1UL << 7, "bf16"), (1UL << 8, "fp16-arith"),
        (1UL << 16, "avx2"), (1UL << 17, "fma3"), (1UL << 18, "avx512f"), (1UL << 19, "avx512skx"),
        (1UL << 20, "avx512vnni"), (1UL << 21, "avxvnni"), (1UL << 22, "avx512amx"), (1UL << 23, "avx256vnni"),
        (1UL << 24, "avxvnniint8"),
    ];

    /// <summary>
    /// Asks XnnKleidi's public API for packing support per scheme (which also loads libxnnkleidi
    /// through the binding's own loader), then reads the build string and CPU feature bits.
    /// </summary>
    public static NativeInfo Read()
    {
        var packing = new List<PackingSupport>();
        try
        {
            foreach (var scheme in new[] { WeightScheme.Qc8w, WeightScheme.Qc4w, WeightScheme.Qb4w })
            {
                var reason = ActivationPackingSupport.GetUnavailableReason(scheme);
                packing.Add(new PackingSupport(
                    scheme.ToString().ToLowerInvariant(), reason == null, reason ?? "available",
                    reason == null ? $"M=1: {ActivationPackingSupport.GetKleidiAIKernelName(scheme, 1)}; M>1: {ActivationPackingSupport.GetKleidiAIKernelName(scheme, 2)}" : null));
            }
        }
        catch (Exception e) when (e is DllNotFoundException or InvalidOperationException or BadImageFormatException or EntryPointNotFoundException)
        {
            return new NativeInfo("(not loaded)", [], [], e.Message);
        }
        var (buildInfo, features) = ReadBuildInfoAndFeatures();
        return new NativeInfo(buildInfo, features, packing, null);
    }

    /// <summary>
    /// xnnkleidi_build_info() and xnnkleidi_cpu_features() of the library the binding has already
    /// loaded: dlopen by its soname returns that same instance. XnnKleidi's public API does not
    /// expose these two read-only answers yet; when it does, this goes.
    /// </summary>
    private static unsafe (string BuildInfo, IReadOnlyList<string> Features) ReadBuildInfoAndFeatures()
    {
        if (!NativeLibrary.TryLoad("libxnnkleidi.so", out var handle))
        {
            return ("(unknown: libxnnkleidi.so is not loaded by its soname)", []);
        }
        var buildInfo = "(unknown)";
        var features = new List<string>();
        if (NativeLibrary.TryGetExport(handle, "xnnkleidi_build_info", out var buildInfoExport))
        {
            var text = ((delegate* unmanaged<sbyte*>)buildInfoExport)();
            buildInfo = text == null ? "(none)" : new string(text);
        }
        if (NativeLibrary.TryGetExport(handle, "xnnkleidi_cpu_features", out var featuresExport))
        {
            var bits = ((delegate* unmanaged<ulong>)featuresExport)();
            features.AddRange(FeatureNames.Where(f => (bits & f.Bit) != 0).Select(f => f.Name));
        }
        NativeLibrary.Free(handle);
        return (buildInfo, features);
    }
}

/// <summary>Whether QP8 packing is available for a weight scheme here, and if not why.</summary>
internal sealed record PackingSupport(string Scheme, bool Available, string Reason, string? Kernel);
