using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace XnnKleidi.Bindings.Generator;

/// <summary>One header the generator parses (bindings/bindings.json, "headers").</summary>
public sealed class HeaderSettings
{
    /// <summary>The name the generated code cites, e.g. xnnpack.h. Also the key of a header override.</summary>
    public string Name { get; set; } = "";

    /// <summary>Path, with ${VARIABLE}s from the sources file, or relative to the repository root.</summary>
    public string Path { get; set; } = "";

    /// <summary>Version text for the generated header comment, with ${VARIABLE}s; empty for our own header.</summary>
    public string Version { get; set; } = "";

    /// <summary>"*" keeps every function the header declares; otherwise the names to keep.</summary>
    public List<string> Functions { get; set; } = [];

    /// <summary>Emit every enum and struct the header defines, not only those a kept function reaches.</summary>
    public bool Types { get; set; }

    /// <summary>Emit the header's object-like integer macros as constants.</summary>
    public bool Macros { get; set; }

    public bool KeepsFunction(string name) => Functions.Contains("*") || Functions.Contains(name);
}

/// <summary>Macros taken by name from a header that is not part of the public API.</summary>
public sealed class InternalMacroSettings
{
    public string Name { get; set; } = "";

    public string Path { get; set; } = "";

    /// <summary>Why these are special; it becomes part of each constant's comment.</summary>
    public string Note { get; set; } = "";

    public List<string> Names { get; set; } = [];
}

/// <summary>bindings/bindings.json.</summary>
public sealed class GeneratorSettings
{
    public string LibraryName { get; set; } = "";

    public string Namespace { get; set; } = "";

    public string ClassName { get; set; } = "";

    public List<HeaderSettings> Headers { get; set; } = [];

    public InternalMacroSettings? InternalMacros { get; set; }

    /// <summary>Macro name or NAME_* pattern -> C# type that replaces the C type of the macro.</summary>
    public Dictionary<string, string> ConstantTypes { get; set; } = [];

    public List<string> FlagsEnums { get; set; } = [];

    public Dictionary<string, string> Renames { get; set; } = [];

    /// <summary>Function name -> reason it is not generated.</summary>
    public Dictionary<string, string> ExcludedFunctions { get; set; } = [];

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    public static GeneratorSettings Load(string path)
    {
        var settings = JsonSerializer.Deserialize<GeneratorSettings>(File.ReadAllText(path), JsonOptions)
            ?? throw new GeneratorException($"{path} is empty.");
        if (settings.LibraryName.Length == 0 || settings.Namespace.Length == 0 || settings.ClassName.Length == 0)
        {
            throw new GeneratorException($"{path} must set libraryName, namespace and className.");
        }

        return settings;
    }

    public string Rename(string cName) => Renames.TryGetValue(cName, out var renamed) ? renamed : cName;

    /// <summary>The C# type that settings impose on a macro, or null to keep the type clang gives it.</summary>
    public string? ConstantTypeFor(string macroName)
    {
        if (ConstantTypes.TryGetValue(macroName, out var exact))
        {
            return exact;
        }

        // The longest matching prefix pattern wins, so a narrower pattern can refine a wider one.
        return ConstantTypes
            .Where(pair => pair.Key.EndsWith('*') && macroName.StartsWith(pair.Key[..^1], StringComparison.Ordinal))
            .OrderByDescending(pair => pair.Key.Length)
            .Select(pair => pair.Value)
            .FirstOrDefault();
    }
}

/// <summary>The XNNKLEIDI_*_DIR / _VERSION variables that cmake/fetch-sources.sh writes as CMake set() lines.</summary>
public sealed partial class SourceVariables
{
    private readonly Dictionary<string, string> values;

    private SourceVariables(Dictionary<string, string> values) => this.values = values;

    public static SourceVariables Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new GeneratorException(
                $"Sources file {path} not found. Write it with `cmake/fetch-sources.sh {path}` (it unpacks the pinned sources).");
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match match in SetLine().Matches(File.ReadAllText(path)))
        {
            values[match.Groups["name"].Value] = match.Groups["value"].Value;
        }

        return new SourceVariables(values);
    }

    /// <summary>Replaces ${NAME} with the variable's value; unknown names are an error that names the file to regenerate.</summary>
    public string Expand(string text) => Variable().Replace(text, match =>
        values.TryGetValue(match.Groups[1].Value, out var value)
            ? value
            : throw new GeneratorException(
                $"The sources file does not set {match.Groups[1].Value}; regenerate it with cmake/fetch-sources.sh."));

    [GeneratedRegex(@"set\((?<name>[A-Z0-9_]+)\s+""(?<value>[^""]*)""")]
    private static partial Regex SetLine();

    [GeneratedRegex(@"\$\{([A-Z0-9_]+)\}")]
    private static partial Regex Variable();
}

/// <summary>A failure the user can act on; Program prints its message without a stack trace.</summary>
public sealed class GeneratorException(string message) : Exception(message);
