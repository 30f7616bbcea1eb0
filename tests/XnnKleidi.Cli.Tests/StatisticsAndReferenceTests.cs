using NUnit.Framework;
using XnnKleidi.Cli.Bench;
using XnnKleidi.Oracle;

namespace XnnKleidi.Cli.Tests;

public class StatisticsAndReferenceTests
{
    [Test]
    public void Statistics_OfOneToHundred_AreTheTextbookValues()
    {
        var s = TimingStatistics.FromNanoseconds([.. Enumerable.Range(1, 100).Select(i => (double)i)]);
        Assert.That(s.Min, Is.EqualTo(1));
        // Hyndman-Fan type 7: h = (n - 1) p + 1.
        Assert.That(s.P50, Is.EqualTo(50.5).Within(1e-9));
        Assert.That(s.P90, Is.EqualTo(90.1).Within(1e-9));
        Assert.That(s.P99, Is.EqualTo(99.01).Within(1e-9));
        Assert.That(s.Mean, Is.EqualTo(50.5).Within(1e-9));
        Assert.That(s.StandardDeviation, Is.EqualTo(29.011491975882016).Within(1e-9));
    }

    [Test]
    public void Reference_AcceptsTheExactOutput_AndRejectsOneOffByTwiceTheBound()
    {
        var data = new BenchData(WeightScheme.Qc8w, 3, 40, 5, 32, 3);
        var reference = new LayerReference(data);
        float[] output = new float[3 * 5];
        for (int m = 0; m < 3; m++)
        {
            for (int n = 0; n < 5; n++)
            {
                output[m * 5 + n] = (float)reference.Expected(m, n);
            }
        }
        Assert.That(reference.Check(output, ActivationQuantization.PerRow).Passed, Is.True);
        output[7] += (float)(2 * reference.Tolerance(1, 2, ActivationQuantization.PerRow));
        var result = reference.Check(output, ActivationQuantization.PerRow);
        Assert.That(result.Passed, Is.False);
        Assert.That(result.Failure, Does.Contain("output[1][2]"));
    }

    [Test]
    public void Reference_ExpectedValue_IsTheDotProductOfTheDequantizedWeightsPlusBias()
    {
        var data = new BenchData(WeightScheme.Qc8w, 2, 3, 2, 32, 7);
        var reference = new LayerReference(data);
        // Row 1, channel 0: x = (1.7079258, -1.80263543, 1.42313409), w = (123, 121, 8) * 0.0127513595, bias -0.278029799.
        double expected = ((1.7079258f * 123.0) + (-1.80263543f * 121.0) + (1.42313409f * 8.0)) * 0.0127513595f + -0.278029799f;
        Assert.That(reference.Expected(1, 0), Is.EqualTo(expected).Within(1e-12));
    }
}
