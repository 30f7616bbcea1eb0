using XnnKleidi.Interop;

namespace XnnKleidi.Internal;

/// <summary>Loads libxnnkleidi and initializes XNNPACK once, before the first native call of the managed layer.</summary>
internal static unsafe class XnnLibrary
{
    private static readonly Lock Gate = new();
    private static volatile bool initialized;
    private static bool capSetByCall;

    public static void EnsureInitialized()
    {
        if (initialized)
        {
            return;
        }

        lock (Gate)
        {
            if (initialized)
            {
                return;
            }

            NativeLibraryLoader.EnsureLoaded();
            // The cap is read when XNNPACK first reads the CPU, just below; an invalid value must stop that rather than
            // run uncapped (a caller comparing families would measure the wrong one).
            if (!capSetByCall &&
                NativeMethods.xnnkleidi_max_arm_isa_environment_status() != xnnkleidi_cap_status.xnnkleidi_cap_ok)
            {
                throw new InvalidOperationException(
                    $"{XnnKleidiLibrary.MaxArmKernelFamilyVariable} is '{Environment.GetEnvironmentVariable(XnnKleidiLibrary.MaxArmKernelFamilyVariable)}', " +
                    $"which names no kernel family; use one of {string.Join(", ", XnnKleidiLibrary.ArmKernelFamilyNames)}, or unset it.");
            }

            // xnn_initialize is idempotent; it fails with xnn_status_unsupported_hardware on CPUs XNNPACK cannot use.
            Ensure.Success(NativeMethods.xnn_initialize(null), "xnn_initialize");
            initialized = true;
        }
    }

    /// <summary>Passes a cap on the Arm kernel families to the native library, which accepts it only before first use.</summary>
    public static void SetMaxArmKernelFamily(ArmKernelFamily family)
    {
        lock (Gate)
        {
            NativeLibraryLoader.EnsureLoaded();
            xnnkleidi_cap_status status = NativeMethods.xnnkleidi_set_max_arm_isa((xnnkleidi_arm_isa)family);
            if (status == xnnkleidi_cap_status.xnnkleidi_cap_too_late)
            {
                throw new InvalidOperationException(
                    $"The Arm kernel family cap must be set before the library's first use; XNNPACK has already read the CPU, " +
                    $"with the cap {Describe(NativeMethods.xnnkleidi_max_arm_isa())}.");
            }

            if (status != xnnkleidi_cap_status.xnnkleidi_cap_ok)
            {
                throw new ArgumentOutOfRangeException(nameof(family), family, "libxnnkleidi refused this Arm kernel family.");
            }

            capSetByCall = true;
        }
    }

    private static string Describe(xnnkleidi_arm_isa cap) =>
        cap == xnnkleidi_arm_isa.xnnkleidi_arm_isa_unlimited ? "unlimited" : XnnKleidiLibrary.GetName((ArmKernelFamily)cap);

    /// <summary>Reads a static NUL-terminated UTF-8 string from native code.</summary>
    public static string? ReadStaticString(sbyte* text) =>
        text == null ? null : new string(text);
}
