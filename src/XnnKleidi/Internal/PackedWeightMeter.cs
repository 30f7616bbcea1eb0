using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using XnnKleidi.Interop;

namespace XnnKleidi.Internal;

/// <summary>
/// Counts the bytes of packed weights a runtime holds. XNNPACK says nothing about them, but every operator created
/// with a weights cache asks that cache for room to pack into (<c>reserve_space</c>) and then hands over the packed
/// weights with their size (<c>look_up_or_insert</c>). So a throw-away runtime of the same graph is created with a
/// minimal cache of this class's own, which adds up those sizes and frees everything when the runtime is gone. It is
/// not XNNPACK's cache: creating and deleting runtimes through that one left native memory behind. Runtime creation
/// packs on the calling thread, so the state lives in thread-static fields.
/// </summary>
internal static unsafe class PackedWeightMeter
{
    private static readonly nuint NotFound = nuint.MaxValue;
    private static readonly nuint Alignment = 64;

    [ThreadStatic]
    private static nuint counted;

    [ThreadStatic]
    private static List<IntPtr>? reserved;

    /// <summary>Creates and deletes a runtime of <paramref name="subgraph"/> through a counting cache; returns what <paramref name="use"/> returns and the bytes.</summary>
    public static (T Result, long Bytes) Measure<T>(xnn_subgraph* subgraph, uint flags, Func<IntPtr, T> use)
    {
        var cache = new xnn_weights_cache_provider
        {
            context = null,
            look_up = &LookUp,
            reserve_space = &ReserveSpace,
            look_up_or_insert = &LookUpOrInsert,
            is_finalized = &IsFinalized,
            offset_to_addr = &OffsetToAddress,
            delete_cache = &DeleteCache,
        };
        reserved = [];
        counted = 0;
        xnn_runtime* runtime = null;
        try
        {
            Ensure.Success(NativeMethods.xnn_create_runtime_v4(subgraph, &cache, null, null, flags, &runtime), "xnn_create_runtime_v4(measuring)");
            long bytes = checked((long)counted);
            return (use((IntPtr)runtime), bytes);
        }
        finally
        {
            if (runtime != null)
            {
                NativeMethods.xnn_delete_runtime(runtime);
            }

            foreach (IntPtr block in reserved)
            {
                NativeMemory.AlignedFree((void*)block);
            }

            reserved = null;
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static nuint LookUp(void* context, xnn_weights_cache_look_up_key* key) => NotFound;

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void* ReserveSpace(void* context, nuint size)
    {
        void* block = NativeMemory.AlignedAlloc(size == 0 ? 1 : size, Alignment);
        reserved!.Add((IntPtr)block);
        return block;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static nuint LookUpOrInsert(void* context, xnn_weights_cache_look_up_key* key, void* packed, nuint size)
    {
        counted += size;
        // The offset is the block's index; OffsetToAddress turns it back into the block.
        int index = reserved!.IndexOf((IntPtr)packed);
        return index < 0 ? NotFound : (nuint)index;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static byte IsFinalized(void* context) => 0;

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void* OffsetToAddress(void* context, nuint offset) =>
        offset < (nuint)reserved!.Count ? (void*)reserved[(int)offset] : null;

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static xnn_status DeleteCache(void* context) => xnn_status.xnn_status_success;
}
