using System.CommandLine;
using System.Globalization;
using System.Text;
using XnnKleidi.Cli.Model;
using XnnKleidi.Formats;

namespace XnnKleidi.Cli.Commands;

/// <summary>`xnnkleidi inspect FILE`: the linear layers of a safetensors or GGUF file and what each scheme would store.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file")
        {
            Description = "A .safetensors file, a sharded set's model.safetensors.index.json, or a .gguf file.",
        };
        var command = new Command("inspect",
            "List the linear layers of a model file (2-D weights; embeddings and norms skipped: a dot-separated part of the " +
            "name containing embed, embd or norm, or being wte or wpe), with their shapes, types, biases, the bytes the file " +
            "holds them in and the bytes XnnKleidi would store for qc8w, qc4w and qb4w (blocks of 32; scales included). " +
            "Reads the header only.\n\n" +
            "Examples:\n" +
            "  xnnkleidi inspect model.safetensors\n" +
            "  xnnkleidi inspect model.safetensors.index.json\n" +
            "  xnnkleidi inspect llama-q4_0.gguf")
        {
            file,
        };
        command.SetAction(parse => Run(parse.GetValue(file)!));
        return command;
    }

    private static int Run(string path)
    {
        ModelFile model;
        try
        {
            model = ModelFile.Open(path);
        }
        catch (ModelFileFormatException e)
        {
            // One line: the reader's messages name the file and the tensor or offset at fault.
            throw new UsageException("inspect: " + e.Message.ReplaceLineEndings(" "));
        }

        using (model)
        {
            Console.Out.Write(Describe(model));
        }

        return 0;
    }

    /// <summary>A markdown table of the linear layers, a total, and the tensors that are not layers.</summary>
    internal static string Describe(ModelFile model)
    {
        var text = new StringBuilder();
        IReadOnlyList<LinearLayer> layers = model.LinearLayers;
        text.AppendLine(Invariant($"{model.Path}: {model.Format}, {model.Tensors.Count} tensors, {layers.Count} linear layers"));
        text.AppendLine();
        text.AppendLine("| layer | N×K | type | bias | file bytes | qc8w bytes | qc4w bytes | qb4w bytes |");
        text.AppendLine("|---|---|---|---|---:|---:|---:|---:|");
        long fileTotal = 0;
        long?[] schemeTotals = [0, 0, 0];
        WeightScheme[] schemes = [WeightScheme.Qc8w, WeightScheme.Qc4w, WeightScheme.Qb4w];
        foreach (LinearLayer layer in layers)
        {
            fileTotal += layer.Weight.ByteLength;
            var cells = new string[schemes.Length];
            for (int s = 0; s < schemes.Length; s++)
            {
                long? bytes = SchemeBytes(layer, schemes[s]);
                schemeTotals[s] = schemeTotals[s] + bytes;
                cells[s] = bytes is { } value ? Invariant($"{value}") : "-";
            }

            string bias = layer.Bias is { } tensor ? tensor.Type.ToString() : "-";
            text.AppendLine(Invariant(
                $"| {layer.Name} | {layer.OutputChannels}×{layer.InputChannels} | {layer.Weight.Type} | {bias} | {layer.Weight.ByteLength} | {string.Join(" | ", cells)} |"));
        }

        string Total(long? value) => value is { } bytes ? Invariant($"{bytes}") : "-";
        text.AppendLine(Invariant($"| total | | | | {fileTotal} | {Total(schemeTotals[0])} | {Total(schemeTotals[1])} | {Total(schemeTotals[2])} |"));
        text.AppendLine();
        text.AppendLine("qb4w needs K to be a multiple of 32 (\"-\" where it is not); a total with a \"-\" has a layer qb4w cannot hold.");
        var others = model.Tensors.Where(tensor => !layers.Any(layer => layer.Weight == tensor || layer.Bias == tensor)).ToList();
        if (others.Count > 0)
        {
            // A large model has hundreds of norms: the first few say what kind of tensors these are.
            const int Shown = 8;
            string more = others.Count > Shown ? Invariant($", and {others.Count - Shown} more") : "";
            text.AppendLine(Invariant($"Not linear layers ({others.Count}): ") +
                string.Join(", ", others.Take(Shown).Select(tensor => Invariant($"{tensor.Name} ({tensor.Type} {tensor.ShapeText})"))) + more);
        }

        return text.ToString();
    }

    /// <summary>What <see cref="ModelLayer.WeightBytes"/> counts for the layer, or null when the scheme cannot hold it.</summary>
    private static long? SchemeBytes(LinearLayer layer, WeightScheme scheme)
    {
        if (layer.OutputChannels > int.MaxValue || layer.InputChannels > int.MaxValue
            || (scheme == WeightScheme.Qb4w && layer.InputChannels % LinearWeights.DefaultBlockSize != 0))
        {
            return null;
        }

        return new ModelLayer(layer.Name, 1, (int)layer.InputChannels, (int)layer.OutputChannels).WeightBytes(scheme, LinearWeights.DefaultBlockSize);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
