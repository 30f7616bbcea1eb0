using System.Buffers.Binary;

namespace XnnKleidi.Formats;

/// <summary>Turns a tensor's bytes into fp32, a bounded chunk of the mapping at a time.</summary>
internal static class TensorDecoder
{
    // Blocks decoded per span of the mapping: small enough that a span stays far below 2 GiB for every type.
    private const long BlocksPerChunk = 1 << 20;

    public static float[] ToFloat32(MappedFile file, TensorInfo tensor)
    {
        if (!tensor.IsConvertible)
        {
            throw new NotSupportedException($"'{tensor.Name}' is {tensor.Type}, which is listed but not converted; convertible types are F32, F16, BF16, Q4_0 and Q8_0");
        }

        long count = tensor.ElementCount;
        if (count > Array.MaxLength)
        {
            throw new NotSupportedException($"'{tensor.Name}' has {count} elements, more than a .NET array holds");
        }

        var values = new float[count];
        int blockElements = TensorLayout.BlockElements(tensor.Type), blockBytes = TensorLayout.BlockBytes(tensor.Type);
        long blocks = count / blockElements;
        for (long first = 0; first < blocks; first += BlocksPerChunk)
        {
            long chunk = Math.Min(BlocksPerChunk, blocks - first);
            ReadOnlySpan<byte> bytes = file.Bytes(tensor.Offset + (first * blockBytes), chunk * blockBytes, "tensor data", tensor.Name);
            Decode(tensor.Type, bytes, values.AsSpan((int)(first * blockElements), (int)(chunk * blockElements)));
        }

        return values;
    }

    /// <summary>NaN and infinities cannot be quantized; the message names the first one's place.</summary>
    public static void CheckFinite(TensorInfo tensor, ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                throw new ModelFileFormatException(tensor.FilePath, FormattableString.Invariant($"holds {values[i]} at element {i}; weights must be finite"), tensor.Name);
            }
        }
    }

    public static float Half(ReadOnlySpan<byte> bytes) => (float)BinaryPrimitives.ReadHalfLittleEndian(bytes);

    private static void Decode(TensorType type, ReadOnlySpan<byte> bytes, Span<float> values)
    {
        switch (type)
        {
            case TensorType.F32:
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * i)..]);
                }

                break;
            case TensorType.F16:
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = Half(bytes[(2 * i)..]);
                }

                break;
            case TensorType.BF16:
                for (int i = 0; i < values.Length; i++)
                {
                    // bf16 is the upper half of an fp32.
                    values[i] = BitConverter.UInt32BitsToSingle((uint)BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]) << 16);
                }

                break;
            case TensorType.Q8_0:
                for (int block = 0; block < values.Length / 32; block++)
                {
                    ReadOnlySpan<byte> source = bytes.Slice(block * 34, 34);
                    float scale = Half(source);
                    for (int j = 0; j < 32; j++)
                    {
                        values[(block * 32) + j] = scale * (sbyte)source[2 + j];
                    }
                }

                break;
            case TensorType.Q4_0:
                for (int block = 0; block < values.Length / 32; block++)
                {
                    ReadOnlySpan<byte> source = bytes.Slice(block * Q4Blocks.BlockBytes, Q4Blocks.BlockBytes);
                    float scale = Half(source);
                    for (int j = 0; j < Q4Blocks.BlockSize; j++)
                    {
                        values[(block * 32) + j] = scale * (Q4Blocks.Nibble(source, j) - 8);
                    }
                }

                break;
            default:
                throw new NotSupportedException($"{type} is not converted");
        }
    }
}
