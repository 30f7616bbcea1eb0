using NUnit.Framework;
using XnnKleidi.Tests.Support;

/// <summary>
/// Ends every run with one countable line, "&lt;rid&gt;/&lt;cpu&gt;: N passed, N failed", for build.cake to check.
/// It has no namespace, so NUnit runs it around every test in the assembly.
/// </summary>
[SetUpFixture]
public sealed class RunSummary
{
    [OneTimeTearDown]
    public void PrintSummary()
    {
        TestContext.ResultAdapter outcome = TestContext.CurrentContext.Result;
        TestContext.Progress.WriteLine(
            RunSummaryLine.Format(TestEnvironment.RuntimeIdentifier, TestEnvironment.ExpectedCpu, outcome.PassCount, outcome.FailCount));
    }
}
