using System.Globalization;

namespace XnnKleidi.Cli.Bench;

/// <summary>
/// The run's own noise floor at one thread count, from pairs of runners that executed identical runtimes (an A/A
/// test): the largest relative difference between their p50s.
/// </summary>
/// <param name="Threads">The thread count the pairs ran on.</param>
/// <param name="Floor">max |p50 a / p50 b − 1| over the pairs: a ratio closer to 1 than this is the machine's, not the code's.</param>
/// <param name="Pairs">How many identical pairs the floor rests on.</param>
/// <param name="Widest">The pair that set the floor, e.g. "1x768x1000 qc8w on/off".</param>
internal sealed record NoiseFloor(int Threads, double Floor, int Pairs, string Widest);

/// <summary>
/// What the run can tell about its own noise, and the cases it must not trust.
/// <list type="bullet">
/// <item><b>Identical pairs.</b> Where packing is unavailable (every layer on x86-64, or a CPU without KleidiAI's
/// kernels), "off" and "on" build the very same QD8 runtime; their p50 ratio is pure noise. The widest such ratio per
/// thread count is the run's noise floor, and every on/off or auto/off ratio that does not clear it is flagged.</item>
/// <item><b>A stolen core.</b> A layer that runs no faster on several threads than on one, where one thread takes long
/// enough to split, ran while another process held a core: its medians can be tight and still describe the machine,
/// not the library. Such a case is flagged, and no target or ratio counts on it.</item>
/// </list>
/// </summary>
internal static class RunNoise
{
    /// <summary>Below this one-thread p50 a layer may legitimately not split across threads (a few tiles of work).</summary>
    public const double MinSplittableMicroseconds = 100.0;

    /// <summary>
    /// Several threads must beat one by at least this factor on a splittable layer; XNNPACK splits a GEMM's output tiles
    /// across the pool, so a layer of 100 µs or more on one thread gets well below 0.95 of it on two idle cores.
    /// </summary>
    public const double MaxScaledRatio = 0.95;

    /// <summary>Flags stolen cores and ratios inside the noise floor, and returns the floors, one per thread count.</summary>
    public static IReadOnlyList<NoiseFloor> Assess(BenchReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        FlagStolenCores(report);
        var floors = new List<NoiseFloor>();
        foreach (var byThreads in IdenticalPairs(report).GroupBy(pair => pair.Threads).OrderBy(group => group.Key))
        {
            var widest = byThreads.MaxBy(pair => pair.Deviation)!;
            floors.Add(new NoiseFloor(byThreads.Key, widest.Deviation, byThreads.Count(), widest.What));
        }

        foreach (CaseResult c in report.Cases.Where(c => c.Backend == Backend.XnnKleidi && c.Packing is ActivationPacking.On or ActivationPacking.Auto))
        {
            CaseResult? off = report.Cases.FirstOrDefault(o => o.Backend == c.Backend && o.Packing == ActivationPacking.Off && SameCase(o, c));
            if (off?.Statistics is not { P50: > 0 } offTime || c.Statistics is not { P50: > 0 } time
                || floors.FirstOrDefault(f => f.Threads == c.Threads) is not { } floor)
            {
                continue;
            }

            double ratio = time.P50 / offTime.P50;
            if (Math.Abs(ratio - 1) <= floor.Floor)
            {
                c.WithinNoiseFloor = string.Create(CultureInfo.InvariantCulture,
                    $"{c.PackingName}/off {ratio:0.00} is within the run's noise floor of ±{100 * floor.Floor:0.0} % at {c.Threads} thread(s)");
            }
        }

        return floors;
    }

    /// <summary>Off and on (or auto) of one layer when neither packed: the same runtime twice.</summary>
    private static IEnumerable<(int Threads, double Deviation, string What)> IdenticalPairs(BenchReport report)
    {
        foreach (CaseResult other in report.Cases.Where(c => c.Backend is Backend.XnnKleidi or Backend.Native
                     && c.Packing is ActivationPacking.On or ActivationPacking.Auto && c.PackingActive == false && c.CoreStolen == null))
        {
            CaseResult? off = report.Cases.FirstOrDefault(o => o.Backend == other.Backend && o.Packing == ActivationPacking.Off
                && SameCase(o, other) && o.PackingActive != true && o.CoreStolen == null);
            if (off?.Statistics is { P50: > 0 } offTime && other.Statistics is { P50: > 0 } time
                && off.Check is not { Passed: false } && other.Check is not { Passed: false })
            {
                string what = string.Create(CultureInfo.InvariantCulture,
                    $"{other.Shape.ShapeText} {other.Scheme.ToString().ToLowerInvariant()} {other.PackingName}/off ({other.BackendName})");
                yield return (other.Threads, Math.Abs((time.P50 / offTime.P50) - 1), what);
            }
        }
    }

    /// <summary>
    /// A case during whose timing the benchmark's threads waited for a CPU (the kernel's run-queue counter, where the
    /// system has one), or one on several threads no faster than the same case on one, where one thread has enough
    /// work to split (the sign that remains where there is no counter).
    /// </summary>
    private static void FlagStolenCores(BenchReport report)
    {
        foreach (CaseResult c in report.Cases.Where(c => c.Statistics is { P50: > 0 } && RunQueueWait.IsContended(c.WaitingThreads)))
        {
            c.CoreStolen = string.Create(CultureInfo.InvariantCulture,
                $"{c.WaitingThreads:0.##} of the benchmark's threads waited for a CPU on average while it was timed: something else held a core");
        }

        foreach (CaseResult c in report.Cases.Where(c => c.Threads > 1 && c.Statistics is { P50: > 0 } && c.CoreStolen == null))
        {
            CaseResult? single = report.Cases.FirstOrDefault(o => o.Threads == 1 && o.Backend == c.Backend && o.Packing == c.Packing
                && o.Shape == c.Shape && o.Scheme == c.Scheme && o.KernelFamilyCap == c.KernelFamilyCap);
            if (single?.Statistics is not { P50: > 0 } one || one.P50 / 1000.0 < MinSplittableMicroseconds)
            {
                continue;
            }

            double ratio = c.Statistics!.P50 / one.P50;
            if (ratio > MaxScaledRatio)
            {
                c.CoreStolen = string.Create(CultureInfo.InvariantCulture,
                    $"{c.Threads} threads took {ratio:0.00} of one thread's p50 ({c.Statistics.P50 / 1000.0:0.#} against {one.P50 / 1000.0:0.#} µs): another process probably held a core");
            }
        }
    }

    private static bool SameCase(CaseResult a, CaseResult b) =>
        a.Shape == b.Shape && a.Scheme == b.Scheme && a.Threads == b.Threads && a.KernelFamilyCap == b.KernelFamilyCap;
}
