namespace XnnKleidi.Formats;

/// <summary>
/// A linear layer found in a model file: its weight [N, K] and, where the file has one, its bias [N].
/// </summary>
/// <remarks>
/// The rule: a tensor is a linear layer's weight when it is 2-D, of a float or block-quantized type, and no
/// dot-separated part of its name contains <c>embed</c>, <c>embd</c> or <c>norm</c> or is <c>wte</c> or <c>wpe</c>
/// (GPT-2's token and position embeddings). Embedding tables are 2-D but are looked up, not multiplied; norms'
/// weights are usually 1-D, and the rule skips the 2-D ones some models have too. A weight named <c>X.weight</c>
/// has the bias <c>X.bias</c> when that tensor exists, is 1-D of N elements and convertible.
/// </remarks>
/// <param name="Name">The layer's name: the weight's name without a trailing ".weight".</param>
/// <param name="Weight">The weight tensor, [N, K] (outermost first).</param>
/// <param name="Bias">The bias tensor, or null.</param>
public sealed record LinearLayer(string Name, TensorInfo Weight, TensorInfo? Bias)
{
    private const string WeightSuffix = ".weight";

    private static readonly string[] SkippedParts = ["embed", "embd", "norm"];

    private static readonly string[] SkippedNames = ["wte", "wpe"];

    /// <summary>N, the output channels (rows of the weight).</summary>
    public long OutputChannels => Weight.Shape[0];

    /// <summary>K, the input channels (columns of the weight).</summary>
    public long InputChannels => Weight.Shape[1];

    /// <summary>Whether <paramref name="tensor"/> is a linear layer's weight by the rule in the remarks.</summary>
    public static bool IsLinearWeight(TensorInfo tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.Shape.Count != 2 || !IsFloatOrBlockQuantized(tensor.Type))
        {
            return false;
        }

        foreach (string part in tensor.Name.Split('.'))
        {
            if (SkippedNames.Contains(part, StringComparer.OrdinalIgnoreCase)
                || SkippedParts.Any(skipped => part.Contains(skipped, StringComparison.OrdinalIgnoreCase)))
            {
                return false;
            }
        }

        return true;
    }

    internal static IReadOnlyList<LinearLayer> FindAll(IReadOnlyList<TensorInfo> tensors)
    {
        var byName = new Dictionary<string, TensorInfo>(StringComparer.Ordinal);
        foreach (TensorInfo tensor in tensors)
        {
            byName[tensor.Name] = tensor;
        }

        var layers = new List<LinearLayer>();
        foreach (TensorInfo tensor in tensors)
        {
            if (!IsLinearWeight(tensor))
            {
                continue;
            }

            bool suffixed = tensor.Name.EndsWith(WeightSuffix, StringComparison.Ordinal);
            string name = suffixed ? tensor.Name[..^WeightSuffix.Length] : tensor.Name;
            TensorInfo? bias = suffixed && byName.TryGetValue(name + ".bias", out TensorInfo? candidate)
                && candidate.Shape.Count == 1 && candidate.Shape[0] == tensor.Shape[0] && candidate.IsConvertible
                ? candidate
                : null;
            layers.Add(new LinearLayer(name, tensor, bias));
        }

        return layers;
    }

    private static bool IsFloatOrBlockQuantized(TensorType type) =>
        type is not (TensorType.I8 or TensorType.U8 or TensorType.I16 or TensorType.I32 or TensorType.I64 or TensorType.Bool);
}
