using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using XnnKleidi.Cli.Bench;

namespace XnnKleidi.Cli.Output;

/// <summary>
/// Machine-readable output. JSON: an array of records shaped like ExecuTorch's benchmark
/// records (its mobile benchmark apps write benchmarkModel {name, backend, quantization},
/// metric, actualValue, targetValue, arch, device, os), one per case and metric, plus the
/// fields this benchmark adds: rid, cpuFeatures, threads, kernel, packing and the shape.
/// Every record carries <see cref="SchemaVersion"/>; version 2 added the median's confidence interval and
/// stability, each case's check, whether a ratio counts (and why not), and peaks per instruction family; version 3
/// the Arm kernel family a case ran (kernelFamily), its cap (kernelFamilyCap) and the family ratio of a
/// --kernel-family run (metric kernel_family_p50_ratio, against kernelFamilyBaseline). A --sweep adds one record per
/// swept layer (metric packing_crossover_batch: the batch size from which packing pays, or null, with each batch size's
/// on/off ratio and verdict under "batches"), one record per thread count with the run's noise floor (metric
/// noise_floor_relative, from runners that executed identical runtimes), and each case's coreStolen and
/// withinNoiseFloor; existing fields did not change, so the version did not either.
/// CSV: one row per case with every statistic.
/// </summary>
internal static class RecordWriters
{
    /// <summary>The version of the records' shape; raised whenever a field changes meaning or form.</summary>
    public const int SchemaVersion = 3;

    public static string ToJson(BenchReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var records = new JsonArray();
        foreach (CaseResult c in report.Cases)
        {
            foreach ((string metric, double? value, double? target) in Metrics(report, c))
            {
                if (value is double measured)
                {
                    records.Add(Record(report, c, metric, measured, target));
                }
            }
        }
        foreach (PeakResult peak in report.Peaks)
        {
            JsonObject record = BaseRecord(report, $"peak-probe/{peak.Probe}", "native", peak.Kind, "peak_gops", peak.Gops, null, 1, peak.Instruction);
            record["peakFamily"] = peak.Probe;
            record["note"] = peak.Note;
            records.Add(record);
        }
        foreach (NoiseFloor floor in report.NoiseFloors)
        {
            JsonObject record = BaseRecord(report, "run/noise-floor", "xnnkleidi", "-", "noise_floor_relative", floor.Floor, null, floor.Threads, null);
            record["pairs"] = floor.Pairs;
            record["widestPair"] = floor.Widest;
            records.Add(record);
        }

        foreach (PackingCrossover crossover in report.Crossovers)
        {
            JsonObject record = BaseRecord(report, $"{PackingCrossover.SweepModel}/{crossover.K}x{crossover.N}", "xnnkleidi",
                crossover.Scheme.ToString().ToLowerInvariant(), "packing_crossover_batch", crossover.PaysFromBatch, null, crossover.Threads, null);
            record["kernelFamilyCap"] = crossover.KernelFamilyCap is { } cap ? XnnKleidiLibrary.GetName(cap) : null;
            record["shape"] = new JsonObject { ["k"] = crossover.K, ["n"] = crossover.N };
            record["crossoverSummary"] = crossover.Summary;
            record["batches"] = new JsonArray([.. crossover.Points.Select(point => (JsonNode)new JsonObject
            {
                ["m"] = point.M,
                ["onOffP50Ratio"] = point.OnOffRatio,
                ["verdict"] = JsonNamingPolicy.CamelCase.ConvertName(point.Verdict.ToString()),
                ["why"] = point.Why,
            })]);
            records.Add(record);
        }

        return records.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static IEnumerable<(string Metric, double? Value, double? Target)> Metrics(BenchReport report, CaseResult c)
    {
        if (c.Statistics is { } s)
        {
            yield return ("p50_latency_us", s.P50 / 1000.0, null);
            yield return ("p50_ci95_low_us", double.IsNaN(s.MedianLow) ? null : s.MedianLow / 1000.0, null);
            yield return ("p50_ci95_high_us", double.IsNaN(s.MedianHigh) ? null : s.MedianHigh / 1000.0, null);
            yield return ("p90_latency_us", s.P90 / 1000.0, null);
            yield return ("p99_latency_us", s.P99 / 1000.0, null);
            yield return ("min_latency_us", s.Min / 1000.0, null);
            yield return ("avg_latency_us", s.Mean / 1000.0, null);
            yield return ("stddev_latency_us", s.StandardDeviation / 1000.0, null);
        }
        if (c.Gops is double gops)
        {
            yield return ("gops", gops, null);
        }

        if (c.PercentOfOwnPeak is double peak)
        {
            yield return ("percent_of_own_family_peak", peak, TargetFor(report, c, Targets.ShareOfOwnPeak));
        }

        if (c.PercentOfFastestPeak is double fastest)
        {
            yield return ("percent_of_fastest_family_peak", fastest, null);
        }

        if (c.OnOffRatio is double onOff)
        {
            yield return ("packing_on_off_p50_ratio", onOff, null);
        }

        if (c.FamilyRatio is double familyRatio)
        {
            yield return ("kernel_family_p50_ratio", familyRatio, null);
        }

        if (c.ManagedNativeRatio is double overhead)
        {
            yield return ("managed_native_p50_ratio", overhead, TargetFor(report, c, Targets.BindingOverhead));
        }

        if (c.SpeedupOverOrt is double speedup)
        {
            yield return ("speedup_over_onnxruntime", speedup, TargetFor(report, c, Targets.SpeedupOverOrt + " " + c.OrtCounterpart?.Kernel));
        }

        if (c.SpeedupOverOrtReducedRange is double reducedSpeedup)
        {
            yield return ("speedup_over_onnxruntime_reduce_range", reducedSpeedup, TargetFor(report, c, Targets.SpeedupOverOrtReducedRange));
        }

        if (c.Check is { } check)
        {
            yield return ("check_worst_error_over_tolerance", check.WorstRatio, 1.0);
        }
    }

    private static double? TargetFor(BenchReport report, CaseResult c, string target)
    {
        string where = Targets.Where(c);
        return report.Targets.FirstOrDefault(t => t.Target.StartsWith(target, StringComparison.Ordinal) && t.Where == where && t.Met != null)?.Threshold;
    }

    /// <summary>The fields every record has: ExecuTorch's, then ours.</summary>
    private static JsonObject BaseRecord(
        BenchReport report, string name, string backend, string quantization, string metric, double? value, double? target, int threads, string? kernel) => new()
    {
        ["schemaVersion"] = SchemaVersion,
        ["benchmarkModel"] = new JsonObject { ["name"] = name, ["backend"] = backend, ["quantization"] = quantization },
        ["metric"] = metric,
        ["actualValue"] = value,
        ["targetValue"] = target,
        ["arch"] = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant(),
        ["device"] = report.Host.Cpu,
        ["os"] = RuntimeInformation.OSDescription,
        ["rid"] = report.Host.Rid,
        ["cpuFeatures"] = report.Host.CpuFeatures,
        ["threads"] = threads,
        ["kernel"] = kernel,
        ["emulated"] = report.Host.EmulationReason != null,
    };

    private static JsonObject Record(BenchReport report, CaseResult c, string metric, double? value, double? target)
    {
        JsonObject record = BaseRecord(report, $"{c.Shape.Model}/{c.Shape.Layer}", c.BackendName, c.Quantization, metric, value, target, c.Threads, c.Kernel);
        record["operators"] = new JsonArray([.. c.Operators.Select(o => (JsonNode?)JsonValue.Create(o))]);
        record["packing"] = c.PackingName;
        record["packingActive"] = c.PackingActive;
        record["packingFallbackReason"] = c.FallbackReason;
        record["kernelFamily"] = c.KernelFamily is { } family ? XnnKleidiLibrary.GetName(family) : null;
        record["kernelFamilyCap"] = c.KernelFamilyCap is { } cap ? XnnKleidiLibrary.GetName(cap) : null;
        record["shape"] = new JsonObject { ["m"] = c.Shape.M, ["k"] = c.Shape.K, ["n"] = c.Shape.N };
        record["samples"] = c.Statistics?.Count;
        record["stable"] = c.Statistics == null ? null : !c.Unstable;
        record["checkPassed"] = c.Check?.Passed;
        record["coreStolen"] = c.CoreStolen;
        record["waitingThreads"] = c.WaitingThreads;
        record["withinNoiseFloor"] = c.WithinNoiseFloor;
        record["checkWorstErrorOverBound"] = c.Check is { } check && double.IsFinite(check.WorstRatio) ? check.WorstRatio : null;
        CaseResult? comparator = metric switch
        {
            "managed_native_p50_ratio" => c.NativeCounterpart,
            "speedup_over_onnxruntime" => c.OrtCounterpart,
            "speedup_over_onnxruntime_reduce_range" => c.OrtReducedRangeCounterpart,
            _ => null,
        };
        if (comparator != null)
        {
            string? whyNot = ComparatorGate.WhyNotCounted(c, comparator);
            record["ratioCounted"] = whyNot == null;
            record["ratioNotCountedBecause"] = whyNot;
        }

        if (metric == "kernel_family_p50_ratio" && c.FamilyBaseline is { } baseline)
        {
            string? whyNot = KernelFamilyRuns.WhyFamilyRatioNotCounted(c, baseline);
            record["kernelFamilyBaseline"] = baseline.KernelFamilyCap is { } baselineCap ? XnnKleidiLibrary.GetName(baselineCap) : null;
            record["ratioCounted"] = whyNot == null;
            record["ratioNotCountedBecause"] = whyNot;
        }

        if (metric.StartsWith("percent_of_own", StringComparison.Ordinal))
        {
            record["peakFamily"] = c.OwnPeakFamily;
        }
        else if (metric.StartsWith("percent_of_fastest", StringComparison.Ordinal))
        {
            record["peakFamily"] = c.FastestPeakFamily;
        }

        record["error"] = c.Error;
        record["note"] = c.Note;
        return record;
    }

    public static readonly string[] CsvColumns =
    [
        "model", "layer", "m", "k", "n", "scheme", "threads", "packing", "backend", "quantization", "packing_active",
        "kernel", "operators", "samples", "min_us", "p50_us", "p50_ci95_low_us", "p50_ci95_high_us", "stable", "p90_us",
        "p99_us", "mean_us", "stddev_us", "gops", "own_peak_family", "percent_of_own_peak", "fastest_peak_family",
        "percent_of_fastest_peak", "on_off_ratio", "managed_native_ratio", "speedup_over_ort", "speedup_over_ort_reduce_range",
        "check", "check_worst_error_over_bound", "error", "rid", "cpu_features", "emulated",
        "kernel_family", "kernel_family_cap", "kernel_family_ratio",
    ];

    public static string ToCsv(BenchReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var builder = new StringBuilder();
        builder.AppendLine(string.Join(',', CsvColumns));
        foreach (CaseResult c in report.Cases)
        {
            TimingStatistics? s = c.Statistics;
            string Us(Func<TimingStatistics, double> pick) => s == null ? "" : (pick(s) / 1000.0).ToString("0.###", CultureInfo.InvariantCulture);
            string[] fields =
            [
                c.Shape.Model, c.Shape.Layer, Int(c.Shape.M), Int(c.Shape.K), Int(c.Shape.N),
                c.Scheme.ToString().ToLowerInvariant(), Int(c.Threads), c.PackingName, c.BackendName, c.Quantization,
                c.PackingActive switch { true => "true", false => "false", _ => "" },
                c.Kernel ?? "", string.Join('|', c.Operators), s == null ? "" : Int(s.Count),
                Us(x => x.Min), Us(x => x.P50),
                s == null || double.IsNaN(s.MedianLow) ? "" : Us(x => x.MedianLow),
                s == null || double.IsNaN(s.MedianHigh) ? "" : Us(x => x.MedianHigh),
                s == null ? "" : c.Unstable ? "false" : "true",
                Us(x => x.P90), Us(x => x.P99), Us(x => x.Mean), Us(x => x.StandardDeviation),
                Format.Number(c.Gops, "0.#"), c.OwnPeakFamily ?? "", Format.Number(c.PercentOfOwnPeak, "0.#"),
                c.FastestPeakFamily ?? "", Format.Number(c.PercentOfFastestPeak, "0.#"), Format.Number(c.OnOffRatio, "0.###"),
                Format.Number(c.ManagedNativeRatio, "0.###"), Format.Number(c.SpeedupOverOrt, "0.###"),
                Format.Number(c.SpeedupOverOrtReducedRange, "0.###"),
                c.Check switch { null => "", { Passed: true } => "pass", _ => "fail" },
                c.Check is { } check && double.IsFinite(check.WorstRatio) ? Format.Number(check.WorstRatio, "0.####") : "",
                c.Error ?? "", report.Host.Rid, report.Host.CpuFeatures, report.Host.EmulationReason != null ? "true" : "false",
                c.KernelFamily is { } family ? XnnKleidiLibrary.GetName(family) : "",
                c.KernelFamilyCap is { } cap ? XnnKleidiLibrary.GetName(cap) : "",
                Format.Number(c.FamilyRatio, "0.###"),
            ];
            builder.AppendLine(string.Join(',', fields.Select(Quote)));
        }
        return builder.ToString();
    }

    private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>RFC 4180 quoting: fields with a comma, quote or line break are quoted, quotes doubled.</summary>
    public static string Quote(string field)
    {
        ArgumentNullException.ThrowIfNull(field);
        return field.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : field;
    }
}
