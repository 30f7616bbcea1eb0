using System.Text.Json;

namespace XnnKleidi.Bindings.Generator;

/// <summary>
/// Reads the JSON that <c>clang -Xclang -ast-dump=json</c> writes for a translation unit that includes the headers.
/// </summary>
/// <remarks>
/// clang names a source file only in the first location that differs from the previous one it printed, so the
/// file of a declaration is known only by walking every location in document order, as <see cref="FileTracker"/> does.
/// </remarks>
public sealed class AstReader
{
    private readonly IReadOnlyDictionary<string, string> headerNamesByPath;
    private readonly HeaderContents contents;
    private string? currentFile;

    /// <param name="headerNamesByPath">Full path of each parsed header -> the name the output cites.</param>
    public AstReader(IReadOnlyDictionary<string, string> headerNamesByPath, HeaderContents contents)
    {
        this.headerNamesByPath = headerNamesByPath;
        this.contents = contents;
    }

    public void Read(JsonElement translationUnit)
    {
        var recordsByName = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var declaration in translationUnit.GetProperty("inner").EnumerateArray())
        {
            var file = TrackDeclaration(declaration);
            var header = file is null ? null : HeaderOf(file);
            if (declaration.TryGetProperty("isImplicit", out var implicitFlag) && implicitFlag.GetBoolean())
            {
                continue;
            }

            var kind = declaration.GetProperty("kind").GetString();
            var name = declaration.TryGetProperty("name", out var nameElement) ? nameElement.GetString() : null;
            switch (kind)
            {
                case "TypedefDecl" when name is not null:
                    contents.Typedefs[name] = new CTypedef(name, QualType(declaration), header);
                    break;
                case "FunctionDecl" when name is not null && header is not null:
                    if (!contents.DeclaredFunctions.TryGetValue(header, out var declared))
                    {
                        contents.DeclaredFunctions[header] = declared = [];
                    }

                    // A repeated prototype declares the same function once.
                    if (!declared.Contains(name))
                    {
                        declared.Add(name);
                        contents.Functions.Add(ReadFunction(declaration, name, header));
                    }

                    break;
                case "EnumDecl" when name is not null && header is not null:
                    contents.Enums.Add(ReadEnum(declaration, name, header));
                    break;
                case "RecordDecl" when name is not null && header is not null:
                    var record = ReadRecord(declaration, name, header);
                    if (recordsByName.TryGetValue(name, out var index))
                    {
                        // A forward declaration first, the definition later: keep the definition in the first place.
                        if (record.IsDefined)
                        {
                            contents.Records[index] = record;
                        }
                    }
                    else
                    {
                        recordsByName[name] = contents.Records.Count;
                        contents.Records.Add(record);
                    }

                    break;
            }
        }
    }

    private string? HeaderOf(string file) =>
        headerNamesByPath.TryGetValue(Path.GetFullPath(file), out var header) ? header : null;

    private static string QualType(JsonElement node) => node.GetProperty("type").GetProperty("qualType").GetString()!;

    private CFunction ReadFunction(JsonElement declaration, string name, string header)
    {
        var functionType = (FunctionType)CTypeParser.Parse(QualType(declaration));
        var parameters = new List<CParameter>();
        var deprecated = false;
        string? message = null;
        foreach (var child in Inner(declaration))
        {
            switch (child.GetProperty("kind").GetString())
            {
                case "ParmVarDecl":
                    var parameterName = child.TryGetProperty("name", out var n) ? n.GetString()! : $"arg{parameters.Count}";
                    parameters.Add(new CParameter(parameterName, QualType(child), CTypeParser.Parse(QualType(child))));
                    break;
                case "DeprecatedAttr":
                    deprecated = true;
                    message = child.TryGetProperty("message", out var m) && m.GetString() is { Length: > 0 } text ? text : null;
                    break;
            }
        }

        if (functionType.IsVariadic)
        {
            throw new GeneratorException($"{header}: {name} is variadic, which a blittable binding cannot call.");
        }

        var returnQualType = QualType(declaration);
        returnQualType = returnQualType[..FindParameterListStart(returnQualType)].TrimEnd();
        return new CFunction(name, header, returnQualType, functionType.Return, parameters, deprecated, message, Brief(declaration));
    }

    // The function type prints as "RETURN (PARAMETERS)"; its last top-level '(' starts the parameters.
    private static int FindParameterListStart(string functionType)
    {
        var depth = 0;
        for (var i = functionType.Length - 1; i >= 0; i--)
        {
            depth += functionType[i] == ')' ? 1 : functionType[i] == '(' ? -1 : 0;
            if (depth == 0)
            {
                return i;
            }
        }

        throw new GeneratorException($"Cannot find the parameters of the function type '{functionType}'.");
    }

    private static CEnum ReadEnum(JsonElement declaration, string name, string header)
    {
        var members = new List<CEnumMember>();
        long next = 0;
        foreach (var child in Inner(declaration))
        {
            if (child.GetProperty("kind").GetString() != "EnumConstantDecl")
            {
                continue;
            }

            // clang evaluates an explicit initializer into a ConstantExpr; a member without one is the previous plus one.
            var value = next;
            foreach (var expression in Inner(child))
            {
                if (expression.GetProperty("kind").GetString() == "ConstantExpr" && expression.TryGetProperty("value", out var v))
                {
                    value = long.Parse(v.GetString()!, System.Globalization.CultureInfo.InvariantCulture);
                }
            }

            members.Add(new CEnumMember(child.GetProperty("name").GetString()!, value, Brief(child)));
            next = value + 1;
        }

        return new CEnum(name, header, members, Brief(declaration));
    }

    private static CRecord ReadRecord(JsonElement declaration, string name, string header)
    {
        var defined = declaration.TryGetProperty("completeDefinition", out var complete) && complete.GetBoolean();
        var fields = new List<CField>();
        CRecord? lastUnnamed = null;
        foreach (var child in Inner(declaration))
        {
            switch (child.GetProperty("kind").GetString())
            {
                case "RecordDecl" when !child.TryGetProperty("name", out _):
                    lastUnnamed = ReadRecord(child, "", header);
                    break;
                case "FieldDecl":
                    var fieldName = child.GetProperty("name").GetString()!;
                    var qualType = QualType(child);
                    if (child.TryGetProperty("isBitfield", out _))
                    {
                        throw new GeneratorException($"{header}: {name}.{fieldName} is a bit-field, which the generator does not lay out.");
                    }

                    if (qualType.Contains("(unnamed ", StringComparison.Ordinal))
                    {
                        // clang prints an unnamed struct's type as "struct (unnamed struct at FILE:LINE:COL)"; the
                        // record it names is the unnamed RecordDecl just before the field.
                        var nested = lastUnnamed ?? throw new GeneratorException($"{header}: no unnamed record before {name}.{fieldName}.");
                        fields.Add(new CField(fieldName, nested.Kind, null, nested with { Name = $"{name}_{fieldName}" }, Brief(child)));
                        lastUnnamed = null;
                    }
                    else
                    {
                        fields.Add(new CField(fieldName, qualType, CTypeParser.Parse(qualType), null, Brief(child)));
                    }

                    break;
            }
        }

        var kind = declaration.GetProperty("tagUsed").GetString()!;
        return new CRecord(name, kind, header, defined, fields, Brief(declaration));
    }

    private static IEnumerable<JsonElement> Inner(JsonElement node) =>
        node.TryGetProperty("inner", out var inner) ? inner.EnumerateArray() : [];

    /// <summary>The first paragraph of the declaration's doc comment, on one line.</summary>
    private static string? Brief(JsonElement node)
    {
        foreach (var comment in Inner(node).Where(child => child.GetProperty("kind").GetString() == "FullComment"))
        {
            foreach (var paragraph in Inner(comment).Where(child => child.GetProperty("kind").GetString() == "ParagraphComment"))
            {
                var text = string.Join(' ', Inner(paragraph)
                    .Where(part => part.GetProperty("kind").GetString() == "TextComment")
                    .Select(part => part.GetProperty("text").GetString()!.Trim())
                    .Where(part => part.Length > 0));
                if (text.Length > 0)
                {
                    return text;
                }
            }
        }

        return null;
    }

    /// <summary>Walks the declaration's locations in document order; returns the file its "loc" is in.</summary>
    private string? TrackDeclaration(JsonElement declaration)
    {
        string? file = null;
        foreach (var property in declaration.EnumerateObject())
        {
            Track(property.Value);
            if (property.Name == "loc")
            {
                file = currentFile;
            }
        }

        return file;
    }

    private void Track(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                // A bare location has an offset; "includedFrom" also names a file but is not a location.
                if (element.TryGetProperty("offset", out _) && element.TryGetProperty("file", out var file))
                {
                    currentFile = file.GetString();
                }

                foreach (var property in element.EnumerateObject())
                {
                    if (property.Value.ValueKind is JsonValueKind.Object or JsonValueKind.Array)
                    {
                        Track(property.Value);
                    }
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    Track(item);
                }

                break;
        }
    }
}
