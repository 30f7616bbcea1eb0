using System.Runtime.InteropServices;
using NUnit.Framework;

/// <summary>
/// Ends the run with one countable line, "&lt;rid&gt;/&lt;cpu&gt;: N passed, N failed", the form build.cake insists on
/// for every test executable. Outside any namespace, so it wraps every test here.
/// </summary>
[SetUpFixture]
public sealed class FormatsRunSummary
{
    [OneTimeTearDown]
    public void PrintSummary()
    {
        TestContext.ResultAdapter outcome = TestContext.CurrentContext.Result;
        TestContext.Progress.WriteLine(
            RunSummaryLine.Format(RuntimeInformation.RuntimeIdentifier, RunSummaryLine.ExpectedCpu, outcome.PassCount, outcome.FailCount));
    }
}
