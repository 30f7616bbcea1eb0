using System.Runtime.InteropServices;
using NUnit.Framework;

/// <summary>
/// Ends the run with one countable line, "&lt;rid&gt;/&lt;cpu&gt;: N passed, N failed", the form build.cake
/// insists on for every test executable. Outside any namespace, so it wraps every test here.
/// </summary>
[SetUpFixture]
public sealed class CliRunSummary
{
    [OneTimeTearDown]
    public void PrintSummary()
    {
        var outcome = TestContext.CurrentContext.Result;
        var cpu = Environment.GetEnvironmentVariable("XNNKLEIDI_EXPECTED_CPU") is { Length: > 0 } expected
            ? expected
            : RuntimeInformation.ProcessArchitecture == Architecture.X64 ? "x64" : "native";
        TestContext.Progress.WriteLine($"{RuntimeInformation.RuntimeIdentifier}/{cpu}: {outcome.PassCount} passed, {outcome.FailCount} failed");
    }
}
