using XnnKleidi.Interop;

namespace XnnKleidi.Internal;

/// <summary>Loads libxnnkleidi and initializes XNNPACK once, before the first native call of the managed layer.</summary>
internal static unsafe class XnnLibrary
{
    private static readonly Lock Gate = new();
    private static volatile bool initialized;

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
            // xnn_initialize is idempotent; it fails with xnn_status_unsupported_hardware on CPUs XNNPACK cannot use.
            Ensure.Success(NativeMethods.xnn_initialize(null), "xnn_initialize");
            initialized = true;
        }
    }

    /// <summary>Reads a static NUL-terminated UTF-8 string from native code.</summary>
    public static string? ReadStaticString(sbyte* text) =>
        text == null ? null : new string(text);
}
