using System.Numerics;
using NUnit.Framework;
using XnnKleidi.Internal;

namespace XnnKleidi.Tests.Robustness;

/// <summary>The vectorized copy-and-check: every position of every loop (four vectors, one vector, the scalar tail).</summary>
[TestFixture]
public sealed unsafe class FiniteInputScanTests
{
    private static readonly int Longest = (Vector<float>.Count * 9) + 3;

    [Test]
    public void CopyAndFindNonFinite_CleanInput_CopiesEveryElementAndFindsNothing()
    {
        for (int length = 0; length <= Longest; length++)
        {
            float[] source = Enumerable.Range(0, length).Select(i => (i * 0.37f) - 3f).ToArray();
            float[] destination = new float[length + 1];
            destination[length] = 99f;
            fixed (float* target = destination)
            {
                Assert.That(FiniteInput.CopyAndFindNonFinite(source, target), Is.EqualTo(-1), $"length {length}");
            }

            Assert.That(destination.AsSpan(0, length).ToArray(), Is.EqualTo(source), $"length {length}");
            Assert.That(destination[length], Is.EqualTo(99f), $"length {length}: wrote past the end");
        }
    }

    [TestCase(float.NaN)]
    [TestCase(float.PositiveInfinity)]
    [TestCase(float.NegativeInfinity)]
    public void BothScans_NonFiniteAnywhere_ReportTheFirstIndex(float bad)
    {
        for (int length = 1; length <= Longest; length++)
        {
            for (int position = 0; position < length; position++)
            {
                float[] source = Enumerable.Repeat(float.MaxValue, length).ToArray();
                source[position] = bad;
                if (position + 1 < length)
                {
                    source[length - 1] = bad; // a later one must not hide the first
                }

                float[] destination = new float[length];
                fixed (float* target = destination)
                {
                    Assert.That(FiniteInput.CopyAndFindNonFinite(source, target), Is.EqualTo(position), $"copy, length {length}");
                }

                Assert.That(FiniteInput.FindNonFinite(source), Is.EqualTo(position), $"scan, length {length}");
            }
        }
    }

    [Test]
    public void BothScans_LargestFiniteValues_AreFinite()
    {
        // float.MaxValue − float.MaxValue is 0, and sums of zeros stay 0: the extremes must not look non-finite.
        float[] source = [float.MaxValue, -float.MaxValue, float.Epsilon, -0f, .. Enumerable.Repeat(float.MaxValue, Longest)];
        Assert.That(FiniteInput.FindNonFinite(source), Is.EqualTo(-1));
    }
}
