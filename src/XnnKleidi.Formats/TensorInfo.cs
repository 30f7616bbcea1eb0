namespace XnnKleidi.Formats;

/// <summary>
/// One tensor of a model file: where its bytes are and what they hold. Nothing of the tensor is read until it is
/// converted.
/// </summary>
/// <param name="Name">The tensor's name in the file.</param>
/// <param name="Type">Its element type.</param>
/// <param name="Shape">Its dimensions outermost first, as PyTorch and safetensors list them: a linear layer's weight is
/// [N (outputs), K (inputs)]. GGUF lists dimensions innermost first (ne[0] = K); they are reversed here.</param>
/// <param name="FilePath">The file that holds its bytes (one shard of a sharded safetensors set).</param>
/// <param name="Offset">The offset of its first byte in that file.</param>
/// <param name="ByteLength">The number of bytes it takes.</param>
public sealed record TensorInfo(string Name, TensorType Type, IReadOnlyList<long> Shape, string FilePath, long Offset, long ByteLength)
{
    /// <summary>The product of the dimensions (1 for a scalar).</summary>
    public long ElementCount
    {
        get
        {
            long count = 1;
            foreach (long dimension in Shape)
            {
                count *= dimension;
            }

            return count;
        }
    }

    /// <summary>Whether the readers can convert it to fp32 and to XnnKleidi's weights.</summary>
    public bool IsConvertible => TensorLayout.IsConvertible(Type);

    /// <summary>The shape as "N×K" (outermost first).</summary>
    public string ShapeText => Shape.Count == 0 ? "scalar" : string.Join("×", Shape);
}
