using System.Globalization;
using System.Text;
using XnnKleidi.Cli.Model;

namespace XnnKleidi.Cli.Output;

/// <summary>
/// Model runs from several devices or builds side by side, as a markdown table: one row per run, thread count and
/// packing mode, with the model total, one chosen layer's GEMM p50 and the total's on/off ratio.
/// </summary>
internal static class CompareTable
{
    /// <summary>The layer whose GEMM the table shows when none is asked for: the first with the most weights.</summary>
    public static string DefaultLayer(ModelRunFile run)
    {
        ArgumentNullException.ThrowIfNull(run);
        int best = 0;
        for (int i = 1; i < run.LayerShapes.Count; i++)
        {
            if ((long)run.LayerShapes[i].K * run.LayerShapes[i].N > (long)run.LayerShapes[best].K * run.LayerShapes[best].N)
            {
                best = i;
            }
        }

        return run.LayerNames[best];
    }

    public static string ToMarkdown(IReadOnlyList<ModelRunFile> runs, string layer)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var builder = new StringBuilder();
        builder.AppendLine(CultureInfo.InvariantCulture,
            $"{runs[0].Model}, {runs[0].Scheme} weights: model total per forward pass (p50, 95 % interval) and the GEMM p50 of {layer}");
        builder.AppendLine();
        builder.AppendLine($"| Run | Device | CPU features | Threads | Packing | Model total p50 | 95 % interval | {layer} GEMM p50 | on/off |");
        builder.AppendLine("|---|---|---|---:|---|---:|---:|---:|---:|");
        foreach (ModelRunFile run in runs)
        {
            string device = run.Emulated ? $"{run.Device} (emulated: timings meaningless)" : run.Device;
            foreach (ModelRunFileMode mode in run.Modes)
            {
                string interval = mode.TotalLowUs is double low && mode.TotalHighUs is double high ? $"{Ms(low)}–{Ms(high)}" : "";
                string gemm = mode.GemmP50UsByLayer.TryGetValue(layer, out double? value) && value is double us
                    ? Format.Microseconds(us * 1000.0) + " µs" : "";
                builder.AppendLine(
                    $"| {Cell(run.Label)} | {Cell(device)} | {Cell(run.CpuFeatures)} | {mode.Threads.ToString(CultureInfo.InvariantCulture)} | " +
                    $"{Cell(mode.Packing)} | {Ms(mode.TotalP50Us)} ms | {interval} | {gemm} | {Format.Ratio(mode.OnOffRatio)} |");
            }
        }

        return builder.ToString();
    }

    private static string Ms(double microseconds) => (microseconds / 1000.0).ToString("0.00", CultureInfo.InvariantCulture);

    /// <summary>A markdown cell: a pipe would end it, a line break would end the row.</summary>
    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace('\n', ' ');
}
