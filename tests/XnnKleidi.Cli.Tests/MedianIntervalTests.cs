using NUnit.Framework;
using XnnKleidi.Cli.Model;

namespace XnnKleidi.Cli.Tests;

/// <summary>The distribution-free interval of the median against the binomial tables' ranks.</summary>
public class MedianIntervalTests
{
    private static double[] OneTo(int n) => [.. Enumerable.Range(1, n).Select(i => (double)i).Reverse()];

    [Test]
    public void TenSamples_GiveTheSecondAndNinthValue()
    {
        // 1 − 2·P(B ≤ 1) for B ~ Binomial(10, 1/2) = 1 − 2·11/1024; rank 3 would cover only 1 − 2·56/1024 = 0.89.
        MedianInterval interval = MedianInterval.Of(OneTo(10));

        Assert.That(interval.Median, Is.EqualTo(5.5));
        Assert.That((interval.Low, interval.High), Is.EqualTo((2.0, 9.0)));
        Assert.That(interval.Coverage, Is.EqualTo(1 - (2 * 11 / 1024.0)).Within(1e-12));
    }

    [Test]
    public void HundredSamples_GiveTheFortiethAndSixtyFirstValue()
    {
        // The classical table: for n = 100 the 95 % interval of the median is [x(40), x(61)], coverage 0.9648.
        MedianInterval interval = MedianInterval.Of(OneTo(100));

        Assert.That((interval.Low, interval.High), Is.EqualTo((40.0, 61.0)));
        Assert.That(interval.Coverage, Is.EqualTo(0.9648).Within(0.0001));
    }

    [Test]
    public void TooFewSamples_GiveMinToMaxWithTheCoverageReached()
    {
        MedianInterval interval = MedianInterval.Of([3.0, 1.0, 2.0, 5.0, 4.0]);

        Assert.That((interval.Median, interval.Low, interval.High), Is.EqualTo((3.0, 1.0, 5.0)));
        Assert.That(interval.Coverage, Is.EqualTo(1 - (2 / 32.0)).Within(1e-12), "five samples cannot reach 95 %");
    }
}
