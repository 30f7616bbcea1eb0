using System.Reflection;
using System.Runtime.InteropServices;
using NUnit.Framework;
using XnnKleidi.Interop;

namespace XnnKleidi.Tests.Bindings;

/// <summary>Every function the raw layer imports is exported by the native library of this process's RID.</summary>
[TestFixture]
public sealed class ExportResolutionTests
{
    private static IEnumerable<TestCaseData> Functions() =>
        BindingsLocations.ImportedFunctions().Select(method => new TestCaseData(method.Name).SetName($"GeneratedFunction_ResolvesInLibrary({method.Name})"));

    private static IntPtr library;

    [OneTimeSetUp]
    public void LoadLibrary()
    {
        NativeLibraryLoader.EnsureLoaded();
        // Loading the same file again returns the loader's handle with one more reference.
        library = NativeLibrary.Load(NativeLibraryLoader.LoadedPath!);
    }

    [OneTimeTearDown]
    public void ReleaseLibrary() => NativeLibrary.Free(library);

    [TestCaseSource(nameof(Functions))]
    public void GeneratedFunction_ResolvesInLibrary(string name) =>
        Assert.That(NativeLibrary.TryGetExport(library, name, out _), Is.True,
            $"{NativeLibraryLoader.LoadedPath} ({BindingsLocations.RuntimeIdentifier}) does not export {name}.");

    [Test]
    public void RawLayer_ImportsFunctionsOfEachHeader()
    {
        // xnnpack.h's 367 exported functions, pthreadpool's three and xnnkleidi.h's own: a generator that silently
        // dropped a header would still pass the per-function test above, so the total is pinned too.
        var names = BindingsLocations.ImportedFunctions().Select(method => method.Name).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(names.Count(name => name.StartsWith("xnn_", StringComparison.Ordinal)), Is.EqualTo(367));
            Assert.That(names.Where(name => name.StartsWith("pthreadpool_", StringComparison.Ordinal)),
                Is.EquivalentTo(new[] { "pthreadpool_create", "pthreadpool_destroy", "pthreadpool_get_threads_count" }));
            Assert.That(names.Count(name => name.StartsWith("xnnkleidi_", StringComparison.Ordinal)), Is.EqualTo(14));
        });
    }
}
