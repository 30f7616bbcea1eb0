using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using XnnKleidi.Interop;

namespace XnnKleidi.Internal;

/// <summary>
/// Counts the bytes of packed weights a runtime holds. XNNPACK says nothing about them, but every operator hands its
/// packed weights to the weights cache it was created with through <c>look_up_or_insert</c>, with their size. So a
/// throw-away runtime of the same graph is created with a private cache whose <c>look_up_or_insert</c> is wrapped to
/// add up the sizes. Runtime creation packs on the calling thread, so the count lives in thread-static fields.
/// </summary>
internal static unsafe class PackedWeightMeter
{
    [ThreadStatic]
    private static nuint counted;

    [ThreadStatic]
    private static IntPtr forward;

    /// <summary>Creates and deletes a runtime of <paramref name="subgraph"/> through a counting cache; returns what <paramref name="use"/> returns and the bytes.</summary>
    public static (T Result, long Bytes) Measure<T>(xnn_subgraph* subgraph, uint flags, Func<IntPtr, T> use)
    {
        xnn_weights_cache_provider* cache;
        Ensure.Success(NativeMethods.xnn_create_weights_cache(&cache), "xnn_create_weights_cache");
        xnn_runtime* runtime = null;
        try
        {
            xnn_weights_cache_provider counting = *cache;
            counting.look_up_or_insert = &CountingLookUpOrInsert;
            forward = (IntPtr)cache->look_up_or_insert;
            counted = 0;
            Ensure.Success(NativeMethods.xnn_create_runtime_v4(subgraph, &counting, null, null, flags, &runtime), "xnn_create_runtime_v4(measuring)");
            long bytes = checked((long)counted);
            return (use((IntPtr)runtime), bytes);
        }
        finally
        {
            if (runtime != null)
            {
                NativeMethods.xnn_delete_runtime(runtime);
            }

            forward = IntPtr.Zero;
            NativeMethods.xnn_delete_weights_cache(cache);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static nuint CountingLookUpOrInsert(void* context, xnn_weights_cache_look_up_key* key, void* packed, nuint size)
    {
        counted += size;
        return ((delegate* unmanaged[Cdecl]<void*, xnn_weights_cache_look_up_key*, void*, nuint, nuint>)forward)(context, key, packed, size);
    }
}
