namespace XnnKleidi.Tests.Support;

/// <summary>Deterministic inputs, so that every failure can be reproduced.</summary>
internal static class TestData
{
    public static float[] Uniform(int count, float lo, float hi, int seed)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = lo + ((hi - lo) * (float)random.NextDouble());
        }

        return values;
    }

    /// <summary>Asserts every element of <paramref name="actual"/> is within its tolerance of the reference.</summary>
    public static void AssertClose(ReadOnlySpan<float> actual, double[] expected, double[] tolerance, string what)
    {
        NUnit.Framework.Assert.That(actual.Length, NUnit.Framework.Is.EqualTo(expected.Length), $"{what}: length");
        int worst = -1;
        double worstRatio = 0;
        int failures = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(actual[i] - expected[i]);
            if (!(error <= tolerance[i]))
            {
                failures++;
            }

            double ratio = error / tolerance[i];
            if (!(ratio <= worstRatio))
            {
                worstRatio = ratio;
                worst = i;
            }
        }

        if (failures > 0)
        {
            NUnit.Framework.Assert.Fail(
                $"{what}: {failures} of {expected.Length} outputs outside tolerance; worst [{worst}] = {actual[worst]}, reference {expected[worst]}, tolerance {tolerance[worst]}");
        }
    }
}
