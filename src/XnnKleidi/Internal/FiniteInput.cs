using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace XnnKleidi.Internal;

/// <summary>
/// Finds NaN and ±Inf in layer inputs, fused with the copy <see cref="Linear"/> makes anyway, so that the check
/// costs no extra pass over memory. Dynamic quantization maps each row onto int8 through the row's minimum and
/// maximum; a non-finite element makes that mapping meaningless, and XNNPACK's and KleidiAI's kernels then return
/// finite numbers that depend on the CPU and the path.
/// </summary>
internal static unsafe class FiniteInput
{
    /// <summary>
    /// Copies <paramref name="source"/> to <paramref name="destination"/> (nothing is copied when it is null);
    /// returns the index of the first non-finite element, or −1.
    /// </summary>
    public static int CopyAndFindNonFinite(ReadOnlySpan<float> source, float* destination)
    {
        ref float first = ref MemoryMarshal.GetReference(source);
        int length = source.Length;
        int width = Vector<float>.Count;
        int index = 0;

        // x − x is 0 for every finite x and NaN for NaN and ±Inf, and NaN survives every later addition, so
        // one vector accumulator says whether any element was non-finite without a branch in the loop. The
        // JIT does not fold x − x to 0 for floating point, because that would be wrong for exactly these values.
        Vector<float> poison = Vector<float>.Zero;
        for (; index <= length - (4 * width); index += 4 * width)
        {
            Vector<float> a = Vector.LoadUnsafe(ref first, (nuint)index);
            Vector<float> b = Vector.LoadUnsafe(ref first, (nuint)(index + width));
            Vector<float> c = Vector.LoadUnsafe(ref first, (nuint)(index + (2 * width)));
            Vector<float> d = Vector.LoadUnsafe(ref first, (nuint)(index + (3 * width)));
            if (destination != null)
            {
                a.Store(destination + index);
                b.Store(destination + index + width);
                c.Store(destination + index + (2 * width));
                d.Store(destination + index + (3 * width));
            }

            poison += (a - a) + (b - b) + ((c - c) + (d - d));
        }

        for (; index <= length - width; index += width)
        {
            Vector<float> a = Vector.LoadUnsafe(ref first, (nuint)index);
            if (destination != null)
            {
                a.Store(destination + index);
            }

            poison += a - a;
        }

        float tail = 0f;
        for (; index < length; index++)
        {
            float value = Unsafe.Add(ref first, index);
            if (destination != null)
            {
                destination[index] = value;
            }

            tail += value - value;
        }

        return Vector.EqualsAll(poison, Vector<float>.Zero) && tail == 0f ? -1 : FirstNonFinite(source);
    }

    /// <summary>The index of the first non-finite element of <paramref name="values"/>, or −1.</summary>
    public static int FindNonFinite(ReadOnlySpan<float> values) => CopyAndFindNonFinite(values, destination: null);

    // Only reached when something is wrong, so a plain loop is fast enough.
    private static int FirstNonFinite(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                return i;
            }
        }

        return -1;
    }
}
