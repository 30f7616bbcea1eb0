using NUnit.Framework;
using XnnKleidi.Tests.Support;

namespace XnnKleidi.Tests;

/// <summary>Preconditions of a meaningful run, checked so that a broken setup fails with a reason instead of at random.</summary>
[TestFixture]
[Category(TestCategories.KernelDependent)]
public sealed class EnvironmentTests
{
    [Test]
    public void UnderQemu_WriteXorExecuteIsDisabled()
    {
        if (!TestEnvironment.IsEmulated)
        {
            Assert.Ignore("only emulated runs need it");
        }

        // .NET maps JIT code twice (writable and executable views of one memfd). qemu-user does not see writes
        // through the writable view, keeps running stale translations, and the process fails at random
        // (NullReferenceException, IndexOutOfRangeException or SIGSEGV in code that is correct).
        Assert.That(
            Environment.GetEnvironmentVariable("DOTNET_EnableWriteXorExecute"),
            Is.EqualTo("0"),
            "run the tests under qemu-user with DOTNET_EnableWriteXorExecute=0");
    }

    [Test]
    public void ExpectedCpu_MatchesTheProcessArchitecture()
    {
        // x64 runs natively; the Arm models are QEMU's, so the process must be arm64 for them.
        Assert.That(
            System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture,
            Is.EqualTo(TestEnvironment.ExpectedCpu == "x64" ? System.Runtime.InteropServices.Architecture.X64 : System.Runtime.InteropServices.Architecture.Arm64),
            $"XNNKLEIDI_EXPECTED_CPU is {TestEnvironment.ExpectedCpu}");
    }

    [Test]
    public void ExpectedCpu_IsOneTheTestsKnow()
    {
        Assert.That(TestEnvironment.KnownCpus, Does.Contain(TestEnvironment.ExpectedCpu),
            $"set XNNKLEIDI_EXPECTED_CPU to one of {string.Join(", ", TestEnvironment.KnownCpus)}");
    }
}
