using NUnit.Framework;
using XnnKleidi.Internal;

namespace XnnKleidi.Tests.AutoTuning;

/// <summary>
/// The rules of per-batch Auto, fed with made-up paired timings: the decisions never rest on a clock, so they hold on
/// any machine and under emulation alike.
/// </summary>
[TestFixture]
public sealed class AutoTuningDecisionTests
{
    private const int Pairs = 40;

    [Test]
    public void Evaluate_ClearlyFasterPacked_IsPackedFasterWithTheMediansOfEachSeries()
    {
        // Unpacked runs take 100..139 ms, packed ones 70 % of their partner: medians 119.5 and 83.65 ms.
        double[] unpacked = [.. Enumerable.Range(100, Pairs).Select(i => (double)i)];
        double[] packed = [.. unpacked.Select(value => value * 0.7)];

        ActivationPackingTiming timing = PackingDecisions.Evaluate(16, packed, unpacked, 1e-3, TimeSpan.FromMilliseconds(3));

        Assert.Multiple(() =>
        {
            Assert.That(timing.Verdict, Is.EqualTo(AutoTuningVerdict.PackedFaster));
            Assert.That(timing.Batch, Is.EqualTo(16));
            Assert.That(timing.UnpackedTime.TotalMilliseconds, Is.EqualTo(119.5).Within(1e-6));
            Assert.That(timing.PackedTime.TotalMilliseconds, Is.EqualTo(83.65).Within(1e-6));
            Assert.That(timing.Ratio, Is.EqualTo(0.7).Within(1e-12));
            Assert.That(timing.PackedRuns, Is.EqualTo(Pairs));
        });
    }

    [Test]
    public void Evaluate_RatiosScatteredAroundOne_IsWithinNoise()
    {
        // Half the pairs favour packing by 10 %, half the other way: the interval of the median ratio holds 1.
        ActivationPackingTiming timing = Evaluate(1, index => index % 2 == 0 ? 0.9 : 1.1);

        Assert.Multiple(() =>
        {
            Assert.That(timing.Verdict, Is.EqualTo(AutoTuningVerdict.WithinNoise));
            Assert.That(timing.RatioLow, Is.LessThan(1));
            Assert.That(timing.RatioHigh, Is.GreaterThan(1));
        });
    }

    [Test]
    public void Evaluate_TightButTinyDifference_IsWithinNoise()
    {
        // Every pair says 1 % faster packed: the interval excludes 1, but 1 % is below the 2 % that counts.
        ActivationPackingTiming timing = Evaluate(4, _ => 0.99);

        Assert.Multiple(() =>
        {
            Assert.That(timing.RatioHigh, Is.LessThan(1));
            Assert.That(timing.Verdict, Is.EqualTo(AutoTuningVerdict.WithinNoise));
        });
    }

    [Test]
    public void Evaluate_FewerPairsThanTheMinimum_IsWithinNoiseHoweverLargeTheGap()
    {
        ActivationPackingTiming timing = PackingDecisions.Evaluate(
            1, Enumerable.Repeat(50.0, ActivationPackingTiming.MinimumPairs - 1).ToArray(),
            Enumerable.Repeat(100.0, ActivationPackingTiming.MinimumPairs - 1).ToArray(), 1e-6, TimeSpan.Zero);

        Assert.That(timing.Verdict, Is.EqualTo(AutoTuningVerdict.WithinNoise));
    }

    [Test]
    public void Evaluate_OneOutlyingPair_DoesNotOverturnAClearVerdict()
    {
        // One preempted packed run ten times slower than its partner: a median ignores it, a mean would not.
        ActivationPackingTiming timing = Evaluate(64, index => index == 3 ? 10.0 : 0.8);

        Assert.That(timing.Verdict, Is.EqualTo(AutoTuningVerdict.PackedFaster));
    }

    [Test]
    public void Choose_ClearCrossover_QD8BelowAndQP8FromTheCrossover()
    {
        IReadOnlyList<BatchChoice> choices = PackingDecisions.Choose(
            [Evaluate(1, _ => 1.3), Evaluate(4, _ => 1.15), Evaluate(16, _ => 0.8), Evaluate(64, _ => 0.7), Evaluate(256, _ => 0.6)], null);

        Assert.Multiple(() =>
        {
            Assert.That(choices.Select(choice => choice.UsePacked), Is.EqualTo(new[] { false, false, true, true, true }));
            Assert.That(choices[0].Reason, Does.StartWith("Auto chose QD8 at batch 1: it ran faster beyond the noise"));
            Assert.That(choices[2].Reason, Does.StartWith("Auto chose QP8 at batch 16: it ran faster beyond the noise"));
        });
    }

    [Test]
    public void Choose_TimingsInAnyOrder_ComeBackInAscendingBatchOrder()
    {
        IReadOnlyList<BatchChoice> choices = PackingDecisions.Choose([Evaluate(64, _ => 0.7), Evaluate(1, _ => 1.3), Evaluate(16, _ => 0.8)], null);

        Assert.That(choices.Select(choice => choice.Batch), Is.EqualTo(new[] { 1, 16, 64 }));
    }

    [Test]
    public void Choose_NoCrossover_OneVariantForEveryBatch()
    {
        IReadOnlyList<BatchChoice> choices = PackingDecisions.Choose(
            [Evaluate(1, _ => 0.7), Evaluate(4, _ => 0.7), Evaluate(16, _ => 0.6), Evaluate(64, _ => 0.5), Evaluate(256, _ => 0.5)], null);

        Assert.That(choices.Select(choice => choice.UsePacked).Distinct(), Is.EqualTo(new[] { true }));
    }

    [Test]
    public void Choose_EveryBatchWithinNoise_TakesQD8EverywhereAndSaysWhy()
    {
        IReadOnlyList<BatchChoice> choices = PackingDecisions.Choose(
            [Evaluate(1, Scattered), Evaluate(4, Scattered), Evaluate(16, Scattered)], null);

        Assert.Multiple(() =>
        {
            Assert.That(choices.Select(choice => choice.UsePacked).Distinct(), Is.EqualTo(new[] { false }));
            Assert.That(choices.Select(choice => choice.Timing.Verdict).Distinct(), Is.EqualTo(new[] { AutoTuningVerdict.WithinNoise }));
            Assert.That(choices[1].Reason, Does.Contain("the variants are within the noise here and at every other tuned batch size"));
        });
    }

    [Test]
    public void Choose_TooFewPairs_SaysSoRatherThanCallingItNoise()
    {
        // Packed twice as fast, but over fewer pairs than the rule needs (a slow emulator within a small budget).
        ActivationPackingTiming timing = PackingDecisions.Evaluate(
            16, Enumerable.Repeat(50.0, 2).ToArray(), Enumerable.Repeat(100.0, 2).ToArray(), 1e-6, TimeSpan.Zero);

        BatchChoice choice = PackingDecisions.Choose([timing], null).Single();

        Assert.Multiple(() =>
        {
            Assert.That(choice.UsePacked, Is.False);
            Assert.That(choice.Reason, Does.Contain($"too few timed pairs to tell the variants apart (2 of the {ActivationPackingTiming.MinimumPairs} needed)"));
        });
    }

    [Test]
    public void Choose_OneNoisyBatchBetweenTwoQP8Ones_FollowsTheSmallerNeighbourAndKeepsOneSwitch()
    {
        IReadOnlyList<BatchChoice> choices = PackingDecisions.Choose(
            [Evaluate(1, _ => 1.3), Evaluate(4, _ => 1.2), Evaluate(16, _ => 0.8), Evaluate(64, Scattered), Evaluate(256, _ => 0.6)], null);

        Assert.Multiple(() =>
        {
            Assert.That(choices.Select(choice => choice.UsePacked), Is.EqualTo(new[] { false, false, true, true, true }));
            Assert.That(choices[3].Timing.Verdict, Is.EqualTo(AutoTuningVerdict.WithinNoise));
            Assert.That(choices[3].Reason, Does.Contain("within the noise there").And.Contain("follows batch 16"));
        });
    }

    [Test]
    public void Choose_NoisyAtTheCrossover_FollowsTheSmallerNeighbour()
    {
        IReadOnlyList<BatchChoice> choices = PackingDecisions.Choose(
            [Evaluate(1, _ => 1.3), Evaluate(4, _ => 1.2), Evaluate(16, Scattered), Evaluate(64, _ => 0.7), Evaluate(256, _ => 0.6)], null);

        Assert.That(choices.Select(choice => choice.UsePacked), Is.EqualTo(new[] { false, false, false, true, true }));
    }

    [Test]
    public void Choose_NoisySmallestBatch_FollowsTheNearestLargerOne()
    {
        IReadOnlyList<BatchChoice> choices = PackingDecisions.Choose([Evaluate(1, Scattered), Evaluate(4, _ => 0.7)], null);

        Assert.Multiple(() =>
        {
            Assert.That(choices[0].UsePacked, Is.True);
            Assert.That(choices[0].Reason, Does.Contain("follows batch 4"));
        });
    }

    [TestCase(1, false)]
    [TestCase(3, false)]
    [TestCase(16, true)]
    [TestCase(100, true)]
    public void Choose_SingleVariantBatch_GivesEveryBatchTheChoiceMadeThere(int singleVariantBatch, bool expectPacked)
    {
        IReadOnlyList<BatchChoice> choices = PackingDecisions.Choose(
            [Evaluate(1, _ => 1.3), Evaluate(4, _ => 1.2), Evaluate(16, _ => 0.8), Evaluate(64, _ => 0.7)], singleVariantBatch);

        Assert.Multiple(() =>
        {
            Assert.That(choices.Select(choice => choice.UsePacked).Distinct(), Is.EqualTo(new[] { expectPacked }));
            Assert.That(choices[0].Reason, Does.Contain($"AutoTuningSingleVariantBatch = {singleVariantBatch}"));
        });
    }

    [TestCase(1, 1)]
    [TestCase(3, 1)]
    [TestCase(4, 4)]
    [TestCase(15, 4)]
    [TestCase(16, 16)]
    [TestCase(100000, 16)]
    public void BatchPlan_MapsABatchToTheNearestTunedBatchAtOrBelowIt(int batch, int expectedTunedBatch)
    {
        IReadOnlyList<BatchChoice> choices = PackingDecisions.Choose([Evaluate(1, _ => 1.3), Evaluate(4, _ => 0.8), Evaluate(16, _ => 1.3)], null);
        var plan = new BatchPlan(choices, choice => choice.UsePacked ? 1 : 0);

        Assert.Multiple(() =>
        {
            Assert.That(plan.ChoiceFor(batch)!.Batch, Is.EqualTo(expectedTunedBatch));
            Assert.That(plan.VariantFor(batch), Is.EqualTo(expectedTunedBatch == 4 ? 1 : 0));
        });
    }

    [Test]
    public void BatchPlan_BatchBelowEveryTunedOne_TakesTheSmallest()
    {
        var plan = new BatchPlan(PackingDecisions.Choose([Evaluate(8, _ => 0.7), Evaluate(32, _ => 1.3)], null), choice => choice.UsePacked ? 1 : 0);

        Assert.That(plan.ChoiceFor(1)!.Batch, Is.EqualTo(8));
    }

    [Test]
    public void Options_AutoTuningBatches_DefaultSortedDistinctAndTheOneSizeSetterStillWorks()
    {
        var options = new LinearOptions();
        Assert.Multiple(() =>
        {
            Assert.That(options.AutoTuningBatches, Is.EqualTo(new[] { 1, 4, 16, 64, 256 }));
            Assert.That(options.AutoTuningBatch, Is.EqualTo(1));
        });

        options.AutoTuningBatches = [64, 1, 16, 1];
        Assert.That(options.AutoTuningBatches, Is.EqualTo(new[] { 1, 16, 64 }));

        options.AutoTuningBatch = 8;
        Assert.That(options.AutoTuningBatches, Is.EqualTo(new[] { 8 }));
    }

    [Test]
    public void Options_EmptyOrNonPositiveBatches_AreRefused()
    {
        var options = new LinearOptions();
        Assert.Multiple(() =>
        {
            Assert.That(() => options.AutoTuningBatches = [], Throws.ArgumentException);
            Assert.That(() => options.AutoTuningBatches = [4, 0], Throws.ArgumentException);
            Assert.That(() => options.AutoTuningSingleVariantBatch = 0, Throws.InstanceOf<ArgumentOutOfRangeException>());
        });
    }

    private static double Scattered(int index) => index % 2 == 0 ? 0.85 : 1.15;

    /// <summary>Pairs whose unpacked run takes 100 units (with a small deterministic spread) and whose packed run takes ratio(i) times that.</summary>
    private static ActivationPackingTiming Evaluate(int batch, Func<int, double> ratio)
    {
        double[] unpacked = [.. Enumerable.Range(0, Pairs).Select(i => 100.0 + (i % 5))];
        double[] packed = [.. unpacked.Select((value, i) => value * ratio(i))];
        return PackingDecisions.Evaluate(batch, packed, unpacked, 1e-6, TimeSpan.FromMilliseconds(1));
    }
}
