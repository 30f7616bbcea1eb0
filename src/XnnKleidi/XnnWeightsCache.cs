using XnnKleidi.Internal;
using XnnKleidi.Interop;

namespace XnnKleidi;

/// <summary>
/// A cache of packed weights shared between layers, as in ExecuTorch's weights-cache option: layers whose packed
/// weights are byte-for-byte equal share one copy.
/// </summary>
/// <remarks>
/// XNNPACK only runs layers whose cache is finalized, and a finalized cache accepts no new weights: in this
/// XNNPACK a layer created against a finalized cache with weights the cache does not hold gets no packed weights
/// at all and reads garbage when it runs. So the cache is finalized the first time any layer that uses it runs,
/// and from then on
/// <see cref="Linear.Create(int, int, LinearWeights, ReadOnlySpan{float}, float, float, LinearOptions?)"/> refuses
/// it with <see cref="InvalidOperationException"/>: create every layer that shares a cache before running any of
/// them. Creating layers and finalizing take one lock, so a layer is never half-built when the cache closes.
/// Disposing the cache while layers use it is safe: the native cache lives until the last of them is disposed.
/// </remarks>
public sealed unsafe class XnnWeightsCache : IDisposable
{
    private readonly WeightsCacheHandle handle;
    private readonly Lock gate = new();
    private volatile bool isFinalized;

    /// <summary>Creates an empty cache.</summary>
    public XnnWeightsCache()
    {
        XnnLibrary.EnsureInitialized();
        xnn_weights_cache_provider* cache;
        Ensure.Success(NativeMethods.xnn_create_weights_cache(&cache), "xnn_create_weights_cache");
        handle = new WeightsCacheHandle(cache);
    }

    /// <summary>True once a layer that uses the cache has run; from then on no layer can be created with it.</summary>
    public bool IsFinalized => isFinalized;

    internal WeightsCacheHandle Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(handle.IsClosed, this);
            return handle;
        }
    }

    /// <summary>Held while a layer packs its weights into the cache and while the cache is finalized.</summary>
    internal Lock Gate => gate;

    /// <summary>
    /// Finalizes the cache unless that happened already. Hard finalization trims the cache to its contents and
    /// makes it read-only; nothing is ever added afterwards (see the remarks), so the spare room of a soft one is useless.
    /// </summary>
    internal void EnsureFinalized()
    {
        if (isFinalized)
        {
            return;
        }

        lock (gate)
        {
            if (isFinalized)
            {
                return;
            }

            // The caller is a layer whose runtime holds a reference on the handle, so the native cache is alive
            // even if this object was disposed meanwhile.
            Ensure.Success(
                NativeMethods.xnn_finalize_weights_cache(handle.Cache, xnn_weights_cache_finalization_kind.xnn_weights_cache_finalization_kind_hard),
                "xnn_finalize_weights_cache");
            isFinalized = true;
        }
    }

    /// <inheritdoc />
    public void Dispose() => handle.Dispose();
}
