using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace XnnKleidi.Tests.Support;

/// <summary>
/// Under Wine 8, an exception that Wine dispatches to .NET 10's handler and that .NET catches leaves a dead frame at the
/// head of the thread's TEB exception list; once its stack memory is reused, the thread's next exception makes Wine call
/// garbage as a handler and the thread never returns. The suite hung that way in whichever test next threw at the wrong
/// depth (the 19th of the whole run). native/tests/wine-exception-frames.c, built for win-x64 and published beside the
/// suite by build.cake, explains it; with it, the first-chance handler below takes the dispatcher's frames off the list
/// while they are still live. Windows does not use the list on x86-64, so on Windows nothing is installed.
/// </summary>
internal static unsafe class WineExceptionFrames
{
    private static delegate* unmanaged<int> forget;

    public const string LibraryFile = "xnnkleidi-wine-frames.dll";

    /// <summary>Before any test runs: the suite under Wine without it would hang, so a missing file stops the run at once.</summary>
    [ModuleInitializer]
    internal static void InstallUnderWine()
    {
        if (!IsWine)
        {
            return;
        }

        string path = Path.Combine(AppContext.BaseDirectory, LibraryFile);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"Under Wine the suite needs {LibraryFile} beside it (build.cake publishes it; see docs/platforms.md), or it hangs at the first exception that meets a dead TEB frame.",
                path);
        }

        IntPtr library = NativeLibrary.Load(path);
        var install = (delegate* unmanaged<int>)NativeLibrary.GetExport(library, "xnnkleidi_wine_install");
        forget = (delegate* unmanaged<int>)NativeLibrary.GetExport(library, "xnnkleidi_wine_forget_dispatcher_frames");
        if (install() == 0)
        {
            throw new InvalidOperationException($"{LibraryFile} could not add its vectored exception handler.");
        }

        // .NET runs first-chance handlers from inside its language handler, while the frames Wine added for it
        // are still live; after the catch they would be left behind.
        AppDomain.CurrentDomain.FirstChanceException += (_, _) => Interlocked.Add(ref framesForgotten, forget());
    }

    private static int framesForgotten;

    /// <summary>How many dispatcher frames have been taken off the threads' exception lists so far.</summary>
    public static int FramesForgotten => Volatile.Read(ref framesForgotten);

    /// <summary>Wine's ntdll exports wine_get_version; Windows' does not.</summary>
    public static bool IsWine { get; } =
        OperatingSystem.IsWindows() && NativeLibrary.TryLoad("ntdll.dll", out IntPtr ntdll) && NativeLibrary.TryGetExport(ntdll, "wine_get_version", out _);
}
