using System.Diagnostics;
using NUnit.Framework;
using XnnKleidi.Cli.Bench;

namespace XnnKleidi.Cli.Tests;

public class QuiescenceTests
{
    [Test]
    public void Wait_ReturnsOnlyAfterASpinningThreadOfTheProcessStops()
    {
        Assume.That(Directory.Exists("/proc/self/task"), Is.True, "needs Linux's /proc");
        var spinFor = TimeSpan.FromMilliseconds(60);
        Assert.That(spinFor, Is.LessThan(Quiescence.Limit), "the spinner must end before the wait gives up");
        var started = new ManualResetEventSlim();
        int stopped = 0;
        var spinner = new Thread(() =>
        {
            var clock = Stopwatch.StartNew();
            started.Set();
            while (clock.Elapsed < spinFor)
            {
                Thread.SpinWait(100);
            }

            Volatile.Write(ref stopped, 1);
        });
        spinner.Start();
        started.Wait();

        Quiescence.WaitForOtherThreads([Environment.ProcessId]);

        // Runnable counts as running, so even on a loaded machine the wait cannot end while
        // the spinner still has work left.
        Assert.That(Volatile.Read(ref stopped), Is.EqualTo(1), "the wait returned while another thread was still spinning");
        spinner.Join();
    }

    [Test]
    public void Wait_IgnoresTheCallingThreadAndAProcessThatIsGone()
    {
        // The caller is running (it reads /proc); a finished process has no tasks left to read.
        // Were either counted, every wait would last the whole limit. A runtime thread (the JIT
        // tiering up) may be busy during one wait, so one of three must end early.
        var waits = Enumerable.Range(0, 3).Select(_ => Quiescence.WaitForOtherThreads([Environment.ProcessId, int.MaxValue])).ToList();
        Assert.That(waits.Min(), Is.LessThan(Quiescence.Limit), string.Join(", ", waits));
    }
}
