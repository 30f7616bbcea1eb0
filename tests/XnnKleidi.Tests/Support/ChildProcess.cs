using System.Diagnostics;
using NUnit.Framework;

namespace XnnKleidi.Tests.Support;

/// <summary>Starts this test executable again as a child process, through QEMU when the tests run emulated.</summary>
internal static class ChildProcess
{
    /// <summary>
    /// Under qemu-user the child must be started through the emulator again (there is no binfmt_misc); the test driver
    /// names it in XNNKLEIDI_TEST_LAUNCHER, e.g. "/path/to/qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu max".
    /// </summary>
    public static ProcessStartInfo StartInfoForThisExecutable()
    {
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        string launcher = Environment.GetEnvironmentVariable("XNNKLEIDI_TEST_LAUNCHER") ?? "";
        if (TestEnvironment.IsEmulated && launcher.Length == 0)
        {
            Assert.Fail("XNNKLEIDI_TEST_LAUNCHER must name the QEMU command line under emulation (build.cake sets it)");
        }

        string[] launcherParts = launcher.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var start = new ProcessStartInfo(launcherParts.Length > 0 ? launcherParts[0] : self)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in launcherParts.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        if (launcherParts.Length > 0)
        {
            start.ArgumentList.Add(self);
        }

        return start;
    }

    /// <summary>Runs the child to its end and returns its exit code and its output, standard error last.</summary>
    public static (int ExitCode, string Output) Run(ProcessStartInfo start)
    {
        using Process child = Process.Start(start) ?? throw new InvalidOperationException("could not start the child");
        Task<string> error = child.StandardError.ReadToEndAsync();
        string output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        return (child.ExitCode, output + error.Result);
    }
}
