namespace XnnKleidi;

/// <summary>
/// A call into XNNPACK (or pthreadpool) failed. <see cref="Status"/> says how and <see cref="Operation"/> names the native
/// function, so a caller can filter: <c>catch (XnnPackException e) when (e.Status == XnnStatus.OutOfMemory)</c>.
/// Arguments are checked in managed code before any native call, with <see cref="ArgumentException"/>s that name
/// them; this exception means the native side refused something the managed checks let through, or ran out of
/// resources. A native allocation failure is deliberately not an <see cref="OutOfMemoryException"/>: the managed heap
/// is fine, and code that treats that exception as fatal should not end a process over one layer.
/// When XNNPACK does not support the CPU, the library throws <see cref="PlatformNotSupportedException"/> instead, with
/// this exception as its <see cref="Exception.InnerException"/>.
/// </summary>
public sealed class XnnPackException : Exception
{
    /// <summary>Creates an exception for <paramref name="operation"/> failing with <paramref name="status"/>.</summary>
    public XnnPackException(XnnStatus status, string operation, string message)
        : base(message)
    {
        Status = status;
        Operation = operation;
    }

    /// <summary>Creates an exception with a message only (<see cref="XnnStatus.InvalidState"/>, no operation).</summary>
    public XnnPackException()
        : this(XnnStatus.InvalidState, string.Empty, "A native XNNPACK call failed.")
    {
    }

    /// <summary>Creates an exception with a message only (<see cref="XnnStatus.InvalidState"/>, no operation).</summary>
    public XnnPackException(string message)
        : this(XnnStatus.InvalidState, string.Empty, message)
    {
    }

    /// <summary>Creates an exception with a message and an inner exception (<see cref="XnnStatus.InvalidState"/>, no operation).</summary>
    public XnnPackException(string message, Exception innerException)
        : base(message, innerException)
    {
        Status = XnnStatus.InvalidState;
        Operation = string.Empty;
    }

    /// <summary>The status the native function returned.</summary>
    public XnnStatus Status { get; }

    /// <summary>The native function that failed, e.g. "xnn_create_runtime_v4"; empty when not known.</summary>
    public string Operation { get; }
}
