using NUnit.Framework;
using XnnKleidi.Cli.Bench;
using XnnKleidi.Oracle;

namespace XnnKleidi.Cli.Tests;

public class BenchDataTests
{
    // Values printed by the C generator of native/bench/bench-harness.c (compiled with
    // -ffp-contract=off) for seed 7: the two sides must agree bit for bit.
    [Test]
    public void Generator_MatchesTheCHarness()
    {
        var data = new BenchData(WeightScheme.Qc8w, 2, 3, 2, 32, 7);
        Assert.That(data.Input, Is.EqualTo(new[] { -1.04487681f, 1.65397286f, 0.449966431f, 1.7079258f, -1.80263543f, 1.42313409f }));
        Assert.That(data.Bias, Is.EqualTo(new[] { -0.278029799f, -0.893787384f }));
        Assert.That(data.ChannelScales, Is.EqualTo(new[] { 0.0127513595f, 0.0280743018f }));
        Assert.That(data.Qc8wWeights, Is.EqualTo(new sbyte[] { 123, 121, 8, 12, 27, 71 }));
    }

    [Test]
    public void Nibbles_AreDequantizedWithZeroPoint8_LowNibbleFirst()
    {
        var data = new BenchData(WeightScheme.Qc4w, 1, 4, 1, 32, 1);
        byte b = data.Nibbles[0];
        // The reference judges the weights the layer is given: the generated nibbles, decoded by the oracle.
        double[] dequantized = Reference.Dequantize(data.CreateWeights());
        Assert.That(dequantized[0], Is.EqualTo(((b & 0xF) - 8) * (double)data.ChannelScales[0]));
        Assert.That(dequantized[1], Is.EqualTo(((b >> 4) - 8) * (double)data.ChannelScales[0]));
    }

    [Test]
    public void Qb4w_WithKNotAMultipleOfTheBlock_IsUnsupportedWithAReason()
    {
        Assert.That(BenchData.Unsupported(WeightScheme.Qb4w, 80, 32), Does.Contain("multiple of the block size"));
        Assert.That(BenchData.Unsupported(WeightScheme.Qb4w, 96, 32), Is.Null);
    }
}
