using XnnKleidi.Cli.Bench;

namespace XnnKleidi.Cli.Model;

/// <summary>
/// The median of a sample and a distribution-free confidence interval for it, from order statistics: with n
/// independent samples, the number below the true median is Binomial(n, 1/2), so [x₍ₖ₎, x₍ₙ₊₁₋ₖ₎] covers it with
/// probability 1 − 2·P(B &lt; k). k is the largest rank for which that probability is at least the confidence asked
/// for; the coverage reached is reported too, since it moves in steps. No assumption on the shape of the timing
/// distribution, which for whole forward passes on a shared machine is anything but normal.
/// </summary>
/// <param name="Median">The sample median (the mean of the two middle values for an even count).</param>
/// <param name="Low">The interval's lower end; equal to the sample minimum when the sample is too small.</param>
/// <param name="High">The interval's upper end.</param>
/// <param name="Coverage">The interval's exact coverage, at least the confidence asked for unless the sample is too
/// small to reach it (then the widest interval, min to max).</param>
/// <param name="Count">The number of samples.</param>
internal sealed record MedianInterval(double Median, double Low, double High, double Coverage, int Count)
{
    public const double DefaultConfidence = MedianConfidenceInterval.DefaultConfidence;

    public static MedianInterval Of(IReadOnlyList<double> samples, double confidence = DefaultConfidence)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count == 0)
        {
            throw new ArgumentException("no samples", nameof(samples));
        }

        double[] sorted = [.. samples];
        Array.Sort(sorted);
        int n = sorted.Length;
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[(n / 2) - 1] + sorted[n / 2]) / 2.0;

        // The ranks are the benchmark's own (one binomial computation for the whole CLI); with too few samples
        // for the confidence asked, min to max, whose coverage is 1 − 2·(1/2)ⁿ.
        if (MedianConfidenceInterval.Ranks(n, confidence) is not { } ranks)
        {
            return new MedianInterval(median, sorted[0], sorted[n - 1], 1.0 - (2.0 * Math.Pow(0.5, n)), n);
        }

        return new MedianInterval(median, sorted[ranks.Lower - 1], sorted[ranks.Upper - 1], ranks.Coverage, n);
    }
}
