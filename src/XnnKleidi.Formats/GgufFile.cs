using System.Globalization;

namespace XnnKleidi.Formats;

/// <summary>
/// A GGUF file (version 2 or 3, little-endian): its metadata and its tensors. The header is parsed when the file is
/// opened; tensor data is read only when a tensor is converted.
/// </summary>
/// <remarks>
/// Layout: "GGUF", uint32 version, uint64 tensor count, uint64 metadata count; the metadata as key (string), uint32
/// value type, value; each tensor as name, uint32 dimension count, uint64 dimensions innermost first, uint32 ggml type,
/// uint64 offset; then, at the next multiple of the alignment (metadata <c>general.alignment</c>, 32 when absent), the
/// tensor data, each tensor's offset counted from there. Strings are a uint64 byte length and UTF-8.
/// </remarks>
public sealed class GgufFile : ModelFile
{
    /// <summary>The alignment of the tensor data when the file does not set <c>general.alignment</c>.</summary>
    public const int DefaultAlignment = 32;

    // ggml holds at most four dimensions (GGML_MAX_DIMS).
    private const int MaxDimensions = 4;

    // Arrays of arrays are allowed; this bounds the recursion a crafted file could ask for.
    private const int MaxArrayNesting = 8;

    // The smallest encodings, which bound how many entries the file's size can justify before anything is allocated:
    // a metadata entry (empty key, type, one-byte value) and a tensor entry (empty name, no dimensions, type, offset).
    private const int SmallestMetadataEntry = 8 + 4 + 1;
    private const int SmallestTensorEntry = 8 + 4 + 4 + 8;

    private static readonly byte[] Magic = "GGUF"u8.ToArray();

    private GgufFile(string path, MappedFile file, int version, int alignment, long dataOffset, IReadOnlyDictionary<string, object> metadata, IReadOnlyList<TensorInfo> tensors)
        : base(path, tensors, file)
    {
        Version = version;
        Alignment = alignment;
        DataOffset = dataOffset;
        Metadata = metadata;
    }

    /// <summary>The GGUF version (2 or 3).</summary>
    public int Version { get; }

    /// <summary>The alignment of the tensor data, from <c>general.alignment</c> or <see cref="DefaultAlignment"/>.</summary>
    public int Alignment { get; }

    /// <summary>Where the tensor data starts in the file; tensors' offsets in the file are counted from there.</summary>
    public long DataOffset { get; }

    /// <summary>
    /// The metadata in file order. Values are <see cref="byte"/>, <see cref="sbyte"/>, <see cref="ushort"/>,
    /// <see cref="short"/>, <see cref="uint"/>, <see cref="int"/>, <see cref="ulong"/>, <see cref="long"/>,
    /// <see cref="float"/>, <see cref="double"/>, <see cref="bool"/>, <see cref="string"/>, or an array of one of
    /// these (<c>object[]</c> for an array of arrays).
    /// </summary>
    public IReadOnlyDictionary<string, object> Metadata { get; }

    /// <inheritdoc/>
    public override string Format => FormattableString.Invariant($"GGUF v{Version}");

    /// <summary>Opens <paramref name="path"/> and parses its header.</summary>
    /// <exception cref="ModelFileFormatException">The file is not a GGUF file this reader can read, or is inconsistent.</exception>
    public static new GgufFile Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return MappedFile.OpenAndParse(path, file => Parse(path, file));
    }

    private static GgufFile Parse(string path, MappedFile file)
    {
        var cursor = new ByteCursor(file, 0);
        if (file.Length < 4 || !file.Bytes(0, 4, "magic").SequenceEqual(Magic))
        {
            throw new ModelFileFormatException(path, "is not a GGUF file: it does not start with \"GGUF\"", offset: 0);
        }

        cursor.Skip(4, "magic");
        uint version = cursor.ReadUInt32("version");
        if (version is not (2 or 3))
        {
            // A big-endian file's version reads byte-swapped here.
            string why = version is 0x02000000 or 0x03000000 ? "it is a big-endian GGUF file, which this reader does not read"
                : version == 1 ? "GGUF version 1 (32-bit counts) is not supported"
                : FormattableString.Invariant($"version {version} is not supported (2 and 3 are)");
            throw new ModelFileFormatException(path, why, offset: 4);
        }

        ulong tensorCount = cursor.ReadUInt64("tensor count");
        ulong metadataCount = cursor.ReadUInt64("metadata count");
        if (metadataCount > (ulong)(cursor.Remaining / SmallestMetadataEntry))
        {
            throw new ModelFileFormatException(path, FormattableString.Invariant($"claims {metadataCount} metadata entries, more than its {file.Length} bytes can hold"), offset: 16);
        }

        var metadata = new Dictionary<string, object>(StringComparer.Ordinal);
        for (ulong i = 0; i < metadataCount; i++)
        {
            long entryStart = cursor.Position;
            string key = cursor.ReadString("metadata key");
            object value = ReadValue(cursor, cursor.ReadUInt32("metadata value type"), key, 0);
            if (!metadata.TryAdd(key, value))
            {
                throw new ModelFileFormatException(path, $"holds the metadata key '{key}' twice", offset: entryStart);
            }
        }

        int alignment = ReadAlignment(path, metadata);
        if (tensorCount > (ulong)(cursor.Remaining / SmallestTensorEntry))
        {
            throw new ModelFileFormatException(path, FormattableString.Invariant($"claims {tensorCount} tensors, more than its {file.Length} bytes can hold"), offset: 8);
        }

        var pending = new List<(string Name, TensorType Type, long[] Shape, ulong RelativeOffset, long EntryOffset)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (ulong i = 0; i < tensorCount; i++)
        {
            long entryStart = cursor.Position;
            string name = cursor.ReadString("tensor name");
            if (!names.Add(name))
            {
                throw new ModelFileFormatException(path, "is listed twice", name, entryStart);
            }

            uint dimensionCount = cursor.ReadUInt32("dimension count");
            if (dimensionCount > MaxDimensions)
            {
                throw new ModelFileFormatException(path, FormattableString.Invariant($"has {dimensionCount} dimensions; GGUF tensors have at most {MaxDimensions}"), name, entryStart);
            }

            var innermostFirst = new long[dimensionCount];
            for (int d = 0; d < innermostFirst.Length; d++)
            {
                ulong dimension = cursor.ReadUInt64("dimension");
                if (dimension > long.MaxValue)
                {
                    throw new ModelFileFormatException(path, FormattableString.Invariant($"has an absurd dimension {dimension}"), name, entryStart);
                }

                innermostFirst[d] = (long)dimension;
            }

            long typeOffset = cursor.Position;
            uint code = cursor.ReadUInt32("tensor type");
            TensorType type = TensorLayout.FromGgufCode(code)
                ?? throw new ModelFileFormatException(path, FormattableString.Invariant($"has the unknown ggml type {code}"), name, typeOffset);
            ulong relativeOffset = cursor.ReadUInt64("tensor offset");
            Array.Reverse(innermostFirst);
            pending.Add((name, type, innermostFirst, relativeOffset, entryStart));
        }

        long dataOffset = AlignUp(cursor.Position, alignment);
        // A file without tensors (a vocabulary, say) may end right after its header, without the padding.
        if (pending.Count == 0)
        {
            dataOffset = Math.Min(dataOffset, file.Length);
        }

        if (dataOffset > file.Length)
        {
            throw new ModelFileFormatException(path, "ends before its tensor data starts", offset: cursor.Position);
        }

        long dataLength = file.Length - dataOffset;
        var tensors = new List<TensorInfo>(pending.Count);
        foreach ((string name, TensorType type, long[] shape, ulong relativeOffset, long entryOffset) in pending)
        {
            if (relativeOffset % (ulong)alignment != 0)
            {
                throw new ModelFileFormatException(path, FormattableString.Invariant($"starts at data offset {relativeOffset}, not a multiple of the alignment {alignment}"), name, entryOffset);
            }

            long byteLength = TensorBytes(path, name, type, shape, dataLength, entryOffset);
            if (relativeOffset > (ulong)dataLength || byteLength > dataLength - (long)relativeOffset)
            {
                throw new ModelFileFormatException(
                    path,
                    FormattableString.Invariant($"claims {byteLength} bytes at data offset {relativeOffset}, past the end of the file ({dataLength} bytes of tensor data)"),
                    name,
                    entryOffset);
            }

            tensors.Add(new TensorInfo(name, type, shape, path, dataOffset + (long)relativeOffset, byteLength));
        }

        CheckNoOverlap(path, tensors);
        return new GgufFile(path, file, (int)version, alignment, dataOffset, metadata, tensors);
    }

    private static object ReadValue(ByteCursor cursor, uint valueType, string key, int nesting)
    {
        long start = cursor.Position;
        string what = $"value of metadata '{key}'";
        switch (valueType)
        {
            case 0: return cursor.ReadByte(what);
            case 1: return unchecked((sbyte)cursor.ReadByte(what));
            case 2: return cursor.ReadUInt16(what);
            case 3: return unchecked((short)cursor.ReadUInt16(what));
            case 4: return cursor.ReadUInt32(what);
            case 5: return unchecked((int)cursor.ReadUInt32(what));
            case 6: return cursor.ReadSingle(what);
            case 7:
                byte flag = cursor.ReadByte(what);
                return flag <= 1
                    ? flag == 1
                    : throw new ModelFileFormatException(cursor.File.Path, FormattableString.Invariant($"metadata '{key}' is a bool of value {flag}, not 0 or 1"), offset: start);
            case 8: return cursor.ReadString(what);
            case 9:
                if (nesting >= MaxArrayNesting)
                {
                    throw new ModelFileFormatException(cursor.File.Path, FormattableString.Invariant($"metadata '{key}' nests arrays deeper than {MaxArrayNesting}"), offset: start);
                }

                uint elementType = cursor.ReadUInt32(what + " element type");
                ulong count = cursor.ReadUInt64(what + " element count");
                return ReadArray(cursor, elementType, count, key, nesting, start);
            case 10: return cursor.ReadUInt64(what);
            case 11: return unchecked((long)cursor.ReadUInt64(what));
            case 12: return cursor.ReadDouble(what);
            default:
                throw new ModelFileFormatException(cursor.File.Path, FormattableString.Invariant($"metadata '{key}' has the unknown value type {valueType}"), offset: start);
        }
    }

    /// <summary>
    /// An array as a .NET array of its element type (object[] for arrays of arrays). The count is checked against the
    /// bytes left before anything is allocated, so the array takes no more memory than its bytes in the file (times
    /// eight for strings and nested arrays, whose smallest encoding is eight bytes and which are held by reference).
    /// </summary>
    private static object ReadArray(ByteCursor cursor, uint elementType, ulong count, string key, int nesting, long start)
    {
        int smallest = elementType switch
        {
            0 or 1 or 7 => 1,
            2 or 3 => 2,
            4 or 5 or 6 => 4,
            8 or 10 or 11 or 12 => 8,
            9 => 4 + 8,
            _ => throw new ModelFileFormatException(cursor.File.Path, FormattableString.Invariant($"metadata '{key}' is an array of the unknown value type {elementType}"), offset: start),
        };
        if (count > (ulong)(cursor.Remaining / smallest) || count > (ulong)Array.MaxLength)
        {
            throw new ModelFileFormatException(
                cursor.File.Path, FormattableString.Invariant($"metadata '{key}' claims an array of {count} elements, more than the {cursor.Remaining} bytes left can hold"), offset: start);
        }

        int length = (int)count;
        return elementType switch
        {
            0 => Fill<byte>(length, () => (byte)ReadValue(cursor, elementType, key, nesting + 1)),
            1 => Fill<sbyte>(length, () => (sbyte)ReadValue(cursor, elementType, key, nesting + 1)),
            2 => Fill<ushort>(length, () => (ushort)ReadValue(cursor, elementType, key, nesting + 1)),
            3 => Fill<short>(length, () => (short)ReadValue(cursor, elementType, key, nesting + 1)),
            4 => Fill<uint>(length, () => (uint)ReadValue(cursor, elementType, key, nesting + 1)),
            5 => Fill<int>(length, () => (int)ReadValue(cursor, elementType, key, nesting + 1)),
            6 => Fill<float>(length, () => (float)ReadValue(cursor, elementType, key, nesting + 1)),
            7 => Fill<bool>(length, () => (bool)ReadValue(cursor, elementType, key, nesting + 1)),
            8 => Fill<string>(length, () => (string)ReadValue(cursor, elementType, key, nesting + 1)),
            10 => Fill<ulong>(length, () => (ulong)ReadValue(cursor, elementType, key, nesting + 1)),
            11 => Fill<long>(length, () => (long)ReadValue(cursor, elementType, key, nesting + 1)),
            12 => Fill<double>(length, () => (double)ReadValue(cursor, elementType, key, nesting + 1)),
            _ => Fill<object>(length, () => ReadValue(cursor, elementType, key, nesting + 1)),
        };
    }

    private static T[] Fill<T>(int length, Func<T> next)
    {
        var items = new T[length];
        for (int i = 0; i < items.Length; i++)
        {
            items[i] = next();
        }

        return items;
    }

    private static int ReadAlignment(string path, Dictionary<string, object> metadata)
    {
        if (!metadata.TryGetValue("general.alignment", out object? value))
        {
            return DefaultAlignment;
        }

        // The specification makes it a uint32; a power of two keeps the tensors' offsets meaningful.
        if (value is uint alignment && alignment > 0 && alignment <= (1u << 30) && (alignment & (alignment - 1)) == 0)
        {
            return (int)alignment;
        }

        throw new ModelFileFormatException(path, $"general.alignment is {Convert.ToString(value, CultureInfo.InvariantCulture)} ({value.GetType().Name}); it must be a uint32 power of two");
    }

    private static long AlignUp(long position, int alignment) => (position + alignment - 1) / alignment * alignment;

    /// <summary>The bytes of a tensor, refusing dimensions whose product overflows or exceeds what the file holds.</summary>
    internal static long TensorBytes(string path, string name, TensorType type, IReadOnlyList<long> shape, long available, long? entryOffset)
    {
        long elements = 1;
        foreach (long dimension in shape)
        {
            if (dimension < 0)
            {
                throw new ModelFileFormatException(path, FormattableString.Invariant($"has the negative dimension {dimension}"), name, entryOffset);
            }

            if (dimension != 0 && elements > long.MaxValue / dimension)
            {
                throw new ModelFileFormatException(path, $"has dimensions [{string.Join(", ", shape)}] whose product overflows", name, entryOffset);
            }

            elements *= dimension;
        }

        long innermost = shape.Count == 0 ? 1 : shape[^1];
        long byteLength = TensorLayout.ByteLength(type, elements, innermost)
            ?? throw new ModelFileFormatException(
                path,
                FormattableString.Invariant($"is {type} with an innermost dimension of {innermost}, not a whole number of its {TensorLayout.BlockElements(type)}-element blocks, or too large"),
                name,
                entryOffset);
        if (byteLength > available)
        {
            throw new ModelFileFormatException(
                path, FormattableString.Invariant($"has dimensions [{string.Join(", ", shape)}] of {type}: {byteLength} bytes, more than the file's {available}"), name, entryOffset);
        }

        return byteLength;
    }

    /// <summary>Two tensors must not share a byte: one would be the other's data read as something else.</summary>
    internal static void CheckNoOverlap(string path, IReadOnlyList<TensorInfo> tensors)
    {
        var byOffset = tensors.Where(tensor => tensor.ByteLength > 0).OrderBy(tensor => tensor.Offset).ToList();
        for (int i = 1; i < byOffset.Count; i++)
        {
            TensorInfo previous = byOffset[i - 1], current = byOffset[i];
            if (current.Offset < previous.Offset + previous.ByteLength)
            {
                throw new ModelFileFormatException(
                    path,
                    FormattableString.Invariant($"overlaps '{previous.Name}' (bytes {current.Offset} and {previous.Offset}..{previous.Offset + previous.ByteLength - 1})"),
                    current.Name,
                    current.Offset);
            }
        }
    }
}
