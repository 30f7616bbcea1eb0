using System.Text.Json;

namespace XnnKleidi.Formats;

/// <summary>
/// A safetensors model split over several files, named by an index (<c>model.safetensors.index.json</c>) whose
/// <c>weight_map</c> gives each tensor's file. The shards must lie beside the index.
/// </summary>
public sealed class ShardedSafetensors : ModelFile
{
    // Indexes of real models are tens of kilobytes.
    private const long MaxIndexBytes = 64L * 1024 * 1024;

    private readonly Dictionary<string, SafetensorsFile> shardsByPath;

    private ShardedSafetensors(string path, IReadOnlyList<SafetensorsFile> shards, IReadOnlyList<TensorInfo> tensors)
        : base(path, tensors, file: null)
    {
        Shards = shards;
        shardsByPath = shards.ToDictionary(shard => shard.Path, StringComparer.Ordinal);
    }

    /// <summary>The shards, in the order the index first names them.</summary>
    public IReadOnlyList<SafetensorsFile> Shards { get; }

    /// <inheritdoc/>
    public override string Format => FormattableString.Invariant($"safetensors, {Shards.Count} shards");

    /// <summary>Opens the index at <paramref name="indexPath"/> and every shard it names.</summary>
    /// <exception cref="ModelFileFormatException">The index or a shard cannot be read, or they disagree.</exception>
    public static new ShardedSafetensors Open(string indexPath)
    {
        ArgumentNullException.ThrowIfNull(indexPath);
        List<(string Tensor, string Shard)> weightMap = ReadWeightMap(indexPath);
        string directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(indexPath)) ?? ".";
        var shards = new List<SafetensorsFile>();
        var byName = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        try
        {
            var tensors = new List<TensorInfo>(weightMap.Count);
            foreach ((string tensorName, string shardName) in weightMap)
            {
                if (!byName.TryGetValue(shardName, out SafetensorsFile? shard))
                {
                    shard = SafetensorsFile.Open(System.IO.Path.Combine(directory, shardName));
                    byName.Add(shardName, shard);
                    shards.Add(shard);
                }

                tensors.Add(shard.Find(tensorName)
                    ?? throw new ModelFileFormatException(indexPath, $"is mapped to {shardName}, which does not hold it", tensorName));
            }

            return new ShardedSafetensors(indexPath, shards, tensors);
        }
        catch
        {
            foreach (SafetensorsFile shard in shards)
            {
                shard.Dispose();
            }

            throw;
        }
    }

    private protected override MappedFile FileOf(TensorInfo tensor) =>
        shardsByPath.TryGetValue(tensor.FilePath, out SafetensorsFile? shard)
            ? shard.MappedFileOf(tensor)
            : throw new ArgumentException($"'{tensor.Name}' is not a tensor of {Path}", nameof(tensor));

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (SafetensorsFile shard in Shards)
            {
                shard.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    private static List<(string Tensor, string Shard)> ReadWeightMap(string indexPath)
    {
        byte[] bytes;
        try
        {
            var info = new FileInfo(indexPath);
            if (info.Exists && info.Length > MaxIndexBytes)
            {
                throw new ModelFileFormatException(indexPath, FormattableString.Invariant($"is {info.Length} bytes, more than the {MaxIndexBytes} an index may take"));
            }

            bytes = File.ReadAllBytes(indexPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new ModelFileFormatException(indexPath, $"cannot be read: {e.Message}", innerException: e);
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(bytes);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("weight_map", out JsonElement map)
                || map.ValueKind != JsonValueKind.Object)
            {
                throw new ModelFileFormatException(indexPath, "is not a safetensors index: it has no \"weight_map\" object");
            }

            var entries = new List<(string, string)>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonProperty entry in map.EnumerateObject())
            {
                if (!names.Add(entry.Name))
                {
                    throw new ModelFileFormatException(indexPath, "is listed twice in the weight_map", entry.Name);
                }

                string? shard = entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString() : null;
                // A shard is a file beside the index: a path elsewhere would let an index read any file.
                if (string.IsNullOrEmpty(shard) || shard is "." or ".." || shard.IndexOfAny(['/', '\\']) >= 0 || shard.Contains('\0', StringComparison.Ordinal))
                {
                    throw new ModelFileFormatException(indexPath, $"is mapped to {entry.Value.GetRawText()}, not the name of a file beside the index", entry.Name);
                }

                entries.Add((entry.Name, shard));
            }

            return entries;
        }
        catch (JsonException e)
        {
            throw new ModelFileFormatException(indexPath, $"is not valid JSON: {e.Message}", innerException: e);
        }
        catch (InvalidOperationException e)
        {
            throw new ModelFileFormatException(indexPath, $"is not valid UTF-8 JSON: {e.Message}", innerException: e);
        }
    }
}
