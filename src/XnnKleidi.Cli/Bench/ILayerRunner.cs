namespace XnnKleidi.Cli.Bench;

/// <summary>
/// One layer, built and bound to its input and output buffers, ready to be called in a
/// timing loop. Implemented for XnnKleidi's managed API and for ONNX Runtime; the native
/// harness runs the same loop in C.
/// </summary>
internal interface ILayerRunner : IDisposable
{
    /// <summary>The operators that actually ran, as the runtime names them.</summary>
    IReadOnlyList<string> Operators { get; }

    /// <summary>The output of the last call, M x N.</summary>
    ReadOnlySpan<float> Output { get; }

    /// <summary>One call of the layer on the bound input.</summary>
    void Run();
}
