namespace XnnKleidi.Oracle;

/// <summary>
/// The outcome of comparing one output with <see cref="Reference"/>. <see cref="WorstRatio"/> is the largest
/// |error| / tolerance (infinite for a NaN); <see cref="Failure"/> describes the first element out of bounds.
/// </summary>
public sealed record CheckResult(bool Passed, int Elements, double WorstRatio, string? Failure)
{
    /// <summary>Compares <paramref name="output"/> element by element with <paramref name="expected"/> ± <paramref name="tolerance"/>.</summary>
    public static CheckResult Compare(ReadOnlySpan<float> output, double[] expected, double[] tolerance, int outputChannels)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(tolerance);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputChannels, 1);
        if (output.Length < expected.Length)
        {
            return new CheckResult(false, expected.Length, double.NaN, $"output has {output.Length} elements, expected {expected.Length}");
        }

        int failures = 0;
        double worst = 0;
        string? first = null;
        for (int index = 0; index < expected.Length; index++)
        {
            double error = Math.Abs(output[index] - expected[index]);
            // Written so that a NaN output fails: every comparison with NaN is false.
            if (!(error <= tolerance[index]))
            {
                failures++;
                first ??= FormattableString.Invariant(
                    $"output[{index / outputChannels}][{index % outputChannels}] = {output[index]:G9}, reference {expected[index]:G9}, tolerance {tolerance[index]:G3}");
            }

            worst = Math.Max(worst, double.IsNaN(error) ? double.PositiveInfinity : error / tolerance[index]);
        }

        return new CheckResult(failures == 0, expected.Length, worst,
            failures == 0 ? null : FormattableString.Invariant($"{failures} of {expected.Length} outputs out of bounds; first: {first}"));
    }
}
