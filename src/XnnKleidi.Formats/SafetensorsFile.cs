using System.Buffers;
using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Unicode;

namespace XnnKleidi.Formats;

/// <summary>
/// One safetensors file: a uint64 little-endian header length N, N bytes of UTF-8 JSON naming each tensor's
/// <c>dtype</c>, <c>shape</c> and <c>data_offsets</c> [begin, end) (counted from the end of the header), an optional
/// <c>__metadata__</c> object of strings, then the tensor data.
/// </summary>
public sealed class SafetensorsFile : ModelFile
{
    // Headers of real models are kilobytes to a few megabytes; this bounds what a lying length can make us copy.
    private const long MaxHeaderBytes = 100L * 1024 * 1024;

    private const string MetadataKey = "__metadata__";

    private SafetensorsFile(string path, MappedFile file, IReadOnlyDictionary<string, string> metadata, IReadOnlyList<TensorInfo> tensors)
        : base(path, tensors, file)
    {
        Metadata = metadata;
    }

    /// <summary>The strings of the header's <c>__metadata__</c> object (empty when it has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <inheritdoc/>
    public override string Format => "safetensors";

    /// <summary>Opens <paramref name="path"/> and parses its header.</summary>
    /// <exception cref="ModelFileFormatException">The file is not a safetensors file this reader can read, or is inconsistent.</exception>
    public static new SafetensorsFile Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return MappedFile.OpenAndParse(path, file => Parse(path, file));
    }

    private static SafetensorsFile Parse(string path, MappedFile file)
    {
        if (file.Length < 8)
        {
            throw new ModelFileFormatException(path, FormattableString.Invariant($"is {file.Length} bytes long, too short for the 8-byte header length of a safetensors file"), offset: 0);
        }

        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file.Bytes(0, 8, "header length"));
        if (headerLength > (ulong)(file.Length - 8))
        {
            throw new ModelFileFormatException(path, FormattableString.Invariant($"claims a header of {headerLength} bytes, larger than the file ({file.Length} bytes)"), offset: 0);
        }

        if (headerLength > MaxHeaderBytes)
        {
            throw new ModelFileFormatException(path, FormattableString.Invariant($"claims a header of {headerLength} bytes, more than the {MaxHeaderBytes} this reader accepts"), offset: 0);
        }

        byte[] header = file.Bytes(8, (long)headerLength, "header").ToArray();
        CheckUtf8(path, header);
        long dataOffset = 8 + (long)headerLength;
        long dataLength = file.Length - dataOffset;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw new ModelFileFormatException(path, $"has a header that is not valid JSON: {e.Message}", offset: 8 + (e.BytePositionInLine ?? 0), innerException: e);
        }

        using (document)
        {
            try
            {
                return FromHeader(path, file, document.RootElement, dataOffset, dataLength);
            }
            catch (InvalidOperationException e)
            {
                // A name or string that escapes a lone UTF-16 surrogate cannot become a .NET string.
                throw new ModelFileFormatException(path, $"has a header string that is not valid Unicode: {e.Message}", offset: 8, innerException: e);
            }
        }
    }

    private static SafetensorsFile FromHeader(string path, MappedFile file, JsonElement root, long dataOffset, long dataLength)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new ModelFileFormatException(path, "has a header that is not a JSON object", offset: 8);
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var tensors = new List<TensorInfo>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (JsonProperty property in root.EnumerateObject())
        {
            if (!names.Add(property.Name))
            {
                throw new ModelFileFormatException(path, "is listed twice in the header", property.Name);
            }

            if (property.Name == MetadataKey)
            {
                ReadMetadata(path, property.Value, metadata);
                continue;
            }

            tensors.Add(ReadTensor(path, property.Name, property.Value, dataOffset, dataLength));
        }

        GgufFile.CheckNoOverlap(path, tensors);
        return new SafetensorsFile(path, file, metadata, tensors);
    }

    private static void CheckUtf8(string path, byte[] header)
    {
        char[] text = ArrayPool<char>.Shared.Rent(header.Length);
        try
        {
            OperationStatus status = Utf8.ToUtf16(header, text, out int bytesRead, out _, replaceInvalidSequences: false);
            if (status != OperationStatus.Done)
            {
                throw new ModelFileFormatException(path, "has a header that is not valid UTF-8", offset: 8 + bytesRead);
            }
        }
        finally
        {
            ArrayPool<char>.Shared.Return(text);
        }
    }

    private static void ReadMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new ModelFileFormatException(path, $"has a {MetadataKey} that is not an object of strings");
        }

        foreach (JsonProperty entry in value.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String || !metadata.TryAdd(entry.Name, entry.Value.GetString()!))
            {
                throw new ModelFileFormatException(path, $"has a {MetadataKey} entry '{entry.Name}' that is not a string or is repeated");
            }
        }
    }

    private static TensorInfo ReadTensor(string path, string name, JsonElement entry, long dataOffset, long dataLength)
    {
        if (entry.ValueKind != JsonValueKind.Object
            || !entry.TryGetProperty("dtype", out JsonElement dtype) || dtype.ValueKind != JsonValueKind.String
            || !entry.TryGetProperty("shape", out JsonElement shapeElement) || shapeElement.ValueKind != JsonValueKind.Array
            || !entry.TryGetProperty("data_offsets", out JsonElement offsets) || offsets.ValueKind != JsonValueKind.Array)
        {
            throw new ModelFileFormatException(path, "needs \"dtype\" (a string), \"shape\" and \"data_offsets\" (arrays)", name);
        }

        string dtypeName = dtype.GetString()!;
        TensorType type = TensorLayout.FromSafetensorsName(dtypeName)
            ?? throw new ModelFileFormatException(path, $"has the unknown dtype '{dtypeName}'", name);
        var shape = new List<long>();
        foreach (JsonElement dimension in shapeElement.EnumerateArray())
        {
            if (dimension.ValueKind != JsonValueKind.Number || !dimension.TryGetInt64(out long value) || value < 0)
            {
                throw new ModelFileFormatException(path, $"has the dimension {dimension.GetRawText()}, not a non-negative 64-bit integer", name);
            }

            shape.Add(value);
        }

        if (offsets.GetArrayLength() != 2
            || !offsets[0].TryGetInt64(out long begin) || !offsets[1].TryGetInt64(out long end)
            || begin < 0 || end < begin)
        {
            throw new ModelFileFormatException(path, $"has data_offsets {offsets.GetRawText()}, not [begin, end] with 0 <= begin <= end", name);
        }

        long byteLength = GgufFile.TensorBytes(path, name, type, shape, dataLength, entryOffset: null);
        if (end - begin != byteLength)
        {
            throw new ModelFileFormatException(
                path,
                FormattableString.Invariant($"has data_offsets [{begin}, {end}] ({end - begin} bytes), but {type} [{string.Join(", ", shape)}] takes {byteLength} bytes"),
                name,
                dataOffset + begin);
        }

        if (end > dataLength)
        {
            throw new ModelFileFormatException(
                path, FormattableString.Invariant($"has data_offsets [{begin}, {end}] past the end of the data ({dataLength} bytes)"), name, dataOffset + begin);
        }

        return new TensorInfo(name, type, shape, path, dataOffset + begin, byteLength);
    }
}
