using XnnKleidi.Internal;
using XnnKleidi.Interop;

namespace XnnKleidi;

/// <summary>
/// A pthreadpool that XNNPACK parallelizes over. One pool may serve many <see cref="Linear"/> layers; pthreadpool
/// runs one parallel operation at a time, so layers that share a pool and run at once take turns inside it.
/// Disposing the pool while layers still use it is safe: the native pool lives until the last of them is disposed.
/// </summary>
public sealed unsafe class XnnThreadPool : IDisposable
{
    private readonly ThreadPoolHandle handle;

    /// <summary>Creates a pool of <paramref name="threads"/> threads (the calling thread counts as one of them).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threads"/> is less than 1.</exception>
    public XnnThreadPool(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        XnnLibrary.EnsureInitialized();
        pthreadpool* pool = NativeMethods.pthreadpool_create((nuint)threads);
        if (pool == null)
        {
            throw new XnnPackException(XnnStatus.OutOfMemory, "pthreadpool_create", $"pthreadpool_create({threads}) returned NULL.");
        }

        handle = new ThreadPoolHandle(pool);
        ThreadCount = (int)NativeMethods.pthreadpool_get_threads_count(pool);
    }

    /// <summary>The number of threads, as pthreadpool reports it.</summary>
    public int ThreadCount { get; }

    internal ThreadPoolHandle Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(handle.IsClosed, this);
            return handle;
        }
    }

    /// <inheritdoc />
    public void Dispose() => handle.Dispose();
}
