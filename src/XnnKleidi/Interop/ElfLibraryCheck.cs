using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace XnnKleidi.Interop;

/// <summary>
/// Reads the ELF header of a file the loader is about to dlopen, so that a library of the wrong architecture, or a file
/// that is no shared library at all, is reported in words ("an AArch64 library; this process is x86-64") rather than with
/// dlopen's terse text ("wrong ELF class", "invalid ELF header").
/// </summary>
internal static class ElfLibraryCheck
{
    private const int HeaderLength = 20; // e_ident (16 bytes), e_type, e_machine
    private const byte ElfClass64 = 2;
    private const byte LittleEndian = 1;
    private const ushort SharedObject = 3; // ET_DYN

    /// <summary>Null when <paramref name="path"/> looks loadable by this process (or is not ELF-checked on this OS); otherwise why not, and the fix.</summary>
    public static string? Problem(string path, Architecture processArchitecture)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        byte[] header = new byte[HeaderLength];
        int read;
        try
        {
            using FileStream file = File.OpenRead(path);
            read = file.ReadAtLeast(header, HeaderLength, throwOnEndOfStream: false);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return $"found, but could not be read: {exception.Message}";
        }

        return Describe(header.AsSpan(0, read), processArchitecture);
    }

    /// <summary>The check on the first bytes of a file; null when they are those of a shared library for <paramref name="processArchitecture"/>.</summary>
    internal static string? Describe(ReadOnlySpan<byte> header, Architecture processArchitecture)
    {
        if (header.Length < HeaderLength || !header.StartsWith("\u007fELF"u8))
        {
            return $"found, but it is not a shared library: it does not start with the ELF signature ({Preview(header)})";
        }

        // The process is named from the same e_machine table as the file, so the two read alike.
        string process = MachineName(MachineOf(processArchitecture));
        if (header[4] != ElfClass64 || header[5] != LittleEndian)
        {
            string kind = header[4] == ElfClass64 ? "64-bit big-endian" : "32-bit";
            return $"found, but it is a {kind} ELF file; this process is {process} and needs a 64-bit little-endian {process} library";
        }

        ushort type = BinaryPrimitives.ReadUInt16LittleEndian(header[16..]);
        ushort machine = BinaryPrimitives.ReadUInt16LittleEndian(header[18..]);
        if (machine != MachineOf(processArchitecture))
        {
            return $"found, but it is an {MachineName(machine)} library and this process is {process}: "
                + $"use the {NativeLibraryLoader.RuntimeIdentifier} build of {NativeLibraryLoader.FileName}";
        }

        if (type != SharedObject)
        {
            return $"found, but it is an ELF {TypeName(type)}, not a shared library";
        }

        return null;
    }

    // e_machine values from the System V ABI: EM_386, EM_ARM, EM_X86_64, EM_AARCH64 (net8.0 has no RISC-V Architecture).
    private static ushort MachineOf(Architecture architecture) => architecture switch
    {
        Architecture.X86 => 3,
        Architecture.Arm => 40,
        Architecture.X64 => 62,
        Architecture.Arm64 => 183,
        _ => 0,
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
