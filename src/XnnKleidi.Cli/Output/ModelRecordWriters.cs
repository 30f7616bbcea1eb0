using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using XnnKleidi.Cli.Model;

namespace XnnKleidi.Cli.Output;

/// <summary>
/// A model run as JSON (one document, versioned by "schemaVersion", which `compare` reads back) and as CSV (one row
/// per layer and mode, then one row per mode's total). Times are microseconds; convert and GEMM are XNNPACK's own
/// per-operator times, whole microseconds per call before the median.
/// </summary>
internal static class ModelRecordWriters
{
    public static string ToJson(ModelReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        ModelRunOptions options = report.Options;
        var document = new JsonObject
        {
            ["schemaVersion"] = ModelReport.SchemaVersion,
            ["kind"] = ModelReport.Kind,
            ["model"] = options.Model,
            ["phase"] = options.Phase?.ToString().ToLowerInvariant(),
            ["promptTokens"] = options.Phase == GenerationPhase.Prefill ? options.PromptTokens : null,
            ["layerPattern"] = options.LayerPattern,
            ["scheme"] = options.Scheme.ToString().ToLowerInvariant(),
            ["blockSize"] = options.Scheme == WeightScheme.Qb4w ? options.BlockSize : null,
            ["check"] = options.Check,
            ["layerCount"] = report.Layers.Count,
            ["weightBytes"] = report.WeightBytes,
            ["host"] = new JsonObject
            {
                ["device"] = report.Host.Cpu,
                ["rid"] = report.Host.Rid,
                ["arch"] = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant(),
                ["os"] = RuntimeInformation.OSDescription,
                ["cpuFeatures"] = report.Host.CpuFeatures,
                ["buildInfo"] = report.Host.BuildInfo,
                ["runtime"] = report.Host.Runtime,
                ["emulated"] = report.Host.EmulationReason != null,
                ["emulationReason"] = report.Host.EmulationReason,
            },
            ["settings"] = new JsonObject
            {
                ["seed"] = options.Seed,
                ["warmup"] = options.Warmup,
                ["iterations"] = options.Iterations,
                ["minTimeSeconds"] = options.Iterations == null ? options.MinTimeSeconds : null,
                ["hotMinTimeSeconds"] = options.Iterations == null ? options.HotMinTimeSeconds : null,
                ["confidence"] = options.Confidence,
            },
            ["runs"] = new JsonArray([.. report.Runs.Select(Run)]),
            ["shapes"] = new JsonArray([.. report.Shapes.Select(Shape)]),
            ["notes"] = new JsonArray([.. report.Notes.Select(note => (JsonNode?)JsonValue.Create(note))]),
            ["tokens"] = options.Tokens,
            ["accuracy"] = report.Accuracy is { } accuracy ? new JsonObject
            {
                ["definition"] = "relative error ||y - y_ref||2 / ||y_ref||2 against the float64 product of the file's own weights",
                ["inputDistribution"] = "standard normal, seeded per layer",
                ["rowsPerLayer"] = WeightAccuracy.Rows,
                ["total"] = accuracy.Total,
                ["layers"] = new JsonArray([.. accuracy.Layers.Select(layer => (JsonNode)new JsonObject
                {
                    ["name"] = layer.Name,
                    ["relativeError"] = layer.RelativeError,
                })]),
            } : null,
        };
        return document.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static JsonNode Run(ModelModeResult run) => new JsonObject
    {
        ["threads"] = run.Threads,
        ["packing"] = run.PackingName,
        ["passes"] = run.Total?.Count,
        ["totalP50Us"] = run.Total?.Median,
        ["totalCiLowUs"] = run.Total?.Low,
        ["totalCiHighUs"] = run.Total?.High,
        ["totalCiCoverage"] = run.Total?.Coverage,
        ["onOffRatio"] = run.OnOffRatio,
        ["bestFixed"] = run.BestFixed?.ToString().ToLowerInvariant(),
        ["autoOverBestFixed"] = run.AutoOverBestFixed,
        ["error"] = run.Error,
        ["layers"] = new JsonArray([.. run.Layers.Select(Layer)]),
    };

    private static JsonNode Layer(ModelLayerResult layer) => new JsonObject
    {
        ["index"] = layer.Index,
        ["name"] = layer.Layer.Name,
        ["m"] = layer.Layer.M,
        ["k"] = layer.Layer.K,
        ["n"] = layer.Layer.N,
        ["callsPerPass"] = layer.Layer.CallsPerPass,
        ["packingActive"] = layer.PackingActive,
        ["ranAs"] = layer.RanAs,
        ["fallbackReason"] = layer.FallbackReason,
        ["kernel"] = layer.Kernel,
        ["autoPackedUs"] = layer.AutoTiming?.PackedTime.TotalMicroseconds,
        ["autoUnpackedUs"] = layer.AutoTiming?.UnpackedTime.TotalMicroseconds,
        ["callP50Us"] = layer.CallP50Us,
        ["convertP50Us"] = layer.ConvertP50Us,
        ["gemmP50Us"] = layer.GemmP50Us,
        ["check"] = layer.Check switch { null => null, { Passed: true } => "pass", _ => "fail" },
        ["checkWorstErrorOverTolerance"] = layer.Check is { } check && double.IsFinite(check.WorstRatio) ? check.WorstRatio : null,
        ["checkFailure"] = layer.Check?.Failure,
    };

    private static JsonNode Shape(ModelShapeComparison shape) => new JsonObject
    {
        ["threads"] = shape.Threads,
        ["packing"] = shape.PackingName,
        ["m"] = shape.M,
        ["k"] = shape.K,
        ["n"] = shape.N,
        ["layers"] = shape.Layers,
        ["inModelCallP50Us"] = shape.InModelCallP50Us,
        ["hotCallP50Us"] = shape.HotCallP50Us,
        ["inModelOverHot"] = shape.InModelOverHot,
        ["inModelGemmP50Us"] = shape.InModelGemmP50Us,
        ["hotGemmP50Us"] = shape.HotGemmP50Us,
        ["inModelConvertP50Us"] = shape.InModelConvertP50Us,
        ["hotConvertP50Us"] = shape.HotConvertP50Us,
    };

    public static readonly string[] CsvColumns =
    [
        "model", "scheme", "threads", "packing", "row", "index", "layer", "m", "k", "n", "calls_per_pass", "ran_as", "kernel",
        "call_p50_us", "convert_p50_us", "gemm_p50_us", "total_p50_us", "total_ci_low_us", "total_ci_high_us", "passes",
        "on_off_ratio", "auto_over_best_fixed", "check", "rid", "device", "cpu_features", "emulated",
    ];

    public static string ToCsv(ModelReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var builder = new StringBuilder();
        builder.AppendLine(string.Join(',', CsvColumns));
        string scheme = report.Options.Scheme.ToString().ToLowerInvariant();
        string emulated = report.Host.EmulationReason != null ? "true" : "false";
        foreach (ModelModeResult run in report.Runs)
        {
            string threads = run.Threads.ToString(CultureInfo.InvariantCulture);
            foreach (ModelLayerResult layer in run.Layers)
            {
                Append(builder,
                [
                    report.Options.Workload, scheme, threads, run.PackingName, "layer", Int(layer.Index), layer.Layer.Name,
                    Int(layer.Layer.M), Int(layer.Layer.K), Int(layer.Layer.N), Int(layer.Layer.CallsPerPass), layer.RanAs,
                    layer.Kernel ?? "", Us(layer.CallP50Us), Us(layer.ConvertP50Us), Us(layer.GemmP50Us), "", "", "", "", "", "",
                    layer.Check switch { null => "", { Passed: true } => "pass", _ => "fail" },
                    report.Host.Rid, report.Host.Cpu, report.Host.CpuFeatures, emulated,
                ]);
            }

            Append(builder,
            [
                report.Options.Workload, scheme, threads, run.PackingName, "total", "", "", "", "", "", "", "", "", "", "", "",
                Us(run.Total?.Median), Us(run.Total?.Low), Us(run.Total?.High), run.Total is { } t ? Int(t.Count) : "",
                Format.Number(run.OnOffRatio, "0.####"), Format.Number(run.AutoOverBestFixed, "0.####"), "",
                report.Host.Rid, report.Host.Cpu, report.Host.CpuFeatures, emulated,
            ]);
        }

        return builder.ToString();
    }

    private static void Append(StringBuilder builder, string[] fields) =>
        builder.AppendLine(string.Join(',', fields.Select(RecordWriters.Quote)));

    private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Us(double? value) => Format.Number(value, "0.###");
}
