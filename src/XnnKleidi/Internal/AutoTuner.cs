using System.Diagnostics;
using XnnKleidi.Interop;

namespace XnnKleidi.Internal;

/// <summary>The micro-benchmark of <see cref="ActivationPacking.Auto"/>: the packed and the unpacked runtime, side by side.</summary>
internal static unsafe class AutoTuner
{
    private const int WarmUpRuns = 2;
    private const int MaximumRuns = 4096;

    /// <summary>
    /// Times both runtimes on [batch, K] inputs: two warm-up runs each (the first one also sizes
    /// XNNPACK's workspace), then pairs of timed runs, alternating so that frequency changes and noise fall
    /// on both alike, for as long as the budget lasts. The budget is checked before each pair and includes
    /// the warm-up, so the total exceeds it by at most one pair, or by the warm-up if that alone is longer.
    /// At least one pair is always timed.
    /// </summary>
    public static ActivationPackingTiming Time(RuntimeHandle packed, RuntimeHandle unpacked, int batch, int inputChannels, int outputChannels, TimeSpan budget)
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
        var samples = new long[2][] { new long[MaximumRuns], new long[MaximumRuns] };
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
                samples[v][runs] = Stopwatch.GetTimestamp() - before;
            }

            runs++;
        }
        while (runs < MaximumRuns && Stopwatch.GetTimestamp() - start < budgetTicks);

        return new ActivationPackingTiming(
            batch,
            Median(samples[0], runs),
            Median(samples[1], runs),
            runs,
            runs,
            Stopwatch.GetElapsedTime(start));
    }

    private static TimeSpan Median(long[] samples, int count)
    {
        Array.Sort(samples, 0, count);
        long ticks = count % 2 == 1 ? samples[count / 2] : (samples[(count / 2) - 1] + samples[count / 2]) / 2;
        return TimeSpan.FromSeconds((double)ticks / Stopwatch.Frequency);
    }
}
