using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace XnnKleidi.Bindings.Generator;

/// <summary>Runs Debian's clang-14 on a generated C file: AST dumps and preprocessor macro dumps.</summary>
public sealed partial class ClangDriver
{
    private readonly string clang;
    private readonly IReadOnlyList<string> includeDirectories;

    public ClangDriver(string clang, IReadOnlyList<string> includeDirectories)
    {
        this.clang = clang;
        this.includeDirectories = includeDirectories;
    }

    /// <summary>
    /// The target is fixed, so that the output does not depend on the machine that generates it. The 64-bit RIDs
    /// the project ships agree on every C type size the mapper accepts: Linux is LP64 and Windows x64 is LLP64, and
    /// they differ only in long, which <see cref="TypeMapper"/> refuses. The struct layout test checks the layout
    /// that each RID's own C compiler produces.
    /// </summary>
    private IEnumerable<string> CommonArguments()
    {
        yield return "-x";
        yield return "c";
        yield return "-std=gnu11";
        yield return "--target=x86_64-linux-gnu";
        yield return "-fno-color-diagnostics";
        foreach (var directory in includeDirectories)
        {
            yield return "-I" + directory;
        }
    }

    public ClangResult DumpAst(string sourceFile) =>
        Run([.. CommonArguments(), "-fsyntax-only", "-Xclang", "-ast-dump=json", sourceFile]);

    /// <summary>Every macro defined at the end of preprocessing the file (<c>-dM -E</c>).</summary>
    public IReadOnlyDictionary<string, MacroDefinition> DumpMacros(string sourceFile)
    {
        var result = Run([.. CommonArguments(), "-dM", "-E", sourceFile]);
        result.ThrowIfFailed("preprocessing " + Path.GetFileName(sourceFile));
        var macros = new Dictionary<string, MacroDefinition>(StringComparer.Ordinal);
        foreach (var line in result.Output.Split('\n'))
        {
            var match = DefineLine().Match(line);
            if (match.Success)
            {
                var name = match.Groups["name"].Value;
                macros[name] = new MacroDefinition(name, match.Groups["parameters"].Success, match.Groups["body"].Value.Trim());
            }
        }

        return macros;
    }

    private ClangResult Run(IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo(clang)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new GeneratorException($"Could not start {clang}.");
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            throw new GeneratorException(
                $"Could not run {clang} ({exception.Message}). The generator needs Debian's clang-14: apt-get install clang-14.");
        }

        using (process)
        {
            // Read both streams at once: an AST dump fills the stdout pipe long before clang exits.
            var error = process.StandardError.ReadToEndAsync();
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return new ClangResult(process.ExitCode, output, error.Result, $"{clang} {string.Join(' ', arguments)}");
        }
    }

    [GeneratedRegex(@"^#define (?<name>[A-Za-z_][A-Za-z0-9_]*)(?<parameters>\([^)]*\))?(?: (?<body>.*))?$")]
    private static partial Regex DefineLine();
}

public sealed record MacroDefinition(string Name, bool IsFunctionLike, string Body);

public sealed record ClangResult(int ExitCode, string Output, string Error, string CommandLine)
{
    public void ThrowIfFailed(string what)
    {
        if (ExitCode != 0)
        {
            throw new GeneratorException($"clang failed {what} (exit code {ExitCode}):\n{CommandLine}\n{Error}");
        }
    }
}
