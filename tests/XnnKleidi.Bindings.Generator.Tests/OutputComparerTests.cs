using NUnit.Framework;

namespace XnnKleidi.Bindings.Generator.Tests;

/// <summary>verify's diff shows what changed, where, with a little context, and nothing when nothing changed.</summary>
[TestFixture]
public sealed class OutputComparerTests
{
    private DirectoryInfo committed = null!;

    [SetUp]
    public void CreateFolder() => committed = Directory.CreateTempSubdirectory("xnnkleidi-comparer-test-");

    [TearDown]
    public void DeleteFolder() => committed.Delete(recursive: true);

    [Test]
    public void Compare_SameFiles_IsEmpty()
    {
        File.WriteAllText(Path.Combine(committed.FullName, "A.g.cs"), "one\ntwo\n");
        Assert.That(OutputComparer.Compare(new Dictionary<string, string> { ["A.g.cs"] = "one\ntwo\n" }, committed.FullName, "out"), Is.Empty);
    }

    [Test]
    public void Compare_InsertedLine_ShowsHunkWithContext()
    {
        var lines = Enumerable.Range(1, 20).Select(i => $"line {i}").ToList();
        File.WriteAllText(Path.Combine(committed.FullName, "A.g.cs"), string.Join('\n', lines) + "\n");
        lines.Insert(10, "added");

        var diff = OutputComparer.Compare(new Dictionary<string, string> { ["A.g.cs"] = string.Join('\n', lines) + "\n" }, committed.FullName, "out");

        Assert.That(diff, Is.EqualTo(
            "--- out/A.g.cs (committed)\n+++ out/A.g.cs (generated)\n@@ -8,6 +8,7 @@\n"
            + " line 8\n line 9\n line 10\n+added\n line 11\n line 12\n line 13\n"));
    }

    [Test]
    public void Compare_ChangedLine_ShowsRemovedBeforeAdded()
    {
        File.WriteAllText(Path.Combine(committed.FullName, "A.g.cs"), "a\nold\nb\n");
        var diff = OutputComparer.Compare(new Dictionary<string, string> { ["A.g.cs"] = "a\nnew\nb\n" }, committed.FullName, "out");
        Assert.That(diff, Does.EndWith("@@ -1,3 +1,3 @@\n a\n-old\n+new\n b\n"));
    }

    [Test]
    public void Compare_StaleAndMissingFiles_AreBothReported()
    {
        File.WriteAllText(Path.Combine(committed.FullName, "Old.g.cs"), "old\n");
        var diff = OutputComparer.Compare(new Dictionary<string, string> { ["New.g.cs"] = "new\n" }, committed.FullName, "out");
        Assert.That(diff, Does.Contain("--- /dev/null\n+++ out/New.g.cs (generated)\n@@ -0,0 +1,1 @@\n+new\n")
            .And.Contain("--- out/Old.g.cs (committed)\n+++ /dev/null\n@@ -1,1 +0,0 @@\n-old\n"));
    }
}
