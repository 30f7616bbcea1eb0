using System.Diagnostics;
using XnnKleidi.Interop;

namespace XnnKleidi.Internal;

/// <summary>The micro-benchmark of <see cref="ActivationPacking.Auto"/>: the packed and the unpacked runtime, side by side.</summary>
internal static unsafe class AutoTuner
{
    private const int WarmUpRuns = 2;
    private const int MaximumRuns = 4096;

    /// <summary>
    /// Times both runtimes at each of <paramref name="batches"/>, giving each batch size an equal share of the budget,
    /// and judges each with <see cref="PackingDecisions.Evaluate"/>. The run-queue wait is read around the whole
    /// timing, not per batch size: a share of 10 ms is too short to tell a held core from the runtime's own threads
    /// starting, and contention seen anywhere in a layer's timing makes all of it suspect.
    /// </summary>
    public static List<ActivationPackingTiming> Time(
        RuntimeHandle packed, RuntimeHandle unpacked, IReadOnlyList<int> batches, int inputChannels, int outputChannels, TimeSpan budget,
        Func<TimeSpan?> runQueueWait)
    {
        var timings = new List<ActivationPackingTiming>(batches.Count);
        TimeSpan share = budget / batches.Count;
        TimeSpan? waitBefore = runQueueWait();
        long start = Stopwatch.GetTimestamp();
        foreach (int batch in batches)
        {
            timings.Add(Time(packed, unpacked, batch, inputChannels, outputChannels, share));
        }

        double? waiting = RunQueueWait.AverageWaitingThreads(waitBefore, runQueueWait(), Stopwatch.GetElapsedTime(start));
        return [.. timings.Select(timing => timing with { WaitingThreads = waiting })];
    }

    /// <summary>
    /// Times both runtimes on [batch, K] inputs: two warm-up runs each (the first one also sizes
    /// XNNPACK's workspace), then pairs of timed runs, alternating so that frequency changes and noise fall
    /// on both alike, for as long as the budget lasts. The budget is checked before each pair and includes
    /// the warm-up, so the total exceeds it by at most one pair, or by the warm-up if that alone is longer.
    /// At least one pair is always timed. Medians and a ratio per pair suit a budget of tens of milliseconds:
    /// they ignore the odd preempted run that would drag a mean, and pairing cancels slow drifts of the clock.
    /// </summary>
    private static ActivationPackingTiming Time(RuntimeHandle packed, RuntimeHandle unpacked, int batch, int inputChannels, int outputChannels, TimeSpan budget)
    {
        long budgetTicks = (long)(budget.TotalSeconds * Stopwatch.Frequency);
        using NativeBuffer input = NativeBuffer.Allocate(((nuint)batch * (nuint)inputChannels * sizeof(float)) + NativeMethods.XNN_EXTRA_BYTES);
        using NativeBuffer output = NativeBuffer.Allocate((nuint)batch * (nuint)outputChannels * sizeof(float));
        var values = new Span<float>(input.Pointer, batch * inputChannels);
        for (int i = 0; i < values.Length; i++)
        {
            // Any spread of values will do: the kernels' speed does not depend on them.
            values[i] = ((i * 7919) % 2001 / 1000f) - 1f;
        }

        RuntimeHandle[] variants = [packed, unpacked];
        var samples = new double[2][] { new double[MaximumRuns], new double[MaximumRuns] };
        long start = Stopwatch.GetTimestamp();
        foreach (RuntimeHandle variant in variants)
        {
            RuntimeCalls.Reshape(variant, batch, inputChannels);
            RuntimeCalls.Setup(variant, input.Pointer, output.Pointer);
            for (int i = 0; i < WarmUpRuns; i++)
            {
                RuntimeCalls.Invoke(variant);
            }
        }

        int runs = 0;
        do
        {
            for (int v = 0; v < 2; v++)
            {
                long before = Stopwatch.GetTimestamp();
                RuntimeCalls.Invoke(variants[v]);
                // A tick of zero would make a ratio infinite; no run is that short, but the clock may be coarse.
                samples[v][runs] = Math.Max(1, Stopwatch.GetTimestamp() - before);
            }

            runs++;
        }
        while (runs < MaximumRuns && Stopwatch.GetTimestamp() - start < budgetTicks);

        return PackingDecisions.Evaluate(
            batch,
            samples[0].AsSpan(0, runs),
            samples[1].AsSpan(0, runs),
            1.0 / Stopwatch.Frequency,
            Stopwatch.GetElapsedTime(start));
    }
}
