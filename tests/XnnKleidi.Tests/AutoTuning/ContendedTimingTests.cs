using System.Runtime.InteropServices;
using NUnit.Framework;
using XnnKleidi.Internal;
using XnnKleidi.Tests.Support;

namespace XnnKleidi.Tests.AutoTuning;

/// <summary>
/// A timing taken while something else held a core is named and never stored in a tuning cache. The run-queue wait is
/// given to the rules as numbers; the one test that reads the kernel's counter makes contention certain by pinning two
/// spinning threads to one CPU, so no decision rests on how loaded the machine happens to be.
/// </summary>
[TestFixture]
public sealed class ContendedTimingTests
{
    private const int K = 64;
    private const int N = 24;

    [Test]
    public void ParseWaitNanoseconds_ReadsTheSecondOfTheThreeFields()
    {
        Assert.Multiple(() =>
        {
            Assert.That(RunQueueWait.ParseWaitNanoseconds("264544 93198 2\n"), Is.EqualTo(93198));
            Assert.That(RunQueueWait.ParseWaitNanoseconds("264544\n"), Is.Null);
            Assert.That(RunQueueWait.ParseWaitNanoseconds("264544 -5 2"), Is.Null);
            Assert.That(RunQueueWait.ParseWaitNanoseconds(string.Empty), Is.Null);
        });
    }

    [Test]
    public void AverageWaitingThreads_IsTheWaitOverTheElapsedTime()
    {
        Assert.Multiple(() =>
        {
            // 1.5 s of waiting, summed over threads, in 2 s: three quarters of a thread waited on average.
            Assert.That(RunQueueWait.AverageWaitingThreads(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(2)), Is.EqualTo(0.75).Within(1e-12));
            // A thread that ended took its wait with it: less in total afterwards means no measured wait, not a negative one.
            Assert.That(RunQueueWait.AverageWaitingThreads(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)), Is.Zero);
            Assert.That(RunQueueWait.AverageWaitingThreads(null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)), Is.Null);
            Assert.That(RunQueueWait.AverageWaitingThreads(TimeSpan.Zero, null, TimeSpan.FromSeconds(1)), Is.Null);
            Assert.That(RunQueueWait.AverageWaitingThreads(TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.Zero), Is.Null);
        });
    }

    [TestCase(null, false)]
    [TestCase(0.0, false)]
    [TestCase(0.24, false)]
    [TestCase(0.25, true)]
    [TestCase(1.0, true)]
    public void IsContended_FromAQuarterOfAThreadWaiting(double? waiting, bool contended) =>
        Assert.That(RunQueueWait.IsContended(waiting), Is.EqualTo(contended));

    [Test]
    public void Cache_RefusesAContendedTiming_AndStoresAQuietOneWithoutItsWait()
    {
        var cache = new AutoTuningCache();
        LinearWeights weights = LinearWeights.Quantize(TestData.Uniform(N * K, -1f, 1f, seed: 3), N, K, WeightScheme.Qc8w);
        AutoTuningEnvironment environment = AutoTuningEnvironment.Current;

        bool contendedStored = cache.Store(environment, 2, weights, Timing(batch: 1, waitingThreads: 0.9));
        bool quietStored = cache.Store(environment, 2, weights, Timing(batch: 4, waitingThreads: 0.01));

        Assert.Multiple(() =>
        {
            Assert.That(contendedStored, Is.False);
            Assert.That(quietStored, Is.True);
            Assert.That(cache.Count, Is.EqualTo(1));
            Assert.That(cache.Find(environment, 2, weights, 1), Is.Null, "the contended timing must not be found");
            ActivationPackingTiming? found = cache.Find(environment, 2, weights, 4);
            Assert.That(found, Is.Not.Null);
            Assert.That(found!.WaitingThreads, Is.Null, "a cached timing says nothing about the load when it is used");
            Assert.That(found.IsCpuContended, Is.False);
        });
    }

    [Test]
    public void Choose_ContendedTiming_StillDecidesButSaysACoreWasHeld()
    {
        IReadOnlyList<BatchChoice> choices = PackingDecisions.Choose([Timing(batch: 1, waitingThreads: 0.9)], singleVariantBatch: null);

        Assert.Multiple(() =>
        {
            Assert.That(choices.Single().UsePacked, Is.True, "both variants ran under the same load; the packed one was faster in every pair");
            Assert.That(choices.Single().Reason, Does.Contain("something else held a core while it was timed (0.9 of this process's threads waited for a CPU on average)"));
            Assert.That(choices.Single().Reason, Does.Contain("no tuning cache keeps it"));
        });
    }

    [Test]
    public void Choose_QuietTiming_SaysNothingOfCores()
    {
        IReadOnlyList<BatchChoice> choices = PackingDecisions.Choose([Timing(batch: 1, waitingThreads: 0.1)], singleVariantBatch: null);

        Assert.That(choices.Single().Reason, Does.Not.Contain("held a core"));
    }

    /// <summary>
    /// Auto with a run-queue wait that grows by an hour while it times: every timing is marked contended, the decision
    /// says so, and the cache stays empty. With a wait that does not grow, every timing is stored. Where packing cannot
    /// run nothing is timed, so nothing can be stored either way.
    /// </summary>
    [Test]
    [Category(TestCategories.KernelDependent)]
    public void Auto_ContendedTimingIsReportedAndNotCached_QuietTimingIsCached()
    {
        TestEnvironment.RequireKnownCpu();
        LinearWeights weights = LinearWeights.Quantize(TestData.Uniform(N * K, -1f, 1f, seed: 3), N, K, WeightScheme.Qc4w);
        int readings = 0;
        var contendedCache = new AutoTuningCache();
        var quietCache = new AutoTuningCache();

        using Linear contended = Linear.Create(K, N, weights, options: AutoOptions(contendedCache, () => TimeSpan.FromHours(readings++)));
        using Linear quiet = Linear.Create(K, N, weights, options: AutoOptions(quietCache, () => TimeSpan.FromSeconds(1)));

        Assert.Multiple(() =>
        {
            if (!TestEnvironment.HasQp8)
            {
                Assert.That(contended.AutoTimings, Is.Empty);
                Assert.That(readings, Is.Zero, "nothing was timed, so nothing was read");
                Assert.That(contendedCache.Count + quietCache.Count, Is.Zero);
                return;
            }

            Assert.That(readings, Is.EqualTo(2), "the wait is read once before and once after the layer's timing");
            Assert.That(contended.AutoTimings, Has.Count.EqualTo(2));
            Assert.That(contended.AutoTimings.All(timing => timing.IsCpuContended), Is.True);
            Assert.That(contended.GetExecutionInfo(1).AutoTuningDecision, Does.Contain("something else held a core while it was timed"));
            Assert.That(contended.GetExecutionInfo(4).AutoTuningDecision, Does.Contain("something else held a core while it was timed"));
            Assert.That(quiet.GetExecutionInfo(1).AutoTuningDecision, Does.Not.Contain("held a core"));
            Assert.That(contendedCache.Count, Is.Zero, "a contended timing is never stored");
            Assert.That(quiet.AutoTimings.All(timing => timing.WaitingThreads == 0), Is.True);
            Assert.That(quietCache.Count, Is.EqualTo(2));
        });
    }

    [Test]
    public void OfCurrentProcess_TwoSpinningThreadsPinnedToOneCpu_WaitForEachOther()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.That(RunQueueWait.OfCurrentProcess(), Is.Null, "only Linux reports the run-queue wait; elsewhere it is unknown");
            return;
        }

        // Each spinner pins itself (the runtime may give a new thread the process's mask rather than its creator's).
        ulong[] saved = new ulong[16];
        Assume.That(SchedGetAffinity(0, saved.Length * sizeof(ulong), saved), Is.Zero, "sched_getaffinity failed");
        int cpu = FirstCpu(saved);
        ulong[] one = new ulong[16];
        one[cpu / 64] = 1UL << (cpu % 64);
        using var stop = new ManualResetEventSlim();
        using var pinned = new CountdownEvent(2);
        int pinFailures = 0;
        Thread[] spinners = [.. Enumerable.Range(0, 2).Select(_ => new Thread(() =>
        {
            if (SchedSetAffinity(0, one.Length * sizeof(ulong), one) != 0)
            {
                Interlocked.Increment(ref pinFailures);
            }

            pinned.Signal();
            while (!stop.IsSet)
            {
                Thread.SpinWait(1000);
            }
        }))];
        foreach (Thread spinner in spinners)
        {
            spinner.Start();
        }

        pinned.Wait();
        TimeSpan? before = RunQueueWait.OfCurrentProcess();
        var elapsed = System.Diagnostics.Stopwatch.StartNew();
        Thread.Sleep(400);
        TimeSpan? after = RunQueueWait.OfCurrentProcess();
        elapsed.Stop();
        stop.Set();
        foreach (Thread spinner in spinners)
        {
            spinner.Join();
        }

        Assert.That(pinFailures, Is.Zero, "sched_setaffinity failed");
        double? waiting = RunQueueWait.AverageWaitingThreads(before, after, elapsed.Elapsed);
        // Two runnable threads on one CPU: one of them waits at any moment, so about one thread waits on average
        // (less the start and the time this thread spent in the reads). Half of that is far above the threshold.
        TestContext.Out.WriteLine($"threads waiting on average: {waiting}");
        Assert.That(waiting, Is.GreaterThanOrEqualTo(0.5));
        Assert.That(RunQueueWait.IsContended(waiting), Is.True);
    }

    private static LinearOptions AutoOptions(AutoTuningCache cache, Func<TimeSpan?> runQueueWait) => new()
    {
        ActivationPacking = ActivationPacking.Auto,
        AutoTuningBatches = [1, 4],
        AutoTuningBudget = TimeSpan.FromMilliseconds(20),
        AutoTuningCache = cache,
        RunQueueWaitSource = runQueueWait,
    };

    // 40 pairs in which packing takes 70 % of the unpacked time: a clear verdict for QP8.
    private static ActivationPackingTiming Timing(int batch, double waitingThreads)
    {
        double[] unpacked = [.. Enumerable.Range(100, 40).Select(i => (double)i)];
        double[] packed = [.. unpacked.Select(value => value * 0.7)];
        return PackingDecisions.Evaluate(batch, packed, unpacked, 1e-6, TimeSpan.FromMilliseconds(5)) with { WaitingThreads = waitingThreads };
    }

    private static int FirstCpu(ulong[] mask)
    {
        for (int cpu = 0; cpu < mask.Length * 64; cpu++)
        {
            if ((mask[cpu / 64] & (1UL << (cpu % 64))) != 0)
            {
                return cpu;
            }
        }

        throw new InvalidOperationException("the affinity mask is empty");
    }

    [DllImport("libc", EntryPoint = "sched_getaffinity", SetLastError = true)]
    private static extern int SchedGetAffinity(int pid, nint size, [Out] ulong[] mask);

    [DllImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static extern int SchedSetAffinity(int pid, nint size, ulong[] mask);
}
