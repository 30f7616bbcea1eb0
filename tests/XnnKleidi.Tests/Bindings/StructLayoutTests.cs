using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NUnit.Framework;

namespace XnnKleidi.Tests.Bindings;

/// <summary>
/// Every generated struct has the size and field offsets that the C compiler of this RID gives it. The numbers
/// come from bindings/Generated/struct-layout-probe.c, which the native tests build and run per RID and whose
/// output they keep as artifacts/native/&lt;rid&gt;/struct-layout.txt.
/// </summary>
[TestFixture]
public sealed class StructLayoutTests
{
    private static IEnumerable<TestCaseData> Structs() => BindingsLocations.GeneratedStructs()
        .Where(type => type.GetFields(BindingFlags.Public | BindingFlags.Instance).Length > 0)
        .Select(type => new TestCaseData(type).SetName($"GeneratedStruct_MatchesCLayout({type.Name})"));

    private static Dictionary<string, Dictionary<string, long>> ReadLayout()
    {
        var relative = Path.Combine("artifacts", "native", BindingsLocations.RuntimeIdentifier, "struct-layout.txt");
        var (path, tried) = BindingsLocations.FindUpwards(relative);
        if (path is null)
        {
            Assert.Fail($"{relative} not found; the native tests write it (./build.sh --target=Test), or build and run "
                + "bindings/Generated/struct-layout-probe.c with this RID's C compiler and keep its output there. Looked in:\n  "
                + string.Join("\n  ", tried));
        }

        // "sizeof NAME N" -> layout[NAME][""] = N; "offsetof NAME FIELD N" -> layout[NAME][FIELD] = N.
        var layout = new Dictionary<string, Dictionary<string, long>>(StringComparer.Ordinal);
        foreach (var line in File.ReadAllLines(path!).Where(line => line.Length > 0))
        {
            var parts = line.Split(' ');
            var (name, member, value) = parts[0] == "sizeof" ? (parts[1], "", parts[2]) : (parts[1], parts[2], parts[3]);
            if (!layout.TryGetValue(name, out var members))
            {
                layout[name] = members = new Dictionary<string, long>(StringComparer.Ordinal);
            }

            members[member] = long.Parse(value, CultureInfo.InvariantCulture);
        }

        return layout;
    }

    [TestCaseSource(nameof(Structs))]
    public void GeneratedStruct_MatchesCLayout(Type type)
    {
        var layout = ReadLayout();
        Assert.That(layout.ContainsKey(type.Name), Is.True, $"struct-layout.txt has no line for {type.Name}: regenerate it from the current probe.");
        var expected = layout[type.Name];
        var actual = new Dictionary<string, long>(StringComparer.Ordinal) { [""] = SizeOf(type) };
        foreach (var field in type.GetFields(BindingFlags.Public | BindingFlags.Instance))
        {
            actual[field.Name] = Marshal.OffsetOf(type, field.Name).ToInt64();
        }

        Assert.That(actual, Is.EquivalentTo(expected), "C# layout (\"\" is the size) differs from the C compiler's.");
    }

    [Test]
    public void LayoutFile_DescribesOnlyGeneratedStructs()
    {
        var generated = BindingsLocations.GeneratedStructs().Select(type => type.Name).ToHashSet(StringComparer.Ordinal);
        Assert.That(ReadLayout().Keys.Where(name => !generated.Contains(name)), Is.Empty,
            "struct-layout.txt names structs the bindings do not have: it comes from an older probe.");
    }

    private static long SizeOf(Type type) =>
        (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(type).Invoke(null, null)!;
}
