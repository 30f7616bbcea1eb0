using NUnit.Framework;
using XnnKleidi.Interop;

namespace XnnKleidi.Tests.Bindings;

/// <summary>Where the loader looks, in which order, and what it says when nothing loads.</summary>
[TestFixture]
public sealed class NativeLibraryLoaderTests
{
    [Test]
    public void CandidatePaths_WithoutOverride_SearchNuGetLayoutThenAppFolderThenArtifactsUpwards()
    {
        var paths = NativeLibraryLoader.CandidatePaths("/repo/tests/bin", "linux-arm64", "libxnnkleidi.so", overridePath: null);
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
    public void CandidatePaths_WithOverride_TryOnlyThatFile()
    {
        // Falling back to another copy would hide a mistyped override.
        var paths = NativeLibraryLoader.CandidatePaths("/repo/tests/bin", "linux-x64", "libxnnkleidi.so", "/opt/custom/libxnnkleidi.so");
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
    public void EnsureLoaded_InTestEnvironment_LoadsLibraryOfThisRid()
    {
        NativeLibraryLoader.EnsureLoaded();
        Assert.That(NativeLibraryLoader.LoadedPath, Does.EndWith("libxnnkleidi.so"));
    }
}
