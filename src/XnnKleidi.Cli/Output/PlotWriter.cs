using ScottPlot;
using XnnKleidi.Cli.Bench;

namespace XnnKleidi.Cli.Output;

/// <summary>
/// A chart of the managed p50 per shape, packing off, on and auto side by side (ScottPlot),
/// on a log10 axis because one chart holds 4 microsecond and millisecond layers.
/// Written as PNG or SVG according to the file's extension.
/// </summary>
internal static class PlotWriter
{
    private static readonly Dictionary<ActivationPacking, Color> Colors = new()
    {
        [ActivationPacking.Off] = new Color(0x5B, 0x6C, 0x8F),
        [ActivationPacking.On] = new Color(0xE0, 0x7A, 0x1F),
        [ActivationPacking.Auto] = new Color(0x3A, 0x9D, 0x5D),
    };

    public static void Write(BenchReport report, string path)
    {
        ArgumentNullException.ThrowIfNull(report);
        var measured = report.Cases.Where(c => c.Backend == Backend.XnnKleidi && c.Statistics != null).ToList();
        var groups = measured
            .GroupBy(c => (c.Shape, c.Scheme, c.Threads))
            .ToList();
        IReadOnlyList<ActivationPacking> packings = report.Options.Packings;
        var plot = new Plot();
        var bars = new List<Bar>();
        var tickPositions = new List<double>();
        var tickLabels = new List<string>();
        double width = 0.8 / Math.Max(1, packings.Count);
        double floor = measured.Count == 0 ? 0 : Math.Floor(Math.Log10(measured.Min(c => c.Statistics!.P50 / 1000.0)));
        for (int g = 0; g < groups.Count; g++)
        {
            IGrouping<(LayerShape Shape, WeightScheme Scheme, int Threads), CaseResult> group = groups[g];
            tickPositions.Add(g);
            (LayerShape? shape, WeightScheme scheme, int threads) = group.Key;
            tickLabels.Add($"{shape.ShapeText}\n{scheme.ToString().ToLowerInvariant()} {threads}t");
            for (int p = 0; p < packings.Count; p++)
            {
                CaseResult? c = group.FirstOrDefault(x => x.Packing == packings[p]);
                if (c?.Statistics == null)
                {
                    continue;
                }

                bars.Add(new Bar
                {
                    Position = g - 0.4 + width * (p + 0.5),
                    Value = Math.Log10(c.Statistics.P50 / 1000.0),
                    ValueBase = floor,
                    Size = width * 0.9,
                    FillColor = Colors[packings[p]],
                });
            }
        }
        plot.Add.Bars(bars);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. tickPositions], [.. tickLabels]);
        double top = bars.Count == 0 ? floor + 1 : Math.Ceiling(bars.Max(b => b.Value));
        var yTicks = new ScottPlot.TickGenerators.NumericManual();
        for (double e = floor; e <= top; e++)
        {
            yTicks.AddMajor(e, Math.Pow(10, e).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture));
        }
        plot.Axes.Left.TickGenerator = yTicks;
        plot.Axes.SetLimitsY(floor, top + 0.05);
        plot.Axes.SetLimitsX(-0.6, groups.Count - 0.4);
        plot.YLabel("p50 per call, microseconds (log scale)");
        plot.Title($"xnnkleidi bench: activation packing off / on / auto, {report.Host.Rid}" +
                   (report.Host.EmulationReason != null ? " (EMULATED: timings meaningless)" : ""));
        foreach (ActivationPacking packing in packings)
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = $"packing {packing.ToString().ToLowerInvariant()}", FillColor = Colors[packing] });
        }
        plot.Legend.IsVisible = true;
        plot.Legend.Alignment = Alignment.UpperLeft;
        int pixelWidth = Math.Max(800, 110 * groups.Count + 200);
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
