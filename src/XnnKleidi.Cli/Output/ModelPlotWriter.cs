using System.Globalization;
using ScottPlot;
using XnnKleidi.Cli.Model;

namespace XnnKleidi.Cli.Output;

/// <summary>
/// Charts of model totals (ScottPlot): one group of bars per run and thread count, a bar per packing mode with its
/// p50 and a whisker for its 95 % interval, in milliseconds on a linear axis. Written as PNG or SVG by extension.
/// </summary>
internal static class ModelPlotWriter
{
    private static readonly Dictionary<string, Color> PackingColors = new()
    {
        ["off"] = new Color(0x5B, 0x6C, 0x8F),
        ["on"] = new Color(0xE0, 0x7A, 0x1F),
        ["auto"] = new Color(0x3A, 0x9D, 0x5D),
    };

    /// <summary>One bar: a mode's p50 and interval, microseconds.</summary>
    internal sealed record TotalBar(string Packing, double P50Us, double? LowUs, double? HighUs);

    /// <summary>One group of bars under one label on the x axis.</summary>
    internal sealed record BarGroup(string Label, IReadOnlyList<TotalBar> Bars);

    public static void Write(ModelReport report, string path)
    {
        ArgumentNullException.ThrowIfNull(report);
        var groups = report.Runs.Where(run => run.Total != null).GroupBy(run => run.Threads)
            .Select(group => new BarGroup(
                $"{group.Key} thread{(group.Key == 1 ? "" : "s")}",
                [.. group.Select(run => new TotalBar(run.PackingName, run.Total!.Median, run.Total.Low, run.Total.High))]))
            .ToList();
        string title = $"xnnkleidi bench --model {report.Options.Workload} ({report.Options.Scheme.ToString().ToLowerInvariant()}), " +
                       $"{report.Host.Cpu}, {report.Host.Rid}" +
                       (report.Host.EmulationReason != null ? " (EMULATED: timings meaningless)" : "");
        Write(groups, title, path);
    }

    public static void Write(IReadOnlyList<ModelRunFile> runs, string path)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var groups = runs.SelectMany(run => run.Modes.GroupBy(mode => mode.Threads).Select(group => new BarGroup(
                $"{run.Label}{(run.Emulated ? " (emulated)" : "")}\n{group.Key} thread{(group.Key == 1 ? "" : "s")}",
                [.. group.Select(mode => new TotalBar(mode.Packing, mode.TotalP50Us, mode.TotalLowUs, mode.TotalHighUs))])))
            .ToList();
        Write(groups, $"xnnkleidi compare: {runs[0].Model} ({runs[0].Scheme}) model total per forward pass", path);
    }

    private static void Write(List<BarGroup> groups, string title, string path)
    {
        var plot = new Plot();
        var bars = new List<Bar>();
        var packings = groups.SelectMany(group => group.Bars.Select(bar => bar.Packing)).Distinct().ToList();
        double width = 0.8 / Math.Max(1, packings.Count);
        double top = 0;
        for (int g = 0; g < groups.Count; g++)
        {
            foreach (TotalBar bar in groups[g].Bars)
            {
                int slot = packings.IndexOf(bar.Packing);
                double x = g - 0.4 + (width * (slot + 0.5));
                double milliseconds = bar.P50Us / 1000.0;
                bars.Add(new Bar
                {
                    Position = x,
                    Value = milliseconds,
                    Size = width * 0.9,
                    FillColor = PackingColors.GetValueOrDefault(bar.Packing, new Color(0x80, 0x80, 0x80)),
                    Label = milliseconds.ToString("0.00", CultureInfo.InvariantCulture),
                });
                top = Math.Max(top, (bar.HighUs ?? bar.P50Us) / 1000.0);
            }
        }

        plot.Add.Bars(bars);
        // The whiskers: each bar's 95 % interval of the median.
        for (int g = 0; g < groups.Count; g++)
        {
            foreach (TotalBar bar in groups[g].Bars)
            {
                if (bar.LowUs is double low && bar.HighUs is double high)
                {
                    double x = g - 0.4 + (width * (packings.IndexOf(bar.Packing) + 0.5));
                    var whisker = plot.Add.Line(x, low / 1000.0, x, high / 1000.0);
                    whisker.LineWidth = 2;
                    whisker.LineColor = Colors.Black;
                }
            }
        }

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            [.. Enumerable.Range(0, groups.Count).Select(g => (double)g)], [.. groups.Select(group => group.Label)]);
        plot.Axes.SetLimitsY(0, Math.Max(top, 1e-3) * 1.15);
        plot.Axes.SetLimitsX(-0.6, groups.Count - 0.4);
        plot.YLabel("model total p50, ms (whisker: 95 % interval)");
        plot.Title(title);
        foreach (string packing in packings)
        {
            plot.Legend.ManualItems.Add(new LegendItem
            {
                LabelText = $"packing {packing}",
                FillColor = PackingColors.GetValueOrDefault(packing, new Color(0x80, 0x80, 0x80)),
            });
        }

        plot.Legend.IsVisible = true;
        plot.Legend.Alignment = Alignment.UpperRight;
        int pixelWidth = Math.Max(800, (160 * groups.Count) + 200);
        if (path.EndsWith(".svg", StringComparison.OrdinalIgnoreCase))
        {
            plot.SaveSvg(path, pixelWidth, 600);
        }
        else
        {
            plot.SavePng(path, pixelWidth, 600);
        }
    }
}
