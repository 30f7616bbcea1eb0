using System.Globalization;

namespace XnnKleidi.Cli.Bench;

/// <summary>What packing did at one batch size of a sweep, judged from both medians' confidence intervals.</summary>
internal enum PackingVerdict
{
    /// <summary>Packed is faster: its interval lies wholly below the unpacked one.</summary>
    Pays,

    /// <summary>Packed is slower: its interval lies wholly above the unpacked one.</summary>
    Loses,

    /// <summary>The intervals overlap: this run cannot tell the two apart.</summary>
    WithinNoise,

    /// <summary>A median is unstable, a check failed or the CPU is emulated: the ratio does not count.</summary>
    NotCounted,

    /// <summary>The layer could not pack here (x86-64, or an Arm CPU without the kernels): the reason is given.</summary>
    Unavailable,
}

/// <summary>One batch size of a sweep: the on/off ratio of the p50s and what it means.</summary>
internal sealed record CrossoverPoint(int M, double? OnOffRatio, PackingVerdict Verdict, string? Why);

/// <summary>
/// Packed against unpacked over the batch sizes of one swept layer (`bench --sweep KxN`), for one scheme, thread count
/// and kernel-family cap, and the batch size from which packing pays.
/// </summary>
internal sealed record PackingCrossover(
    int K, int N, WeightScheme Scheme, int Threads, ArmKernelFamily? KernelFamilyCap, IReadOnlyList<CrossoverPoint> Points)
{
    /// <summary>The model name of the shapes a sweep makes.</summary>
    public const string SweepModel = "sweep";

    /// <summary>The default largest batch size of a sweep.</summary>
    public const int DefaultMaxBatch = 256;

    /// <summary>
    /// The smallest swept batch size from which packing pays at that size and every larger one; null when no such size
    /// exists. One batch size that cannot be decided (noise, or not counted) breaks the run, so a crossover is never
    /// claimed across a gap of evidence.
    /// </summary>
    public int? PaysFromBatch
    {
        get
        {
            int? from = null;
            foreach (CrossoverPoint point in Points)
            {
                from = point.Verdict == PackingVerdict.Pays ? from ?? point.M : null;
            }

            return from;
        }
    }

    /// <summary>One line for the table and the JSON: where packing starts to pay, or why no such batch size was found.</summary>
    public string Summary
    {
        get
        {
            if (Points.All(point => point.Verdict == PackingVerdict.Unavailable))
            {
                return $"packing is unavailable: {Points[0].Why}";
            }

            if (PaysFromBatch is int from)
            {
                return from == Points[0].M
                    ? string.Create(CultureInfo.InvariantCulture, $"packing pays at every swept batch size (M = {from} to {Points[^1].M})")
                    : string.Create(CultureInfo.InvariantCulture, $"packing pays from M = {from} on (swept up to {Points[^1].M})");
            }

            int notCounted = Points.Count(point => point.Verdict == PackingVerdict.NotCounted);
            return notCounted > 0
                ? $"not decided: {notCounted} of {Points.Count} batch sizes do not count ({Points.First(point => point.Verdict == PackingVerdict.NotCounted).Why})"
                : string.Create(CultureInfo.InvariantCulture, $"packing does not pay up to M = {Points[^1].M}");
        }
    }

    /// <summary>The batch sizes of a sweep: 1, 2, 4, … up to <paramref name="maxBatch"/> (included when not a power of two).</summary>
    public static IReadOnlyList<int> Batches(int maxBatch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        var batches = new List<int>();
        for (int m = 1; m < maxBatch; m *= 2)
        {
            batches.Add(m);
        }

        batches.Add(maxBatch);
        return batches;
    }

    /// <summary>"KxN" as K inputs and N outputs, or null with <paramref name="error"/> saying what is wrong.</summary>
    public static (int K, int N)? ParseLayer(string text, out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Trim().Split(['x', 'X', '*']);
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int k) || k <= 0
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n <= 0)
        {
            error = $"malformed layer '{text}': expected KxN with positive integers, e.g. 2048x8192";
            return null;
        }

        if ((long)k * n > 1L << 28)
        {
            error = $"layer '{text}' is too large for a micro-benchmark (K*N must stay below 2^28)";
            return null;
        }

        error = null;
        return (k, n);
    }

    /// <summary>The shapes of a sweep of a K × N layer.</summary>
    public static IEnumerable<LayerShape> Shapes(int k, int n, int maxBatch) =>
        Batches(maxBatch).Select(m => new LayerShape(SweepModel, string.Create(CultureInfo.InvariantCulture, $"{k}x{n}"), m, k, n));

    /// <summary>Every swept layer's crossover, from the managed cases with packing off and on of <paramref name="report"/>.</summary>
    public static IReadOnlyList<PackingCrossover> Find(BenchReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        bool emulated = report.Host.EmulationReason != null;
        var managed = report.Cases
            .Where(c => c.Backend == Backend.XnnKleidi && c.Shape.Model == SweepModel && c.Packing is ActivationPacking.Off or ActivationPacking.On)
            .ToList();
        var crossovers = new List<PackingCrossover>();
        foreach (var group in managed.GroupBy(c => (c.Shape.K, c.Shape.N, c.Scheme, c.Threads, c.KernelFamilyCap)))
        {
            var points = new List<CrossoverPoint>();
            foreach (var batch in group.GroupBy(c => c.Shape.M).OrderBy(b => b.Key))
            {
                CaseResult? off = batch.FirstOrDefault(c => c.Packing == ActivationPacking.Off);
                CaseResult? on = batch.FirstOrDefault(c => c.Packing == ActivationPacking.On);
                if (off != null && on != null)
                {
                    points.Add(Judge(batch.Key, off, on, emulated));
                }
            }

            if (points.Count > 0)
            {
                crossovers.Add(new PackingCrossover(group.Key.K, group.Key.N, group.Key.Scheme, group.Key.Threads, group.Key.KernelFamilyCap, points));
            }
        }

        return crossovers;
    }

    private static CrossoverPoint Judge(int m, CaseResult off, CaseResult on, bool emulated)
    {
        double? ratio = on.Statistics is { P50: > 0 } onStatistics && off.Statistics is { P50: > 0 } offStatistics
            ? onStatistics.P50 / offStatistics.P50
            : null;
        if (on.PackingActive == false)
        {
            return new(m, ratio, PackingVerdict.Unavailable, on.FallbackReason ?? "the layer did not pack");
        }

        string? why = off.Error ?? on.Error
            ?? (off.Check is { Passed: false } || on.Check is { Passed: false } ? "an output failed its check" : null)
            ?? (emulated ? "the CPU is emulated, so timings mean nothing" : null)
            ?? (off.Unstable || on.Unstable ? "unstable median" : null)
            ?? off.CoreStolen ?? on.CoreStolen
            ?? (off.Statistics == null || on.Statistics == null ? "not timed" : null);
        if (why != null)
        {
            return new(m, ratio, PackingVerdict.NotCounted, why);
        }

        TimingStatistics offTime = off.Statistics!, onTime = on.Statistics!;
        if (on.WithinNoiseFloor != null)
        {
            return new(m, ratio, PackingVerdict.WithinNoise, on.WithinNoiseFloor);
        }

        PackingVerdict verdict = onTime.MedianHigh < offTime.MedianLow ? PackingVerdict.Pays
            : onTime.MedianLow > offTime.MedianHigh ? PackingVerdict.Loses
            : PackingVerdict.WithinNoise;
        return new(m, ratio, verdict, verdict == PackingVerdict.WithinNoise ? "the 95 % intervals of the medians overlap" : null);
    }
}
