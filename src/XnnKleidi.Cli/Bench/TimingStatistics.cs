using Perfolizer.Mathematics.Common;
using Perfolizer.Mathematics.QuantileEstimators;
using Pragmastat;

namespace XnnKleidi.Cli.Bench;

/// <summary>Summary statistics of per-call times, in nanoseconds, computed with Perfolizer.</summary>
internal sealed record TimingStatistics(
    int Count, double Min, double P50, double P90, double P99, double Mean, double StandardDeviation)
{
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
        return new TimingStatistics(
            nanoseconds.Count,
            sample.Min().NominalValue,
            Quantile(0.50),
            Quantile(0.90),
            Quantile(0.99),
            moments.Mean,
            nanoseconds.Count > 1 ? moments.StandardDeviation : 0.0);
    }
}
