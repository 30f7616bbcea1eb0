using NUnit.Framework;
using XnnKleidi.Interop;

namespace XnnKleidi.Tests.Bindings;

/// <summary>The loaded library is the one the bindings were generated against, and a mismatch would be refused.</summary>
[TestFixture]
public sealed class AbiVersionTests
{
    [Test]
    public void LoadedLibrary_ReportsGeneratedAbiVersion()
    {
        NativeLibraryLoader.EnsureLoaded();
        Assert.That(NativeMethods.xnnkleidi_abi_version(), Is.EqualTo(NativeMethods.XNNKLEIDI_ABI_VERSION));
    }

    [Test]
    public void GeneratedAbiVersion_MatchesXnnkleidiHeader()
    {
        // An independent reading of the header, so that the generator's macro evaluation is checked too.
        var header = File.ReadAllText(Path.Combine(BindingsLocations.RepositoryRoot(), "native", "include", "xnnkleidi.h"));
        var line = header.Split('\n').Single(text => text.StartsWith("#define XNNKLEIDI_ABI_VERSION ", StringComparison.Ordinal));
        Assert.That(uint.Parse(line.Split(' ')[2], System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(NativeMethods.XNNKLEIDI_ABI_VERSION));
    }

    [Test]
    public void LoadFailure_WithOlderAbi_NamesBothVersions()
    {
        var tried = new[] { new NativeLibraryLoader.LoadAttempt("/opt/old/libxnnkleidi.so", "loaded, but its ABI version is 1", AbiVersion: 1) };
        var exception = NativeLibraryLoader.CreateLoadFailure("linux-x64", tried);
        Assert.That(exception, Is.InstanceOf<InvalidOperationException>());
        Assert.That(exception.Message, Does.Contain("ABI version 1").And.Contain($"ABI version {NativeMethods.XNNKLEIDI_ABI_VERSION}"));
    }
}
