using System.Text;

namespace XnnKleidi.Bindings.Generator;

/// <summary>A C type as clang prints it in the AST ("qualType"), parsed into a tree.</summary>
public abstract record CType
{
    public bool IsConst { get; init; }
}

/// <summary>A builtin type, its words normalized ("unsigned int", "_Bool").</summary>
public sealed record BuiltinType(string Name) : CType;

/// <summary>A typedef name (uint32_t, xnn_subgraph_t).</summary>
public sealed record TypedefType(string Name) : CType;

/// <summary>struct, union or enum NAME.</summary>
public sealed record TagType(string Kind, string Name) : CType;

public sealed record PointerType(CType Pointee) : CType;

public sealed record ArrayType(CType Element, int? Length) : CType;

public sealed record FunctionType(CType Return, IReadOnlyList<CType> Parameters, bool IsVariadic) : CType;

/// <summary>
/// Parses the type strings of clang's JSON AST ("const struct xnn_allocator *", "void *(*)(void *, size_t)").
/// The AST gives parameter and field types only as strings, so the declarator syntax is parsed here.
/// </summary>
public sealed class CTypeParser
{
    private static readonly HashSet<string> BuiltinWords =
        ["void", "char", "short", "int", "long", "float", "double", "signed", "unsigned", "_Bool", "bool"];

    private static readonly HashSet<string> Qualifiers = ["const", "volatile", "restrict", "__restrict"];

    private readonly List<string> tokens;
    private readonly string text;
    private int position;

    private CTypeParser(string text)
    {
        this.text = text;
        tokens = Tokenize(text);
    }

    public static CType Parse(string text)
    {
        var parser = new CTypeParser(text);
        var type = parser.ParseTypeName();
        if (parser.position != parser.tokens.Count)
        {
            throw new GeneratorException($"Cannot parse the C type '{text}' (stopped at '{parser.Peek()}').");
        }

        return type;
    }

    private static List<string> Tokenize(string text)
    {
        var result = new List<string>();
        for (var i = 0; i < text.Length;)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (char.IsLetterOrDigit(c) || c == '_')
            {
                var start = i;
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '_'))
                {
                    i++;
                }

                result.Add(text[start..i]);
            }
            else if (text.AsSpan(i).StartsWith("..."))
            {
                result.Add("...");
                i += 3;
            }
            else
            {
                result.Add(c.ToString());
                i++;
            }
        }

        return result;
    }

    private string? Peek(int ahead = 0) => position + ahead < tokens.Count ? tokens[position + ahead] : null;

    private string Next() => position < tokens.Count
        ? tokens[position++]
        : throw new GeneratorException($"Unexpected end of the C type '{text}'.");

    private void Expect(string token)
    {
        var actual = Next();
        if (actual != token)
        {
            throw new GeneratorException($"Expected '{token}' but found '{actual}' in the C type '{text}'.");
        }
    }

    private static bool IsIdentifier(string? token) => token is not null && (char.IsLetter(token[0]) || token[0] == '_');

    private CType ParseTypeName()
    {
        var isConst = false;
        var builtin = new List<string>();
        CType? named = null;
        while (IsIdentifier(Peek()))
        {
            var word = Peek()!;
            if (Qualifiers.Contains(word))
            {
                isConst |= word == "const";
                position++;
            }
            else if (word is "struct" or "union" or "enum")
            {
                position++;
                named = new TagType(word, Next());
            }
            else if (BuiltinWords.Contains(word))
            {
                builtin.Add(word);
                position++;
            }
            else if (named is null && builtin.Count == 0)
            {
                named = new TypedefType(word);
                position++;
            }
            else
            {
                break;
            }
        }

        CType baseType = named ?? (builtin.Count > 0
            ? new BuiltinType(NormalizeBuiltin(builtin))
            : throw new GeneratorException($"No type specifier in the C type '{text}'."));
        return ParseAbstractDeclarator(baseType with { IsConst = isConst });
    }

    private static string NormalizeBuiltin(List<string> words)
    {
        // "long unsigned int" and "unsigned long" name the same type; sort into one spelling.
        var signedness = words.Contains("unsigned") ? "unsigned " : words.Contains("signed") && words.Contains("char") ? "signed " : "";
        var rest = words.Where(word => word is not "signed" and not "unsigned").ToList();
        if (rest.Count > 1 && rest.Contains("int"))
        {
            rest.Remove("int");
        }

        var core = rest.Count == 0 ? "int" : string.Join(' ', rest);
        return signedness + core;
    }

    // C binds suffixes ([] and ()) tighter than '*': "T *[3]" is an array of pointers, and
    // "T (*)(A)" is a pointer to a function; a parenthesized declarator applies last.
    private CType ParseAbstractDeclarator(CType type)
    {
        while (Peek() == "*")
        {
            position++;
            var pointerIsConst = false;
            while (Peek() is { } word && Qualifiers.Contains(word))
            {
                pointerIsConst |= word == "const";
                position++;
            }

            type = new PointerType(type) { IsConst = pointerIsConst };
        }

        if (Peek() == "(" && Peek(1) is "*" or "(" or "^")
        {
            var innerStart = position + 1;
            SkipBalanced();
            var outer = ParseSuffixes(type);
            var resume = position;
            position = innerStart;
            var result = ParseAbstractDeclarator(outer);
            Expect(")");
            position = resume;
            return result;
        }

        return ParseSuffixes(type);
    }

    private void SkipBalanced()
    {
        var depth = 0;
        do
        {
            var token = Next();
            depth += token == "(" ? 1 : token == ")" ? -1 : 0;
        }
        while (depth > 0);
    }

    private CType ParseSuffixes(CType type)
    {
        var suffixes = new List<Func<CType, CType>>();
        while (Peek() is "(" or "[")
        {
            if (Next() == "[")
            {
                int? length = Peek() == "]" ? null : int.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture);
                Expect("]");
                suffixes.Add(element => new ArrayType(element, length));
            }
            else
            {
                var (parameters, variadic) = ParseParameters();
                suffixes.Add(returnType => new FunctionType(returnType, parameters, variadic));
            }
        }

        for (var i = suffixes.Count - 1; i >= 0; i--)
        {
            type = suffixes[i](type);
        }

        return type;
    }

    private (List<CType> Parameters, bool Variadic) ParseParameters()
    {
        var parameters = new List<CType>();
        var variadic = false;
        if (Peek() == "void" && Peek(1) == ")")
        {
            position += 2;
            return (parameters, false);
        }

        while (Peek() != ")")
        {
            if (Peek() == "...")
            {
                position++;
                variadic = true;
            }
            else
            {
                parameters.Add(ParseTypeName());
            }

            if (Peek() == ",")
            {
                position++;
            }
        }

        Expect(")");
        return (parameters, variadic);
    }

    /// <summary>Prints a type back as C, for diagnostics.</summary>
    public static string Describe(CType type)
    {
        var builder = new StringBuilder();
        Append(builder, type);
        return builder.ToString();

        static void Append(StringBuilder builder, CType type)
        {
            switch (type)
            {
                case BuiltinType builtin: builder.Append(builtin.Name); break;
                case TypedefType typedef: builder.Append(typedef.Name); break;
                case TagType tag: builder.Append(tag.Kind).Append(' ').Append(tag.Name); break;
                case PointerType pointer: Append(builder, pointer.Pointee); builder.Append('*'); break;
                case ArrayType array: Append(builder, array.Element); builder.Append('[').Append(array.Length).Append(']'); break;
                case FunctionType function:
                    Append(builder, function.Return);
                    builder.Append('(');
                    for (var i = 0; i < function.Parameters.Count; i++)
                    {
                        builder.Append(i == 0 ? "" : ", ");
                        Append(builder, function.Parameters[i]);
                    }

                    builder.Append(')');
                    break;
                default: throw new InvalidOperationException(type.GetType().Name);
            }

            if (type.IsConst)
            {
                builder.Append(" const");
            }
        }
    }
}
