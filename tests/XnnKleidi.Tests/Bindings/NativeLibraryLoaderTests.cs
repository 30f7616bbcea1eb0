using System.Buffers.Binary;
using System.Runtime.InteropServices;
using NUnit.Framework;
using XnnKleidi.Interop;
using XnnKleidi.Tests.Support;

namespace XnnKleidi.Tests.Bindings;

/// <summary>Where the loader looks, in which order, and what it says when nothing loads.</summary>
[TestFixture]
public sealed class NativeLibraryLoaderTests
{
    [Test]
    [Category(TestCategories.UnixPaths)]
    public void CandidatePaths_ByDefault_SearchOnlyTheNuGetLayoutAndTheAppFolder()
    {
        var paths = NativeLibraryLoader.CandidatePaths("/repo/tests/bin", "linux-arm64", "libxnnkleidi.so", overridePath: null, searchArtifacts: false);
        Assert.That(paths, Is.EqualTo(new[]
        {
            "/repo/tests/bin/runtimes/linux-arm64/native/libxnnkleidi.so",
            "/repo/tests/bin/libxnnkleidi.so",
        }));
    }

    [Test]
    [Category(TestCategories.UnixPaths)]
    public void CandidatePaths_WithDevelopmentSearch_AddArtifactsUpwards()
    {
        var paths = NativeLibraryLoader.CandidatePaths("/repo/tests/bin", "linux-arm64", "libxnnkleidi.so", overridePath: null, searchArtifacts: true);
        Assert.That(paths, Is.EqualTo(new[]
        {
            "/repo/tests/bin/runtimes/linux-arm64/native/libxnnkleidi.so",
            "/repo/tests/bin/libxnnkleidi.so",
            "/repo/tests/bin/artifacts/native/linux-arm64/libxnnkleidi.so",
            "/repo/tests/artifacts/native/linux-arm64/libxnnkleidi.so",
            "/repo/artifacts/native/linux-arm64/libxnnkleidi.so",
            "/artifacts/native/linux-arm64/libxnnkleidi.so",
        }));
    }

    [Test]
    public void CandidatePaths_ByDefault_NeverReachALibraryPlantedInAParentFolder()
    {
        // A deployed app in /srv/app/bin with a library planted at /srv/app/artifacts/native/<rid>/ by someone else.
        string root = Path.Combine(Path.GetTempPath(), $"xnnkleidi-planted-{Environment.ProcessId}");
        string app = Path.Combine(root, "app", "bin");
        string planted = Path.Combine(root, "app", "artifacts", "native", NativeLibraryLoader.RuntimeIdentifier, "libxnnkleidi.so");
        Directory.CreateDirectory(app);
        Directory.CreateDirectory(Path.GetDirectoryName(planted)!);
        File.WriteAllText(planted, "planted");
        try
        {
            bool searchArtifacts = NativeLibraryLoader.IsDevelopmentSearchEnabled(switchValue: null, variableValue: null);
            var paths = NativeLibraryLoader.CandidatePaths(app, NativeLibraryLoader.RuntimeIdentifier, "libxnnkleidi.so", overridePath: null, searchArtifacts);

            Assert.That(searchArtifacts, Is.False, "development search must be off unless asked for");
            Assert.That(paths, Has.None.EqualTo(planted));
            Assert.That(paths.All(path => path.StartsWith(app + Path.DirectorySeparatorChar, StringComparison.Ordinal)), Is.True, string.Join(", ", paths));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [TestCase(null, null, false)]
    [TestCase(null, "1", true)]
    [TestCase(null, "TRUE", true)]
    [TestCase(null, "0", false)]
    [TestCase(false, "1", false)]
    [TestCase(true, null, true)]
    public void DevelopmentSearch_SwitchWinsOverTheVariable(bool? switchValue, string? variable, bool expected)
    {
        Assert.That(NativeLibraryLoader.IsDevelopmentSearchEnabled(switchValue, variable), Is.EqualTo(expected));
    }

    [Test]
    public void DevelopmentSearch_IsOnInThisTestRun()
    {
        // The test project sets the switch in its runtimeconfig, as the CLI does; a shipped app does not.
        Assert.That(AppContext.TryGetSwitch(NativeLibraryLoader.DevelopmentSearchSwitch, out bool enabled) && enabled, Is.True);
    }

    [Test]
    [Category(TestCategories.UnixPaths)]
    public void CandidatePaths_WithOverride_TryOnlyThatFile()
    {
        // Falling back to another copy would hide a mistyped override.
        var paths = NativeLibraryLoader.CandidatePaths("/repo/tests/bin", "linux-x64", "libxnnkleidi.so", "/opt/custom/libxnnkleidi.so", searchArtifacts: true);
        Assert.That(paths, Is.EqualTo(new[] { "/opt/custom/libxnnkleidi.so" }));
    }

    [Test]
    public void LoadFailure_NothingFound_NamesRidEveryPathAndFix()
    {
        var tried = new[]
        {
            new NativeLibraryLoader.LoadAttempt("/app/runtimes/linux-arm64/native/libxnnkleidi.so", "not found"),
            new NativeLibraryLoader.LoadAttempt("/app/libxnnkleidi.so", "found, but did not load: version `GLIBC_2.34' not found"),
        };
        var exception = NativeLibraryLoader.CreateLoadFailure("linux-arm64", tried);
        Assert.That(exception, Is.InstanceOf<DllNotFoundException>());
        Assert.That(exception.Message, Does.Contain("linux-arm64")
            .And.Contain("/app/runtimes/linux-arm64/native/libxnnkleidi.so: not found")
            .And.Contain("/app/libxnnkleidi.so: found, but did not load: version `GLIBC_2.34' not found")
            .And.Contain("./build.sh --target=Native")
            .And.Contain(NativeLibraryLoader.OverrideVariable));
    }

    [Test]
    [Category(TestCategories.LinuxLibraries)]
    public void TryLoad_LibraryOfTheOtherArchitecture_SaysWhichArchitectureEachIs()
    {
        bool isArm = RuntimeInformation.ProcessArchitecture == Architecture.Arm64;
        string otherRid = isArm ? "linux-x64" : "linux-arm64";
        var (other, tried) = BindingsLocations.FindUpwards(Path.Combine("artifacts", "native", otherRid, "libxnnkleidi.so"));
        Assert.That(other, Is.Not.Null, $"the {otherRid} library was not found; build both RIDs. Looked in:\n  " + string.Join("\n  ", tried));

        var (handle, attempt) = NativeLibraryLoader.TryLoad(other!);

        Assert.That(handle, Is.EqualTo(IntPtr.Zero));
        Assert.That(attempt.Outcome, Is.EqualTo(isArm
            ? "found, but it is an x86-64 library and this process is AArch64 (arm64): use the linux-arm64 build of libxnnkleidi.so"
            : "found, but it is an AArch64 (arm64) library and this process is x86-64: use the linux-x64 build of libxnnkleidi.so"));
    }

    [Test]
    public void TryLoad_FileThatIsNoLibrary_SaysItIsNotAnElfSharedLibrary()
    {
        string path = Path.Combine(Path.GetTempPath(), $"xnnkleidi-not-a-library-{Environment.ProcessId}.so");
        File.WriteAllText(path, "#!/bin/sh\necho not a library\n");
        try
        {
            var (handle, attempt) = NativeLibraryLoader.TryLoad(path);

            Assert.That(handle, Is.EqualTo(IntPtr.Zero));
            string signature = NativeBinaryCheck.PlatformFormat == BinaryFormat.Pe ? "MZ" : "ELF";
            Assert.That(attempt.Outcome, Is.EqualTo($"found, but it is not a shared library: it does not start with the {signature} signature (it starts with #!/bin/s)"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestCase(1, "relocatable object (.o)")]
    [TestCase(2, "executable")]
    public void ElfCheck_ElfFileThatIsNoSharedObject_NamesItsType(int type, string name)
    {
        byte[] header = new byte[20];
        "\u007fELF"u8.CopyTo(header);
        header[4] = 2; // 64-bit
        header[5] = 1; // little-endian
        header[16] = (byte)type;
        header[18] = 62; // x86-64
        Assert.That(NativeBinaryCheck.Describe(header, Architecture.X64, BinaryFormat.Elf), Is.EqualTo($"found, but it is an ELF {name}, not a shared library"));
        header[16] = 3;
        Assert.That(NativeBinaryCheck.Describe(header, Architecture.X64, BinaryFormat.Elf), Is.Null);
    }

    [Test]
    public void ElfCheck_EmptyOr32BitFile_SaysSo()
    {
        Assert.That(NativeBinaryCheck.Describe([], Architecture.X64, BinaryFormat.Elf), Does.EndWith("(the file is empty)"));
        byte[] header = new byte[20];
        "\u007fELF"u8.CopyTo(header);
        header[4] = 1;
        header[5] = 1;
        Assert.That(NativeBinaryCheck.Describe(header, Architecture.Arm64, BinaryFormat.Elf), Does.StartWith("found, but it is a 32-bit ELF file; this process is AArch64 (arm64)"));
    }

    [TestCase("MZ", false, "found, but it is a Windows DLL (PE) and this process runs on Linux: use the ")]
    [TestCase("\u007fELF", true, "found, but it is an ELF library for Linux and this process runs on Windows: use the ")]
    public void BinaryCheck_LibraryOfTheOtherOperatingSystem_SaysWhichItIs(string signature, bool windowsProcess, string expected)
    {
        byte[] header = new byte[64];
        System.Text.Encoding.Latin1.GetBytes(signature).CopyTo(header, 0);
        Assert.That(NativeBinaryCheck.Describe(header, Architecture.X64, windowsProcess ? BinaryFormat.Pe : BinaryFormat.Elf),
            Does.StartWith(expected));
    }

    [Test]
    public void BinaryCheck_MachOFile_SaysItIsAMacOSLibrary()
    {
        byte[] header = new byte[64];
        BinaryPrimitives.WriteUInt32LittleEndian(header, 0xFEEDFACF);
        Assert.That(NativeBinaryCheck.Describe(header, Architecture.Arm64, BinaryFormat.Elf),
            Does.StartWith("found, but it is a macOS (Mach-O) library: use the "));
    }

    [TestCase((ushort)0xAA64, Architecture.X64, "found, but it is an AArch64 (arm64) DLL and this process is x86-64: use the ")]
    [TestCase((ushort)0x8664, Architecture.Arm64, "found, but it is an x86-64 DLL and this process is AArch64 (arm64): use the ")]
    [TestCase((ushort)0x014C, Architecture.X64, "found, but it is an x86 (32-bit) DLL and this process is x86-64: use the ")]
    public void BinaryCheck_DllOfAnotherArchitecture_NamesBothFromThePeHeader(ushort machine, Architecture process, string expected)
    {
        Assert.That(NativeBinaryCheck.DescribePe(CoffHeader(machine, dll: true), process), Does.StartWith(expected));
    }

    [Test]
    public void BinaryCheck_PeFile_IsReadAtItsHeaderOffset()
    {
        byte[] dos = new byte[64];
        "MZ"u8.CopyTo(dos);
        BinaryPrimitives.WriteUInt32LittleEndian(dos.AsSpan(0x3C), 0x80);
        long? askedOffset = null;
        string? problem = NativeBinaryCheck.Describe(dos, Architecture.X64, BinaryFormat.Pe, offset =>
        {
            askedOffset = offset;
            return CoffHeader(0x8664, dll: true);
        });

        Assert.That(problem, Is.Null);
        Assert.That(askedOffset, Is.EqualTo(0x80));
    }

    [Test]
    public void BinaryCheck_PeExecutableOrDosFile_IsNoDll()
    {
        Assert.That(NativeBinaryCheck.DescribePe(CoffHeader(0x8664, dll: false), Architecture.X64),
            Is.EqualTo("found, but it is a Windows executable, not a DLL"));
        Assert.That(NativeBinaryCheck.DescribePe([], Architecture.X64),
            Is.EqualTo("found, but it is a DOS executable without a PE header, not a DLL"));
    }

    [Test]
    public void BinaryCheck_GlibcLibraryInMuslProcess_SaysSo()
    {
        Assert.That(NativeBinaryCheck.DescribeCLibrary(CLibrary.Glibc, CLibrary.Musl),
            Does.StartWith("found, but it is built for glibc (it needs libc.so.6) and this process runs on musl: use the "));
        Assert.That(NativeBinaryCheck.DescribeCLibrary(CLibrary.Musl, CLibrary.Glibc),
            Does.StartWith("found, but it is built for musl and this process runs on glibc: use the "));
        Assert.That(NativeBinaryCheck.DescribeCLibrary(CLibrary.Glibc, CLibrary.Glibc), Is.Null);
    }

    [TestCase(new[] { "libm.so.6", "libc.so.6", "ld-linux-x86-64.so.2" }, "Glibc")]
    [TestCase(new[] { "libc.musl-x86_64.so.1" }, "Musl")]
    [TestCase(new[] { "libc.so" }, "Musl")]
    [TestCase(new[] { "libm.so.6" }, "Unknown")]
    public void BinaryCheck_NeededEntries_NameTheCLibrary(string[] needed, string expected)
    {
        Assert.That(NativeBinaryCheck.CLibraryOf(needed).ToString(), Is.EqualTo(expected));
    }

    [Test]
    public void BinaryCheck_BuiltLinuxLibrary_NeedsTheCLibraryOfThisProcess()
    {
        NativeLibraryLoader.EnsureLoaded();
        Assert.That(NativeBinaryCheck.CLibraryOfFile(NativeLibraryLoader.LoadedPath!), Is.EqualTo(NativeLibraryLoader.ProcessCLibrary));
    }

    [TestCase("linux", false, Architecture.X64, "linux-x64")]
    [TestCase("linux", true, Architecture.X64, "linux-musl-x64")]
    [TestCase("linux", true, Architecture.Arm64, "linux-musl-arm64")]
    [TestCase("win", false, Architecture.X64, "win-x64")]
    public void RuntimeIdentifier_TellsMuslFromGlibc(string operatingSystem, bool musl, Architecture architecture, string expected)
    {
        Assert.That(NativeLibraryLoader.RuntimeIdentifierFor(operatingSystem, musl, architecture), Is.EqualTo(expected));
    }

    // .NET's own identifier is the portable one on the official builds the suites run on (linux-x64, linux-arm64,
    // win-x64; linux-musl-* on Alpine), so the library's public answer, which the CLI shows and searches by, must equal it.
    [Test]
    public void PublicRuntimeIdentifier_IsThisProcessPortableRid()
    {
        Assert.That(XnnKleidiLibrary.RuntimeIdentifier, Is.EqualTo(RuntimeInformation.RuntimeIdentifier));
    }

    // The PE signature and COFF file header: machine at 4, characteristics at 22.
    private static byte[] CoffHeader(ushort machine, bool dll)
    {
        byte[] coff = new byte[24];
        "PE\0\0"u8.CopyTo(coff);
        BinaryPrimitives.WriteUInt16LittleEndian(coff.AsSpan(4), machine);
        BinaryPrimitives.WriteUInt16LittleEndian(coff.AsSpan(22), (ushort)(dll ? 0x2022 : 0x0022));
        return coff;
    }

    [Test]
    public void EnsureLoaded_InTestEnvironment_LoadsLibraryOfThisRid()
    {
        NativeLibraryLoader.EnsureLoaded();
        Assert.That(NativeLibraryLoader.LoadedPath, Does.EndWith(NativeLibraryLoader.FileName));
    }
}
