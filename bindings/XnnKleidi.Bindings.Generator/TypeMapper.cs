namespace XnnKleidi.Bindings.Generator;

/// <summary>
/// Maps C types to blittable C# types, following typedefs down to builtins, tags and function types. It records
/// which enums and records the mapped types reach, so that exactly those get emitted.
/// </summary>
public sealed class TypeMapper
{
    /// <summary>Typedefs whose width is their meaning; all other typedefs are followed to what they name.</summary>
    private static readonly Dictionary<string, string> FixedTypedefs = new(StringComparer.Ordinal)
    {
        ["int8_t"] = "sbyte",
        ["uint8_t"] = "byte",
        ["int16_t"] = "short",
        ["uint16_t"] = "ushort",
        ["int32_t"] = "int",
        ["uint32_t"] = "uint",
        ["int64_t"] = "long",
        ["uint64_t"] = "ulong",
        ["size_t"] = "nuint",
        ["uintptr_t"] = "nuint",
        ["ssize_t"] = "nint",
        ["ptrdiff_t"] = "nint",
        ["intptr_t"] = "nint",
    };

    // C's bool is one byte; C# bool is not blittable, so the raw layer passes the byte (nonzero means true).
    // long and unsigned long are missing on purpose: see TargetDependentBuiltins.
    private static readonly Dictionary<string, string> Builtins = new(StringComparer.Ordinal)
    {
        ["void"] = "void",
        ["_Bool"] = "byte",
        ["bool"] = "byte",
        ["char"] = "sbyte",
        ["signed char"] = "sbyte",
        ["unsigned char"] = "byte",
        ["short"] = "short",
        ["unsigned short"] = "ushort",
        ["int"] = "int",
        ["unsigned int"] = "uint",
        ["long long"] = "long",
        ["unsigned long long"] = "ulong",
        ["float"] = "float",
        ["double"] = "double",
    };

    /// <summary>
    /// C types whose width differs between the RIDs the library ships: long is 64-bit on Linux (LP64) and 32-bit
    /// on Windows x64 (LLP64), so one committed C# type cannot be right for both. A header that uses one is refused.
    /// </summary>
    private static readonly HashSet<string> TargetDependentBuiltins = new(StringComparer.Ordinal) { "long", "unsigned long" };

    private readonly HeaderContents contents;
    private readonly GeneratorSettings settings;

    public TypeMapper(HeaderContents contents, GeneratorSettings settings)
    {
        this.contents = contents;
        this.settings = settings;
    }

    /// <summary>Names of the enums and records (C names) that mapped types reached.</summary>
    public HashSet<string> ReachedTags { get; } = new(StringComparer.Ordinal);

    /// <summary>Typedefs of the headers that name a pointer to the record, such as xnn_subgraph_t.</summary>
    public List<string> HandleTypedefNames(CRecord record) => contents.Typedefs.Values
        .Where(typedef => typedef.Header is not null
            && CTypeParser.Parse(typedef.QualType) is PointerType { Pointee: TagType tag } && tag.Name == record.Name)
        .Select(typedef => typedef.Name)
        .Order(StringComparer.Ordinal)
        .ToList();

    public static string BuiltinToCSharp(string cType) => BuiltinToCSharp(cType, "a constant or enum");

    private static string BuiltinToCSharp(string cType, string context) =>
        TargetDependentBuiltins.Contains(cType)
            ? throw new GeneratorException(
                $"{context}: the C type '{cType}' is 64-bit on Linux and 32-bit on Windows x64, so no one C# type fits every RID. " +
                "Use a fixed-width type (int64_t, int32_t) or size_t in the header.")
            : Builtins.TryGetValue(cType, out var mapped)
                ? mapped
                : throw new GeneratorException($"{context}: no C# type for the C type '{cType}'.");

    public string Map(CType type, string context) => type switch
    {
        BuiltinType builtin => BuiltinToCSharp(builtin.Name, context),
        TypedefType typedef => MapTypedef(typedef.Name, context),
        TagType tag => MapTag(tag),
        PointerType { Pointee: FunctionType function } => MapFunctionPointer(function, context),
        PointerType pointer => MapPointee(pointer.Pointee, context) + "*",
        ArrayType => throw new GeneratorException($"{context}: arrays are not supported by the generator."),
        FunctionType => throw new GeneratorException($"{context}: a bare function type cannot be passed by value."),
        _ => throw new GeneratorException($"{context}: unexpected type {type}."),
    };

    private string MapPointee(CType pointee, string context)
    {
        // A pointer to a function-pointer typedef is a pointer to a delegate*.
        var resolved = Resolve(pointee, context);
        return resolved is FunctionType function ? MapFunctionPointer(function, context) : Map(pointee, context);
    }

    /// <summary>Follows typedefs (except the fixed-width ones) to the type they name.</summary>
    public CType Resolve(CType type, string context)
    {
        while (type is TypedefType typedef && !FixedTypedefs.ContainsKey(typedef.Name))
        {
            type = CTypeParser.Parse(Typedef(typedef.Name, context).QualType);
        }

        return type;
    }

    /// <summary>True if the type, after typedefs, is C's bool, which the raw layer passes as a byte.</summary>
    public bool IsBool(CType type, string context) => Resolve(type, context) is BuiltinType { Name: "_Bool" or "bool" };

    private CTypedef Typedef(string name, string context) =>
        contents.Typedefs.TryGetValue(name, out var typedef)
            ? typedef
            : throw new GeneratorException($"{context}: the typedef {name} is not declared.");

    private string MapTypedef(string name, string context) =>
        FixedTypedefs.TryGetValue(name, out var fixedType)
            ? fixedType
            : Map(CTypeParser.Parse(Typedef(name, context).QualType), $"{context} (typedef {name})");

    private string MapTag(TagType tag)
    {
        ReachedTags.Add(tag.Name);
        return Identifiers.Escape(settings.Rename(tag.Name));
    }

    private string MapFunctionPointer(FunctionType function, string context)
    {
        if (function.IsVariadic)
        {
            throw new GeneratorException($"{context}: variadic function pointers cannot be called from C#.");
        }

        var types = function.Parameters.Select(parameter => Map(parameter, context)).Append(Map(function.Return, context));
        return $"delegate* unmanaged[Cdecl]<{string.Join(", ", types)}>";
    }
}

public static class Identifiers
{
    private static readonly HashSet<string> Keywords =
    [
        "abstract", "as", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class", "const",
        "continue", "decimal", "default", "delegate", "do", "double", "else", "enum", "event", "explicit", "extern",
        "false", "finally", "fixed", "float", "for", "foreach", "goto", "if", "implicit", "in", "int", "interface",
        "internal", "is", "lock", "long", "namespace", "new", "null", "object", "operator", "out", "override",
        "params", "private", "protected", "public", "readonly", "ref", "return", "sbyte", "sealed", "short",
        "sizeof", "stackalloc", "static", "string", "struct", "switch", "this", "throw", "true", "try", "typeof",
        "uint", "ulong", "unchecked", "unsafe", "ushort", "using", "virtual", "void", "volatile", "while",
    ];

    /// <summary>Prefixes C names that are C# keywords (params, operator) with @.</summary>
    public static string Escape(string name) => Keywords.Contains(name) ? "@" + name : name;
}
