using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace XnnKleidi.Formats.Tests.Support;

/// <summary>
/// Writes safetensors files byte by byte from the format's description: a uint64 little-endian header length, the
/// JSON header (each tensor's dtype, shape and data_offsets counted from the end of the header), the data.
/// </summary>
internal sealed class SafetensorsBuilder
{
    private readonly List<(string Name, string Dtype, long[] Shape, byte[] Data)> tensors = [];
    private readonly List<(string Key, string Value)> metadata = [];

    /// <summary>Where the data starts in the last file built: 8 + the header's length.</summary>
    public long DataStart { get; private set; }

    /// <summary>Each tensor's data_offsets begin in the last file built.</summary>
    public Dictionary<string, long> Begins { get; } = [];

    public SafetensorsBuilder Add(string name, string dtype, long[] shape, byte[] data)
    {
        tensors.Add((name, dtype, shape, data));
        return this;
    }

    public SafetensorsBuilder Metadata(string key, string value)
    {
        metadata.Add((key, value));
        return this;
    }

    /// <summary>The header JSON, tensors' data laid out one after the other in the order added.</summary>
    public string HeaderJson()
    {
        var entries = new List<string>();
        if (metadata.Count > 0)
        {
            entries.Add("\"__metadata__\":{" + string.Join(",", metadata.Select(m => $"\"{m.Key}\":\"{m.Value}\"")) + "}");
        }

        long offset = 0;
        Begins.Clear();
        foreach ((string name, string dtype, long[] shape, byte[] data) in tensors)
        {
            Begins[name] = offset;
            string dims = string.Join(",", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));
            entries.Add(FormattableString.Invariant($"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":[{dims}],\"data_offsets\":[{offset},{offset + data.Length}]}}"));
            offset += data.Length;
        }

        return "{" + string.Join(",", entries) + "}";
    }

    public byte[] Build()
    {
        byte[] header = Encoding.UTF8.GetBytes(HeaderJson());
        byte[] data = tensors.SelectMany(t => t.Data).ToArray();
        byte[] file = Raw(header, data);
        DataStart = file.Length - data.Length;
        return file;
    }

    /// <summary>A file of exactly these header bytes and data, the length field saying <paramref name="claimedHeaderLength"/> when given.</summary>
    public static byte[] Raw(byte[] header, byte[] data, ulong? claimedHeaderLength = null)
    {
        var file = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, claimedHeaderLength ?? (ulong)header.Length);
        header.CopyTo(file, 8);
        data.CopyTo(file, 8 + header.Length);
        return file;
    }

    public static byte[] Raw(string header, byte[] data) => Raw(Encoding.UTF8.GetBytes(header), data);
}
