using System.Buffers.Binary;
using System.Text;

namespace XnnKleidi.Formats;

/// <summary>
/// Reads little-endian values one after the other from a mapped file, checking each against the file's end and
/// naming the offset of anything it cannot read.
/// </summary>
internal sealed class ByteCursor(MappedFile file, long position)
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public long Position { get; private set; } = position;

    public long Remaining => file.Length - Position;

    public MappedFile File => file;

    public byte ReadByte(string what) => Take(1, what)[0];

    public ushort ReadUInt16(string what) => BinaryPrimitives.ReadUInt16LittleEndian(Take(2, what));

    public uint ReadUInt32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, what));

    public ulong ReadUInt64(string what) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, what));

    public float ReadSingle(string what) => BinaryPrimitives.ReadSingleLittleEndian(Take(4, what));

    public double ReadDouble(string what) => BinaryPrimitives.ReadDoubleLittleEndian(Take(8, what));

    /// <summary>A string of a uint64 byte length followed by that many bytes of UTF-8.</summary>
    public string ReadString(string what)
    {
        long start = Position;
        ulong length = ReadUInt64(what + " length");
        if (length > (ulong)Remaining)
        {
            throw new ModelFileFormatException(
                file.Path, FormattableString.Invariant($"{what} claims {length} bytes, but only {Remaining} remain in the file"), offset: start);
        }

        long textStart = Position;
        ReadOnlySpan<byte> bytes = Take((long)length, what);
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new ModelFileFormatException(file.Path, $"{what} is not valid UTF-8", offset: textStart, innerException: e);
        }
    }

    public void Skip(long count, string what) => Take(count, what);

    public void MoveTo(long position) => Position = position;

    private ReadOnlySpan<byte> Take(long count, string what)
    {
        ReadOnlySpan<byte> bytes = file.Bytes(Position, count, what);
        Position += count;
        return bytes;
    }
}
