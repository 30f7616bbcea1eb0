using NUnit.Framework;
using XnnKleidi.Bindings.Generator;

namespace XnnKleidi.Bindings.Generator.Tests;

/// <summary>
/// The committed raw layer is what the generator makes of the pinned headers, and the verify command notices when
/// a header changes. Needs clang-14 and the pinned sources, as the build does (./build.sh --target=Sources).
/// </summary>
[TestFixture]
public sealed class VerifyBindingsTests
{
    private const string AddedDeclaration = "enum xnn_status xnn_added_by_verify_test(uint32_t flags);";

    private string root = "";
    private string sources = "";

    [OneTimeSetUp]
    public void FindInputs()
    {
        root = FindRepositoryRoot();
        sources = Environment.GetEnvironmentVariable("XNNKLEIDI_SOURCES_CMAKE") is { Length: > 0 } fromEnvironment
            ? fromEnvironment
            : Path.Combine(root, "artifacts", "build", "sources.cmake");
        if (!File.Exists(sources))
        {
            Assert.Fail($"{sources} not found: the generator reads the pinned headers it lists. Write it with "
                + "./build.sh --target=Sources, or point XNNKLEIDI_SOURCES_CMAKE at a file from cmake/fetch-sources.sh.");
        }
    }

    [Test]
    public void Verify_CommittedBindings_AreUpToDate()
    {
        var (exitCode, output) = RunGenerator("verify", "--sources", sources);
        Assert.That(exitCode, Is.Zero, output);
    }

    [Test]
    public void Verify_HeaderWithAddedFunction_FailsWithDiffOfThatFunction()
    {
        var copy = Directory.CreateTempSubdirectory("xnnkleidi-verify-test-");
        try
        {
            var header = HeaderFromSources("XNNKLEIDI_XNNPACK_DIR", "include/xnnpack.h");
            var changed = Path.Combine(copy.FullName, "xnnpack.h");
            File.WriteAllText(changed, File.ReadAllText(header) + "\n" + AddedDeclaration + "\n");

            var (exitCode, output) = RunGenerator("verify", "--sources", sources, "--header", $"xnnpack.h={changed}");

            Assert.That(exitCode, Is.EqualTo(1), output);
            Assert.That(output, Does.Contain("+++ bindings/Generated/NativeMethods.g.cs (generated)")
                .And.Contain("+    public static extern xnn_status xnn_added_by_verify_test(uint flags);")
                .And.Contain("xnnpack.h: 369 functions declared"));
        }
        finally
        {
            copy.Delete(recursive: true);
        }
    }

    private string HeaderFromSources(string variable, string relativePath)
    {
        var line = File.ReadLines(sources).Single(text => text.StartsWith($"set({variable} ", StringComparison.Ordinal));
        var directory = line.Split('"')[1];
        return Path.Combine(directory, relativePath);
    }

    private (int ExitCode, string Output) RunGenerator(params string[] arguments)
    {
        // The generator's own entry point with this repository's settings: what the VerifyBindings target runs.
        using var output = new StringWriter();
        try
        {
            return (Program.Run([.. arguments, "--settings", Path.Combine(root, "bindings", "bindings.json")], output), output.ToString());
        }
        catch (GeneratorException exception)
        {
            Assert.Fail($"The generator could not run: {exception.Message}\n{output}");
            throw;
        }
    }

    /// <summary>The folder above the test assembly that holds bindings/bindings.json.</summary>
    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "bindings", "bindings.json")))
            {
                return directory.FullName;
            }
        }

        Assert.Fail($"No bindings/bindings.json above {AppContext.BaseDirectory}: run the tests from the repository's build output.");
        throw new InvalidOperationException();
    }
}
