namespace XnnKleidi;

// Outside XnnKleidi.Interop, whose enums mirror C enums of the headers.

/// <summary>The binary format the loader of an operating system takes.</summary>
internal enum BinaryFormat
{
    Elf,
    Pe,
}

/// <summary>The C library an ELF library or process is built for.</summary>
internal enum CLibrary
{
    Unknown,
    Glibc,
    Musl,
}
