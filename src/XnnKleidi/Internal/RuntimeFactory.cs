using System.Runtime.InteropServices;
using XnnKleidi.Interop;

namespace XnnKleidi.Internal;

/// <summary>
/// Creates XNNPACK runtimes from a defined subgraph with the layer's thread pool, and optionally its shared weights
/// cache and workspace, holding a reference on each shared object for as long as the runtime lives.
/// </summary>
internal static unsafe class RuntimeFactory
{
    /// <summary>
    /// The flags of every runtime a layer runs unless it asks for profiling: none. In particular not
    /// XNN_FLAG_BASIC_PROFILING, which costs a timer read around every operator of every run; the operator names come
    /// from a short-lived twin (see LayerGraph).
    /// </summary>
    public const uint RuntimeFlags = 0;

    /// <summary>The flags of a layer's runtime: <see cref="RuntimeFlags"/>, plus basic profiling when the options ask for it.</summary>
    public static uint FlagsFor(LinearOptions options) =>
        RuntimeFlags | (options.EnableProfiling ? NativeMethods.XNN_FLAG_BASIC_PROFILING : 0u);

    public static RuntimeHandle Create(xnn_subgraph* subgraph, uint flags, XnnThreadPool? pool, XnnWeightsCache? cache, XnnWorkspace? workspace)
    {
        var runtime = new RuntimeHandle();
        // The runtime points into the pool and the cache: hold a reference on each until it is deleted.
        var dependencies = new List<SafeHandle>(2);
        try
        {
            AddRef(pool?.Handle, dependencies);
            AddRef(cache?.Handle, dependencies);
            xnn_runtime* created = null;
            if (cache is null)
            {
                Ensure.Success(
                    NativeMethods.xnn_create_runtime_v4(subgraph, null, WorkspaceOf(workspace), PoolOf(pool), flags, &created),
                    "xnn_create_runtime_v4");
            }
            else
            {
                lock (cache.Gate)
                {
                    if (cache.IsFinalized)
                    {
                        throw LinearArguments.FinalizedCache();
                    }

                    Ensure.Success(
                        NativeMethods.xnn_create_runtime_v4(subgraph, cache.Handle.Cache, WorkspaceOf(workspace), PoolOf(pool), flags, &created),
                        "xnn_create_runtime_v4");
                }
            }

            runtime.Attach(created, [.. dependencies]);
            dependencies.Clear();
            return runtime;
        }
        catch
        {
            runtime.Dispose();
            throw;
        }
        finally
        {
            foreach (SafeHandle dependency in dependencies)
            {
                dependency.DangerousRelease();
            }
        }
    }

    private static xnn_workspace* WorkspaceOf(XnnWorkspace? workspace) => workspace is null ? null : workspace.Handle.Workspace;

    private static pthreadpool* PoolOf(XnnThreadPool? pool) => pool is null ? null : pool.Handle.Pool;

    private static void AddRef(SafeHandle? handle, List<SafeHandle> added)
    {
        if (handle is null)
        {
            return;
        }

        bool success = false;
        handle.DangerousAddRef(ref success);
        if (success)
        {
            added.Add(handle);
        }
    }
}
