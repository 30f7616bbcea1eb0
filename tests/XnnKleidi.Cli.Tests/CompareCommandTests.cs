using NUnit.Framework;

namespace XnnKleidi.Cli.Tests;

/// <summary>
/// `xnnkleidi compare` on model runs checked in under TestData/compare: two devices' runs give the table written by
/// hand in expected.md; files it cannot use end with one line on stderr and exit code 2.
/// </summary>
public class CompareCommandTests
{
    private static string Data(string name) => Path.Combine(TestContext.CurrentContext.TestDirectory, "TestData", "compare", name);

    private static (int Code, string Output, string Error) Run(params string[] args) => ConsoleCapture.Run(args);

    [Test]
    public void TwoDevices_GiveTheExpectedMarkdownTable()
    {
        (int code, string output, string error) = Run("compare", Data("phone.json"), Data("laptop.json"));

        Assert.That(code, Is.EqualTo(0), error);
        Assert.That(output.ReplaceLineEndings("\n"), Is.EqualTo(File.ReadAllText(Data("expected.md")).ReplaceLineEndings("\n")));
    }

    [Test]
    public void ChosenLayer_ByIndex_ShowsThatLayersGemm()
    {
        (int code, string output, string error) = Run("compare", Data("phone.json"), "--layer", "2");

        Assert.That(code, Is.EqualTo(0), error);
        Assert.That(output.ReplaceLineEndings("\n"), Is.EqualTo(File.ReadAllText(Data("expected-head.md")).ReplaceLineEndings("\n")));
    }

    [Test]
    public void OutFile_HoldsTheSameTable()
    {
        string path = Path.Combine(Path.GetTempPath(), $"xnnkleidi-compare-{Guid.NewGuid():N}.md");
        try
        {
            (int code, string output, _) = Run("compare", Data("phone.json"), Data("laptop.json"), "--out", path);

            Assert.That(code, Is.EqualTo(0));
            Assert.That(File.ReadAllText(path), Is.EqualTo(output));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestCase("truncated.json", "not valid JSON")]
    [TestCase("future-schema.json", "schema version 2")]
    [TestCase("bench-records.json", "not a model run")]
    [TestCase("no-such-file.json", "cannot read it")]
    public void UnusableFile_IsRefusedWithOneLineAndExitCode2(string file, string reason)
    {
        (int code, _, string error) = Run("compare", Data("phone.json"), Data(file));

        Assert.That(code, Is.EqualTo(2));
        string[] lines = error.TrimEnd().Split('\n');
        Assert.That(lines, Has.Length.EqualTo(1), error);
        Assert.That(lines[0], Does.StartWith("xnnkleidi: error: compare: ").And.Contain(file).And.Contain(reason));
    }

    [TestCase("--layer", "no.such.layer")]
    [TestCase("--layer", "3")]
    public void UnknownLayer_IsRefusedWithExitCode2(string option, string value)
    {
        (int code, _, string error) = Run("compare", Data("phone.json"), option, value);

        Assert.That(code, Is.EqualTo(2));
        Assert.That(error.TrimEnd().Split('\n'), Has.Length.EqualTo(1), error);
    }
}
