using XnnKleidi.Interop;

namespace XnnKleidi.Internal;

/// <summary>
/// The layer's padded copy of the input, shared by all of its variants, and the check for non-finite input. Not
/// thread-safe: <see cref="Linear"/> calls it under its lock.
/// </summary>
internal sealed unsafe class InputStaging : IDisposable
{
    private const string InputParameter = "input";

    private readonly int inputChannels;
    private readonly WeightScheme scheme;
    private readonly bool rejectNonFiniteInput;
    private NativeBuffer? inputBuffer;

    public InputStaging(int inputChannels, WeightScheme scheme, bool rejectNonFiniteInput)
    {
        this.inputChannels = inputChannels;
        this.scheme = scheme;
        this.rejectNonFiniteInput = rejectNonFiniteInput;
    }

    /// <summary>
    /// Copies the input into the layer's own buffer, which carries XNN_EXTRA_BYTES of padding because XNNPACK
    /// reads up to that much past the end of an input array, and refuses a non-finite element in the same pass. The
    /// buffer only grows (a native allocation) when a batch larger than any before arrives; the steady state
    /// allocates nothing.
    /// </summary>
    public void* CopyInput(ReadOnlySpan<float> input)
    {
        nuint needed = ((nuint)input.Length * sizeof(float)) + NativeMethods.XNN_EXTRA_BYTES;
        if (inputBuffer is null || inputBuffer.ByteLength < needed)
        {
            inputBuffer?.Dispose();
            inputBuffer = null;
            inputBuffer = NativeBuffer.Allocate(needed);
        }

        if (rejectNonFiniteInput)
        {
            int bad = FiniteInput.CopyAndFindNonFinite(input, (float*)inputBuffer.Pointer);
            if (bad >= 0)
            {
                throw NonFiniteInputError(bad, input[bad], InputParameter);
            }
        }
        else
        {
            input.CopyTo(new Span<float>(inputBuffer.Pointer, input.Length));
        }

        return inputBuffer.Pointer;
    }

    /// <summary>Refuses a non-finite element among the first <paramref name="length"/> floats of an input the caller padded.</summary>
    public void CheckInput(float* input, int length)
    {
        if (rejectNonFiniteInput)
        {
            int bad = FiniteInput.FindNonFinite(new ReadOnlySpan<float>(input, length));
            if (bad >= 0)
            {
                throw NonFiniteInputError(bad, input[bad], InputParameter);
            }
        }
    }

    private ArgumentException NonFiniteInputError(int index, float value, string parameterName) => new(
        $"The input holds {value} at row {index / inputChannels}, column {index % inputChannels}. " +
        (scheme == WeightScheme.F32
            ? "XNNPACK's fp32 output clamp turns a NaN into +Inf on x86-64, so the result would depend on the CPU. "
            : $"A {ActivationPackingSupport.Name(scheme)} layer quantizes each input row onto int8 through the row's range, which a NaN or " +
              "infinite value makes meaningless: XNNPACK would return finite numbers that depend on the CPU. ") +
        "Replace the value, or set LinearOptions.RejectNonFiniteInput = false to run such rows anyway.",
        parameterName);

    public void Dispose() => inputBuffer?.Dispose();
}
