namespace XnnKleidi.Oracle;

/// <summary>How a runtime quantizes the activations before its integer GEMM; it sets the step of the error bound.</summary>
public enum ActivationQuantization
{
    /// <summary>No quantization: fp32 all the way (f32 weights).</summary>
    None,

    /// <summary>One asymmetric int8 scale per row (XNNPACK's qdint8 and KleidiAI's qai8dxp).</summary>
    PerRow,

    /// <summary>One asymmetric uint8 scale for the whole M x K tensor (ONNX Runtime's DynamicQuantizeLinear).</summary>
    PerTensor,

    /// <summary>
    /// Symmetric int8 scales per block of K (ONNX Runtime's MatMulNBits with accuracy_level 4): a step of at most
    /// max|x| / 127 over the row.
    /// </summary>
    SymmetricPerBlock,
}
