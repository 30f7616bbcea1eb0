using System.Buffers.Binary;
using System.Text;

namespace XnnKleidi.Tests.Support;

/// <summary>
/// The function symbols of a little-endian ELF64 file's <c>.symtab</c>, and the file bytes behind an address.
/// <c>.symtab</c> and not <c>.dynsym</c>: the library exports only its public API, while the XNNPACK wrappers and
/// KleidiAI kernels the kernel-name tests look for are local symbols, which only the full table lists.
/// </summary>
internal sealed class ElfSymbolTable
{
    /// <summary>e_machine of AArch64 and x86-64 (ELF specification, "Machine").</summary>
    public const ushort MachineAArch64 = 183;
    public const ushort MachineX86_64 = 62;

    private const uint SectionTypeSymbolTable = 2; // SHT_SYMTAB
    private const uint SectionTypeNoBits = 8; // SHT_NOBITS: occupies no file bytes (.bss)
    private const ulong SectionFlagAllocated = 0x2; // SHF_ALLOC: part of the loaded image
    private const byte SymbolTypeFunction = 2; // STT_FUNC
    private const int SectionHeaderSize = 64;
    private const int SymbolSize = 24;

    private readonly byte[] file;
    private readonly IReadOnlyList<Section> loadedSections;
    private readonly ILookup<ulong, FunctionSymbol> functionsByAddress;
    private readonly ILookup<string, FunctionSymbol> functionsByName;

    private ElfSymbolTable(byte[] file, ushort machine, IReadOnlyList<Section> loadedSections, IReadOnlyList<FunctionSymbol> functions)
    {
        this.file = file;
        this.loadedSections = loadedSections;
        Machine = machine;
        Functions = functions;
        functionsByAddress = functions.ToLookup(symbol => symbol.Address);
        functionsByName = functions.ToLookup(symbol => symbol.Name, StringComparer.Ordinal);
    }

    /// <summary>A function symbol: its name, its address in the file's own address space (st_value) and size.</summary>
    public sealed record FunctionSymbol(string Name, ulong Address, ulong Size);

    public ushort Machine { get; }

    public IReadOnlyList<FunctionSymbol> Functions { get; }

    public static ElfSymbolTable Read(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        ReadOnlySpan<byte> bytes = file;
        if (bytes.Length < 64 || !bytes[..4].SequenceEqual("\u007fELF"u8))
        {
            throw new InvalidDataException($"{path} is not an ELF file.");
        }

        // e_ident[EI_CLASS] = ELFCLASS64, e_ident[EI_DATA] = ELFDATA2LSB: the only layout read here.
        if (bytes[4] != 2 || bytes[5] != 1)
        {
            throw new InvalidDataException($"{path} is not a little-endian ELF64 file.");
        }

        ushort machine = BinaryPrimitives.ReadUInt16LittleEndian(bytes[18..]);
        ulong sectionHeadersOffset = BinaryPrimitives.ReadUInt64LittleEndian(bytes[0x28..]);
        ushort sectionHeaderSize = BinaryPrimitives.ReadUInt16LittleEndian(bytes[0x3A..]);
        ushort sectionCount = BinaryPrimitives.ReadUInt16LittleEndian(bytes[0x3C..]);
        if (sectionHeaderSize != SectionHeaderSize || sectionCount == 0)
        {
            throw new InvalidDataException($"{path} has {sectionCount} section headers of {sectionHeaderSize} bytes.");
        }

        var sections = new Section[sectionCount];
        for (int index = 0; index < sectionCount; index++)
        {
            ReadOnlySpan<byte> header = bytes.Slice(checked((int)sectionHeadersOffset + (index * SectionHeaderSize)), SectionHeaderSize);
            sections[index] = new Section(
                Type: BinaryPrimitives.ReadUInt32LittleEndian(header[4..]),
                Flags: BinaryPrimitives.ReadUInt64LittleEndian(header[8..]),
                Address: BinaryPrimitives.ReadUInt64LittleEndian(header[16..]),
                Offset: BinaryPrimitives.ReadUInt64LittleEndian(header[24..]),
                Size: BinaryPrimitives.ReadUInt64LittleEndian(header[32..]),
                Link: BinaryPrimitives.ReadUInt32LittleEndian(header[40..]));
        }

        Section symbolTable = sections.SingleOrDefault(section => section.Type == SectionTypeSymbolTable)
            ?? throw new InvalidDataException($"{path} has no .symtab (stripped?).");
        Section names = sections[symbolTable.Link];
        var functions = new List<FunctionSymbol>();
        for (ulong offset = 0; offset + SymbolSize <= symbolTable.Size; offset += SymbolSize)
        {
            ReadOnlySpan<byte> symbol = bytes.Slice(checked((int)(symbolTable.Offset + offset)), SymbolSize);
            byte info = symbol[4];
            ulong size = BinaryPrimitives.ReadUInt64LittleEndian(symbol[16..]);
            if ((info & 0xF) != SymbolTypeFunction)
            {
                continue;
            }

            uint nameOffset = BinaryPrimitives.ReadUInt32LittleEndian(symbol);
            functions.Add(new FunctionSymbol(
                ReadName(bytes, names, nameOffset),
                BinaryPrimitives.ReadUInt64LittleEndian(symbol[8..]),
                size));
        }

        var loaded = sections.Where(section => (section.Flags & SectionFlagAllocated) != 0 && section.Type != SectionTypeNoBits).ToList();
        return new ElfSymbolTable(file, machine, loaded, functions);
    }

    /// <summary>Every function symbol whose first instruction is at <paramref name="address"/> (aliases share one).</summary>
    public IReadOnlyList<FunctionSymbol> FunctionsStartingAt(ulong address) => functionsByAddress[address].ToList();

    /// <summary>The function symbol called <paramref name="name"/>, or null.</summary>
    public FunctionSymbol? Function(string name) => functionsByName[name].FirstOrDefault();

    /// <summary>The file bytes of a function's code, found through the loaded section that holds its address.</summary>
    public ReadOnlySpan<byte> Code(FunctionSymbol function)
    {
        Section section = loadedSections.SingleOrDefault(candidate =>
                function.Address >= candidate.Address && function.Address + function.Size <= candidate.Address + candidate.Size)
            ?? throw new InvalidDataException($"{function.Name} at 0x{function.Address:x} lies in no loaded section with file bytes.");
        return file.AsSpan(checked((int)(section.Offset + (function.Address - section.Address))), checked((int)function.Size));
    }

    private static string ReadName(ReadOnlySpan<byte> bytes, Section names, uint offset)
    {
        ReadOnlySpan<byte> rest = bytes[checked((int)(names.Offset + offset))..checked((int)(names.Offset + names.Size))];
        int end = rest.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? rest : rest[..end]);
    }

    private sealed record Section(uint Type, ulong Flags, ulong Address, ulong Offset, ulong Size, uint Link);
}
