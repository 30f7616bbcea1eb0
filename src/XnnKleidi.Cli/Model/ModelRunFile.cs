using System.Text.Json;

namespace XnnKleidi.Cli.Model;

/// <summary>One mode's figures as `compare` reads them back from a model run's JSON.</summary>
internal sealed record ModelRunFileMode(
    int Threads, string Packing, double TotalP50Us, double? TotalLowUs, double? TotalHighUs, double? OnOffRatio,
    IReadOnlyDictionary<string, double?> GemmP50UsByLayer);

/// <summary>
/// A model run's JSON (<see cref="ModelReport.SchemaVersion"/>), read back for `compare`: only what the comparison
/// shows. Anything else in the file is ignored; a file that is not such a document, or of another version, is refused
/// with a message naming the file and what is wrong.
/// </summary>
internal sealed record ModelRunFile(
    string Path, string Model, string Scheme, string Device, string Rid, string CpuFeatures, bool Emulated,
    IReadOnlyList<string> LayerNames, IReadOnlyList<(int K, int N)> LayerShapes, IReadOnlyList<ModelRunFileMode> Modes)
{
    public string Label => System.IO.Path.GetFileNameWithoutExtension(Path);

    /// <summary>Reads <paramref name="path"/>; throws <see cref="InvalidDataException"/> with a one-line reason.</summary>
    public static ModelRunFile Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new InvalidDataException($"{path}: cannot read it ({e.Message})");
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(text);
            return FromJson(path, document.RootElement);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message.Split('\n')[0].TrimEnd()})");
        }
        catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or FormatException)
        {
            // A field of the wrong JSON type, or missing: the file is not a model run of this schema.
            throw new InvalidDataException($"{path}: not a model run of schema version {ModelReport.SchemaVersion} ({e.Message})");
        }
    }

    private static ModelRunFile FromJson(string path, JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("schemaVersion", out JsonElement version))
        {
            throw new InvalidDataException(
                $"{path}: not a model run (no schemaVersion; `bench --model ... --out FILE.json` writes one, `bench --preset` records are not)");
        }

        if (version.ValueKind != JsonValueKind.Number || !version.TryGetInt32(out int schemaVersion) || schemaVersion != ModelReport.SchemaVersion)
        {
            throw new InvalidDataException(
                $"{path}: schema version {version.GetRawText()}, this xnnkleidi reads version {ModelReport.SchemaVersion} only");
        }

        if (root.GetProperty("kind").GetString() != ModelReport.Kind)
        {
            throw new InvalidDataException($"{path}: kind '{root.GetProperty("kind").GetString()}' is not '{ModelReport.Kind}'");
        }

        JsonElement host = root.GetProperty("host");
        var names = new List<string>();
        var shapes = new List<(int, int)>();
        var modes = new List<ModelRunFileMode>();
        foreach (JsonElement run in root.GetProperty("runs").EnumerateArray())
        {
            var gemms = new Dictionary<string, double?>();
            bool first = modes.Count == 0 && names.Count == 0;
            foreach (JsonElement layer in run.GetProperty("layers").EnumerateArray())
            {
                string name = layer.GetProperty("name").GetString()!;
                gemms[name] = Number(layer, "gemmP50Us");
                if (first)
                {
                    names.Add(name);
                    shapes.Add((layer.GetProperty("k").GetInt32(), layer.GetProperty("n").GetInt32()));
                }
            }

            if (Number(run, "totalP50Us") is double total)
            {
                modes.Add(new ModelRunFileMode(
                    run.GetProperty("threads").GetInt32(), run.GetProperty("packing").GetString()!, total,
                    Number(run, "totalCiLowUs"), Number(run, "totalCiHighUs"), Number(run, "onOffRatio"), gemms));
            }
        }

        if (modes.Count == 0)
        {
            throw new InvalidDataException($"{path}: holds no timed forward pass (a --check run, or every mode failed)");
        }

        return new ModelRunFile(
            path, Workload(root), root.GetProperty("scheme").GetString()!,
            host.GetProperty("device").GetString()!, host.GetProperty("rid").GetString()!,
            host.GetProperty("cpuFeatures").GetString()!, host.GetProperty("emulated").GetBoolean(), names, shapes, modes);
    }

    /// <summary>The model, and a language model's phase, so that runs of different phases never merge as one model.</summary>
    private static string Workload(JsonElement root)
    {
        string model = root.GetProperty("model").GetString()!;
        string? phase = root.TryGetProperty("phase", out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        double? promptTokens = Number(root, "promptTokens");
        return phase == null ? model
            : promptTokens != null ? FormattableString.Invariant($"{model} {phase} of {promptTokens} tokens")
            : $"{model} {phase}";
    }

    private static double? Number(JsonElement element, string name) =>
        element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null;
}
