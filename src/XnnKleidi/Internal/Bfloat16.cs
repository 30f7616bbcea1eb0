namespace XnnKleidi.Internal;

/// <summary>bf16 is the upper half of an fp32: same sign and exponent, 7 bits of mantissa.</summary>
internal static class Bfloat16
{
    public static float ToSingle(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>
    /// The smallest bf16 not below <paramref name="value"/> (a positive finite fp32). Rounding a scale up keeps
    /// every weight of its block inside the 4-bit range.
    /// </summary>
    public static ushort RoundUp(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if ((bits & 0xFFFFu) != 0)
        {
            // A carry out of the mantissa correctly bumps the exponent.
            bits = (bits & 0xFFFF0000u) + 0x10000u;
        }

        return (ushort)(bits >> 16);
    }
}
