using XnnKleidi.Interop;

namespace XnnKleidi.Internal;

/// <summary>The three calls that run a layer's runtime: reshape to a batch, set up the external pointers, invoke.</summary>
internal static unsafe class RuntimeCalls
{
    public static void Reshape(RuntimeHandle runtime, int batch, int inputChannels)
    {
        nuint* dims = stackalloc nuint[2];
        dims[0] = (nuint)batch;
        dims[1] = (nuint)inputChannels;
        Ensure.Success(NativeMethods.xnn_reshape_external_value(runtime.Runtime, LayerGraph.InputId, 2, dims), "xnn_reshape_external_value");
        Ensure.Success(NativeMethods.xnn_reshape_runtime(runtime.Runtime), "xnn_reshape_runtime");
    }

    public static void Setup(RuntimeHandle runtime, void* input, void* output)
    {
        xnn_external_value* externals = stackalloc xnn_external_value[2];
        externals[0].id = LayerGraph.InputId;
        externals[0].data = input;
        externals[1].id = LayerGraph.OutputId;
        externals[1].data = output;
        Ensure.Success(NativeMethods.xnn_setup_runtime_v2(runtime.Runtime, 2, externals), "xnn_setup_runtime_v2");
    }

    public static void Invoke(RuntimeHandle runtime) =>
        Ensure.Success(NativeMethods.xnn_invoke_runtime(runtime.Runtime), "xnn_invoke_runtime");
}
