using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace XnnKleidi.Interop;

/// <summary>
/// The one place that finds libxnnkleidi for the generated <see cref="NativeMethods"/>. It is registered as this
/// assembly's DllImport resolver, which must never throw; failures are remembered instead and reported by
/// <see cref="EnsureLoaded"/>, which the managed layer calls before its first native call.
/// </summary>
internal static unsafe class NativeLibraryLoader
{
    /// <summary>A file path that replaces the search: only that file is tried.</summary>
    public const string OverrideVariable = "XNNKLEIDI_NATIVE_LIBRARY";

    /// <summary>
    /// The AppContext switch that adds development builds to the search: artifacts/native/&lt;rid&gt;/ in the assembly's
    /// folder and every folder above it. Off by default, because a deployed application must not load native code from
    /// folders it does not own; the repository's tests and CLI turn it on in their runtimeconfig.
    /// </summary>
    public const string DevelopmentSearchSwitch = "XnnKleidi.SearchDevelopmentArtifacts";

    /// <summary>The environment variable that does the same as <see cref="DevelopmentSearchSwitch"/> ("1" or "true").</summary>
    public const string DevelopmentSearchVariable = "XNNKLEIDI_SEARCH_ARTIFACTS";

    private static readonly Lock Gate = new();
    private static bool searched;
    private static IntPtr handle;
    private static List<LoadAttempt> attempts = [];

    /// <summary>One file the loader tried, and what happened.</summary>
    internal sealed record LoadAttempt(string Path, string Outcome, uint? AbiVersion = null)
    {
        public bool AbiMismatch => AbiVersion is { } version && version != NativeMethods.XNNKLEIDI_ABI_VERSION;
    }

    /// <summary>The library that was loaded, or null.</summary>
    public static string? LoadedPath { get; private set; }

    // A library can only register its resolver from code that runs before its first P/Invoke, and a module
    // initializer is the one place guaranteed to run first, whichever type the caller touches.
    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255:The 'ModuleInitializer' attribute should not be used in libraries",
        Justification = "The DllImport resolver must be registered before any generated P/Invoke runs.")]
    internal static void Register() =>
        NativeLibrary.SetDllImportResolver(typeof(NativeLibraryLoader).Assembly, Resolve);

    /// <summary>
    /// The runtime identifier whose native folder is searched: linux-x64, linux-arm64, linux-musl-x64, linux-musl-arm64,
    /// win-x64. On Linux it tells musl from glibc, whose libraries do not load into each other's processes.
    /// </summary>
    public static string RuntimeIdentifier =>
        RuntimeIdentifierFor(
            OperatingSystem.IsLinux() ? "linux" : OperatingSystem.IsMacOS() ? "osx" : OperatingSystem.IsWindows() ? "win" : "unknown",
            ProcessCLibrary == CLibrary.Musl,
            RuntimeInformation.ProcessArchitecture);

    /// <summary>The C library this process runs on, on Linux; <see cref="CLibrary.Unknown"/> elsewhere.</summary>
    // The .NET runtime is itself built for one C library, and its own identifier says which (linux-musl-x64 on Alpine).
    internal static CLibrary ProcessCLibrary =>
        !OperatingSystem.IsLinux() ? CLibrary.Unknown
        : RuntimeInformation.RuntimeIdentifier.StartsWith("linux-musl-", StringComparison.Ordinal) ? CLibrary.Musl
        : CLibrary.Glibc;

    internal static string RuntimeIdentifierFor(string operatingSystem, bool musl, Architecture architecture) =>
        $"{operatingSystem}{(musl ? "-musl" : "")}-{architecture.ToString().ToLowerInvariant()}";

    /// <summary>
    /// The platform's file name of the library: libxnnkleidi.so on Linux, libxnnkleidi.dll on Windows, where the plain
    /// xnnkleidi.dll would be the managed XnnKleidi.dll (file names ignore case there, and an app published for win-x64
    /// holds both in one folder).
    /// </summary>
    public static string FileName =>
        OperatingSystem.IsWindows() ? $"lib{NativeMethods.LibraryName}.dll"
        : OperatingSystem.IsMacOS() ? $"lib{NativeMethods.LibraryName}.dylib"
        : $"lib{NativeMethods.LibraryName}.so";

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (libraryName != NativeMethods.LibraryName)
        {
            return IntPtr.Zero;
        }

        try
        {
            return Load();
        }
#pragma warning disable CA1031 // A resolver that throws breaks every later P/Invoke; EnsureLoaded reports the failure.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            lock (Gate)
            {
                attempts.Add(new LoadAttempt("(resolver)", $"failed: {exception.Message}"));
            }

            return IntPtr.Zero;
        }
    }

    /// <summary>
    /// Loads the library if that has not happened yet; throws <see cref="DllNotFoundException"/> naming the RID, every
    /// path tried and the likely fix if none loaded, and <see cref="InvalidOperationException"/> with both numbers if
    /// the only libraries found were built for another ABI version than these bindings.
    /// </summary>
    public static void EnsureLoaded()
    {
        if (Load() != IntPtr.Zero)
        {
            return;
        }

        List<LoadAttempt> tried;
        lock (Gate)
        {
            tried = [.. attempts];
        }

        throw CreateLoadFailure(RuntimeIdentifier, tried);
    }

    private static IntPtr Load()
    {
        lock (Gate)
        {
            if (!searched)
            {
                searched = true;
                var assemblyDirectory = AppContext.BaseDirectory;
                var location = typeof(NativeLibraryLoader).Assembly.Location;
                if (location.Length > 0)
                {
                    assemblyDirectory = Path.GetDirectoryName(location) ?? assemblyDirectory;
                }

                var found = new List<LoadAttempt>();
                bool searchArtifacts = IsDevelopmentSearchEnabled(
                    AppContext.TryGetSwitch(DevelopmentSearchSwitch, out bool enabled) ? enabled : null,
                    Environment.GetEnvironmentVariable(DevelopmentSearchVariable));
                foreach (var candidate in CandidatePaths(assemblyDirectory, RuntimeIdentifier, FileName, Environment.GetEnvironmentVariable(OverrideVariable), searchArtifacts))
                {
                    var (loaded, attempt) = TryLoad(candidate);
                    found.Add(attempt);
                    if (loaded != IntPtr.Zero)
                    {
                        handle = loaded;
                        LoadedPath = candidate;
                        break;
                    }
                }

                attempts = found;
            }

            return handle;
        }
    }

    /// <summary>Whether development builds are searched: the AppContext switch if it is set, else the environment variable.</summary>
    internal static bool IsDevelopmentSearchEnabled(bool? switchValue, string? variableValue) =>
        switchValue ?? (variableValue is "1" || string.Equals(variableValue, "true", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Where the library is looked for, in order: the override alone if it is set; otherwise runtimes/&lt;rid&gt;/native/
    /// beside the assembly (the NuGet layout) and the assembly's own folder (a published app), then, only when
    /// <paramref name="searchArtifacts"/> is set, artifacts/native/&lt;rid&gt;/ in the assembly's folder and each folder
    /// above it (a development build).
    /// </summary>
    internal static IReadOnlyList<string> CandidatePaths(string assemblyDirectory, string runtimeIdentifier, string fileName, string? overridePath, bool searchArtifacts)
    {
        if (!string.IsNullOrEmpty(overridePath))
        {
            return [Path.GetFullPath(overridePath)];
        }

        var candidates = new List<string>
        {
            Path.Combine(assemblyDirectory, "runtimes", runtimeIdentifier, "native", fileName),
            Path.Combine(assemblyDirectory, fileName),
        };
        for (var directory = new DirectoryInfo(assemblyDirectory); searchArtifacts && directory is not null; directory = directory.Parent)
        {
            candidates.Add(Path.Combine(directory.FullName, "artifacts", "native", runtimeIdentifier, fileName));
        }

        return candidates;
    }

    internal static (IntPtr Handle, LoadAttempt Attempt) TryLoad(string path)
    {
        if (!File.Exists(path))
        {
            return (IntPtr.Zero, new LoadAttempt(path, "not found"));
        }

        // dlopen says "wrong ELF class" or "invalid ELF header", LoadLibrary "%1 is not a valid Win32 application"; the
        // headers themselves say which platform, architecture and C library the file is for.
        if (NativeBinaryCheck.Problem(path, RuntimeInformation.ProcessArchitecture) is { } problem)
        {
            return (IntPtr.Zero, new LoadAttempt(path, problem));
        }

        IntPtr loaded;
        try
        {
            loaded = NativeLibrary.Load(path);
        }
#pragma warning disable CA1031 // dlopen's reason (a missing GLIBC version, a wrong architecture) is the useful part.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            return (IntPtr.Zero, new LoadAttempt(path, $"found, but did not load: {exception.Message}"));
        }

        if (!NativeLibrary.TryGetExport(loaded, "xnnkleidi_abi_version", out var export))
        {
            NativeLibrary.Free(loaded);
            return (IntPtr.Zero, new LoadAttempt(path, "loaded, but exports no xnnkleidi_abi_version: not a libxnnkleidi"));
        }

        var version = ((delegate* unmanaged[Cdecl]<uint>)export)();
        if (version != NativeMethods.XNNKLEIDI_ABI_VERSION)
        {
            NativeLibrary.Free(loaded);
            return (IntPtr.Zero, new LoadAttempt(
                path, $"loaded, but its ABI version is {version}, not {NativeMethods.XNNKLEIDI_ABI_VERSION}", version));
        }

        return (loaded, new LoadAttempt(path, "loaded", version));
    }

    /// <summary>The exception <see cref="EnsureLoaded"/> throws when no library could be used.</summary>
    internal static Exception CreateLoadFailure(string runtimeIdentifier, IReadOnlyList<LoadAttempt> tried)
    {
        var paths = new StringBuilder();
        foreach (var attempt in tried)
        {
            paths.Append("\n  ").Append(attempt.Path).Append(": ").Append(attempt.Outcome);
        }

        var mismatch = tried.FirstOrDefault(attempt => attempt.AbiMismatch);
        if (mismatch is not null)
        {
            return new InvalidOperationException(
                $"The native library {mismatch.Path} has ABI version {mismatch.AbiVersion}, but XnnKleidi's bindings were "
                + $"generated against ABI version {NativeMethods.XNNKLEIDI_ABI_VERSION} (XNNKLEIDI_ABI_VERSION in xnnkleidi.h), "
                + $"and calling across the difference is undefined. Paths tried for {runtimeIdentifier}:{paths}\n"
                + "Likely fix: rebuild the native library from the same sources with `./build.sh --target=Native`, "
                + "or use the XnnKleidi package's own native library.");
        }

        return new DllNotFoundException(
            $"Could not load the native library {FileName} for {runtimeIdentifier}. Paths tried:{paths}\n"
            + $"Likely fix: build it with `./build.sh --target=Native` (it writes artifacts/native/{runtimeIdentifier}/{FileName}), "
            + $"reference the XnnKleidi package, which carries runtimes/{runtimeIdentifier}/native/{FileName}, "
            + $"or set {OverrideVariable} to the library's path. Development builds under artifacts/native/ are searched only "
            + $"with the AppContext switch {DevelopmentSearchSwitch} or {DevelopmentSearchVariable}=1.");
    }
}
