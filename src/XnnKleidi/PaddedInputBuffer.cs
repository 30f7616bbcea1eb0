using XnnKleidi.Internal;
using XnnKleidi.Interop;

namespace XnnKleidi;

/// <summary>
/// Native fp32 memory with XNN_EXTRA_BYTES of readable padding after its last element. XNNPACK reads up to
/// XNN_EXTRA_BYTES past the end of an input array; an input in this buffer is handed to XNNPACK as it is, where
/// <see cref="Linear.Run(ReadOnlySpan{float}, Span{float}, int)"/> first copies a span into the layer's own padded buffer.
/// </summary>
public sealed unsafe class PaddedInputBuffer : IDisposable
{
    private readonly NativeBuffer buffer;

    /// <summary>Allocates <paramref name="length"/> zeroed floats plus the padding.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative.</exception>
    public PaddedInputBuffer(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        buffer = NativeBuffer.Allocate(((nuint)length * sizeof(float)) + NativeMethods.XNN_EXTRA_BYTES);
        Length = length;
    }

    /// <summary>The number of floats (the padding not included).</summary>
    public int Length { get; }

    /// <summary>The floats; write the input here.</summary>
    /// <exception cref="ObjectDisposedException">The buffer was disposed.</exception>
    public Span<float> Span
    {
        get
        {
            ObjectDisposedException.ThrowIf(buffer.IsClosed, this);
            return new Span<float>(buffer.Pointer, Length);
        }
    }

    internal NativeBuffer Buffer
    {
        get
        {
            ObjectDisposedException.ThrowIf(buffer.IsClosed, this);
            return buffer;
        }
    }

    /// <inheritdoc />
    public void Dispose() => buffer.Dispose();
}
