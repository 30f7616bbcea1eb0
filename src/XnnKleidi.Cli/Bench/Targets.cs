namespace XnnKleidi.Cli.Bench;

/// <summary>
/// The benchmark's speed targets, evaluated on the cases a run measured. They are benchmark
/// figures: printed as met or not met, never asserted in a test. Under emulation they are not
/// evaluated at all, because emulated timings say nothing about the CPU.
/// </summary>
internal static class Targets
{
    public const double MaxBindingOverhead = 1.02;
    public const double MinSpeedupOverOrtM197 = 1.05;
    public const double MinSpeedupOverOrtM1 = 2.0;
    public const double MinPercentOfPeak768 = 85.0;
    public const double MinPercentOfPeak3072 = 80.0;

    public static void Evaluate(BenchReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (report.Host.EmulationReason != null || report.Options.Check)
        {
            return;
        }
        var managed = report.Cases.Where(c => c.Backend == Backend.XnnKleidi && c.Statistics != null).ToList();
        static bool IsVit(LayerShape s) => s.Model == Presets.VitB16;
        static bool Is(LayerShape s, int m, int k, int n) => s.M == m && s.K == k && s.N == n;
        bool x64 = report.Host.Rid.EndsWith("-x64", StringComparison.Ordinal);

        // Binding overhead: managed/native p50 <= 1.02 at 1x768x768 and every ViT-B/16 shape, 1 thread, x64.
        if (x64)
        {
            foreach (CaseResult? c in managed.Where(c => c.Threads == 1 && c.ManagedNativeRatio != null && (IsVit(c.Shape) || Is(c.Shape, 1, 768, 768))))
            {
                report.Targets.Add(new TargetVerdict(
                    "binding overhead (managed/native p50)", Where(c), c.ManagedNativeRatio, MaxBindingOverhead,
                    c.ManagedNativeRatio <= MaxBindingOverhead, "<= " + MaxBindingOverhead.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)));
            }
        }

        // Against ONNX Runtime, qc8w: >= 1.05x at every ViT-B/16 shape with M = 197 (1 and 2 threads), >= 2x at M = 1.
        foreach (CaseResult? c in managed.Where(c => c.Scheme == WeightScheme.Qc8w && c.SpeedupOverOrt != null && IsVit(c.Shape) && (c.Shape.M == 197 || c.Shape.M == 1)))
        {
            double threshold = c.Shape.M == 1 ? MinSpeedupOverOrtM1 : MinSpeedupOverOrtM197;
            report.Targets.Add(new TargetVerdict(
                "speed-up over ONNX Runtime DynamicQuantizeMatMul", Where(c), c.SpeedupOverOrt, threshold,
                c.SpeedupOverOrt >= threshold, FormattableString.Invariant($">= {threshold:0.00}x")));
        }
        // qb4w against MatMulNBits is reported the same way, with the same thresholds.
        foreach (CaseResult? c in managed.Where(c => c.Scheme == WeightScheme.Qb4w && c.SpeedupOverOrt != null && IsVit(c.Shape) && (c.Shape.M == 197 || c.Shape.M == 1)))
        {
            double threshold = c.Shape.M == 1 ? MinSpeedupOverOrtM1 : MinSpeedupOverOrtM197;
            report.Targets.Add(new TargetVerdict(
                "speed-up over ONNX Runtime MatMulNBits (reported)", Where(c), c.SpeedupOverOrt, threshold,
                c.SpeedupOverOrt >= threshold, FormattableString.Invariant($">= {threshold:0.00}x")));
        }

        // Against the limit: >= 85 % of the int8 peak at 197x768x768 and >= 80 % at 197x768x3072, 1 thread, whole managed call.
        foreach (CaseResult? c in managed.Where(c => c.Threads == 1 && c.Scheme == WeightScheme.Qc8w && c.PercentOfPeak != null))
        {
            double? threshold = Is(c.Shape, 197, 768, 768) ? MinPercentOfPeak768 : Is(c.Shape, 197, 768, 3072) ? MinPercentOfPeak3072 : null;
            if (threshold is double t)
            {
                report.Targets.Add(new TargetVerdict(
                    "share of the measured int8 peak", Where(c), c.PercentOfPeak, t, c.PercentOfPeak >= t,
                    FormattableString.Invariant($">= {t:0} %")));
            }
        }
    }

    private static string Where(CaseResult c) => FormattableString.Invariant(
        $"{c.Shape.ShapeText} {c.Scheme.ToString().ToLowerInvariant()} packing {c.PackingName}, {c.Threads} thread{(c.Threads == 1 ? "" : "s")}");
}
