using System.CommandLine;
using System.Globalization;
using XnnKleidi.Cli.Model;
using XnnKleidi.Cli.Output;

namespace XnnKleidi.Cli.Commands;

/// <summary>`xnnkleidi compare A.json B.json ...`: model runs from several devices or builds, side by side.</summary>
internal static class CompareCommand
{
    public static Command Create()
    {
        var files = new Argument<List<string>>("files")
        {
            Description = "Model runs written by `xnnkleidi bench --model NAME --out FILE.json`, one per device or build, all of one model.",
            Arity = ArgumentArity.OneOrMore,
        };
        var layer = new Option<string?>("--layer")
        {
            Description = "The layer whose GEMM p50 the table shows, by its name in the model (e.g. " +
                          "encoder.layers.encoder_layer_0.mlp.0) or its index in forward order. Default: the first layer with the most weights.",
            HelpName = "NAME|INDEX",
        };
        var output = new Option<List<string>>("--out", "-o")
        {
            Description = "Also write the markdown table to FILE. Repeatable.",
            HelpName = "FILE.md",
            Arity = ArgumentArity.OneOrMore,
            DefaultValueFactory = _ => [],
        };
        Option<string?> plot = OptionParsing.ChartPathOption(
            "Write a chart of the model totals, runs side by side, to FILE.png or FILE.svg.");
        var command = new Command("compare",
            "Merge model runs from several devices or builds into one side-by-side table (markdown on standard output): device " +
            "and CPU features, packing mode, the model total, one layer's GEMM p50 and the total's on/off ratio.\n\n" +
            "Examples:\n" +
            "  xnnkleidi compare s24.json macbook.json\n" +
            "  xnnkleidi compare epyc.json graviton.json --layer encoder.layers.encoder_layer_0.mlp.0 --plot compare.png")
        {
            files, layer, output, plot,
        };
        command.SetAction(parse => Run(parse.GetValue(files)!, parse.GetValue(layer), parse.GetValue(output)!, parse.GetValue(plot)));
        return command;
    }

    private static int Run(List<string> paths, string? layerChoice, List<string> outputs, string? plotPath)
    {
        var runs = new List<ModelRunFile>();
        foreach (string path in paths)
        {
            try
            {
                runs.Add(ModelRunFile.Read(path));
            }
            catch (InvalidDataException e)
            {
                throw new UsageException("compare: " + e.Message);
            }
        }

        ModelRunFile first = runs[0];
        foreach (ModelRunFile run in runs.Skip(1))
        {
            if (run.Model != first.Model || run.Scheme != first.Scheme)
            {
                throw new UsageException(
                    $"compare: {run.Path} is a {run.Model} {run.Scheme} run, {first.Path} a {first.Model} {first.Scheme} run; compare runs of one model and scheme");
            }
        }

        string layer = ResolveLayer(first, layerChoice);
        string markdown = CompareTable.ToMarkdown(runs, layer);
        foreach (string path in outputs)
        {
            try
            {
                File.WriteAllText(path, markdown);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                throw new UsageException($"cannot write '{path}': {e.Message}");
            }
        }

        if (plotPath != null)
        {
            ModelPlotWriter.Write(runs, plotPath);
        }

        Console.Out.Write(markdown);
        if (runs.Any(run => run.Emulated))
        {
            Console.Out.WriteLine();
            Console.Out.WriteLine("note: runs marked emulated were timed under an emulator; their timings are meaningless.");
        }

        return 0;
    }

    private static string ResolveLayer(ModelRunFile run, string? choice)
    {
        if (choice == null)
        {
            return CompareTable.DefaultLayer(run);
        }

        if (int.TryParse(choice, NumberStyles.None, CultureInfo.InvariantCulture, out int index))
        {
            return index < run.LayerNames.Count
                ? run.LayerNames[index]
                : throw new UsageException($"compare --layer {choice}: {run.Model} has {run.LayerNames.Count} layers (0 to {run.LayerNames.Count - 1})");
        }

        return run.LayerNames.Contains(choice)
            ? choice
            : throw new UsageException($"compare --layer: {run.Model} has no layer '{choice}' (e.g. {run.LayerNames[0]}, or give an index)");
    }
}
