using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace XnnKleidi.Interop;

/// <summary>
/// Reads the headers of a file the loader is about to load, so that a library for another platform, architecture or C
/// library, or a file that is no library at all, is reported in words ("an AArch64 library; this process is x86-64",
/// "a Windows DLL; this process runs on Linux", "built for glibc; this process runs on musl") rather than with the
/// loader's terse text ("wrong ELF class", "invalid ELF header", "%1 is not a valid Win32 application").
/// </summary>
internal static class NativeBinaryCheck
{
    private const int ElfHeaderLength = 64; // the ELF64 file header
    private const int ElfIdentLength = 20; // e_ident (16 bytes), e_type, e_machine
    private const byte ElfClass64 = 2;
    private const byte LittleEndian = 1;
    private const ushort SharedObject = 3; // ET_DYN
    private const ushort PeDllCharacteristic = 0x2000; // IMAGE_FILE_DLL

    /// <summary>The format this process's loader takes: PE on Windows, ELF elsewhere.</summary>
    public static BinaryFormat PlatformFormat => OperatingSystem.IsWindows() ? BinaryFormat.Pe : BinaryFormat.Elf;

    /// <summary>Null when <paramref name="path"/> looks loadable by this process; otherwise why not, and the fix.</summary>
    public static string? Problem(string path, Architecture processArchitecture)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsWindows())
        {
            return null;
        }

        try
        {
            using SafeFileHandle file = File.OpenHandle(path);
            byte[] header = new byte[ElfHeaderLength];
            int read = ReadAt(file, 0, header);
            string? problem = Describe(header.AsSpan(0, read), processArchitecture, PlatformFormat, peHeader: offset => ReadPeHeader(file, offset));
            if (problem is null && PlatformFormat == BinaryFormat.Elf)
            {
                problem = DescribeCLibrary(NeededCLibrary(file, header), NativeLibraryLoader.ProcessCLibrary);
            }

            return problem;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return $"found, but could not be read: {exception.Message}";
        }
    }

    /// <summary>
    /// The check on the first bytes of a file; null when they are those of a library that a process of
    /// <paramref name="processArchitecture"/> whose loader takes <paramref name="expected"/> can load.
    /// <paramref name="peHeader"/> reads the 24 bytes of the PE signature and COFF header at a file offset.
    /// </summary>
    internal static string? Describe(
        ReadOnlySpan<byte> header, Architecture processArchitecture, BinaryFormat expected, Func<long, byte[]>? peHeader = null)
    {
        bool isElf = header.Length >= ElfIdentLength && header.StartsWith("\u007fELF"u8);
        bool isPe = header.Length >= 64 && header.StartsWith("MZ"u8);
        bool isMachO = header.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(header) is 0xFEEDFACF or 0xCAFEBABE or 0xBEBAFECA;
        string wanted = $"use the {NativeLibraryLoader.RuntimeIdentifier} build of {NativeLibraryLoader.FileName}";
        if (isElf && expected == BinaryFormat.Pe)
        {
            return $"found, but it is an ELF library for Linux and this process runs on Windows: {wanted}";
        }

        if (isPe && expected == BinaryFormat.Elf)
        {
            return $"found, but it is a Windows DLL (PE) and this process runs on Linux: {wanted}";
        }

        if (isMachO)
        {
            return $"found, but it is a macOS (Mach-O) library: {wanted}";
        }

        if (isPe)
        {
            uint peOffset = BinaryPrimitives.ReadUInt32LittleEndian(header[0x3C..]);
            return DescribePe(peHeader?.Invoke(peOffset) ?? [], processArchitecture);
        }

        if (!isElf)
        {
            string signature = expected == BinaryFormat.Pe ? "MZ" : "ELF";
            return $"found, but it is not a shared library: it does not start with the {signature} signature ({Preview(header)})";
        }

        // The process is named from the same e_machine table as the file, so the two read alike.
        string process = MachineName(ElfMachineOf(processArchitecture));
        if (header[4] != ElfClass64 || header[5] != LittleEndian)
        {
            string kind = header[4] == ElfClass64 ? "64-bit big-endian" : "32-bit";
            return $"found, but it is a {kind} ELF file; this process is {process} and needs a 64-bit little-endian {process} library";
        }

        ushort type = BinaryPrimitives.ReadUInt16LittleEndian(header[16..]);
        ushort machine = BinaryPrimitives.ReadUInt16LittleEndian(header[18..]);
        if (machine != ElfMachineOf(processArchitecture))
        {
            return $"found, but it is an {MachineName(machine)} library and this process is {process}: {wanted}";
        }

        if (type != SharedObject)
        {
            return $"found, but it is an ELF {TypeName(type)}, not a shared library";
        }

        return null;
    }

    /// <summary>The check on the PE signature and COFF file header (24 bytes at e_lfanew).</summary>
    internal static string? DescribePe(ReadOnlySpan<byte> coff, Architecture processArchitecture)
    {
        if (coff.Length < 24 || !coff.StartsWith("PE\0\0"u8))
        {
            return "found, but it is a DOS executable without a PE header, not a DLL";
        }

        ushort machine = BinaryPrimitives.ReadUInt16LittleEndian(coff[4..]);
        ushort characteristics = BinaryPrimitives.ReadUInt16LittleEndian(coff[22..]);
        string process = MachineName(ElfMachineOf(processArchitecture));
        if (machine != PeMachineOf(processArchitecture))
        {
            return $"found, but it is an {PeMachineName(machine)} DLL and this process is {process}: "
                + $"use the {NativeLibraryLoader.RuntimeIdentifier} build of {NativeLibraryLoader.FileName}";
        }

        if ((characteristics & PeDllCharacteristic) == 0)
        {
            return "found, but it is a Windows executable, not a DLL";
        }

        return null;
    }

    /// <summary>Null when a library for <paramref name="library"/> can load into a process on <paramref name="process"/>.</summary>
    internal static string? DescribeCLibrary(CLibrary library, CLibrary process)
    {
        if (library == CLibrary.Unknown || process == CLibrary.Unknown || library == process)
        {
            return null;
        }

        return library == CLibrary.Glibc
            ? $"found, but it is built for glibc (it needs libc.so.6) and this process runs on musl: use the {NativeLibraryLoader.RuntimeIdentifier} build"
            : $"found, but it is built for musl and this process runs on glibc: use the {NativeLibraryLoader.RuntimeIdentifier} build";
    }

    /// <summary>Which C library an ELF shared library names among its NEEDED entries (glibc's libc.so.6, musl's libc.so or libc.musl-*).</summary>
    internal static CLibrary CLibraryOf(IEnumerable<string> needed)
    {
        foreach (string entry in needed)
        {
            if (entry == "libc.so.6")
            {
                return CLibrary.Glibc;
            }

            if (entry == "libc.so" || entry.StartsWith("libc.musl-", StringComparison.Ordinal))
            {
                return CLibrary.Musl;
            }
        }

        return CLibrary.Unknown;
    }

    /// <summary>Which C library the ELF file at <paramref name="path"/> names among its NEEDED entries.</summary>
    internal static CLibrary CLibraryOfFile(string path)
    {
        using SafeFileHandle file = File.OpenHandle(path);
        byte[] header = new byte[ElfHeaderLength];
        return ReadAt(file, 0, header) == header.Length && header.AsSpan().StartsWith("\u007fELF"u8) ? NeededCLibrary(file, header) : CLibrary.Unknown;
    }

    // The NEEDED entries of a 64-bit little-endian ELF file: the PT_DYNAMIC segment's DT_NEEDED offsets into the string
    // table DT_STRTAB, whose address a PT_LOAD segment maps back to a file offset.
    private static CLibrary NeededCLibrary(SafeFileHandle file, byte[] header)
    {
        ulong programHeaders = BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(32));
        ushort entrySize = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(54));
        ushort count = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(56));
        if (entrySize < 56 || count == 0 || count > 256)
        {
            return CLibrary.Unknown;
        }

        byte[] table = new byte[entrySize * count];
        if (ReadAt(file, (long)programHeaders, table) != table.Length)
        {
            return CLibrary.Unknown;
        }

        var loads = new List<(ulong Address, ulong Offset, ulong Size)>();
        (ulong Offset, ulong Size)? dynamic = null;
        for (int i = 0; i < count; i++)
        {
            var entry = table.AsSpan(i * entrySize, entrySize);
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(entry);
            ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(entry[8..]);
            ulong address = BinaryPrimitives.ReadUInt64LittleEndian(entry[16..]);
            ulong fileSize = BinaryPrimitives.ReadUInt64LittleEndian(entry[32..]);
            if (type == 1)
            {
                loads.Add((address, offset, fileSize));
            }
            else if (type == 2)
            {
                dynamic = (offset, fileSize);
            }
        }

        if (dynamic is not { } segment || segment.Size == 0 || segment.Size > 1 << 20)
        {
            return CLibrary.Unknown;
        }

        byte[] entries = new byte[segment.Size];
        int entriesRead = ReadAt(file, (long)segment.Offset, entries);
        var neededOffsets = new List<ulong>();
        ulong? stringTable = null;
        for (int at = 0; at + 16 <= entriesRead; at += 16)
        {
            ulong tag = BinaryPrimitives.ReadUInt64LittleEndian(entries.AsSpan(at));
            ulong value = BinaryPrimitives.ReadUInt64LittleEndian(entries.AsSpan(at + 8));
            if (tag == 0)
            {
                break;
            }

            if (tag == 1)
            {
                neededOffsets.Add(value);
            }
            else if (tag == 5)
            {
                stringTable = value;
            }
        }

        if (stringTable is not { } tableAddress
            || loads.FirstOrDefault(load => tableAddress >= load.Address && tableAddress < load.Address + load.Size) is not { Size: > 0 } mapped)
        {
            return CLibrary.Unknown;
        }

        long tableOffset = (long)(mapped.Offset + (tableAddress - mapped.Address));
        var names = new List<string>();
        byte[] name = new byte[256];
        foreach (ulong nameOffset in neededOffsets)
        {
            int read = ReadAt(file, tableOffset + (long)nameOffset, name);
            int end = Array.IndexOf(name, (byte)0, 0, read);
            names.Add(Encoding.ASCII.GetString(name, 0, end < 0 ? read : end));
        }

        return CLibraryOf(names);
    }

    private static byte[] ReadPeHeader(SafeFileHandle file, long offset)
    {
        byte[] coff = new byte[24];
        return ReadAt(file, offset, coff) == coff.Length ? coff : [];
    }

    private static int ReadAt(SafeFileHandle file, long offset, byte[] buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int read = RandomAccess.Read(file, buffer.AsSpan(total), offset + total);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }

    // e_machine values from the System V ABI: EM_386, EM_ARM, EM_X86_64, EM_AARCH64 (net8.0 has no RISC-V Architecture).
    private static ushort ElfMachineOf(Architecture architecture) => architecture switch
    {
        Architecture.X86 => 3,
        Architecture.Arm => 40,
        Architecture.X64 => 62,
        Architecture.Arm64 => 183,
        _ => 0,
    };

    // IMAGE_FILE_MACHINE_* values of the PE format.
    private static ushort PeMachineOf(Architecture architecture) => architecture switch
    {
        Architecture.X86 => 0x14C,
        Architecture.Arm => 0x1C4,
        Architecture.X64 => 0x8664,
        Architecture.Arm64 => 0xAA64,
        _ => 0,
    };

    private static string PeMachineName(ushort machine) => machine switch
    {
        0x14C => MachineName(3),
        0x1C4 => MachineName(40),
        0x8664 => MachineName(62),
        0xAA64 => MachineName(183),
        _ => $"unknown machine (0x{machine:X4})",
    };

    private static string MachineName(ushort machine) => machine switch
    {
        3 => "x86 (32-bit)",
        40 => "Arm (32-bit)",
        62 => "x86-64",
        183 => "AArch64 (arm64)",
        243 => "RISC-V",
        _ => $"unknown machine ({machine})",
    };

    private static string TypeName(ushort type) => type switch
    {
        1 => "relocatable object (.o)",
        2 => "executable",
        4 => "core dump",
        _ => $"file of type {type}",
    };

    private static string Preview(ReadOnlySpan<byte> header)
    {
        if (header.IsEmpty)
        {
            return "the file is empty";
        }

        var text = new StringBuilder("it starts with ");
        foreach (byte value in header[..Math.Min(header.Length, 8)])
        {
            text.Append(value >= 0x20 && value < 0x7F ? (char)value : '.');
        }

        return text.ToString();
    }
}
