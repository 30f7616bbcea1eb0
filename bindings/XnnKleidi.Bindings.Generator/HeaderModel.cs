namespace XnnKleidi.Bindings.Generator;

/// <summary>A C function parameter as the header declares it.</summary>
public sealed record CParameter(string Name, string QualType, CType Type);

public sealed record CFunction(
    string Name,
    string Header,
    string ReturnQualType,
    CType ReturnType,
    IReadOnlyList<CParameter> Parameters,
    bool IsDeprecated,
    string? DeprecationMessage,
    string? Brief);

public sealed record CEnumMember(string Name, long Value, string? Brief);

public sealed record CEnum(string Name, string Header, IReadOnlyList<CEnumMember> Members, string? Brief);

/// <summary>A field; for a field of an unnamed struct or union type, <see cref="Nested"/> holds that type.</summary>
public sealed record CField(string Name, string QualType, CType? Type, CRecord? Nested, string? Brief);

/// <summary>A struct or union. <see cref="IsDefined"/> is false for opaque types, only ever declared.</summary>
public sealed record CRecord(string Name, string Kind, string Header, bool IsDefined, IReadOnlyList<CField> Fields, string? Brief)
{
    public bool IsUnion => Kind == "union";

    /// <summary>The C spelling of the type, used in the layout probe and in comments.</summary>
    public string CSpelling => $"{Kind} {Name}";
}

public sealed record CTypedef(string Name, string QualType, string? Header);

/// <summary>An object-like macro that evaluated to an integer constant.</summary>
public sealed record CConstant(
    string Name,
    string Header,
    string Body,
    string CType,
    System.Numerics.BigInteger Value,
    IReadOnlyList<string> Comment,
    string? InternalNote);

/// <summary>A macro of a parsed header that did not become a constant, and why.</summary>
public sealed record SkippedMacro(string Name, string Header, string Reason);

/// <summary>Everything read from the headers, in declaration order.</summary>
public sealed class HeaderContents
{
    public List<CFunction> Functions { get; } = [];

    public List<CEnum> Enums { get; } = [];

    public List<CRecord> Records { get; } = [];

    public Dictionary<string, CTypedef> Typedefs { get; } = new(StringComparer.Ordinal);

    /// <summary>Underlying integer type of each enum, as clang computes it ("unsigned int", "int").</summary>
    public Dictionary<string, string> EnumUnderlyingTypes { get; } = new(StringComparer.Ordinal);

    public List<CConstant> Constants { get; } = [];

    public List<SkippedMacro> SkippedMacros { get; } = [];

    /// <summary>Functions each header declares, before the settings choose, for the printed counts.</summary>
    public Dictionary<string, List<string>> DeclaredFunctions { get; } = new(StringComparer.Ordinal);
}
