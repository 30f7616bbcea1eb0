namespace XnnKleidi.Internal;

/// <summary>
/// Which weight scales a layer can compute with, neither flushing its results to zero nor overflowing them.
/// </summary>
/// <remarks>
/// <para>The kernels scale the int32 sum by the activation step s_x = (row maximum − row minimum) / 255 and by the
/// weight scale s, in fp32, with subnormal numbers flushed to zero (XNNPACK runs its operators with denormals
/// disabled). KleidiAI's QP8 kernels form s_x · s first, times 1/16 for 4-bit weights; measured under QEMU: with
/// s = 2⁻¹²⁰ and inputs of 1, every output came back 0 where QD8 on the same CPU and x86-64 were exact.</para>
/// <para>The scales are therefore checked against an activation envelope: input rows whose range lies in
/// [2⁻³², 2³²], which holds for the activations of real networks by many orders of magnitude. Then
/// s_x ≥ 2⁻³² / 255 > 2⁻⁴⁰, and s_x · s / 16 stays normal (≥ 2⁻¹²⁶) for every s ≥ 2⁻⁸²: the lower bound.
/// The largest output is K · |q|max · s · range (|q|max 127 for int8, 8 for 4-bit); keeping it at most 2¹²⁷, half the
/// fp32 range, for a range of 2³² gives s ≤ 2⁹⁵ / (|q|max · K): the upper bound, which depends on the layer's K.</para>
/// </remarks>
internal static class ScaleRange
{
    /// <summary>2⁻⁸², the smallest weight scale accepted.</summary>
    public static readonly float Minimum = MathF.ScaleB(1f, -82);

    /// <summary>The largest weight scale a layer with <paramref name="inputChannels"/> channels and weights up to <paramref name="largestMagnitude"/> accepts.</summary>
    public static float Maximum(int inputChannels, int largestMagnitude) =>
        (float)(Math.ScaleB(1.0, 95) / ((double)largestMagnitude * inputChannels));

    /// <summary>Null when <paramref name="scale"/> is usable; otherwise why not, in words that end a sentence about the scale.</summary>
    public static string? Problem(float scale, int inputChannels, int largestMagnitude)
    {
        if (!float.IsFinite(scale) || scale <= 0f)
        {
            return "a weight scale must be positive and finite";
        }

        if (!float.IsNormal(scale))
        {
            return "a weight scale must not be subnormal, which XNNPACK refuses";
        }

        if (scale < Minimum)
        {
            return $"a weight scale below 2^-82 ({Minimum:G9}) makes KleidiAI's product of the activation step and the weight scale subnormal, which the kernels flush to zero";
        }

        float maximum = Maximum(inputChannels, largestMagnitude);
        if (scale > maximum)
        {
            return $"with {inputChannels} input channels a weight scale above 2^95 / ({largestMagnitude} × {inputChannels}) = {maximum:G9} lets an output leave the fp32 range";
        }

        return null;
    }
}
