using System.Runtime.InteropServices;
using XnnKleidi.Interop;

namespace XnnKleidi.Tests.Support;

/// <summary>
/// The libxnnkleidi file this process loaded, read as ELF, and where the dynamic loader put it: addresses the
/// library hands out translate to the file's own addresses, so that its <c>.symtab</c> can name them.
/// </summary>
internal sealed class LoadedLibraryImage
{
    // An exported function whose symbol-table entry and dlsym address give the load base (address minus st_value).
    private const string AnchorFunction = "xnnkleidi_abi_version";

    private static readonly Lazy<LoadedLibraryImage> Loaded = new(Load);

    private readonly ulong loadBase;

    private LoadedLibraryImage(string path, ElfSymbolTable symbols, ulong loadBase)
    {
        Path = path;
        Symbols = symbols;
        this.loadBase = loadBase;
    }

    public static LoadedLibraryImage Current => Loaded.Value;

    public string Path { get; }

    public ElfSymbolTable Symbols { get; }

    /// <summary>The file address (st_value space) of an address in this process's mapping of the library.</summary>
    public ulong ToFileAddress(IntPtr address) => (ulong)address - loadBase;

    private static LoadedLibraryImage Load()
    {
        NativeLibraryLoader.EnsureLoaded();
        string path = NativeLibraryLoader.LoadedPath
            ?? throw new InvalidOperationException("the native library loaded, but its path is unknown");
        ElfSymbolTable symbols = ElfSymbolTable.Read(path);
        ElfSymbolTable.FunctionSymbol anchor = symbols.Function(AnchorFunction)
            ?? throw new InvalidDataException($"{path} has no {AnchorFunction} in its .symtab.");

        // Loading the same file again returns the loader's handle with one more reference.
        IntPtr handle = NativeLibrary.Load(path);
        try
        {
            return new LoadedLibraryImage(path, symbols, (ulong)NativeLibrary.GetExport(handle, AnchorFunction) - anchor.Address);
        }
        finally
        {
            NativeLibrary.Free(handle);
        }
    }
}
