using System.Text;

namespace XnnKleidi.Formats.Tests.Support;

/// <summary>
/// Writes GGUF files byte by byte from the format's description: "GGUF", uint32 version, uint64 tensor count, uint64
/// metadata count, the metadata (string key, uint32 type, value), the tensor infos (string name, uint32 n_dims,
/// uint64 dims innermost first, uint32 ggml type, uint64 offset from the data start), padding to the alignment, the
/// data (each tensor at a multiple of the alignment). Strings are a uint64 length and the bytes. Little-endian.
/// </summary>
internal sealed class GgufBuilder
{
    public const uint TypeUInt8 = 0, TypeInt32 = 5, TypeFloat32 = 6, TypeBool = 7, TypeString = 8, TypeArray = 9, TypeUInt32 = 4, TypeUInt64 = 10;

    public const uint GgmlF32 = 0, GgmlF16 = 1, GgmlQ4_0 = 2, GgmlQ8_0 = 8, GgmlBF16 = 30, GgmlQ4_K = 12;

    private readonly List<Action<BinaryWriter>> metadata = [];
    private readonly List<TensorEntry> tensors = [];

    public uint Version { get; set; } = 3;

    /// <summary>The alignment the data is laid out with (set general.alignment to match when not 32).</summary>
    public int Alignment { get; set; } = 32;

    /// <summary>Where the data starts in the last file built.</summary>
    public long DataStart { get; private set; }

    /// <summary>Each tensor's offset from the data start in the last file built.</summary>
    public Dictionary<string, long> RelativeOffsets { get; } = [];

    public GgufBuilder MetadataRaw(string key, uint type, Action<BinaryWriter> value)
    {
        metadata.Add(w =>
        {
            WriteString(w, key);
            w.Write(type);
            value(w);
        });
        return this;
    }

    public GgufBuilder MetadataString(string key, string value) => MetadataRaw(key, TypeString, w => WriteString(w, value));

    public GgufBuilder MetadataUInt32(string key, uint value) => MetadataRaw(key, TypeUInt32, w => w.Write(value));

    public GgufBuilder Tensor(string name, uint ggmlType, ulong[] dimsInnermostFirst, byte[] data, ulong? offsetOverride = null) =>
        Tensor(Encoding.UTF8.GetBytes(name), ggmlType, dimsInnermostFirst, data, offsetOverride);

    public GgufBuilder Tensor(byte[] name, uint ggmlType, ulong[] dimsInnermostFirst, byte[] data, ulong? offsetOverride = null)
    {
        tensors.Add(new TensorEntry(name, ggmlType, dimsInnermostFirst, data, offsetOverride));
        return this;
    }

    public byte[] Build()
    {
        var offsets = new List<long>();
        long offset = 0;
        RelativeOffsets.Clear();
        foreach (TensorEntry tensor in tensors)
        {
            offsets.Add(offset);
            RelativeOffsets[Encoding.UTF8.GetString(tensor.Name)] = offset;
            offset = Align(offset + tensor.Data.Length);
        }

        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            w.Write("GGUF"u8);
            w.Write(Version);
            w.Write((ulong)tensors.Count);
            w.Write((ulong)metadata.Count);
            foreach (Action<BinaryWriter> entry in metadata)
            {
                entry(w);
            }

            for (int i = 0; i < tensors.Count; i++)
            {
                TensorEntry tensor = tensors[i];
                w.Write((ulong)tensor.Name.Length);
                w.Write(tensor.Name);
                w.Write((uint)tensor.Dims.Length);
                foreach (ulong dim in tensor.Dims)
                {
                    w.Write(dim);
                }

                w.Write(tensor.GgmlType);
                w.Write(tensor.OffsetOverride ?? (ulong)offsets[i]);
            }

            w.Flush();
            DataStart = Align(stream.Position);
            w.Write(new byte[DataStart - stream.Position]);
            for (int i = 0; i < tensors.Count; i++)
            {
                w.Write(new byte[DataStart + offsets[i] - stream.Position]);
                w.Write(tensors[i].Data);
            }
        }

        return stream.ToArray();
    }

    public static void WriteString(BinaryWriter w, string value)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(value);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private long Align(long position) => (position + Alignment - 1) / Alignment * Alignment;

    private sealed record TensorEntry(byte[] Name, uint GgmlType, ulong[] Dims, byte[] Data, ulong? OffsetOverride);
}
