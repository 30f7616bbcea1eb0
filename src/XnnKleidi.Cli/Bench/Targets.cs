using System.Globalization;

namespace XnnKleidi.Cli.Bench;

/// <summary>
/// The benchmark's speed targets, derived from this run alone: ratios to comparators measured beside each case, and
/// fractions of the peaks measured by the same run on the same core. No absolute figure of another core is a target.
/// A target is evaluated only on a stable case and only against a comparator whose output passed its check;
/// otherwise its verdict says why it was not evaluated. They are benchmark figures: printed as met or not met, never
/// asserted in a test. Under emulation they are not evaluated at all, because emulated timings say nothing about the CPU.
/// </summary>
internal static class Targets
{
    /// <summary>The binding may cost at most 2 % over the same runtime called from C.</summary>
    public const double MaxBindingOverhead = 1.02;

    /// <summary>XnnKleidi should be no slower than an ONNX Runtime that computes within its error bound.</summary>
    public const double MinSpeedupOverOrt = 1.0;

    /// <summary>
    /// A GEMM with enough rows to amortize packing and quantization (M ≥ <see cref="PeakShareMinRows"/>) should reach
    /// this share of the register-resident peak of its own instruction family, measured in the same run.
    /// </summary>
    public const double MinPercentOfOwnPeak = 80.0;

    public const int PeakShareMinRows = 128;

    public const string BindingOverhead = "binding overhead (managed/C p50)";
    public const string SpeedupOverOrt = "speed-up over ONNX Runtime";
    public const string SpeedupOverOrtReducedRange = "speed-up over ONNX Runtime, 7-bit weights";
    public const string ShareOfOwnPeak = "share of its own family's measured peak";

    public static void Evaluate(BenchReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (report.Host.EmulationReason != null || report.Options.Check)
        {
            return;
        }

        foreach (CaseResult c in report.Cases.Where(c => c.Backend == Backend.XnnKleidi && c.Statistics != null))
        {
            if (c.NativeCounterpart != null)
            {
                AddRatio(report, BindingOverhead, c, c.NativeCounterpart, c.ManagedNativeRatio, MaxBindingOverhead, atMost: true);
            }

            if (c.OrtCounterpart != null && c.Packing == ActivationPacking.Off)
            {
                AddRatio(report, $"{SpeedupOverOrt} {c.OrtCounterpart.Kernel}", c, c.OrtCounterpart, c.SpeedupOverOrt, MinSpeedupOverOrt, atMost: false);
            }

            if (c.OrtReducedRangeCounterpart != null && c.Packing == ActivationPacking.Off)
            {
                AddRatio(report, SpeedupOverOrtReducedRange, c, c.OrtReducedRangeCounterpart, c.SpeedupOverOrtReducedRange, MinSpeedupOverOrt, atMost: false);
            }

            if (c.Threads == 1 && c.Shape.M >= PeakShareMinRows && c.OwnPeakFamily != null && c.PercentOfOwnPeak is double share)
            {
                string? whyNot = c.Check is { Passed: false } ? "our output outside its error bound"
                    : c.Unstable ? "unstable median"
                    : null;
                report.Targets.Add(new TargetVerdict(
                    $"{ShareOfOwnPeak} ({c.OwnPeakFamily})", Where(c), share, MinPercentOfOwnPeak,
                    whyNot == null ? share >= MinPercentOfOwnPeak : null,
                    whyNot ?? FormattableString.Invariant($">= {MinPercentOfOwnPeak:0} %")));
            }
        }
    }

    /// <summary>A ratio target, evaluated only when <see cref="ComparatorGate"/> lets the ratio count.</summary>
    private static void AddRatio(BenchReport report, string target, CaseResult ours, CaseResult other, double? ratio, double threshold, bool atMost)
    {
        if (ratio is not double measured)
        {
            return;
        }

        string? whyNot = ComparatorGate.WhyNotCounted(ours, other);
        string needed = (atMost ? "<= " : ">= ") + threshold.ToString("0.00", CultureInfo.InvariantCulture);
        bool? met = whyNot == null ? (atMost ? measured <= threshold : measured >= threshold) : null;
        report.Targets.Add(new TargetVerdict(target, Where(ours), measured, threshold, met, whyNot ?? needed));
    }

    /// <summary>How a target names its case: shape, scheme, packing, threads, and the kernel-family cap when there is one.</summary>
    public static string Where(CaseResult c)
    {
        ArgumentNullException.ThrowIfNull(c);
        string cap = c.KernelFamilyCap is { } family ? ", kernel family " + XnnKleidiLibrary.GetName(family) : "";
        return FormattableString.Invariant(
            $"{c.Shape.ShapeText} {c.Scheme.ToString().ToLowerInvariant()} packing {c.PackingName}, {c.Threads} thread{(c.Threads == 1 ? "" : "s")}{cap}");
    }
}
