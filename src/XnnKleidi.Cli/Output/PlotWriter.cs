using System.Globalization;
using ScottPlot;
using XnnKleidi.Cli.Bench;

namespace XnnKleidi.Cli.Output;

/// <summary>
/// Two charts (ScottPlot), PNG or SVG by the file's extension. The first, at the path asked for, answers the
/// question: per layer, each runner's p50 relative to XnnKleidi with packing off (packing on with its 95 % interval,
/// auto and what it chose, the C harness, ONNX Runtime), on a log axis so that 2x faster and 2x slower lie equally far
/// from 1. The second, beside it with "-p50" in its name, shows the managed p50 per layer on a log10 axis. In a
/// --kernel-family run every layer has a group per family, side by side, each relative to its own packing off.
/// </summary>
internal static class PlotWriter
{
    private static readonly Dictionary<ActivationPacking, Color> Colors = new()
    {
        [ActivationPacking.Off] = new Color(0x5B, 0x6C, 0x8F),
        [ActivationPacking.On] = new Color(0xE0, 0x7A, 0x1F),
        [ActivationPacking.Auto] = new Color(0x3A, 0x9D, 0x5D),
    };

    private static readonly Color NativeColor = new(0x7B, 0x4F, 0x9D);
    private static readonly Color OrtColor = new(0xC0, 0x39, 0x2B);
    private static readonly Color OrtReducedRangeColor = new(0x8E, 0x44, 0x2D);

    /// <summary>Ratio ticks: log-spaced values a reader knows.</summary>
    private static readonly double[] RatioTicks = [0.25, 0.33, 0.5, 0.67, 0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.25, 1.5, 2, 3, 4, 6, 8];

    /// <summary>The second chart's path: "bench.png" -> "bench-p50.png".</summary>
    public static string P50ChartPath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Path.Combine(Path.GetDirectoryName(path) ?? "", Path.GetFileNameWithoutExtension(path) + "-p50" + Path.GetExtension(path));
    }

    public static void Write(BenchReport report, string path)
    {
        ArgumentNullException.ThrowIfNull(report);
        WriteRatioChart(report, path);
        WriteP50Chart(report, P50ChartPath(path));
    }

    /// <summary>One series of the ratio chart: who, where beside the group's tick, and how it looks.</summary>
    private sealed record Series(string Label, double Offset, Color Color, MarkerShape Shape, Func<CaseResult, BenchReport, CaseResult?> Pick);

    private static CaseResult? Managed(BenchReport report, CaseResult off, ActivationPacking packing) => report.Cases.FirstOrDefault(c =>
        c.Backend == Backend.XnnKleidi && c.Shape == off.Shape && c.Scheme == off.Scheme && c.Threads == off.Threads &&
        c.KernelFamilyCap == off.KernelFamilyCap && c.Packing == packing);

    private static void WriteRatioChart(BenchReport report, string path)
    {
        var baselines = report.Cases
            .Where(c => c.Backend == Backend.XnnKleidi && c.Packing == ActivationPacking.Off && c.Statistics != null)
            .ToList();
        Series[] series =
        [
            new("packing on / off", -0.24, Colors[ActivationPacking.On], MarkerShape.FilledCircle, (off, r) => Managed(r, off, ActivationPacking.On)),
            new("auto / off (filled: chose packed, open: unpacked)", -0.12, Colors[ActivationPacking.Auto], MarkerShape.FilledTriangleUp, (off, r) => Managed(r, off, ActivationPacking.Auto)),
            new("C harness / managed (same runtime)", 0.0, NativeColor, MarkerShape.FilledSquare, (off, _) => off.NativeCounterpart),
            new("ONNX Runtime / off (open: outside its error bound)", 0.12, OrtColor, MarkerShape.FilledDiamond, (off, _) => off.OrtCounterpart),
            new("ONNX Runtime 7-bit weights / off", 0.24, OrtReducedRangeColor, MarkerShape.FilledDiamond, (off, _) => off.OrtReducedRangeCounterpart),
        ];
        var plot = new Plot();
        var used = new HashSet<string>();
        var logValues = new List<double>();
        bool anyUnstable = false;
        for (int g = 0; g < baselines.Count; g++)
        {
            CaseResult off = baselines[g];
            TimingStatistics baseline = off.Statistics!;
            foreach (Series s in series)
            {
                CaseResult? other = s.Pick(off, report);
                if (other?.Statistics is not { } stats)
                {
                    continue;
                }

                used.Add(s.Label);
                double ratio = stats.P50 / baseline.P50;
                // The interval of a ratio of two medians, from both intervals: the widest it can be.
                double low = double.IsNaN(stats.MedianLow) || double.IsNaN(baseline.MedianHigh) ? ratio : stats.MedianLow / baseline.MedianHigh;
                double high = double.IsNaN(stats.MedianHigh) || double.IsNaN(baseline.MedianLow) ? ratio : stats.MedianHigh / baseline.MedianLow;
                double x = g + s.Offset;
                double y = Math.Log10(ratio);
                // An unstable median (or baseline) is drawn faded: its interval is wider than the benchmark trusts,
                // and it does not stretch the axis (a long interval may run off the chart).
                bool unstable = other.Unstable || off.Unstable;
                logValues.AddRange(unstable ? [y] : [Math.Log10(low), Math.Log10(high)]);
                Color color = unstable ? s.Color.WithAlpha(0.35) : s.Color;
                anyUnstable |= unstable;
                var bar = new ScottPlot.Plottables.ErrorBar([x], [y], null, null, [y - Math.Log10(low)], [Math.Log10(high) - y]);
                plot.Add.Plottable(bar);
                bar.Color = color;
                bar.LineWidth = 1.5f;
                bool open = (other.Check is { Passed: false }) || (other.Backend == Backend.XnnKleidi && other.Packing == ActivationPacking.Auto && other.PackingActive != true);
                ScottPlot.Plottables.Marker marker = plot.Add.Marker(x, y, Open(s.Shape, open), 9, color);
                marker.MarkerLineWidth = 2;
                if (other.Check is { Passed: false } failed)
                {
                    Label(plot, x, high, FormattableString.Invariant($" outside bound x{failed.WorstRatio:0.0}"), s.Color);
                }
            }
        }

        // A sweep marks the batch size from which packing pays: a line just before that group.
        foreach (PackingCrossover crossover in report.Crossovers.Where(c => c.PaysFromBatch != null))
        {
            int g = baselines.FindIndex(off => off.Shape.Model == PackingCrossover.SweepModel && off.Shape.M == crossover.PaysFromBatch &&
                off.Shape.K == crossover.K && off.Shape.N == crossover.N && off.Scheme == crossover.Scheme &&
                off.Threads == crossover.Threads && off.KernelFamilyCap == crossover.KernelFamilyCap);
            if (g >= 0)
            {
                ScottPlot.Plottables.VerticalLine from = plot.Add.VerticalLine(g - 0.5);
                from.Color = Colors[ActivationPacking.On];
                from.LinePattern = LinePattern.Dotted;
                from.LabelText = FormattableString.Invariant($"packing pays from M = {crossover.PaysFromBatch}");
            }
        }

        ScottPlot.Plottables.HorizontalLine one = plot.Add.HorizontalLine(0);
        one.Color = Colors[ActivationPacking.Off];
        one.LineWidth = 1.5f;
        one.LinePattern = LinePattern.Dashed;
        double bottom = logValues.Count == 0 ? -0.05 : Math.Min(logValues.Min(), 0) - 0.03;
        double top = logValues.Count == 0 ? 0.05 : Math.Max(logValues.Max(), 0) + 0.03;
        var yTicks = new ScottPlot.TickGenerators.NumericManual();
        // Over a wide range, 0.95 and 1.05 would print on top of their neighbours.
        bool wide = top - bottom > 0.3;
        foreach (double tick in RatioTicks.Where(t => Math.Log10(t) >= bottom && Math.Log10(t) <= top && !(wide && t is 0.95 or 1.05)))
        {
            yTicks.AddMajor(Math.Log10(tick), tick.ToString("0.##", CultureInfo.InvariantCulture));
        }

        plot.Axes.Left.TickGenerator = yTicks;
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            [.. Enumerable.Range(0, baselines.Count).Select(g => (double)g)], [.. baselines.Select(GroupLabel)]);
        plot.Axes.SetLimitsY(bottom, top);
        plot.Axes.SetLimitsX(-0.6, Math.Max(1, baselines.Count) - 0.4);
        plot.YLabel("p50 / p50 of XnnKleidi with packing off (log scale; < 1 faster)");
        plot.Title(Title(report, "Does activation packing pay? Each runner's p50 relative to packing off, 95 % intervals"));
        foreach (Series s in series.Where(s => used.Contains(s.Label)))
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = s.Label, MarkerShape = s.Shape, MarkerColor = s.Color, MarkerSize = 9, LineWidth = 0 });
        }

        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "1 = packing off", LineColor = Colors[ActivationPacking.Off], LinePattern = LinePattern.Dashed, LineWidth = 1.5f });
        if (anyUnstable)
        {
            plot.Legend.ManualItems.Add(new LegendItem
            {
                LabelText = FormattableString.Invariant($"faded: unstable (a 95 % interval wider than ±{100 * TimingStatistics.StableHalfWidth:0} %)"),
                MarkerShape = MarkerShape.FilledCircle, MarkerColor = Colors[ActivationPacking.On].WithAlpha(0.35), MarkerSize = 9, LineWidth = 0,
            });
        }

        plot.ShowLegend(Edge.Right);
        Save(plot, path, baselines.Count, legendWidth: 330);
    }

    private static MarkerShape Open(MarkerShape shape, bool open) => !open ? shape : shape switch
    {
        MarkerShape.FilledCircle => MarkerShape.OpenCircle,
        MarkerShape.FilledTriangleUp => MarkerShape.OpenTriangleUp,
        MarkerShape.FilledSquare => MarkerShape.OpenSquare,
        MarkerShape.FilledDiamond => MarkerShape.OpenDiamond,
        _ => shape,
    };

    private static void Label(Plot plot, double x, double ratio, string text, Color color)
    {
        ScottPlot.Plottables.Text label = plot.Add.Text(text, x, Math.Log10(ratio));
        label.LabelFontSize = 11;
        label.LabelFontColor = color;
        label.LabelRotation = -90;
        label.LabelAlignment = Alignment.MiddleLeft;
    }

    private static string GroupLabel(CaseResult c)
    {
        string layer = c.Shape.Layer.Length <= 20 ? c.Shape.Layer : c.Shape.Layer[..18] + "..";
        string family = c.KernelFamilyCap is { } cap ? "\n" + XnnKleidiLibrary.GetName(cap) : "";
        return $"{layer}\n{c.Shape.ShapeText}\n{c.Scheme.ToString().ToLowerInvariant()} {c.Threads}t{family}";
    }

    private static string Title(BenchReport report, string what) =>
        $"{what}\n{report.Host.Cpu}, {report.Host.Rid}" +
        (report.Host.EmulationReason != null ? " (EMULATED: timings meaningless)" : "");

    private static void Save(Plot plot, string path, int groups, int legendWidth = 0)
    {
        int pixelWidth = Math.Max(900, (120 * groups) + 240) + legendWidth;
        if (path.EndsWith(".svg", StringComparison.OrdinalIgnoreCase))
        {
            plot.SaveSvg(path, pixelWidth, 640);
        }
        else
        {
            plot.SavePng(path, pixelWidth, 640);
        }
    }

    /// <summary>The managed p50 per shape, packing off, on and auto side by side, on a log10 axis.</summary>
    private static void WriteP50Chart(BenchReport report, string path)
    {
        var measured = report.Cases.Where(c => c.Backend == Backend.XnnKleidi && c.Statistics != null).ToList();
        var groups = measured
            .GroupBy(c => (c.Shape, c.Scheme, c.Threads, c.KernelFamilyCap))
            .ToList();
        IReadOnlyList<ActivationPacking> packings = report.Options.Packings;
        var plot = new Plot();
        var bars = new List<Bar>();
        double width = 0.8 / Math.Max(1, packings.Count);
        double floor = measured.Count == 0 ? 0 : Math.Floor(Math.Log10(measured.Min(c => c.Statistics!.P50 / 1000.0)));
        for (int g = 0; g < groups.Count; g++)
        {
            for (int p = 0; p < packings.Count; p++)
            {
                CaseResult? c = groups[g].FirstOrDefault(x => x.Packing == packings[p]);
                if (c?.Statistics == null)
                {
                    continue;
                }

                bars.Add(new Bar
                {
                    Position = g - 0.4 + (width * (p + 0.5)),
                    Value = Math.Log10(c.Statistics.P50 / 1000.0),
                    ValueBase = floor,
                    Size = width * 0.9,
                    FillColor = Colors[packings[p]],
                });
            }
        }

        plot.Add.Bars(bars);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            [.. Enumerable.Range(0, groups.Count).Select(g => (double)g)], [.. groups.Select(g => GroupLabel(g.First()))]);
        double top = bars.Count == 0 ? floor + 1 : Math.Ceiling(bars.Max(b => b.Value));
        var yTicks = new ScottPlot.TickGenerators.NumericManual();
        for (double e = floor; e <= top; e++)
        {
            yTicks.AddMajor(e, Math.Pow(10, e).ToString("0.###", CultureInfo.InvariantCulture));
        }

        plot.Axes.Left.TickGenerator = yTicks;
        plot.Axes.SetLimitsY(floor, top + 0.05);
        plot.Axes.SetLimitsX(-0.6, Math.Max(1, groups.Count) - 0.4);
        plot.YLabel("p50 per call, microseconds (log scale)");
        plot.Title(Title(report, "p50 per call of the managed Linear.Run, activation packing off / on / auto"));
        foreach (ActivationPacking packing in packings)
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = $"packing {packing.ToString().ToLowerInvariant()}", FillColor = Colors[packing] });
        }

        plot.Legend.IsVisible = true;
        plot.Legend.Alignment = Alignment.UpperLeft;
        Save(plot, path, groups.Count);
    }
}
