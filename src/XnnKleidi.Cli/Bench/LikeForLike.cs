namespace XnnKleidi.Cli.Bench;

/// <summary>
/// Whether the C harness ran the very runtime the managed layer runs: the same runtime flags (as the
/// <see cref="Linear"/> reports them, not as anyone else believes them to be), the same operators, and the same
/// output. Without all three, "managed / C" compares two different things.
/// </summary>
internal static class LikeForLike
{
    /// <summary>
    /// The relative difference two output checksums may show: both sides run the same kernels on the same data and
    /// sum the outputs in the same order in float64, so only the last bits of the sum may differ.
    /// </summary>
    public const double ChecksumTolerance = 1e-9;

    /// <summary>The sum of the outputs in index order, in float64, as the harness computes its checksum.</summary>
    public static double Checksum(ReadOnlySpan<float> output)
    {
        double sum = 0.0;
        foreach (float value in output)
        {
            sum += value;
        }

        return sum;
    }

    /// <summary>Null when the harness's layer matches <paramref name="managed"/>; else every difference found, in one sentence.</summary>
    public static string? Mismatch(IManagedLayer managed, HarnessLayer native)
    {
        ArgumentNullException.ThrowIfNull(managed);
        ArgumentNullException.ThrowIfNull(native);
        var differences = new List<string>();
        if (native.RuntimeFlags != managed.RuntimeFlags)
        {
            differences.Add(FormattableString.Invariant(
                $"runtime flags 0x{native.RuntimeFlags:x} in C, 0x{managed.RuntimeFlags:x} in the managed layer"));
        }

        if (!native.Operators.SequenceEqual(managed.Operators))
        {
            differences.Add($"operators [{string.Join(" -> ", native.Operators)}] in C, [{string.Join(" -> ", managed.Operators)}] in the managed layer");
        }

        double managedSum = Checksum(managed.Output);
        if (!(Math.Abs(native.Checksum - managedSum) <= ChecksumTolerance * Math.Max(1.0, Math.Abs(managedSum))))
        {
            differences.Add(FormattableString.Invariant($"output checksum {native.Checksum:G12} in C, {managedSum:G12} in the managed layer"));
        }

        return differences.Count == 0 ? null : "not like for like: " + string.Join("; ", differences);
    }
}
