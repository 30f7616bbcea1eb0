using System.Runtime.InteropServices;
using XnnKleidi.Interop;

namespace XnnKleidi.Internal;

/// <summary>Owns a pthreadpool_t.</summary>
internal sealed unsafe class ThreadPoolHandle : SafeHandle
{
    public ThreadPoolHandle(pthreadpool* pool)
        : base(IntPtr.Zero, ownsHandle: true) => SetHandle((IntPtr)pool);

    public override bool IsInvalid => handle == IntPtr.Zero;

    public pthreadpool* Pool => (pthreadpool*)handle;

    protected override bool ReleaseHandle()
    {
        NativeMethods.pthreadpool_destroy((pthreadpool*)handle);
        return true;
    }
}

/// <summary>Owns an xnn_weights_cache_t.</summary>
internal sealed unsafe class WeightsCacheHandle : SafeHandle
{
    public WeightsCacheHandle(xnn_weights_cache_provider* cache)
        : base(IntPtr.Zero, ownsHandle: true) => SetHandle((IntPtr)cache);

    public override bool IsInvalid => handle == IntPtr.Zero;

    public xnn_weights_cache_provider* Cache => (xnn_weights_cache_provider*)handle;

    protected override bool ReleaseHandle() =>
        NativeMethods.xnn_delete_weights_cache((xnn_weights_cache_provider*)handle) == xnn_status.xnn_status_success;
}

/// <summary>Owns one reference to an xnn_workspace_t (XNNPACK counts the runtimes that use it).</summary>
internal sealed unsafe class WorkspaceHandle : SafeHandle
{
    public WorkspaceHandle(xnn_workspace* workspace)
        : base(IntPtr.Zero, ownsHandle: true) => SetHandle((IntPtr)workspace);

    public override bool IsInvalid => handle == IntPtr.Zero;

    public xnn_workspace* Workspace => (xnn_workspace*)handle;

    protected override bool ReleaseHandle() =>
        NativeMethods.xnn_release_workspace((xnn_workspace*)handle) == xnn_status.xnn_status_success;
}

/// <summary>
/// Owns an xnn_runtime_t and keeps alive, through SafeHandle reference counts, the thread pool and weights cache
/// it points into: they are released only after the runtime is deleted, whatever order Dispose or the
/// finalizers run in.
/// </summary>
internal sealed unsafe class RuntimeHandle : SafeHandle
{
    private SafeHandle[] dependencies = [];

    public RuntimeHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    public xnn_runtime* Runtime => (xnn_runtime*)handle;

    /// <summary>Takes ownership of <paramref name="runtime"/>; <paramref name="addedDependencies"/> were DangerousAddRef'd by the caller.</summary>
    public void Attach(xnn_runtime* runtime, SafeHandle[] addedDependencies)
    {
        dependencies = addedDependencies;
        SetHandle((IntPtr)runtime);
    }

    protected override bool ReleaseHandle()
    {
        xnn_status status = NativeMethods.xnn_delete_runtime((xnn_runtime*)handle);
        foreach (SafeHandle dependency in dependencies)
        {
            dependency.DangerousRelease();
        }

        dependencies = [];
        return status == xnn_status.xnn_status_success;
    }
}
