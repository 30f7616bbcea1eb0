using System.Numerics;
using NUnit.Framework;
using XnnKleidi.Cli.Bench;

namespace XnnKleidi.Cli.Tests;

/// <summary>The median's interval against the binomial distribution computed here with exact integers.</summary>
public class MedianConfidenceIntervalTests
{
    /// <summary>Σ C(n, i) for i ≤ j, exactly: 2ⁿ·P(B ≤ j) for B ~ Binomial(n, 1/2).</summary>
    private static BigInteger CountAtMost(int n, int j)
    {
        BigInteger sum = BigInteger.Zero, coefficient = BigInteger.One;
        for (int i = 0; i <= j; i++)
        {
            sum += coefficient;
            coefficient = coefficient * (n - i) / (i + 1);
        }

        return sum;
    }

    /// <summary>P(B ≤ j) to 18 digits, by integer division (2ⁿ overflows a double beyond n = 1023).</summary>
    private static double BinomialCdf(int n, int j) =>
        (double)(CountAtMost(n, j) * BigInteger.Pow(10, 18) / BigInteger.Pow(2, n)) / 1e18;

    /// <summary>The textbook rule, written out in integers: the largest k with P(B ≤ k − 1) ≤ 1/40.</summary>
    private static int ExpectedLowerRank(int n)
    {
        BigInteger all = BigInteger.Pow(2, n);
        int k = 0;
        while (k + 1 <= n / 2 && CountAtMost(n, k) * 40 <= all)
        {
            k++;
        }

        return k;
    }

    [Test]
    public void TenSamples_GiveTheSecondAndNinth_WithCoverage1002Over1024()
    {
        // P(B ≤ 1) = 11/1024 ≤ 0.025 < P(B ≤ 2) = 56/1024, so k = 2, coverage 1 − 22/1024.
        (int lower, int upper, double coverage) = MedianConfidenceInterval.Ranks(10, 0.95)!.Value;
        Assert.That((lower, upper), Is.EqualTo((2, 9)));
        Assert.That(coverage, Is.EqualTo(1 - (22.0 / 1024)).Within(1e-12));
    }

    [Test]
    public void HundredSamples_GiveTheFortiethAndSixtyFirst()
    {
        (int lower, int upper, double coverage) = MedianConfidenceInterval.Ranks(100, 0.95)!.Value;
        Assert.That((lower, upper), Is.EqualTo((40, 61)));
        Assert.That(coverage, Is.EqualTo(1 - (2 * BinomialCdf(100, 39))).Within(1e-12));
    }

    [TestCase(6)]
    [TestCase(17)]
    [TestCase(250)]
    [TestCase(1001)]
    [TestCase(2000)]
    public void Ranks_MatchTheExactBinomial(int n)
    {
        int expected = ExpectedLowerRank(n);
        (int lower, int upper, double coverage) = MedianConfidenceInterval.Ranks(n, 0.95)!.Value;
        Assert.That(lower, Is.EqualTo(expected));
        Assert.That(upper, Is.EqualTo(n + 1 - expected));
        Assert.That(coverage, Is.EqualTo(1 - (2 * BinomialCdf(n, expected - 1))).Within(1e-9));
        Assert.That(coverage, Is.GreaterThanOrEqualTo(0.95));
    }

    [Test]
    public void FiveSamples_AreTooFewFor95Percent() =>
        // 2 · 2⁻⁵ = 6.25 % > 5 %: even the extremes do not enclose the median with 95 %.
        Assert.That(MedianConfidenceInterval.Ranks(5, 0.95), Is.Null);

    [Test]
    public void Of_ShuffledOneToTen_IsTwoToNine()
    {
        double[] sorted = [.. new double[] { 7, 3, 10, 1, 5, 9, 2, 8, 4, 6 }.Order()];
        Assert.That(MedianConfidenceInterval.Of(sorted)!.Value.Low, Is.EqualTo(2));
        Assert.That(MedianConfidenceInterval.Of(sorted)!.Value.High, Is.EqualTo(9));
    }

    [Test]
    public void TightSamples_AreStable_AndWideOnesAreNot()
    {
        // 1000 samples evenly within 100 ± 0.5: the interval is a fraction of a percent wide.
        var tight = TimingStatistics.FromNanoseconds([.. Enumerable.Range(0, 1000).Select(i => 99.5 + (i / 1000.0))]);
        // 20 samples spread over 50..145: ranks 6 and 15 of 20 (P(B ≤ 5) = 2.07 %) lie far from the median.
        var wide = TimingStatistics.FromNanoseconds([.. Enumerable.Range(0, 20).Select(i => 50.0 + (5 * i))]);

        Assert.That(tight.IsStable, Is.True);
        Assert.That(tight.MedianLow, Is.GreaterThan(99.9).And.LessThan(100));
        Assert.That(wide.IsStable, Is.False);
        Assert.That((wide.MedianLow, wide.MedianHigh), Is.EqualTo((75.0, 120.0)));
    }

    [Test]
    public void TooFewSamples_AreUnstable() =>
        Assert.That(TimingStatistics.FromNanoseconds([1, 1, 1]).IsStable, Is.False);
}
