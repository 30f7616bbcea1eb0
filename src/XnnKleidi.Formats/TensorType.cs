namespace XnnKleidi.Formats;

/// <summary>
/// The element type of a tensor in a model file. The first five can be converted to XnnKleidi's weights; the others
/// are listed so that a file holding them can still be opened and inspected, but are not converted.
/// </summary>
/// <remarks>Q-types carry ggml's own names (GGUF's <c>ggml_type</c>), which readers of GGUF files know them by.</remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1707:Identifiers should not contain underscores", Justification = "ggml's type names")]
public enum TensorType
{
    /// <summary>IEEE fp32 (safetensors F32, GGUF type 0).</summary>
    F32,

    /// <summary>IEEE fp16 (safetensors F16, GGUF type 1).</summary>
    F16,

    /// <summary>bfloat16, the upper half of an fp32 (safetensors BF16, GGUF type 30).</summary>
    BF16,

    /// <summary>GGUF type 2: blocks of 32 weights, an fp16 scale d and 16 bytes of 4-bit q; weight = d·(q − 8).</summary>
    Q4_0,

    /// <summary>GGUF type 8: blocks of 32 weights, an fp16 scale d and 32 int8 q; weight = d·q.</summary>
    Q8_0,

    /// <summary>fp64 (safetensors F64, GGUF type 28). Listed, not converted.</summary>
    F64,

    /// <summary>int8 (safetensors I8, GGUF type 24). Listed, not converted.</summary>
    I8,

    /// <summary>uint8 (safetensors U8). Listed, not converted.</summary>
    U8,

    /// <summary>int16 (safetensors I16, GGUF type 25). Listed, not converted.</summary>
    I16,

    /// <summary>int32 (safetensors I32, GGUF type 26). Listed, not converted.</summary>
    I32,

    /// <summary>int64 (safetensors I64, GGUF type 27). Listed, not converted.</summary>
    I64,

    /// <summary>Boolean bytes (safetensors BOOL). Listed, not converted.</summary>
    Bool,

    /// <summary>GGUF type 3, blocks of 32 with a scale and a minimum. Listed, not converted.</summary>
    Q4_1,

    /// <summary>GGUF type 6, blocks of 32 of 5-bit values. Listed, not converted.</summary>
    Q5_0,

    /// <summary>GGUF type 7, blocks of 32 of 5-bit values with a minimum. Listed, not converted.</summary>
    Q5_1,

    /// <summary>GGUF type 9, blocks of 32 of int8 with a scale and a sum. Listed, not converted.</summary>
    Q8_1,

    /// <summary>GGUF type 10, super-blocks of 256. Listed, not converted.</summary>
    Q2_K,

    /// <summary>GGUF type 11, super-blocks of 256. Listed, not converted.</summary>
    Q3_K,

    /// <summary>GGUF type 12, super-blocks of 256. Listed, not converted.</summary>
    Q4_K,

    /// <summary>GGUF type 13, super-blocks of 256. Listed, not converted.</summary>
    Q5_K,

    /// <summary>GGUF type 14, super-blocks of 256. Listed, not converted.</summary>
    Q6_K,

    /// <summary>GGUF type 15, super-blocks of 256. Listed, not converted.</summary>
    Q8_K,
}
