namespace XnnKleidi.Cli.Bench;

/// <summary>
/// A distribution-free confidence interval for the median: for n independent samples of any continuous
/// distribution, the number of samples below the true median is Binomial(n, 1/2). With k the largest rank such that
/// P(B ≤ k − 1) ≤ (1 − confidence) / 2, the k-th smallest and the k-th largest sample enclose the median with
/// probability 1 − 2·P(B ≤ k − 1), at least the confidence asked for. Nothing is assumed about the shape of the
/// timing distribution (heavy tails and several modes are common here); the samples are assumed independent, which
/// batches taken in turn with the other runners of a group approximate.
/// </summary>
internal static class MedianConfidenceInterval
{
    /// <summary>The confidence the benchmark reports its medians with.</summary>
    public const double DefaultConfidence = 0.95;

    /// <summary>
    /// The 1-based ranks (lower, upper = n + 1 − lower) of the interval and its exact coverage, or null when
    /// <paramref name="count"/> samples are too few for <paramref name="confidence"/> (fewer than 6 for 95 %).
    /// </summary>
    public static (int Lower, int Upper, double Coverage)? Ranks(int count, double confidence)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (!(confidence > 0 && confidence < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "must be between 0 and 1");
        }

        double tail = (1 - confidence) / 2;
        // P(B = j) from its logarithm, log C(n, j) − n·log 2, updated term by term: far in the tail the terms
        // underflow to 0, which costs nothing in a sum that must reach (1 − confidence) / 2.
        double logTerm = -count * Math.Log(2);
        double cumulative = 0;
        int lower = 0;
        for (int j = 0; j <= count / 2; j++)
        {
            double next = cumulative + Math.Exp(logTerm);
            if (next > tail)
            {
                break;
            }

            // P(B ≤ j) ≤ tail, so rank j + 1 may bound the interval.
            cumulative = next;
            lower = j + 1;
            logTerm += Math.Log((double)(count - j) / (j + 1));
        }

        if (lower == 0)
        {
            return null;
        }

        return (lower, count + 1 - lower, 1 - (2 * cumulative));
    }

    /// <summary>The interval of the median of <paramref name="sorted"/> (ascending), or null for too few samples.</summary>
    public static (double Low, double High, double Coverage)? Of(IReadOnlyList<double> sorted, double confidence = DefaultConfidence)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        if (sorted.Count == 0 || Ranks(sorted.Count, confidence) is not { } ranks)
        {
            return null;
        }

        return (sorted[ranks.Lower - 1], sorted[ranks.Upper - 1], ranks.Coverage);
    }
}
