using System.Buffers.Binary;

namespace XnnKleidi.Formats.Tests.Support;

/// <summary>Known values encoded as each type's bytes, from the types' definitions.</summary>
internal static class TensorBytes
{
    public static byte[] F32(params float[] values)
    {
        var bytes = new byte[4 * values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        }

        return bytes;
    }

    /// <summary>fp16 of values that fp16 holds exactly (checked, so that the expectation is the value itself).</summary>
    public static byte[] F16(params float[] values)
    {
        var bytes = new byte[2 * values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            Half half = (Half)values[i];
            if ((float)half != values[i])
            {
                throw new ArgumentException($"{values[i]} is not exact in fp16");
            }

            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), BitConverter.HalfToUInt16Bits(half));
        }

        return bytes;
    }

    /// <summary>bf16 (the upper 16 bits of an fp32) of values whose lower 16 bits are zero.</summary>
    public static byte[] BF16(params float[] values)
    {
        var bytes = new byte[2 * values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            uint bits = BitConverter.SingleToUInt32Bits(values[i]);
            if ((bits & 0xFFFF) != 0)
            {
                throw new ArgumentException($"{values[i]} is not exact in bf16");
            }

            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), (ushort)(bits >> 16));
        }

        return bytes;
    }

    /// <summary>
    /// One Q4_0 block: the fp16 scale, then 16 bytes whose low nibbles are q[0..15] and high nibbles q[16..31].
    /// </summary>
    public static byte[] Q4_0Block(ushort scaleFp16Bits, int[] q)
    {
        if (q.Length != 32 || q.Any(v => v is < 0 or > 15))
        {
            throw new ArgumentException("a Q4_0 block holds 32 values of 0..15");
        }

        var bytes = new byte[18];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, scaleFp16Bits);
        for (int j = 0; j < 16; j++)
        {
            bytes[2 + j] = (byte)(q[j] | (q[16 + j] << 4));
        }

        return bytes;
    }

    /// <summary>One Q8_0 block: the fp16 scale, then 32 int8 values.</summary>
    public static byte[] Q8_0Block(ushort scaleFp16Bits, sbyte[] q)
    {
        if (q.Length != 32)
        {
            throw new ArgumentException("a Q8_0 block holds 32 values");
        }

        var bytes = new byte[34];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, scaleFp16Bits);
        for (int j = 0; j < 32; j++)
        {
            bytes[2 + j] = unchecked((byte)q[j]);
        }

        return bytes;
    }

    public static ushort Fp16Bits(float value) => BitConverter.HalfToUInt16Bits((Half)value);

    public static float Fp16Value(ushort bits) => (float)BitConverter.UInt16BitsToHalf(bits);
}
