using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace XnnKleidi.Bindings.Generator;

/// <summary>
/// Turns object-like macros into typed constants. Macros are not in the AST, so clang evaluates them: <c>-dM -E</c>
/// lists the definitions, and a second file declares, for each macro, an enum whose underlying type is the macro's
/// own type (<c>enum E : __typeof__(NAME) { V = NAME }</c>). Its AST dump then holds the type and the value that
/// clang computed, so nothing is evaluated by hand. The same file asks for the integer type of each C enum.
/// </summary>
public sealed partial class MacroEvaluator
{
    private const string Prefix = "__xnnkleidi_";

    private readonly ClangDriver clang;
    private readonly string workDirectory;

    public MacroEvaluator(ClangDriver clang, string workDirectory)
    {
        this.clang = clang;
        this.workDirectory = workDirectory;
    }

    /// <summary>A macro to evaluate: where it comes from and its definition.</summary>
    public sealed record Candidate(string Name, string Header, MacroDefinition Definition, IReadOnlyList<string> Comment, string? InternalNote);

    /// <summary>Names that a header #defines, in the order of the text, with the comment lines just above each.</summary>
    public static List<(string Name, List<string> Comment)> DefinedNames(string headerPath)
    {
        var lines = File.ReadAllLines(headerPath);
        var result = new List<(string, List<string>)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < lines.Length; i++)
        {
            var match = DefineDirective().Match(lines[i]);
            if (match.Success && seen.Add(match.Groups[1].Value))
            {
                result.Add((match.Groups[1].Value, CommentAbove(lines, i)));
            }
        }

        return result;
    }

    private static List<string> CommentAbove(string[] lines, int index)
    {
        var comment = new List<string>();
        var i = index - 1;

        // A macro defined per platform (#if ... #define X a #else #define X b) carries its comment above the #if.
        var name = DefineDirective().Match(lines[index]).Groups[1].Value;
        while (i >= 0 && (ConditionalDirective().IsMatch(lines[i]) || DefineDirective().Match(lines[i]).Groups[1].Value == name))
        {
            i--;
        }

        if (i >= 0 && lines[i].TrimEnd().EndsWith("*/", StringComparison.Ordinal))
        {
            while (i >= 0)
            {
                comment.Insert(0, lines[i]);
                if (lines[i].Contains("/*", StringComparison.Ordinal))
                {
                    break;
                }

                i--;
            }
        }
        else
        {
            while (i >= 0 && lines[i].TrimStart().StartsWith("//", StringComparison.Ordinal))
            {
                comment.Insert(0, lines[i]);
                i--;
            }
        }

        return comment
            .Select(line => CommentMarkers().Replace(line, "").Trim())
            .Where(line => line.Length > 0)
            .ToList();
    }

    public (List<CConstant> Constants, List<SkippedMacro> Skipped, Dictionary<string, string> EnumTypes) Evaluate(
        IReadOnlyList<string> headerPaths,
        IReadOnlyList<Candidate> candidates,
        IReadOnlyList<string> enumNames)
    {
        var skipped = new List<SkippedMacro>();
        var pending = new List<Candidate>();
        foreach (var candidate in candidates)
        {
            if (candidate.Definition.IsFunctionLike)
            {
                skipped.Add(new SkippedMacro(candidate.Name, candidate.Header, "function-like macro"));
            }
            else if (candidate.Definition.Body.Length == 0)
            {
                skipped.Add(new SkippedMacro(candidate.Name, candidate.Header, "empty (include guard or switch)"));
            }
            else
            {
                pending.Add(candidate);
            }
        }

        // A macro that is not an integer constant expression (an attribute, a string) fails to compile; drop the
        // lines clang complains about and try again, so each one is reported with its own reason.
        for (var attempt = 0; ; attempt++)
        {
            var (source, lineOwners) = WriteProbe(headerPaths, pending, enumNames);
            var file = Path.Combine(workDirectory, $"macros-{attempt}.c");
            File.WriteAllText(file, source);
            var result = clang.DumpAst(file);
            if (result.ExitCode == 0)
            {
                var (constants, enumTypes) = ReadValues(result.Output, pending);
                return (constants, skipped, enumTypes);
            }

            var failed = ErrorLine().Matches(result.Error)
                .Where(match => Path.GetFileName(match.Groups["file"].Value) == Path.GetFileName(file))
                .Select(match => int.Parse(match.Groups["line"].Value, CultureInfo.InvariantCulture))
                .Where(lineOwners.ContainsKey)
                .Select(line => lineOwners[line])
                .ToHashSet();
            if (failed.Count == 0)
            {
                result.ThrowIfFailed("evaluating macros");
            }

            foreach (var candidate in pending.Where(candidate => failed.Contains(candidate.Name)).ToList())
            {
                var reason = candidate.Definition.Body.Contains("__attribute__", StringComparison.Ordinal)
                    ? "attribute, not a value"
                    : "not an integer constant expression";
                skipped.Add(new SkippedMacro(candidate.Name, candidate.Header, $"{reason}: {candidate.Definition.Body}"));
                pending.Remove(candidate);
            }
        }
    }

    private static (string Source, Dictionary<int, string> LineOwners) WriteProbe(
        IReadOnlyList<string> headerPaths, List<Candidate> candidates, IReadOnlyList<string> enumNames)
    {
        var lines = new List<string>();
        var owners = new Dictionary<int, string>();
        lines.AddRange(headerPaths.Select(path => $"#include \"{path}\""));
        foreach (var candidate in candidates.Where(candidate => candidate.InternalNote is not null))
        {
            // Internal macros come from a header that is not included here; define them as -dM printed them.
            lines.Add($"#ifndef {candidate.Name}");
            lines.Add($"#define {candidate.Name} {candidate.Definition.Body}");
            lines.Add("#endif");
        }

        foreach (var candidate in candidates)
        {
            lines.Add($"enum {Prefix}type_{candidate.Name} : __typeof__({candidate.Name}) {{ {Prefix}value_{candidate.Name} = {candidate.Name} }};");
            owners[lines.Count] = candidate.Name;
        }

        foreach (var name in enumNames)
        {
            // Unary plus promotes the enum to its underlying integer type.
            lines.Add($"static const __auto_type {Prefix}enum_{name} = +(enum {name})0;");
        }

        return (string.Join('\n', lines) + "\n", owners);
    }

    private static (List<CConstant>, Dictionary<string, string>) ReadValues(string astJson, List<Candidate> candidates)
    {
        using var document = JsonDocument.Parse(astJson, new JsonDocumentOptions { MaxDepth = 4096 });
        var values = new Dictionary<string, (string Type, BigInteger Value)>(StringComparer.Ordinal);
        var enumTypes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var declaration in document.RootElement.GetProperty("inner").EnumerateArray())
        {
            var name = declaration.TryGetProperty("name", out var n) ? n.GetString() ?? "" : "";
            if (name.StartsWith(Prefix + "type_", StringComparison.Ordinal))
            {
                var constant = declaration.GetProperty("inner")[0];
                var expression = constant.GetProperty("inner")[0];
                if (expression.GetProperty("kind").GetString() != "ConstantExpr")
                {
                    throw new GeneratorException($"clang did not evaluate {name}: {expression.GetProperty("kind").GetString()}.");
                }

                values[name[(Prefix.Length + "type_".Length)..]] = (
                    expression.GetProperty("type").GetProperty("qualType").GetString()!,
                    BigInteger.Parse(expression.GetProperty("value").GetString()!, CultureInfo.InvariantCulture));
            }
            else if (name.StartsWith(Prefix + "enum_", StringComparison.Ordinal))
            {
                var type = declaration.GetProperty("type").GetProperty("qualType").GetString()!;
                enumTypes[name[(Prefix.Length + "enum_".Length)..]] = type.StartsWith("const ", StringComparison.Ordinal) ? type[6..] : type;
            }
        }

        var constants = candidates
            .Select(candidate => values.TryGetValue(candidate.Name, out var value)
                ? new CConstant(candidate.Name, candidate.Header, candidate.Definition.Body, value.Type, value.Value, candidate.Comment, candidate.InternalNote)
                : throw new GeneratorException($"clang's AST has no value for the macro {candidate.Name}."))
            .ToList();
        return (constants, enumTypes);
    }

    [GeneratedRegex(@"^\s*#\s*define\s+([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex DefineDirective();

    [GeneratedRegex(@"^\s*#\s*(if|ifdef|ifndef|elif|else)\b")]
    private static partial Regex ConditionalDirective();

    [GeneratedRegex(@"^\s*(///?|/\*+|\*+/|\*)|\*+/\s*$")]
    private static partial Regex CommentMarkers();

    [GeneratedRegex(@"^(?<file>[^:\n]+):(?<line>\d+):\d+: error:", RegexOptions.Multiline)]
    private static partial Regex ErrorLine();
}
