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

    /// <summary>
    /// The runtime identifier whose native library this process looks for, in runtimes/&lt;rid&gt;/native/: linux-x64,
    /// linux-arm64, linux-musl-x64, linux-musl-arm64 or win-x64. On Linux it tells musl from glibc, whose libraries do
    /// not load into each other's processes. Read without loading the library.
    /// </summary>
    public static string RuntimeIdentifier => NativeLibraryLoader.RuntimeIdentifier;

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
    /// The streaming vector length in bits (128, 256, 512, …) where the CPU and the OS offer SME, whatever the cap;
    /// 0 elsewhere. KleidiAI's SME kernels' tiles are multiples of it (<c>xnnkleidi_sme_vector_length_bytes()</c>).
    /// </summary>
    public static int SmeVectorLengthBits
    {
        get
        {
            XnnLibrary.EnsureInitialized();
            return checked((int)NativeMethods.xnnkleidi_sme_vector_length_bytes() * 8);
        }
    }

    /// <summary>The environment variable that caps the Arm kernel families, read once, before first use.</summary>
    public const string MaxArmKernelFamilyVariable = "XNNKLEIDI_MAX_ARM_ISA";

    /// <summary>The values <see cref="MaxArmKernelFamilyVariable"/> takes, from the most to the least capable family.</summary>
    public static IReadOnlyList<string> ArmKernelFamilyNames { get; } = ["sme2", "sme", "i8mm", "dotprod", "neon"];

    /// <summary>
    /// Caps the Arm kernel families every layer of this process may use, as <see cref="MaxArmKernelFamilyVariable"/>
    /// does and in its place: above <paramref name="family"/> the CPU is treated as lacking SME2, SME, i8mm and dotprod
    /// in turn, so the cap lowers the family a layer runs and never raises it. Call it before anything else of the
    /// library (no <see cref="Linear"/> created, no member of this class or of <see cref="ActivationPackingSupport"/>
    /// read); XNNPACK reads the CPU once. On x86-64 it is recorded and changes nothing.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="family"/> is not a defined family.</exception>
    /// <exception cref="InvalidOperationException">The library was already used; the cap in force stays.</exception>
    public static void SetMaxArmKernelFamily(ArmKernelFamily family)
    {
        if (!Enum.IsDefined(family))
        {
            throw new ArgumentOutOfRangeException(nameof(family), family, $"Not an Arm kernel family; use one of {string.Join(", ", Enum.GetNames<ArmKernelFamily>())}.");
        }

        XnnLibrary.SetMaxArmKernelFamily(family);
    }

    /// <summary>
    /// The cap on the Arm kernel families in force (from <see cref="SetMaxArmKernelFamily"/> or
    /// <see cref="MaxArmKernelFamilyVariable"/>), or null when there is none.
    /// </summary>
    public static ArmKernelFamily? MaxArmKernelFamily
    {
        get
        {
            XnnLibrary.EnsureInitialized();
            xnnkleidi_arm_isa cap = NativeMethods.xnnkleidi_max_arm_isa();
            return cap == xnnkleidi_arm_isa.xnnkleidi_arm_isa_unlimited ? null : (ArmKernelFamily)cap;
        }
    }

    /// <summary>The name <see cref="MaxArmKernelFamilyVariable"/> gives <paramref name="family"/> ("sme2", …, "neon").</summary>
    public static string GetName(ArmKernelFamily family) => family switch
    {
        ArmKernelFamily.Sme2 => "sme2",
        ArmKernelFamily.Sme => "sme",
        ArmKernelFamily.I8mm => "i8mm",
        ArmKernelFamily.Dotprod => "dotprod",
        ArmKernelFamily.Neon => "neon",
        _ => throw new ArgumentOutOfRangeException(nameof(family), family, "Not an Arm kernel family."),
    };

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

    /// <summary>The short names (see <see cref="GetName(CpuFeatures)"/>) of every feature in <paramref name="features"/>, lowest bit first.</summary>
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
