using System.Reflection;
using System.Runtime.InteropServices;
using NUnit.Framework;
using XnnKleidi.Interop;

namespace XnnKleidi.Tests.Bindings;

/// <summary>Where the bindings tests find the repository, its artifacts and the generated raw layer.</summary>
internal static class BindingsLocations
{
    /// <summary>The RID whose native artifacts apply to this process: linux-x64 or linux-arm64.</summary>
    public static string RuntimeIdentifier => NativeLibraryLoader.RuntimeIdentifier;

    /// <summary>
    /// The first file found at <paramref name="relativePath"/> under the test assembly's folder or the working
    /// directory, or any folder above them. A published arm64 test run lives outside the repository, so the
    /// working directory (the repository, when the build drives it) is searched too.
    /// </summary>
    public static (string? Path, List<string> Tried) FindUpwards(string relativePath)
    {
        var tried = new List<string>();
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                var candidate = Path.Combine(directory.FullName, relativePath);
                if (tried.Contains(candidate))
                {
                    continue;
                }

                tried.Add(candidate);
                if (File.Exists(candidate))
                {
                    return (candidate, tried);
                }
            }
        }

        return (null, tried);
    }

    /// <summary>The repository root (the folder holding bindings/bindings.json), or a failed test that says so.</summary>
    public static string RepositoryRoot()
    {
        var (settings, tried) = FindUpwards(Path.Combine("bindings", "bindings.json"));
        if (settings is null)
        {
            Assert.Fail("The repository (bindings/bindings.json) was not found above the test assembly or the working directory. "
                + "Run the tests from the repository. Looked in:\n  " + string.Join("\n  ", tried));
        }

        return Path.GetDirectoryName(Path.GetDirectoryName(settings))!;
    }

    /// <summary>Every generated P/Invoke method.</summary>
    public static IReadOnlyList<MethodInfo> ImportedFunctions() => typeof(NativeMethods)
        .GetMethods(BindingFlags.Public | BindingFlags.Static)
        .Where(method => method.GetCustomAttribute<DllImportAttribute>() is not null)
        .OrderBy(method => method.Name, StringComparer.Ordinal)
        .ToList();

    /// <summary>Every generated struct (the raw layer's value types that are not enums).</summary>
    public static IReadOnlyList<Type> GeneratedStructs() => typeof(NativeMethods).Assembly.GetTypes()
        .Where(type => type.Namespace == typeof(NativeMethods).Namespace && type.IsValueType && !type.IsEnum)
        .OrderBy(type => type.Name, StringComparer.Ordinal)
        .ToList();
}
