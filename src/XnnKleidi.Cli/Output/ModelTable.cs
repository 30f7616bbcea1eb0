using System.Globalization;
using Spectre.Console;
using XnnKleidi.Cli.Model;

namespace XnnKleidi.Cli.Output;

/// <summary>The human-readable report of `bench --model`: the totals, each layer's split, and the hot-cache shapes.</summary>
internal static class ModelTable
{
    public static void Write(IAnsiConsole console, ModelReport report)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(report);
        ReportTable.WriteEmulationWarning(console, report.Host);
        console.MarkupLine($"[bold]xnnkleidi bench --model {Markup.Escape(report.Options.Workload)}[/] on {Markup.Escape(report.Host.Cpu)} " +
                           $"({Markup.Escape(report.Host.Rid)}), {Markup.Escape(report.Host.BuildInfo)}");
        console.MarkupLine($"CPU features: {Markup.Escape(report.Host.CpuFeatures)}");
        string scheme = report.Options.Scheme.ToString().ToLowerInvariant();
        console.MarkupLine(Markup.Escape(FormattableString.Invariant(
            $"{report.Layers.Count} linear layers in forward order, each with its own random {scheme} weights: {report.WeightBytes / 1e6:0.0} MB (seed {report.Options.Seed})")));
        if (report.Options.Check)
        {
            WriteCheck(console, report);
        }
        else
        {
            WriteTotals(console, report);
            foreach (int threads in report.Runs.Select(run => run.Threads).Distinct())
            {
                WriteLayers(console, report, threads);
            }

            WriteShapes(console, report);
            WriteAccuracy(console, report);
        }

        foreach (string message in report.Runs.Where(run => run.Error != null).Select(run => $"packing {run.PackingName}, {run.Threads}t: {run.Error}"))
        {
            console.MarkupLine($"[red]error:[/] {Markup.Escape(message)}");
        }

        foreach (string note in report.Notes)
        {
            console.MarkupLine($"[grey]note:[/] {Markup.Escape(note)}");
        }

        ReportTable.WriteEmulationWarning(console, report.Host);
    }

    private static string Us(double? microseconds) => microseconds is double us ? Format.Microseconds(us * 1000.0) : "";

    /// <summary>XNNPACK's per-operator times are whole microseconds, so their medians need no more than one decimal.</summary>
    private static string Whole(double? microseconds) => Format.Number(microseconds, "0.#");

    private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static void WriteTotals(IAnsiConsole console, ModelReport report)
    {
        Table table = new Table().Border(TableBorder.Rounded).Title("[bold]model total per forward pass (sum of its layers' calls), microseconds[/]");
        foreach (string header in new[] { "Threads", "Packing", "p50", "95 % CI of p50", "passes", "on/off", "auto / best fixed" })
        {
            table.AddColumn(new TableColumn(header).RightAligned());
        }

        foreach (ModelModeResult run in report.Runs)
        {
            MedianInterval? total = run.Total;
            table.AddRow(
                Int(run.Threads), run.PackingName,
                total == null ? $"[red]{Markup.Escape(run.Error ?? "not measured")}[/]" : "[bold]" + Us(total.Median) + "[/]",
                total == null ? "" : $"{Us(total.Low)} – {Us(total.High)}",
                total == null ? "" : Int(total.Count),
                Format.Ratio(run.OnOffRatio),
                run.AutoOverBestFixed is double ratio ? $"{Format.Ratio(ratio)} (best: {run.BestFixed?.ToString().ToLowerInvariant()})" : "");
        }

        console.Write(table);
        console.MarkupLine("[grey]on/off: total p50 with packing on / off (< 1: packing pays for the whole model). auto / best fixed: auto's total " +
                           "p50 over the faster of off and on. The interval is distribution-free (order statistics of the passes).[/]");
    }

    private static void WriteLayers(IAnsiConsole console, ModelReport report, int threads)
    {
        List<ModelModeResult> runs = [.. report.Runs.Where(run => run.Threads == threads && run.Error == null)];
        if (runs.Count == 0)
        {
            return;
        }

        Table table = new Table().Border(TableBorder.Rounded)
            .Title($"[bold]per layer, {threads} thread{(threads == 1 ? "" : "s")}: p50 per call of the convert and the GEMM (XNNPACK's profile) and of Linear.Run, microseconds[/]");
        table.AddColumn(new TableColumn("#").RightAligned());
        table.AddColumn("Layer");
        table.AddColumn(new TableColumn("MxKxN").RightAligned());
        foreach (ModelModeResult run in runs)
        {
            table.AddColumn(new TableColumn($"{run.PackingName} convert").RightAligned());
            table.AddColumn(new TableColumn($"{run.PackingName} GEMM").RightAligned());
            table.AddColumn(new TableColumn($"{run.PackingName} call").RightAligned());
            if (run.Packing == ActivationPacking.Auto)
            {
                table.AddColumn("auto chose");
            }
        }

        for (int index = 0; index < report.Layers.Count; index++)
        {
            ModelLayer layer = report.Layers[index];
            var cells = new List<string>
            {
                Int(index),
                Markup.Escape(layer.Name + (layer.CallsPerPass > 1 ? $" (x{layer.CallsPerPass})" : "")),
                layer.ShapeText,
            };
            foreach (ModelModeResult run in runs)
            {
                ModelLayerResult result = run.Layers[index];
                cells.Add(Whole(result.ConvertP50Us));
                cells.Add(Whole(result.GemmP50Us));
                cells.Add(Us(result.CallP50Us));
                if (run.Packing == ActivationPacking.Auto)
                {
                    cells.Add(result.RanAs);
                }
            }

            table.AddRow([.. cells]);
        }

        console.Write(table);
        ModelModeResult? auto = runs.FirstOrDefault(run => run.Packing == ActivationPacking.Auto);
        if (auto != null)
        {
            int packed = auto.Layers.Count(layer => layer.PackingActive == true);
            string reason = auto.Layers.Select(layer => layer.FallbackReason).FirstOrDefault(r => r != null) is { } why && packed == 0
                ? $" ({why})" : "";
            console.MarkupLine(Markup.Escape($"auto, {threads} thread{(threads == 1 ? "" : "s")}: {packed} of {auto.Layers.Count} layers packed{reason}"));
        }

        console.MarkupLine("[grey]convert and GEMM: XNNPACK's per-operator times, whole microseconds per call before the median; call: the " +
                           "wall time of Linear.Run (both operators, and the binding).[/]");
    }

    private static void WriteShapes(IAnsiConsole console, ModelReport report)
    {
        if (report.Shapes.Count == 0)
        {
            return;
        }

        Table table = new Table().Border(TableBorder.Rounded)
            .Title("[bold]the same shapes inside the model and on their own (hot cache), p50 per call, microseconds[/]");
        foreach (string header in new[] { "Threads", "Packing", "MxKxN", "layers", "call in model", "call hot", "model/hot", "GEMM in model", "GEMM hot", "model/hot", "convert in model", "convert hot" })
        {
            table.AddColumn(new TableColumn(header).RightAligned());
        }

        foreach (ModelShapeComparison shape in report.Shapes)
        {
            table.AddRow(
                Int(shape.Threads), shape.PackingName, shape.ShapeText, Int(shape.Layers),
                Us(shape.InModelCallP50Us), Us(shape.HotCallP50Us), Format.Ratio(shape.InModelOverHot),
                Whole(shape.InModelGemmP50Us), Whole(shape.HotGemmP50Us), Format.Ratio(shape.GemmInModelOverHot),
                Whole(shape.InModelConvertP50Us), Whole(shape.HotConvertP50Us));
        }

        console.Write(table);
        console.MarkupLine("[grey]in model: every layer of the shape in the forward passes above, pooled; hot: its first layer called " +
                           "again and again on its own, as `bench --preset` measures a shape. model/hot > 1: the model is slower than the " +
                           "per-shape figure says.[/]");
    }

    private static void WriteCheck(IAnsiConsole console, ModelReport report)
    {
        Table table = new Table().Border(TableBorder.Rounded).Title("[bold]every layer's output against the float64 reference[/]");
        foreach (string header in new[] { "Threads", "Packing", "layers", "ran packed", "worst |err|/tol", "failed" })
        {
            table.AddColumn(header);
        }

        foreach (ModelModeResult run in report.Runs)
        {
            var checkedLayers = run.Layers.Where(layer => layer.Check != null).ToList();
            int failed = checkedLayers.Count(layer => layer.Check!.Passed == false);
            double worst = checkedLayers.Count == 0 ? double.NaN : checkedLayers.Max(layer => layer.Check!.WorstRatio);
            table.AddRow(Int(run.Threads), run.PackingName, Int(checkedLayers.Count),
                Int(run.Layers.Count(layer => layer.PackingActive == true)),
                Format.Number(worst, "0.000"),
                run.Error != null ? $"[red]{Markup.Escape(run.Error)}[/]" : failed == 0 ? "[green]0[/]" : $"[red]{Int(failed)}[/]");
        }

        console.Write(table);
        if (report.Options.CheckRows is int rows)
        {
            console.MarkupLine(Markup.Escape(FormattableString.Invariant(
                $"each layer: {rows} rows of its output checked (the first, the last and evenly between; all of a layer with fewer rows), every column")));
        }

        foreach ((ModelModeResult run, ModelLayerResult layer) in report.Runs.SelectMany(run => run.Layers.Select(layer => (run, layer)))
                     .Where(x => x.layer.Check is { Passed: false }))
        {
            console.MarkupLine($"[red]FAIL[/] {Markup.Escape($"packing {run.PackingName}, {run.Threads}t, layer {layer.Index} {layer.Layer.Name}: {layer.Check!.Failure}")}");
        }
    }

    /// <summary>Each layer's quantization error on the file's own weights, worst first, and the model's total.</summary>
    private static void WriteAccuracy(IAnsiConsole console, ModelReport report)
    {
        if (report.Accuracy is not { } accuracy)
        {
            return;
        }

        string scheme = report.Options.Scheme.ToString().ToLowerInvariant();
        var table = new Table().Title(Markup.Escape(
            $"{scheme} on the file's own weights: relative error of each layer's output (standard normal inputs, {WeightAccuracy.Rows} rows)"));
        table.AddColumn("layer");
        table.AddColumn(new TableColumn("relative error").RightAligned());
        const int Shown = 10;
        foreach (LayerAccuracy layer in accuracy.Layers.OrderByDescending(layer => layer.RelativeError).Take(Shown))
        {
            table.AddRow(Markup.Escape(layer.Name), layer.RelativeError.ToString("0.0000", CultureInfo.InvariantCulture));
        }

        console.Write(table);
        string more = accuracy.Layers.Count > Shown ? $" (the {Shown} worst of {accuracy.Layers.Count} layers shown)" : "";
        console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"model total relative error, {scheme}: {accuracy.Total:0.0000}{more}")));
    }
}
