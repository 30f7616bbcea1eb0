namespace XnnKleidi.Formats;

/// <summary>How many elements a type stores per block and how many bytes a block takes, and the file formats' codes.</summary>
internal static class TensorLayout
{
    // (type, elements per block, bytes per block, GGUF ggml_type code or -1, safetensors dtype or null).
    // The block sizes are those of ggml's block structs: an fp16 scale (2 bytes) ahead of the values, and for the
    // K-quants a 256-element super-block with its sub-block scales.
    private static readonly (TensorType Type, int BlockElements, int BlockBytes, int GgufCode, string? SafetensorsName)[] Table =
    [
        (TensorType.F32, 1, 4, 0, "F32"),
        (TensorType.F16, 1, 2, 1, "F16"),
        (TensorType.BF16, 1, 2, 30, "BF16"),
        (TensorType.Q4_0, 32, 2 + 16, 2, null),
        (TensorType.Q8_0, 32, 2 + 32, 8, null),
        (TensorType.F64, 1, 8, 28, "F64"),
        (TensorType.I8, 1, 1, 24, "I8"),
        (TensorType.U8, 1, 1, -1, "U8"),
        (TensorType.I16, 1, 2, 25, "I16"),
        (TensorType.I32, 1, 4, 26, "I32"),
        (TensorType.I64, 1, 8, 27, "I64"),
        (TensorType.Bool, 1, 1, -1, "BOOL"),
        (TensorType.Q4_1, 32, 4 + 16, 3, null),
        (TensorType.Q5_0, 32, 2 + 4 + 16, 6, null),
        (TensorType.Q5_1, 32, 4 + 4 + 16, 7, null),
        (TensorType.Q8_1, 32, 4 + 32, 9, null),
        (TensorType.Q2_K, 256, 16 + 64 + 4, 10, null),
        (TensorType.Q3_K, 256, 32 + 64 + 12 + 2, 11, null),
        (TensorType.Q4_K, 256, 4 + 12 + 128, 12, null),
        (TensorType.Q5_K, 256, 4 + 12 + 32 + 128, 13, null),
        (TensorType.Q6_K, 256, 128 + 64 + 16 + 2, 14, null),
        (TensorType.Q8_K, 256, 4 + 256 + 32, 15, null),
    ];

    public static int BlockElements(TensorType type) => Entry(type).BlockElements;

    public static int BlockBytes(TensorType type) => Entry(type).BlockBytes;

    public static bool IsConvertible(TensorType type) => type <= TensorType.Q8_0;

    public static bool IsFloat(TensorType type) => type is TensorType.F32 or TensorType.F16 or TensorType.BF16;

    public static TensorType? FromGgufCode(uint code)
    {
        foreach (var entry in Table)
        {
            if (entry.GgufCode >= 0 && (uint)entry.GgufCode == code)
            {
                return entry.Type;
            }
        }

        return null;
    }

    public static TensorType? FromSafetensorsName(string name)
    {
        foreach (var entry in Table)
        {
            if (entry.SafetensorsName == name)
            {
                return entry.Type;
            }
        }

        return null;
    }

    /// <summary>
    /// The bytes of a tensor of <paramref name="elementCount"/> elements whose innermost dimension is
    /// <paramref name="innermost"/>; null when that dimension is not a whole number of blocks or the length overflows.
    /// </summary>
    public static long? ByteLength(TensorType type, long elementCount, long innermost)
    {
        var entry = Entry(type);
        if (innermost % entry.BlockElements != 0)
        {
            return null;
        }

        try
        {
            return checked(elementCount / entry.BlockElements * entry.BlockBytes);
        }
        catch (OverflowException)
        {
            return null;
        }
    }

    private static (TensorType Type, int BlockElements, int BlockBytes, int GgufCode, string? SafetensorsName) Entry(TensorType type) =>
        Table[(int)type];
}
