using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NUnit.Framework;
using XnnKleidi.Interop;

namespace XnnKleidi.Tests.Bindings;

/// <summary>
/// The raw layer passes every argument as it is: blittable types only, no bool, char or string that the runtime
/// would have to marshal, C's calling convention and exact entry point names.
/// </summary>
[TestFixture]
public sealed class ApiHygieneTests
{
    private static readonly HashSet<Type> Primitives =
    [
        typeof(byte), typeof(sbyte), typeof(short), typeof(ushort), typeof(int), typeof(uint), typeof(long),
        typeof(ulong), typeof(nint), typeof(nuint), typeof(float), typeof(double),
    ];

    private static IEnumerable<TestCaseData> Functions() =>
        BindingsLocations.ImportedFunctions().Select(method => new TestCaseData(method).SetName($"Import_IsBlittableCdecl({method.Name})"));

    private static IEnumerable<TestCaseData> Structs() =>
        BindingsLocations.GeneratedStructs().Select(type => new TestCaseData(type).SetName($"Struct_HasOnlyBlittableFields({type.Name})"));

    [TestCaseSource(nameof(Functions))]
    public void Import_IsBlittableCdecl(MethodInfo method)
    {
        var import = method.GetCustomAttribute<DllImportAttribute>()!;
        var problems = new List<string>();
        if (import.Value != NativeMethods.LibraryName)
        {
            problems.Add($"imports from '{import.Value}'");
        }

        if (import.CallingConvention != CallingConvention.Cdecl)
        {
            problems.Add($"calling convention {import.CallingConvention}");
        }

        if (!import.ExactSpelling || (import.EntryPoint ?? method.Name) != method.Name)
        {
            problems.Add("entry point is not the exact C name");
        }

        if (import.SetLastError)
        {
            problems.Add("SetLastError needs a marshalling stub");
        }

        if (!method.IsStatic || (method.MethodImplementationFlags & MethodImplAttributes.PreserveSig) == 0)
        {
            problems.Add("not a plain static import");
        }

        problems.AddRange(method.GetParameters().Select(parameter => (parameter.Name, parameter.ParameterType))
            .Append(("return", method.ReturnType))
            .Where(pair => !IsBlittable(pair.Item2, allowVoid: pair.Item1 == "return"))
            .Select(pair => $"{pair.Item1} has the non-blittable type {pair.Item2}"));
        Assert.That(problems, Is.Empty, method.Name);
    }

    [TestCaseSource(nameof(Structs))]
    public void Struct_HasOnlyBlittableFields(Type type)
    {
        var layout = type.StructLayoutAttribute!.Value;
        Assert.That(layout, Is.EqualTo(LayoutKind.Sequential).Or.EqualTo(LayoutKind.Explicit), type.Name);
        var fields = type.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance);
        Assert.That(fields.Where(field => !IsBlittable(field.FieldType, allowVoid: false)).Select(field => $"{field.Name}: {field.FieldType}"), Is.Empty, type.Name);
    }

    [Test]
    public void Assembly_DisablesRuntimeMarshalling() =>
        Assert.That(typeof(NativeMethods).Assembly.GetCustomAttribute<DisableRuntimeMarshallingAttribute>(), Is.Not.Null);

    [Test]
    public void Enums_UseIntegerTypesOfTheirCEnums()
    {
        // C gives an enum with a negative member the type int and any other enum unsigned int (GCC and clang).
        var enums = typeof(NativeMethods).Assembly.GetTypes().Where(type => type.Namespace == typeof(NativeMethods).Namespace && type.IsEnum);
        Assert.Multiple(() =>
        {
            foreach (var type in enums)
            {
                var hasNegative = Enum.GetValuesAsUnderlyingType(type).Cast<object>().Any(value => Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture) < 0);
                Assert.That(Enum.GetUnderlyingType(type), Is.EqualTo(hasNegative ? typeof(int) : typeof(uint)), type.Name);
            }
        });
    }

    [Test]
    public void OpaqueHandles_AreDistinctPointerTypes()
    {
        var create = typeof(NativeMethods).GetMethod(nameof(NativeMethods.xnn_create_runtime_v4))!.GetParameters();
        Assert.That(create.Select(parameter => parameter.ParameterType.Name), Is.EqualTo(new[]
        {
            "xnn_subgraph*", "xnn_weights_cache_provider*", "xnn_workspace*", "pthreadpool*", "UInt32", "xnn_runtime**",
        }));
    }

    private static bool IsBlittable(Type type, bool allowVoid)
    {
        if (type == typeof(void))
        {
            return allowVoid;
        }

        if (type.IsPointer)
        {
            var element = type.GetElementType()!;
            return element == typeof(void) || IsBlittable(element, allowVoid: false);
        }

        if (type.IsFunctionPointer)
        {
            return type.IsUnmanagedFunctionPointer
                && type.GetFunctionPointerParameterTypes().All(parameter => IsBlittable(parameter, allowVoid: false))
                && IsBlittable(type.GetFunctionPointerReturnType(), allowVoid: true);
        }

        if (type.IsEnum)
        {
            return Primitives.Contains(Enum.GetUnderlyingType(type));
        }

        // bool, char, string, arrays, by-ref and classes are all absent from Primitives.
        return Primitives.Contains(type)
            || (type.IsValueType && !type.IsPrimitive && type.Namespace == typeof(NativeMethods).Namespace
                && type.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance).All(field => IsBlittable(field.FieldType, allowVoid: false)));
    }
}
