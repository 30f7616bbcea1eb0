namespace XnnKleidi.Internal;

/// <summary>The choice of <see cref="ActivationPacking.Auto"/> at one tuned batch size, and the words that explain it.</summary>
internal sealed record BatchChoice(int Batch, bool UsePacked, string Reason, ActivationPackingTiming Timing);

/// <summary>
/// The rules that turn paired timings into decisions. They see only numbers, never a clock, so the tests give them the
/// timings they need.
/// </summary>
internal static class PackingDecisions
{
    // The normal approximation of the binomial that places the order statistics of a median's 95 % interval.
    private const double HalfWidthFactor = 1.96 / 2;

    /// <summary>
    /// The verdict of one batch size from <paramref name="packed"/> and <paramref name="unpacked"/>, two series of run
    /// times (any unit, the same for both) where element i of each was run back to back. A variant wins only when the
    /// 95 % interval of the median ratio excludes 1 and the median ratio is at least
    /// <see cref="ActivationPackingTiming.MinimumRelativeDifference"/> away from 1; anything less is noise.
    /// </summary>
    public static ActivationPackingTiming Evaluate(int batch, ReadOnlySpan<double> packed, ReadOnlySpan<double> unpacked, double secondsPerUnit, TimeSpan totalTime)
    {
        if (packed.Length != unpacked.Length || packed.Length == 0)
        {
            throw new ArgumentException("Both variants need the same, non-zero number of timed runs.", nameof(packed));
        }

        int count = packed.Length;
        var ratios = new double[count];
        for (int i = 0; i < count; i++)
        {
            ratios[i] = packed[i] / unpacked[i];
        }

        Array.Sort(ratios);
        double ratio = Median(ratios);
        (double low, double high) = MedianInterval(ratios);
        AutoTuningVerdict verdict = AutoTuningVerdict.WithinNoise;
        if (count >= ActivationPackingTiming.MinimumPairs)
        {
            if (high < 1 && ratio <= 1 - ActivationPackingTiming.MinimumRelativeDifference)
            {
                verdict = AutoTuningVerdict.PackedFaster;
            }
            else if (low > 1 && ratio >= 1 + ActivationPackingTiming.MinimumRelativeDifference)
            {
                verdict = AutoTuningVerdict.UnpackedFaster;
            }
        }

        return new ActivationPackingTiming(
            batch,
            TimeSpan.FromSeconds(MedianOf(packed) * secondsPerUnit),
            TimeSpan.FromSeconds(MedianOf(unpacked) * secondsPerUnit),
            count,
            count,
            totalTime)
        {
            Ratio = ratio,
            RatioLow = low,
            RatioHigh = high,
            Verdict = verdict,
        };
    }

    /// <summary>
    /// One choice per timing, in ascending batch order. A batch size with a verdict takes the faster variant. One
    /// within the noise follows the nearest smaller batch size that has a verdict, else the nearest larger one, so that
    /// noise never makes the layer keep a second runtime; with no verdict anywhere it takes QD8, which has no packing
    /// step. With <paramref name="singleVariantBatch"/>, every batch size takes the choice made for that one
    /// (mapped to a tuned batch size as <see cref="BatchPlan"/> maps a run's batch).
    /// </summary>
    public static IReadOnlyList<BatchChoice> Choose(IEnumerable<ActivationPackingTiming> timings, int? singleVariantBatch)
    {
        ActivationPackingTiming[] sorted = [.. timings.OrderBy(timing => timing.Batch)];
        if (sorted.Length == 0)
        {
            throw new ArgumentException("Auto needs at least one tuned batch size.", nameof(timings));
        }

        var choices = new BatchChoice[sorted.Length];
        for (int i = 0; i < sorted.Length; i++)
        {
            choices[i] = ChooseOne(sorted, i);
        }

        if (singleVariantBatch is int single)
        {
            BatchChoice governing = choices[BatchPlan.IndexFor(choices.Select(choice => choice.Batch).ToArray(), single)];
            for (int i = 0; i < choices.Length; i++)
            {
                choices[i] = choices[i] with
                {
                    UsePacked = governing.UsePacked,
                    Reason = $"{VariantName(governing.UsePacked)} for every batch size, as AutoTuningSingleVariantBatch = {single} asks: " +
                             $"the choice at batch {governing.Batch}. At batch {choices[i].Batch} on its own: {choices[i].Reason}",
                };
            }
        }

        return choices;
    }

    public static string VariantName(bool packed) => packed ? "QP8" : "QD8";

    private static BatchChoice ChooseOne(ActivationPackingTiming[] sorted, int index)
    {
        ActivationPackingTiming timing = sorted[index];
        string evidence = Describe(timing);
        // Fewer pairs than the rule needs is not a tie in the timings but a lack of them: say which.
        string undecided = timing.PackedRuns < ActivationPackingTiming.MinimumPairs
            ? $"too few timed pairs to tell the variants apart ({timing.PackedRuns} of the {ActivationPackingTiming.MinimumPairs} needed)"
            : "the variants are within the noise";
        switch (timing.Verdict)
        {
            case AutoTuningVerdict.PackedFaster:
                return new BatchChoice(timing.Batch, true, $"Auto chose QP8 at batch {timing.Batch}: it ran faster beyond the noise ({evidence})", timing);
            case AutoTuningVerdict.UnpackedFaster:
                return new BatchChoice(timing.Batch, false, $"Auto chose QD8 at batch {timing.Batch}: it ran faster beyond the noise ({evidence})", timing);
        }

        int neighbour = -1;
        for (int i = index - 1; i >= 0 && neighbour < 0; i--)
        {
            neighbour = sorted[i].Verdict == AutoTuningVerdict.WithinNoise ? -1 : i;
        }

        for (int i = index + 1; i < sorted.Length && neighbour < 0; i++)
        {
            neighbour = sorted[i].Verdict == AutoTuningVerdict.WithinNoise ? -1 : i;
        }

        if (neighbour < 0)
        {
            return new BatchChoice(
                timing.Batch,
                false,
                $"Auto chose QD8 at batch {timing.Batch}: {undecided} here and at every other tuned batch size ({evidence}), and QD8 needs no packing step",
                timing);
        }

        bool packed = sorted[neighbour].Verdict == AutoTuningVerdict.PackedFaster;
        return new BatchChoice(
            timing.Batch,
            packed,
            $"Auto chose {VariantName(packed)} at batch {timing.Batch}: {undecided} there ({evidence}), so it follows batch {sorted[neighbour].Batch}",
            timing);
    }

    private static string Describe(ActivationPackingTiming timing) =>
        $"QP8 {timing.PackedTime.TotalMicroseconds:0.###} µs, QD8 {timing.UnpackedTime.TotalMicroseconds:0.###} µs, " +
        $"ratio {timing.Ratio:0.###} in [{timing.RatioLow:0.###}, {timing.RatioHigh:0.###}] over {timing.PackedRuns} pairs" +
        (timing.IsFromCache ? ", from the tuning cache" : string.Empty) +
        (timing.IsCpuContended
            ? $"; something else held a core while it was timed ({RunQueueWait.Describe(timing.WaitingThreads!.Value)}), so no tuning cache keeps it"
            : string.Empty);

    private static double MedianOf(ReadOnlySpan<double> values)
    {
        double[] sorted = values.ToArray();
        Array.Sort(sorted);
        return Median(sorted);
    }

    private static double Median(double[] sorted)
    {
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[(n / 2) - 1] + sorted[n / 2]) / 2;
    }

    /// <summary>
    /// The distribution-free 95 % interval of the median: the order statistics at ranks n/2 ∓ 0.98·√n (1-based,
    /// rounded outwards). Below eight samples the lower rank falls under 1, so the whole range is returned instead.
    /// </summary>
    private static (double Low, double High) MedianInterval(double[] sorted)
    {
        int n = sorted.Length;
        double halfWidth = HalfWidthFactor * Math.Sqrt(n);
        int lowRank = (int)Math.Floor((n / 2.0) - halfWidth);
        int highRank = (int)Math.Ceiling(1 + (n / 2.0) + halfWidth);
        if (lowRank < 1 || highRank > n)
        {
            return (sorted[0], sorted[n - 1]);
        }

        return (sorted[lowRank - 1], sorted[highRank - 1]);
    }
}
