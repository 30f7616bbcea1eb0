using XnnKleidi.Internal;
using XnnKleidi.Interop;

namespace XnnKleidi;

/// <summary>
/// What the loaded native library says about itself and this CPU, and the settings every <see cref="Linear"/> runs
/// with. A tool that compares against XNNPACK from C (or reports the build) reads these here instead of binding the
/// native library a second time. Whether KleidiAI's packed activations can run for a weight scheme, and which kernel,
/// is <see cref="ActivationPackingSupport"/>'s answer.
/// Every member loads libxnnkleidi and initializes XNNPACK first, and throws as creating a <see cref="Linear"/> would
/// when that fails (a <see cref="DllNotFoundException"/> that lists the paths tried, for example).
/// </summary>
public static unsafe class XnnKleidiLibrary
{
    private const string FeaturePrefix = "xnnkleidi_cpu_feature_";

    /// <summary>The ABI version these bindings were generated for (XNNKLEIDI_ABI_VERSION of xnnkleidi.h).</summary>
    public static uint ExpectedAbiVersion => NativeMethods.XNNKLEIDI_ABI_VERSION;

    /// <summary>The ABI version of the loaded library (<c>xnnkleidi_abi_version()</c>); the loader refuses any other.</summary>
    public static uint AbiVersion
    {
        get
        {
            XnnLibrary.EnsureInitialized();
            return NativeMethods.xnnkleidi_abi_version();
        }
    }

    /// <summary>The build string of the loaded library: XNNPACK commit, KleidiAI version or "disabled", compiler.</summary>
    public static string BuildInfo
    {
        get
        {
            XnnLibrary.EnsureInitialized();
            return XnnLibrary.ReadStaticString(NativeMethods.xnnkleidi_build_info()) ?? string.Empty;
        }
    }

    /// <summary>The file the library was loaded from.</summary>
    public static string LoadedPath
    {
        get
        {
            XnnLibrary.EnsureInitialized();
            // EnsureInitialized throws unless a library was loaded, and the loader records its path before it returns.
            return NativeLibraryLoader.LoadedPath ?? string.Empty;
        }
    }

    /// <summary>The CPU features XNNPACK detected (<c>xnnkleidi_cpu_features()</c>).</summary>
    public static CpuFeatures CpuFeatures
    {
        get
        {
            XnnLibrary.EnsureInitialized();
            return (CpuFeatures)NativeMethods.xnnkleidi_cpu_features();
        }
    }

    /// <summary>
    /// The flags XNNPACK's runtime of every <see cref="Linear"/> without profiling is created with (the <c>flags</c> of
    /// <c>xnn_create_runtime_v4</c>); <see cref="Linear.NativeRuntimeFlags"/> gives one layer's own.
    /// </summary>
    public static uint RuntimeFlags => Linear.RuntimeFlags;

    /// <summary>
    /// The short name of one feature, derived from its C enumerator: <c>xnnkleidi_cpu_feature_arm_fp16_arith</c>
    /// becomes "fp16-arith", <c>xnnkleidi_cpu_feature_x86_avx512vnni</c> "avx512vnni".
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="feature"/> is not exactly one known feature.</exception>
    public static string GetName(CpuFeatures feature)
    {
        string? name = Enum.GetName((xnnkleidi_cpu_feature)(uint)feature);
        if ((ulong)feature > uint.MaxValue || name is null)
        {
            throw new ArgumentException($"{feature} is not a single CPU feature of xnnkleidi.h.", nameof(feature));
        }

        // Drop the common prefix and the architecture ("arm_", "x86_"): the features of the two never mix.
        string withoutPrefix = name[FeaturePrefix.Length..];
        return withoutPrefix[(withoutPrefix.IndexOf('_', StringComparison.Ordinal) + 1)..].Replace('_', '-');
    }

    /// <summary>The short names (see <see cref="GetName"/>) of every feature in <paramref name="features"/>, lowest bit first.</summary>
    public static IReadOnlyList<string> GetNames(CpuFeatures features)
    {
        List<string> names = [];
        foreach (CpuFeatures feature in Enum.GetValues<CpuFeatures>())
        {
            if (feature != CpuFeatures.None && (features & feature) == feature)
            {
                names.Add(GetName(feature));
            }
        }

        return names;
    }
}
