using System.Diagnostics;

namespace XnnKleidi.Bindings.Generator;

/// <summary>Compares the generated functions with the dynamic symbols a built libxnnkleidi.so exports.</summary>
public static class ExportCheck
{
    /// <summary>The library of each RID under artifacts/native/, when it has been built.</summary>
    public static List<string> FindBuiltLibraries(string repositoryRoot, string libraryName)
    {
        var native = Path.Combine(repositoryRoot, "artifacts", "native");
        return Directory.Exists(native)
            ? Directory.GetDirectories(native)
                .Select(directory => Path.Combine(directory, $"lib{libraryName}.so"))
                .Where(File.Exists)
                .Order(StringComparer.Ordinal)
                .ToList()
            : [];
    }

    /// <summary>Defined dynamic symbols, without their version suffix (xnn_initialize@@XNNKLEIDI_1).</summary>
    public static HashSet<string> ExportedSymbols(string library)
    {
        var start = new ProcessStartInfo("nm") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-D", "--defined-only", library })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new GeneratorException("Could not start nm (binutils).");
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new GeneratorException($"nm -D failed on {library}: {error.Result}");
        }

        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Last())
            .Select(symbol => symbol.Split('@')[0])
            .ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Prints, per header, how many generated functions the library exports; returns false if one is missing.</summary>
    public static bool Check(string library, GenerationResult result, string repositoryRoot, TextWriter output)
    {
        var exported = ExportedSymbols(library);
        var display = Path.GetRelativePath(repositoryRoot, library);
        var ok = true;
        foreach (var group in result.Model.Functions.GroupBy(function => function.Header))
        {
            var missing = group.Where(function => !exported.Contains(function.Name)).Select(function => function.Name).ToList();
            output.WriteLine($"{display}: exports {group.Count() - missing.Count} of the {group.Count()} functions generated from {group.Key}.");
            if (missing.Count > 0)
            {
                ok = false;
                output.WriteLine($"  not exported: {string.Join(", ", missing)}");
                output.WriteLine("  Export them from the library, or list them under excludedFunctions in bindings/bindings.json with the reason.");
            }
        }

        return ok;
    }
}
