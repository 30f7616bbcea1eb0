namespace XnnKleidi.Formats;

/// <summary>
/// A model file opened for reading: its tensors listed, none of their data read until asked for. Open one with
/// <see cref="Open"/>, which tells the formats apart, or with <see cref="GgufFile.Open"/>,
/// <see cref="SafetensorsFile.Open"/> or <see cref="ShardedSafetensors.Open"/>.
/// </summary>
/// <remarks>
/// The file is memory-mapped: only the pages of the tensors converted are ever read from disk. Converted values are
/// copies, valid after the file is disposed.
/// </remarks>
public abstract class ModelFile : IDisposable
{
    private readonly Dictionary<string, TensorInfo> byName;

    // The mapping of a single-file format; null for a set of files, which overrides FileOf and Dispose.
    private readonly MappedFile? file;

    private protected ModelFile(string path, IReadOnlyList<TensorInfo> tensors, MappedFile? file)
    {
        this.file = file;
        Path = path;
        Tensors = tensors;
        byName = tensors.ToDictionary(tensor => tensor.Name, StringComparer.Ordinal);
        LinearLayers = LinearLayer.FindAll(tensors);
    }

    /// <summary>The path the file was opened with (the index, for a sharded set).</summary>
    public string Path { get; }

    /// <summary>The format, as a reader would name it: "safetensors", "safetensors, 3 shards", "GGUF v3".</summary>
    public abstract string Format { get; }

    /// <summary>Every tensor, in the file's order (the index's order for a sharded set).</summary>
    public IReadOnlyList<TensorInfo> Tensors { get; }

    /// <summary>The linear layers found by the rule of <see cref="LinearLayer"/>, in the file's order.</summary>
    public IReadOnlyList<LinearLayer> LinearLayers { get; }

    /// <summary>
    /// Opens a GGUF file (recognised by its magic "GGUF"), a safetensors index (a path ending in <c>.json</c>), or
    /// else a single safetensors file.
    /// </summary>
    /// <exception cref="ModelFileFormatException">The file cannot be read as that format.</exception>
    public static ModelFile Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            return ShardedSafetensors.Open(path);
        }

        return StartsWithGgufMagic(path) ? GgufFile.Open(path) : SafetensorsFile.Open(path);
    }

    /// <summary>The tensor called <paramref name="name"/>, or null.</summary>
    public TensorInfo? Find(string name) => byName.GetValueOrDefault(name);

    /// <summary>
    /// The values of <paramref name="tensor"/> as fp32, in its row-major order (outermost dimension first). F16, BF16
    /// and fp32 are exact; Q4_0 and Q8_0 are dequantized (d·(q − 8) and d·q, exact in fp32).
    /// </summary>
    /// <exception cref="ArgumentException">The tensor is not one of this file's.</exception>
    /// <exception cref="NotSupportedException">Its type is listed but not converted, or it has more elements than a .NET array holds.</exception>
    public float[] ReadFloat32(TensorInfo tensor)
    {
        CheckOwn(tensor);
        return TensorDecoder.ToFloat32(MappedFileOf(tensor), tensor);
    }

    /// <summary>
    /// The weights of <paramref name="weight"/>, a 2-D tensor [N, K], in <paramref name="scheme"/>. Q4_0 to
    /// <see cref="WeightScheme.Qb4w"/> with blocks of 32 keeps its 4-bit values and rounds its fp16 scales to bf16;
    /// every other conversion reads the values as fp32 and quantizes them with <see cref="LinearWeights.Quantize"/>.
    /// The result says which, and what was lost.
    /// </summary>
    /// <exception cref="ArgumentException">The tensor is not this file's or not 2-D, or the scheme cannot hold its shape
    /// (see <see cref="LinearWeights.Quantize"/>).</exception>
    /// <exception cref="NotSupportedException">Its type is listed but not converted.</exception>
    /// <exception cref="ModelFileFormatException">A value or scale in the file is NaN or infinite, or too large for any
    /// scale the layer can compute with.</exception>
    public WeightConversion ToLinearWeights(TensorInfo weight, WeightScheme scheme, int blockSize = LinearWeights.DefaultBlockSize)
    {
        CheckOwn(weight);
        if (weight.Shape.Count != 2)
        {
            throw new ArgumentException($"'{weight.Name}' has the shape {weight.ShapeText}; a linear layer's weight is 2-D [N, K]", nameof(weight));
        }

        if (weight.Shape[0] > int.MaxValue || weight.Shape[1] > int.MaxValue || weight.ElementCount > Array.MaxLength || weight.ElementCount == 0)
        {
            throw new ArgumentException($"'{weight.Name}' is {weight.ShapeText}, which a LinearWeights cannot hold", nameof(weight));
        }

        int outputChannels = (int)weight.Shape[0], inputChannels = (int)weight.Shape[1];
        if (weight.Type == TensorType.Q4_0 && scheme == WeightScheme.Qb4w && blockSize == Q4Blocks.BlockSize)
        {
            return Q4Blocks.ToQb4w(MappedFileOf(weight), weight, outputChannels, inputChannels);
        }

        float[] values = ReadFloat32(weight);
        TensorDecoder.CheckFinite(weight, values);
        LinearWeights weights;
        try
        {
            weights = LinearWeights.Quantize(values, outputChannels, inputChannels, scheme, blockSize);
        }
        catch (ArgumentException e) when (e.ParamName == "weights")
        {
            // The values themselves are at fault (too large for any usable scale): the file's problem, not the caller's.
            throw new ModelFileFormatException(weight.FilePath, $"cannot be quantized to {scheme.ToString().ToLowerInvariant()}: {e.Message}", weight.Name, innerException: e);
        }

        string target = scheme.ToString().ToLowerInvariant();
        string description = weight.Type switch
        {
            TensorType.F32 when scheme == WeightScheme.F32 => "F32 copied as fp32 (exact)",
            TensorType.F16 or TensorType.BF16 when scheme == WeightScheme.F32 => $"{weight.Type} widened to fp32 (exact)",
            TensorType.F32 or TensorType.F16 or TensorType.BF16 => $"{weight.Type} quantized to {target}",
            _ => $"{weight.Type} dequantized to fp32 and requantized to {target}: XnnKleidi has no scheme that holds {weight.Type} as it is",
        };
        return new WeightConversion(weights, weight.Type, Requantized: !TensorLayout.IsFloat(weight.Type), description);
    }

    /// <summary>The bias of <paramref name="layer"/> as fp32, or null when the file has none for it.</summary>
    public float[]? ReadBias(LinearLayer layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        return layer.Bias is { } bias ? ReadFloat32(bias) : null;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the file's mapping.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            file?.Dispose();
        }
    }

    internal MappedFile MappedFileOf(TensorInfo tensor) => FileOf(tensor);

    private protected virtual MappedFile FileOf(TensorInfo tensor) =>
        file ?? throw new InvalidOperationException($"{GetType().Name} holds several files and must say which holds '{tensor.Name}'");

    private void CheckOwn(TensorInfo tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (!byName.TryGetValue(tensor.Name, out TensorInfo? own) || own != tensor)
        {
            throw new ArgumentException($"'{tensor.Name}' is not a tensor of {Path}", nameof(tensor));
        }
    }

    private static bool StartsWithGgufMagic(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            Span<byte> magic = stackalloc byte[4];
            return stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false) == 4 && magic.SequenceEqual("GGUF"u8);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new ModelFileFormatException(path, $"cannot be opened: {e.Message}", innerException: e);
        }
    }
}
