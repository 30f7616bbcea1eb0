using Perfolizer.Mathematics.Common;
using Perfolizer.Mathematics.QuantileEstimators;
using Pragmastat;

namespace XnnKleidi.Cli.Bench;

/// <summary>
/// Summary statistics of per-call times, in nanoseconds: quantiles from Perfolizer, and a distribution-free
/// confidence interval of the median (<see cref="MedianConfidenceInterval"/>).
/// </summary>
internal sealed record TimingStatistics(
    int Count, double Min, double P50, double P90, double P99, double Mean, double StandardDeviation)
{
    /// <summary>
    /// The widest the median's interval may be, either side of the median, as a fraction of it, for the case to be
    /// stable: 2 %, narrower than the differences the benchmark exists to tell apart (packing on and off differ by
    /// 5 to 25 % where it matters; a binding overhead target is 2 %).
    /// </summary>
    public const double StableHalfWidth = 0.02;

    /// <summary>The lower end of the median's confidence interval (NaN for too few samples).</summary>
    public double MedianLow { get; init; } = double.NaN;

    /// <summary>The upper end of the median's confidence interval (NaN for too few samples).</summary>
    public double MedianHigh { get; init; } = double.NaN;

    /// <summary>The exact coverage of [MedianLow, MedianHigh], at least <see cref="MedianConfidenceInterval.DefaultConfidence"/>.</summary>
    public double MedianConfidence { get; init; } = double.NaN;

    /// <summary>The larger distance from the median to an end of its interval, over the median (infinite without an interval).</summary>
    public double RelativeHalfWidth => double.IsNaN(MedianLow) || P50 <= 0
        ? double.PositiveInfinity
        : Math.Max(P50 - MedianLow, MedianHigh - P50) / P50;

    /// <summary>Whether the median is known to within <see cref="StableHalfWidth"/>.</summary>
    public bool IsStable => RelativeHalfWidth <= StableHalfWidth;

    public static TimingStatistics FromNanoseconds(IReadOnlyList<double> nanoseconds)
    {
        ArgumentNullException.ThrowIfNull(nanoseconds);
        if (nanoseconds.Count == 0)
        {
            throw new ArgumentException("no samples", nameof(nanoseconds));
        }

        var sample = new Sample([.. nanoseconds]);
        // Hyndman-Fan type 7, the estimator most tools use; with thousands of samples the
        // choice of estimator matters less than the noise of the machine.
        IQuantileEstimator estimator = SimpleQuantileEstimator.Instance;
        double Quantile(double p) => estimator.Quantile(sample, Probability.Of(p)).NominalValue;
        var moments = Moments.Create(nanoseconds);
        double[] sorted = [.. nanoseconds];
        Array.Sort(sorted);
        (double Low, double High, double Coverage)? interval = MedianConfidenceInterval.Of(sorted);
        return new TimingStatistics(
            nanoseconds.Count,
            sample.Min().NominalValue,
            Quantile(0.50),
            Quantile(0.90),
            Quantile(0.99),
            moments.Mean,
            nanoseconds.Count > 1 ? moments.StandardDeviation : 0.0)
        {
            MedianLow = interval?.Low ?? double.NaN,
            MedianHigh = interval?.High ?? double.NaN,
            MedianConfidence = interval?.Coverage ?? double.NaN,
        };
    }
}
