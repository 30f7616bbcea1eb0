namespace XnnKleidi.Cli.Bench;

/// <summary>
/// Accuracy before speed: a ratio between two cases counts as a win or a loss only when both outputs passed their
/// check against the float64 reference (each within the bound of its own quantization) and both medians are stable.
/// A comparator outside its bound did other, less accurate work; its time is shown, its ratio never counted.
/// </summary>
internal static class ComparatorGate
{
    /// <summary>
    /// Null when the ratio of <paramref name="ours"/> to <paramref name="other"/> counts; else why it does not, in a
    /// few words that call the comparator <paramref name="otherName"/> (by default its <see cref="ShortName"/>).
    /// </summary>
    public static string? WhyNotCounted(CaseResult ours, CaseResult? other, string? otherName = null)
    {
        ArgumentNullException.ThrowIfNull(ours);
        if (other?.Statistics == null || ours.Statistics == null)
        {
            return "not measured";
        }

        string name = otherName ?? ShortName(other);
        if (ours.Check is not { } ourCheck)
        {
            return "our output was not checked";
        }

        if (!ourCheck.Passed)
        {
            return FormattableString.Invariant($"our output outside its error bound x{ourCheck.WorstRatio:0.0}");
        }

        if (other.Check is not { } otherCheck)
        {
            return $"{name}'s output was not checked";
        }

        if (!otherCheck.Passed)
        {
            string speed = other.Statistics.P50 < ours.Statistics.P50 ? "faster" : "slower";
            return FormattableString.Invariant($"{name} {speed} but outside the error bound x{otherCheck.WorstRatio:0.0}");
        }

        if (ours.Unstable || other.Unstable)
        {
            return "unstable median";
        }

        if (ours.CoreStolen != null || other.CoreStolen != null)
        {
            return "another process held a core (more threads were no faster than one)";
        }

        return null;
    }

    /// <summary>How the report names a comparator in one word or two.</summary>
    public static string ShortName(CaseResult c)
    {
        ArgumentNullException.ThrowIfNull(c);
        return c.Backend switch
        {
            Backend.OnnxRuntime => "ORT",
            Backend.OnnxRuntimeReducedRange => "ORT 7-bit",
            Backend.Native => "C",
            _ => "managed",
        };
    }
}
