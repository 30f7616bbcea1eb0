using System.Diagnostics;
using NUnit.Framework;
using XnnKleidi.Tests.Support;

namespace XnnKleidi.Tests;

/// <summary>
/// Native memory stays flat over many layers and many runs, forgotten layers are freed by finalizers, Run does
/// not allocate once warm, and concurrent calls on one layer are serialized. Counts are cut under QEMU.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class LifetimeTests
{
    private const int K = 64;
    private const int N = 16;

    // Margins. The malloc heap is where a leak would show: one layer's packed weights, runtime, subgraph
    // copies and buffers take several KB, so a leak of one per iteration is > 1,000 × 4 KB = 4 MB even at QEMU's
    // counts, and one leaked byte per run is > 1 MB at 1,000,000 runs; 1 MB of slack covers glibc's and the
    // runtime's own bookkeeping (measured: +165 KiB over 10,000 layers, 0 over 1,000,000 runs on x64). RSS
    // also counts the GC heap (+6 MB over 10,000 layers, all managed garbage), JIT code, glibc's retained
    // arenas and, under QEMU, the emulator's translation cache, so it only guards against gross leaks:
    // 16 MB natively, 32 MB under QEMU.
    private const long MallocMarginBytes = 1L << 20;
    private static readonly long RssMarginBytes = TestEnvironment.IsEmulated ? 32L << 20 : 16L << 20;

    private static readonly float[] Weights = TestData.Uniform(N * K, -1f, 1f, seed: 1);

    [Category(TestCategories.GlibcHeap)]
    [Test]
    public void CreateAndDispose_ManyLayers_KeepsNativeMemoryFlat()
    {
        int count = TestEnvironment.Count(native: 10_000, emulated: 1_000);
        LinearWeights weights = LinearWeights.Quantize(Weights, N, K, WeightScheme.Qc4w);
        var options = new LinearOptions { ForceActivationPacking = true };
        // Warm up until the JIT, the GC heap and glibc's arenas have reached their working size.
        for (int i = 0; i < count / 2; i++)
        {
            Linear.Create(K, N, weights, options: options).Dispose();
        }

        NativeMemory.Sample before = NativeMemory.Measure();
        for (int i = 0; i < count; i++)
        {
            using Linear linear = Linear.Create(K, N, weights, options: options);
        }

        NativeMemory.Sample growth = NativeMemory.Measure() - before;
        TestContext.Out.WriteLine($"{count} layers created and disposed: {growth}");
        AssertFlat(growth);
    }

    [Category(TestCategories.GlibcHeap)]
    [Test]
    public void ForgottenLayers_AreFreedByFinalizers()
    {
        int count = TestEnvironment.Count(native: 3_000, emulated: 300);
        LinearWeights weights = LinearWeights.Quantize(Weights, N, K, WeightScheme.Qc8w);
        CreateAndForget(weights, count / 2);
        NativeMemory.Sample before = NativeMemory.Measure();

        CreateAndForget(weights, count);

        NativeMemory.Sample growth = NativeMemory.Measure() - before;
        TestContext.Out.WriteLine($"{count} layers never disposed, then collected: {growth}");
        AssertFlat(growth);
    }

    [Category(TestCategories.GlibcHeap)]
    [Test]
    public void Run_ManyTimes_KeepsMemoryFlatAndAllocatesNothing()
    {
        int runs = TestEnvironment.Count(native: 1_000_000, emulated: 20_000);
        LinearWeights weights = LinearWeights.Quantize(Weights, N, K, WeightScheme.Qc8w);
        double[] dequantized = Reference.Dequantize(weights);
        using Linear linear = Linear.Create(K, N, weights, options: new LinearOptions { ForceActivationPacking = true });
        float[] input = TestData.Uniform(K, -1f, 1f, seed: 2);
        var output = new float[N];
        // Warm up for half a second, then wait for the JIT: .NET promotes hot methods to optimized code only after
        // 100 ms without new tier-0 code and compiles them on a background thread, whose memory would count as
        // growth. The loop stays in this method, so that this method's own optimized version is made now too.
        var warmUp = Stopwatch.StartNew();
        while (warmUp.ElapsedMilliseconds < 500)
        {
            linear.Run(input, output, 1);
        }

        WaitForJitToSettle();

        // The process heap is shared with the runner's own threads, which under QEMU 11 were seen to add 2–4 MB to
        // one measurement late in a full run (never in isolation). A leak in Run grows the heap in every attempt; the
        // smallest growth of up to three is what Run itself can be blamed for.
        NativeMemory.Sample growth = default;
        long allocated = 0;
        for (int attempt = 1; attempt <= 3; attempt++)
        {
            NativeMemory.Sample before = NativeMemory.Measure();
            var clock = new Stopwatch();
            long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            clock.Start();
            for (int i = 0; i < runs; i++)
            {
                linear.Run(input, output, 1);
            }

            clock.Stop();
            allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            growth = NativeMemory.Measure() - before;
            TestContext.Out.WriteLine($"attempt {attempt}: {runs} runs in {clock.Elapsed.TotalMilliseconds:F0} ms ({clock.Elapsed.TotalMicroseconds / runs:F2} µs each): {growth}, {allocated} managed bytes allocated");
            if (allocated != 0 || (growth.MallocInUseBytes < MallocMarginBytes && growth.ResidentBytes < RssMarginBytes))
            {
                break;
            }
        }

        Assert.Multiple(() =>
        {
            Assert.That(allocated, Is.Zero, "managed bytes allocated by the steady state");
            AssertFlat(growth);
            TestData.AssertClose(
                output,
                Reference.Linear(input, dequantized, null, 1, K, N, float.NegativeInfinity, float.PositiveInfinity),
                Reference.Tolerance(input, dequantized, null, 1, K, N, WeightScheme.Qc8w, 32),
                "last run");
        });
    }

    [Test]
    public void Run_FromEightThreadsOnOneLayer_IsSerializedAndCorrect()
    {
        const int Threads = 8;
        int iterations = TestEnvironment.Count(native: 300, emulated: 30);
        LinearWeights weights = LinearWeights.Quantize(Weights, N, K, WeightScheme.Qc4w);
        double[] dequantized = Reference.Dequantize(weights);
        using Linear linear = Linear.Create(K, N, weights, options: new LinearOptions { ForceActivationPacking = true });
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();

        // Each thread has its own input and batch size (1..8), so a race would mix shapes, buffers or outputs.
        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, thread =>
        {
            int batch = thread + 1;
            float[] input = TestData.Uniform(batch * K, -2f, 2f, seed: 100 + thread);
            double[] expected = Reference.Linear(input, dequantized, null, batch, K, N, float.NegativeInfinity, float.PositiveInfinity);
            double[] tolerance = Reference.Tolerance(input, dequantized, null, batch, K, N, WeightScheme.Qc4w, 32);
            var output = new float[batch * N];
            for (int i = 0; i < iterations; i++)
            {
                Array.Fill(output, float.NaN);
                linear.Run(input, output, batch);
                for (int j = 0; j < output.Length; j++)
                {
                    if (!(Math.Abs(output[j] - expected[j]) <= tolerance[j]))
                    {
                        failures.Enqueue($"thread {thread} iteration {i} output {j}: {output[j]} vs {expected[j]}");
                        return;
                    }
                }
            }
        });

        Assert.That(failures, Is.Empty);
    }

    [Test]
    public void Dispose_WhileAnotherThreadRuns_WaitsAndThenRefuses()
    {
        LinearWeights weights = LinearWeights.Quantize(Weights, N, K, WeightScheme.Qc8w);
        Linear linear = Linear.Create(K, N, weights);
        float[] input = TestData.Uniform(K, -1f, 1f, seed: 3);
        int completed = 0, refused = 0;
        // Dispose only once a call has completed, whatever the machine's speed: the test is about a layer in use.
        using var firstCompleted = new ManualResetEventSlim();
        Task runner = Task.Run(() =>
        {
            var output = new float[N];
            while (true)
            {
                try
                {
                    linear.Run(input, output, 1);
                    Interlocked.Increment(ref completed);
                    firstCompleted.Set();
                }
                catch (ObjectDisposedException)
                {
                    Interlocked.Increment(ref refused);
                    return;
                }
            }
        });
        Assert.That(firstCompleted.Wait(TimeSpan.FromMinutes(2)), Is.True, "the runner never completed a call");

        linear.Dispose();
        Assert.That(runner.Wait(TimeSpan.FromSeconds(30)), Is.True);

        Assert.That(completed, Is.GreaterThan(0));
        Assert.That(refused, Is.EqualTo(1));
    }

    [Test]
    public void SharedWorkspace_TwoLayersOnTwoThreads_BothCorrect()
    {
        using var workspace = new XnnWorkspace();
        LinearWeights first = LinearWeights.Quantize(Weights, N, K, WeightScheme.Qc8w);
        LinearWeights second = LinearWeights.Quantize(TestData.Uniform(7 * 96, -1f, 1f, seed: 4), 7, 96, WeightScheme.Qb4w);
        using Linear a = Linear.Create(K, N, first, options: new LinearOptions { Workspace = workspace, ForceActivationPacking = true });
        using Linear b = Linear.Create(96, 7, second, options: new LinearOptions { Workspace = workspace, ForceActivationPacking = true });
        int iterations = TestEnvironment.Count(native: 200, emulated: 20);

        // Different batch sizes make each layer reshape the shared memory, which the other must then notice.
        string? failureA = null, failureB = null;
        Parallel.Invoke(
            () => failureA = RunAndCheck(a, first, K, N, WeightScheme.Qc8w, iterations, [1, 9]),
            () => failureB = RunAndCheck(b, second, 96, 7, WeightScheme.Qb4w, iterations, [3, 17]));

        Assert.That(failureA, Is.Null);
        Assert.That(failureB, Is.Null);
    }

    [Test]
    public void SharedWeightsCache_LayersCreatedBeforeTheFirstRunWork_AndLaterLayersAreRefused()
    {
        using var cache = new XnnWeightsCache();
        var options = new LinearOptions { WeightsCache = cache, ForceActivationPacking = true };
        LinearWeights weights = LinearWeights.Quantize(Weights, N, K, WeightScheme.Qc4w);
        using Linear a = Linear.Create(K, N, weights, options: options);
        using Linear b = Linear.Create(K, N, weights, options: options);

        Assert.That(cache.IsFinalized, Is.False);
        Assert.That(RunAndCheck(a, weights, K, N, WeightScheme.Qc4w, 2, [1, 4]), Is.Null);
        Assert.That(cache.IsFinalized, Is.True);
        Assert.That(RunAndCheck(b, weights, K, N, WeightScheme.Qc4w, 2, [3]), Is.Null);

        // The first run finalized the cache; XNNPACK cannot add to it, and would hand a new layer no weights at all.
        LinearWeights other = LinearWeights.Quantize(TestData.Uniform(N * K, -1f, 1f, seed: 5), N, K, WeightScheme.Qc4w);
        Assert.Throws<InvalidOperationException>(() => Linear.Create(K, N, other, options: options).Dispose());
        Assert.Throws<InvalidOperationException>(() => Linear.Create(K, N, weights, options: options).Dispose());
        Assert.Throws<InvalidOperationException>(() => Linear.Create(K, N, weights, options: new LinearOptions { WeightsCache = cache, ActivationPacking = ActivationPacking.Auto }).Dispose());
    }

    [Test]
    public void SharedObjects_DisposedBeforeTheLayer_StayAliveUntilTheLayerGoes()
    {
        var pool = new XnnThreadPool(2);
        var cache = new XnnWeightsCache();
        LinearWeights weights = LinearWeights.Quantize(Weights, N, K, WeightScheme.Qc8w);
        using Linear linear = Linear.Create(K, N, weights, options: new LinearOptions { ThreadPool = pool, WeightsCache = cache });
        pool.Dispose();
        cache.Dispose();

        Assert.That(RunAndCheck(linear, weights, K, N, WeightScheme.Qc8w, 2, [1, 33]), Is.Null);
    }

    private static void CreateAndForget(LinearWeights weights, int count)
    {
        for (int i = 0; i < count; i++)
        {
            _ = Linear.Create(K, N, weights);
            if (i % 500 == 499)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private static string? RunAndCheck(Linear linear, LinearWeights weights, int k, int n, WeightScheme scheme, int iterations, int[] batches)
    {
        double[] dequantized = Reference.Dequantize(weights);
        for (int i = 0; i < iterations; i++)
        {
            foreach (int batch in batches)
            {
                float[] input = TestData.Uniform(batch * k, -2f, 2f, seed: batch + i);
                var output = new float[batch * n];
                linear.Run(input, output, batch);
                double[] expected = Reference.Linear(input, dequantized, null, batch, k, n, float.NegativeInfinity, float.PositiveInfinity);
                double[] tolerance = Reference.Tolerance(input, dequantized, null, batch, k, n, scheme, 32);
                for (int j = 0; j < output.Length; j++)
                {
                    if (!(Math.Abs(output[j] - expected[j]) <= tolerance[j]))
                    {
                        return $"{linear} iteration {i} batch {batch} output {j}: {output[j]} vs {expected[j]} ± {tolerance[j]}";
                    }
                }
            }
        }

        return null;
    }

    private static void AssertFlat(NativeMemory.Sample growth)
    {
        Assert.That(growth.MallocInUseBytes, Is.LessThan(MallocMarginBytes), "malloc heap growth");
        Assert.That(growth.ResidentBytes, Is.LessThan(RssMarginBytes), "resident set growth");
    }

    /// <summary>
    /// Waits until the JIT has compiled nothing new for 300 ms (at most two minutes), instead of a fixed pause that
    /// is too short on a slow or emulated machine.
    /// </summary>
    private static void WaitForJitToSettle()
    {
        var limit = Stopwatch.StartNew();
        long compiled = System.Runtime.JitInfo.GetCompiledMethodCount(currentThread: false);
        var quiet = Stopwatch.StartNew();
        while (quiet.ElapsedMilliseconds < 300 && limit.Elapsed < TimeSpan.FromMinutes(2))
        {
            Thread.Sleep(50);
            long now = System.Runtime.JitInfo.GetCompiledMethodCount(currentThread: false);
            if (now != compiled)
            {
                compiled = now;
                quiet.Restart();
            }
        }
    }
}
