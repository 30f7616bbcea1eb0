using System.Text.Json;

namespace XnnKleidi.Bindings.Generator;

/// <summary>What to generate from: the settings, the sources file and optional replacements of headers.</summary>
public sealed record GenerationRequest(
    string RepositoryRoot,
    string SettingsPath,
    string SourcesPath,
    IReadOnlyDictionary<string, string> HeaderOverrides,
    string Clang = "clang-14");

/// <summary>The generated files (name -> text) and the numbers to print.</summary>
public sealed record GenerationResult(
    IReadOnlyDictionary<string, string> Files,
    BindingModel Model,
    IReadOnlyList<string> Report);

/// <summary>Reads the headers with clang and writes the raw layer. Used by the command line and by the tests.</summary>
public static class BindingsGenerator
{
    public static GenerationResult Generate(GenerationRequest request)
    {
        var settings = GeneratorSettings.Load(request.SettingsPath);
        var sources = SourceVariables.Load(request.SourcesPath);
        var headerPaths = settings.Headers.Select(header => ResolveHeader(request, sources, header.Name, header.Path)).ToList();
        var workDirectory = Directory.CreateTempSubdirectory("xnnkleidi-bindings-");
        try
        {
            return Generate(request, settings, sources, headerPaths, workDirectory.FullName);
        }
        finally
        {
            workDirectory.Delete(recursive: true);
        }
    }

    private static GenerationResult Generate(
        GenerationRequest request, GeneratorSettings settings, SourceVariables sources, List<string> headerPaths, string workDirectory)
    {
        var includeDirectories = headerPaths.Select(path => Path.GetDirectoryName(path)!).Distinct().ToList();
        var clang = new ClangDriver(request.Clang, includeDirectories);

        // 1. The AST of a file that includes every header.
        var translationUnit = Path.Combine(workDirectory, "headers.c");
        File.WriteAllText(translationUnit, string.Concat(headerPaths.Select(path => $"#include \"{path}\"\n")));
        var ast = clang.DumpAst(translationUnit);
        ast.ThrowIfFailed("parsing the headers");
        var contents = new HeaderContents();
        var headerNamesByPath = settings.Headers
            .Select((header, index) => (header.Name, Path: Path.GetFullPath(headerPaths[index])))
            .ToDictionary(pair => pair.Path, pair => pair.Name);
        using (var document = JsonDocument.Parse(ast.Output, new JsonDocumentOptions { MaxDepth = 4096 }))
        {
            new AstReader(headerNamesByPath, contents).Read(document.RootElement);
        }

        // 2. The functions the settings keep.
        var functions = SelectFunctions(settings, contents);

        // 3. Macros, evaluated by clang, and the integer type of each enum.
        var candidates = MacroCandidates(request, settings, sources, headerPaths, clang, translationUnit, workDirectory);
        var evaluator = new MacroEvaluator(clang, workDirectory);
        var (constants, skipped, enumTypes) = evaluator.Evaluate(
            headerPaths, candidates, contents.Enums.Select(cEnum => cEnum.Name).ToList());

        // 4. The types: all that the "types" headers define, and whatever a kept function or emitted field reaches.
        var mapper = new TypeMapper(contents, settings);
        foreach (var function in functions)
        {
            mapper.Map(function.ReturnType, function.Name);
            foreach (var parameter in function.Parameters)
            {
                mapper.Map(parameter.Type, $"{function.Name}({parameter.Name})");
            }
        }

        var typeHeaders = settings.Headers.Where(header => header.Types).Select(header => header.Name).ToHashSet();
        var records = SelectRecords(contents, mapper, typeHeaders);
        var enums = contents.Enums.Where(cEnum => typeHeaders.Contains(cEnum.Header) || mapper.ReachedTags.Contains(cEnum.Name)).ToList();
        foreach (var flagsEnum in settings.FlagsEnums.Where(name => enums.All(cEnum => cEnum.Name != name)))
        {
            throw new GeneratorException($"bindings.json names {flagsEnum} as a flags enum, but no header defines it.");
        }

        var descriptions = settings.Headers
            .Select(header => header.Version.Length == 0 ? header.Name : $"{header.Name} ({sources.Expand(header.Version)})")
            .ToList();
        if (settings.InternalMacros is { } internalMacros)
        {
            descriptions.Add($"{internalMacros.Name} ({string.Join(", ", internalMacros.Names)} only)");
        }

        var model = new BindingModel(functions, enums, records, constants, skipped, enumTypes, contents.DeclaredFunctions, descriptions);
        var writer = new CSharpWriter(settings, model, mapper);
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            [$"{settings.ClassName}.g.cs"] = writer.WriteFunctions(),
            [$"{settings.ClassName}.Constants.g.cs"] = writer.WriteConstants(),
            ["Enums.g.cs"] = writer.WriteEnums(),
            ["Structs.g.cs"] = writer.WriteStructs(),
            ["struct-layout-probe.c"] = LayoutProbeWriter.Write(settings, model),
            [$"{settings.LibraryName}.exports"] = ExportListWriter.Write(settings, model),
        };

        var report = new List<string>();
        foreach (var header in settings.Headers)
        {
            var declared = contents.DeclaredFunctions.TryGetValue(header.Name, out var names) ? names.Count : 0;
            var generated = functions.Count(function => function.Header == header.Name);
            report.Add($"{header.Name}: {declared} functions declared, {generated} generated"
                + $" ({functions.Count(function => function.Header == header.Name && function.IsDeprecated)} of them [Obsolete]).");
        }

        report.Add($"{functions.Count} functions, {enums.Count} enums, {records.Count} structs "
            + $"({records.Count(record => !record.IsDefined)} opaque), {constants.Count} constants generated.");
        report.Add(skipped.Count == 0
            ? "No macro skipped."
            : "Macros skipped: " + string.Join("; ", skipped.Select(macro => $"{macro.Name} ({macro.Reason})")));
        return new GenerationResult(files, model, report);
    }

    private static string ResolveHeader(GenerationRequest request, SourceVariables sources, string name, string path)
    {
        var resolved = request.HeaderOverrides.TryGetValue(name, out var overridden)
            ? Path.GetFullPath(overridden)
            : Path.GetFullPath(sources.Expand(path), request.RepositoryRoot);
        return File.Exists(resolved)
            ? resolved
            : throw new GeneratorException($"Header {name} not found at {resolved}. Run cmake/fetch-sources.sh to unpack the pinned sources.");
    }

    private static List<CFunction> SelectFunctions(GeneratorSettings settings, HeaderContents contents)
    {
        foreach (var header in settings.Headers)
        {
            var declared = contents.DeclaredFunctions.GetValueOrDefault(header.Name) ?? [];
            foreach (var name in header.Functions.Where(name => name != "*" && !declared.Contains(name)))
            {
                throw new GeneratorException($"bindings.json keeps {name}, but {header.Name} does not declare it.");
            }
        }

        foreach (var name in settings.ExcludedFunctions.Keys.Where(name => contents.Functions.All(function => function.Name != name)))
        {
            throw new GeneratorException($"bindings.json excludes {name}, but no header declares it.");
        }

        return settings.Headers
            .SelectMany(header => contents.Functions.Where(function => function.Header == header.Name && header.KeepsFunction(function.Name)))
            .Where(function => !settings.ExcludedFunctions.ContainsKey(function.Name))
            .ToList();
    }

    private static List<CRecord> SelectRecords(HeaderContents contents, TypeMapper mapper, HashSet<string> typeHeaders)
    {
        var selected = new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<CRecord>(contents.Records.Where(record => typeHeaders.Contains(record.Header)));
        while (true)
        {
            while (queue.TryDequeue(out var record))
            {
                if (selected.Add(record.Name))
                {
                    MapFields(record, mapper);
                }
            }

            // Fields may reach records from other headers (pthreadpool's types, for instance).
            var reached = contents.Records.Where(record => mapper.ReachedTags.Contains(record.Name) && !selected.Contains(record.Name)).ToList();
            if (reached.Count == 0)
            {
                break;
            }

            reached.ForEach(queue.Enqueue);
        }

        return contents.Records.Where(record => selected.Contains(record.Name)).ToList();
    }

    private static void MapFields(CRecord record, TypeMapper mapper)
    {
        foreach (var field in record.Fields)
        {
            if (field.Nested is { } nested)
            {
                MapFields(nested, mapper);
            }
            else
            {
                mapper.Map(field.Type!, $"{record.Name}.{field.Name}");
            }
        }
    }

    private static List<MacroEvaluator.Candidate> MacroCandidates(
        GenerationRequest request, GeneratorSettings settings, SourceVariables sources, List<string> headerPaths,
        ClangDriver clang, string translationUnit, string workDirectory)
    {
        var definitions = clang.DumpMacros(translationUnit);
        var candidates = new List<MacroEvaluator.Candidate>();
        for (var i = 0; i < settings.Headers.Count; i++)
        {
            if (!settings.Headers[i].Macros)
            {
                continue;
            }

            foreach (var (name, comment) in MacroEvaluator.DefinedNames(headerPaths[i]))
            {
                // A macro the header #undefs, or defines only on another platform, is not defined at the end.
                if (definitions.TryGetValue(name, out var definition))
                {
                    candidates.Add(new MacroEvaluator.Candidate(name, settings.Headers[i].Name, definition, comment, null));
                }
            }
        }

        if (settings.InternalMacros is { } internalMacros)
        {
            var internalPath = ResolveHeader(request, sources, internalMacros.Name, internalMacros.Path);
            var internalUnit = Path.Combine(workDirectory, "internal.c");
            File.WriteAllText(internalUnit, $"#include \"{internalPath}\"\n");
            var internalDefinitions = clang.DumpMacros(internalUnit);
            var comments = MacroEvaluator.DefinedNames(internalPath).ToDictionary(pair => pair.Name, pair => pair.Comment);
            foreach (var name in internalMacros.Names)
            {
                if (!internalDefinitions.TryGetValue(name, out var definition) || !comments.TryGetValue(name, out var comment))
                {
                    throw new GeneratorException($"{internalMacros.Name} does not define {name}, which bindings.json lists.");
                }

                candidates.Add(new MacroEvaluator.Candidate(name, internalMacros.Name, definition, comment, internalMacros.Note));
            }
        }

        return candidates;
    }
}
