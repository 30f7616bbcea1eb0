using System.Runtime.InteropServices;

namespace XnnKleidi.Internal;

/// <summary>
/// Aligned native memory owned by a SafeHandle, so that a forgotten Dispose is repaired by the finalizer.
/// The memory is zeroed, and <see cref="ByteLength"/> includes any padding the caller asked for.
/// </summary>
internal sealed unsafe class NativeBuffer : SafeHandle
{
    // XNNPACK aligns its own buffers to 64 bytes (XNN_ALLOCATION_ALIGNMENT); do the same for ours.
    private const nuint Alignment = 64;

    private NativeBuffer(nuint byteLength)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        // Never allocate zero bytes: a valid pointer is simpler for every caller.
        void* memory = NativeMemory.AlignedAlloc(Math.Max(byteLength, 1), Alignment);
        if (memory == null)
        {
            throw new XnnPackException(XnnStatus.OutOfMemory, "aligned_alloc", $"Could not allocate {byteLength} bytes of native memory.");
        }

        NativeMemory.Clear(memory, Math.Max(byteLength, 1));
        SetHandle((IntPtr)memory);
        ByteLength = byteLength;
    }

    public nuint ByteLength { get; }

    public override bool IsInvalid => handle == IntPtr.Zero;

    public void* Pointer => (void*)handle;

    public static NativeBuffer Allocate(nuint byteLength) => new(byteLength);

    /// <summary>Copies <paramref name="source"/> into a new buffer of exactly its size.</summary>
    public static NativeBuffer CopyOf<T>(ReadOnlySpan<T> source)
        where T : unmanaged
    {
        nuint byteLength = (nuint)source.Length * (nuint)sizeof(T);
        NativeBuffer buffer = new(byteLength);
        source.CopyTo(new Span<T>(buffer.Pointer, source.Length));
        return buffer;
    }

    /// <summary>Overwrites the contents with 0xFF bytes (NaN as fp32, -1 as int8).</summary>
    public void Poison()
    {
        if (!IsClosed)
        {
            NativeMemory.Fill(Pointer, Math.Max(ByteLength, 1), 0xFF);
        }
    }

    protected override bool ReleaseHandle()
    {
        NativeMemory.AlignedFree((void*)handle);
        return true;
    }
}
