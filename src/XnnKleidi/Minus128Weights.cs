namespace XnnKleidi;

/// <summary>
/// What <see cref="LinearWeights.FromQc8w(ReadOnlySpan{sbyte}, ReadOnlySpan{float}, int, int, Minus128Weights)"/> does with
/// int8 weights of −128. qc8w weights are symmetric, [−127, 127]: XNNPACK's kernels for Arm CPUs without dotprod
/// (Cortex-A72 and older, e.g. Raspberry Pi 4 and Graviton 1) add two int8 products in int16, and (−128)·(−128) twice
/// is 32768, one more than int16 holds, so a −128 weight gives wrong outputs there with no error. PyTorch's
/// <c>qint8</c> and other exporters may produce −128.
/// </summary>
public enum Minus128Weights
{
    /// <summary>Refuse weights holding −128 with an <see cref="ArgumentException"/> naming the first one (the default).</summary>
    Reject = 0,

    /// <summary>
    /// Store −128 as −127, an error of one quantization step on those weights only (|Δw| = scale), and count them in
    /// <see cref="LinearWeights.ClampedValueCount"/>. The layer's results are then the same on every CPU.
    /// </summary>
    ClampToMinus127 = 1,
}
