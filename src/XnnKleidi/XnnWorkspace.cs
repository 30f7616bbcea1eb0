using XnnKleidi.Internal;
using XnnKleidi.Interop;

namespace XnnKleidi;

/// <summary>
/// Memory for the intermediate tensors (the quantized activations) of the layers created with it, as in
/// ExecuTorch's shared-workspace option. XNNPACK reuses one buffer for all of them, so they must not run at
/// the same time: every <see cref="Linear"/> that shares a workspace takes the workspace's lock in Run.
/// </summary>
public sealed unsafe class XnnWorkspace : IDisposable
{
    private readonly WorkspaceHandle handle;

    /// <summary>Creates an empty workspace; it grows to the largest layer that uses it.</summary>
    public XnnWorkspace()
    {
        XnnLibrary.EnsureInitialized();
        xnn_workspace* workspace;
        Ensure.Success(NativeMethods.xnn_create_workspace(&workspace), "xnn_create_workspace");
        handle = new WorkspaceHandle(workspace);
    }

    /// <summary>Serializes the runs of every layer that shares this workspace.</summary>
    internal Lock Gate { get; } = new();

    /// <summary>
    /// Bumped (under <see cref="Gate"/>) whenever a layer reshapes: reshaping one runtime may move the shared
    /// memory, after which every other runtime must be set up again before it runs.
    /// </summary>
    internal int Generation { get; set; }

    internal WorkspaceHandle Handle
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
