namespace XnnKleidi.Cli.Platform;

/// <summary>What the native library says about itself and this CPU, read through XnnKleidi's public API.</summary>
internal sealed record NativeInfo(string BuildInfo, IReadOnlyList<string> CpuFeatures, IReadOnlyList<PackingSupport> Packing, string? LoadError)
{
    private static readonly WeightScheme[] QuantizedSchemes = [WeightScheme.Qc8w, WeightScheme.Qc4w, WeightScheme.Qb4w];

    /// <summary>Reads the build, the CPU features and packing support per scheme; a load failure becomes <see cref="LoadError"/>.</summary>
    public static NativeInfo Read()
    {
        try
        {
            List<PackingSupport> packing = [];
            foreach (WeightScheme scheme in QuantizedSchemes)
            {
                string? reason = ActivationPackingSupport.GetUnavailableReason(scheme);
                string? kernel = reason == null
                    ? $"M=1: {ActivationPackingSupport.GetKleidiAIKernelName(scheme, 1)}; M>1: {ActivationPackingSupport.GetKleidiAIKernelName(scheme, 2)}"
                    : null;
                packing.Add(new PackingSupport(scheme.ToString().ToLowerInvariant(), reason == null, reason ?? "available", kernel));
            }

            return new NativeInfo(XnnKleidiLibrary.BuildInfo, XnnKleidiLibrary.GetNames(XnnKleidiLibrary.CpuFeatures), packing, null);
        }
        catch (Exception e) when (e is DllNotFoundException or InvalidOperationException or BadImageFormatException or EntryPointNotFoundException
            or PlatformNotSupportedException or XnnPackException)
        {
            return new NativeInfo("(not loaded)", [], [], e.Message);
        }
    }
}

/// <summary>Whether QP8 packing is available for a weight scheme here, and if not why.</summary>
internal sealed record PackingSupport(string Scheme, bool Available, string Reason, string? Kernel);
