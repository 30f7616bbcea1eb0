namespace XnnKleidi.Cli.Model;

/// <summary>
/// What `bench --model` runs: a model of the catalogue by name, or the linear layers of a model file. A value ending in
/// .safetensors, .gguf or .json is a file, any other a catalogue name, so that the two never collide.
/// </summary>
internal abstract record ModelSource
{
    public static readonly string[] FileExtensions = [".safetensors", ".gguf", ".json"];

    /// <summary>The name reports carry: the catalogue name, or the file's name.</summary>
    public abstract string Name { get; }

    /// <summary>The source <paramref name="value"/> names, or null with <paramref name="error"/> saying why it names none.</summary>
    public static ModelSource? Parse(string value, out string? error)
    {
        ArgumentNullException.ThrowIfNull(value);
        error = null;
        if (FileExtensions.Any(extension => value.EndsWith(extension, StringComparison.OrdinalIgnoreCase)))
        {
            if (!File.Exists(value))
            {
                error = $"--model: the model file '{value}' does not exist";
                return null;
            }

            return new FileModel(Path.GetFullPath(value));
        }

        string name = value.ToLowerInvariant();
        if (!ModelCatalog.Names.Contains(name))
        {
            error = $"--model: unknown model '{value}' (expected {string.Join(", ", ModelCatalog.Names)}, or a " +
                    $"{string.Join(", ", FileExtensions)} file)";
            return null;
        }

        return new CatalogueModel(name);
    }
}

/// <summary>A model of the catalogue: random weights at the model's published shapes.</summary>
internal sealed record CatalogueModel(string CatalogueName) : ModelSource
{
    public override string Name => CatalogueName;
}

/// <summary>A safetensors file, a sharded set's index, or a GGUF file: the file's own weights.</summary>
internal sealed record FileModel(string FullPath) : ModelSource
{
    public override string Name => Path.GetFileName(FullPath);
}
