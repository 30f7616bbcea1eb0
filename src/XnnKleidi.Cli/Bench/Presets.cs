namespace XnnKleidi.Cli.Bench;

/// <summary>One fully connected layer of a model: M rows (tokens, frames) of K inputs to N outputs.</summary>
/// <param name="Model">The preset the layer belongs to, or "custom".</param>
/// <param name="Layer">The layer's name in the model's source.</param>
/// <param name="M">Rows per call.</param>
/// <param name="K">Input features.</param>
/// <param name="N">Output features.</param>
/// <param name="Count">How many times the shape occurs in one forward pass.</param>
/// <param name="Note">Where the layer is not a plain linear, or how M was derived.</param>
internal sealed record LayerShape(string Model, string Layer, int M, int K, int N, int Count = 1, string? Note = null)
{
    public string ShapeText => $"{M}x{K}x{N}";

    /// <summary>Multiply-adds times two, the usual GEMM operation count.</summary>
    public double Operations => 2.0 * M * K * N;
}

/// <summary>
/// The fully connected layers of the four example models named in the ExecuTorch change that
/// made its XNNPACK backend always try KleidiAI activation packing: ViT-B/16, MobileBERT,
/// Wav2Letter and Emformer RNN-T. M is what ExecuTorch's own example inputs give
/// (examples/models/*/model.py, get_example_inputs).
/// </summary>
internal static class Presets
{
    public const string VitB16 = "vit-b16";
    public const string MobileBert = "mobilebert";
    public const string Wav2Letter = "w2l";
    public const string Emformer = "emformer";
    public const string All = "all";

    public static IReadOnlyList<string> Names { get; } = [VitB16, MobileBert, Wav2Letter, Emformer];

    public static IReadOnlyList<LayerShape> Get(string name) => name switch
    {
        VitB16 => VitB16Layers,
        MobileBert => MobileBertLayers,
        Wav2Letter => Wav2LetterLayers,
        Emformer => EmformerLayers,
        _ => throw new ArgumentException($"unknown preset '{name}'", nameof(name)),
    };

    // ViT-B/16: Dosovitskiy et al., "An Image is Worth 16x16 Words" (ICLR 2021), Table 1:
    // 12 layers, hidden size D = 768, MLP size 3072, 12 heads; 224x224 input in 16x16
    // patches = 196 patches + the class token = 197 tokens. ExecuTorch's example is
    // torchvision's vit_b_16 (examples/models/torchvision_vit), input 1x3x224x224; torchvision
    // packs Q, K and V into one in_proj of 768 -> 2304 (nn.MultiheadAttention).
    private static readonly LayerShape[] VitB16Layers =
    [
        new(VitB16, "conv_proj (patch embedding)", 196, 768, 768, 1,
            "a 16x16/16 Conv2d over 3 channels; as a GEMM after im2col (K = 3*16*16), not a plain linear"),
        new(VitB16, "self_attention.in_proj (Q,K,V)", 197, 768, 2304, 12),
        new(VitB16, "self_attention.out_proj", 197, 768, 768, 12),
        new(VitB16, "mlp.0 (fc1)", 197, 768, 3072, 12),
        new(VitB16, "mlp.3 (fc2)", 197, 3072, 768, 12),
        new(VitB16, "heads.head", 1, 768, 1000, 1, "the classifier sees only the class token"),
        new(VitB16, "per-call overhead probe", 1, 768, 768, 0,
            "not a ViT layer: out_proj's shape at one token, where the binding's per-call cost shows most"),
    ];

    // MobileBERT: Sun et al., "MobileBERT: a Compact Task-Agnostic BERT for Resource-Limited
    // Devices" (ACL 2020), and google/mobilebert-uncased's config.json: hidden_size 512,
    // true_hidden_size / intra_bottleneck_size 128, embedding_size 128 with trigram input,
    // intermediate_size 512, 4 feed-forward networks per block, 24 blocks,
    // key_query_shared_bottleneck. ExecuTorch's example (examples/models/mobilebert) feeds
    // "Hello, my dog is cute": [CLS] + 6 tokens + [SEP] = 8 tokens.
    private static readonly LayerShape[] MobileBertLayers =
    [
        new(MobileBert, "embeddings.embedding_transformation", 8, 384, 512, 1,
            "the trigram input concatenates 3 shifted 128-wide embeddings"),
        new(MobileBert, "bottleneck.input / bottleneck.attention", 8, 512, 128, 48),
        new(MobileBert, "attention.value", 8, 512, 128, 24),
        new(MobileBert, "attention.query / key / output.dense", 8, 128, 128, 72),
        new(MobileBert, "ffn.intermediate (x4)", 8, 128, 512, 96),
        new(MobileBert, "ffn.output (x4)", 8, 512, 128, 96),
        new(MobileBert, "output.bottleneck", 8, 128, 512, 24),
        new(MobileBert, "pooler.dense", 1, 512, 512, 1, "only the first token"),
    ];

    // Wav2Letter: Collobert et al., "Wav2Letter: an End-to-End ConvNet-based Speech Recognition
    // System" (2016), as torchaudio.models.Wav2Letter builds it for waveform input. ExecuTorch's
    // example (examples/models/wav2letter) uses num_classes = 4096 and a 10x1x700 input.
    // Every layer is a Conv1d; M = batch (10) x output frames, K = in_channels x kernel_size:
    // 700 samples -> 4 frames (kernel 250, stride 160, padding 45) -> 2 (kernel 48, stride 2)
    // -> 2 (kernel 7, x7) -> 3 (kernel 32, padding 16) -> 3 (two 1x1 convolutions).
    private static readonly LayerShape[] Wav2LetterLayers =
    [
        new(Wav2Letter, "waveform conv (k250 s160)", 40, 250, 250, 1,
            "a strided Conv1d; a GEMM after im2col, not a plain linear"),
        new(Wav2Letter, "conv k48 s2", 20, 12000, 250, 1, "a strided Conv1d; a GEMM after im2col"),
        new(Wav2Letter, "conv k7 (x7)", 20, 1750, 250, 7, "a Conv1d; a GEMM after im2col"),
        new(Wav2Letter, "conv k32", 30, 8000, 2000, 1, "a Conv1d; a GEMM after im2col"),
        new(Wav2Letter, "conv k1 2000->2000", 30, 2000, 2000, 1, "a 1x1 Conv1d: a linear over each frame"),
        new(Wav2Letter, "conv k1 classifier", 30, 2000, 4096, 1, "a 1x1 Conv1d: a linear over each frame"),
    ];

    // Emformer RNN-T: Shi et al., "Emformer: Efficient Memory Transformer Based Acoustic Model
    // for Low Latency Streaming Speech Recognition" (ICASSP 2021), as torchaudio's
    // emformer_rnnt_base builds it (EMFORMER_RNNT_BASE_LIBRISPEECH, 4097 symbols): input_dim 80,
    // time_reduction_input_dim 128, stride 4, 20 layers of width 512 with 8 heads and FFN 2048,
    // segment 16, right context 4, encoding_dim 1024, symbol_embedding_dim 512, 3 LSTM layers.
    // ExecuTorch's example (examples/models/emformer_rnnt) transcribes 128 frames: 32 after time
    // reduction = 28 utterance frames + 2 segments x 4 right-context frames = 36 rows per layer.
    private static readonly LayerShape[] EmformerLayers =
    [
        new(Emformer, "transcriber.input_linear", 128, 80, 128, 1),
        new(Emformer, "emformer.attention.emb_to_query / out_proj", 36, 512, 512, 40),
        new(Emformer, "emformer.attention.emb_to_key_value", 36, 512, 1024, 20),
        new(Emformer, "emformer.pos_ff (in)", 36, 512, 2048, 20),
        new(Emformer, "emformer.pos_ff (out)", 36, 2048, 512, 20),
        new(Emformer, "transcriber.output_linear", 28, 512, 1024, 1),
        new(Emformer, "predictor.lstm x2g", 128, 512, 2048, 3,
            "an LSTM's input-to-gates projection, applied to all 128 tokens at once; not a plain linear layer"),
        new(Emformer, "predictor.lstm p2g", 1, 512, 2048, 384,
            "an LSTM's state-to-gates projection, one step at a time; not a plain linear layer"),
        new(Emformer, "predictor.linear", 128, 512, 1024, 1),
        new(Emformer, "joiner.linear (one decoding step)", 1, 1024, 4097, 1,
            "the example's 128x128 broadcast join would be M = 16384; one beam-search step is M = 1"),
    ];

    /// <summary>Parses "MxKxN" (also with '*' or 'X'); returns null and a reason when malformed.</summary>
    public static LayerShape? ParseShape(string text, out string? error)
    {
        string[] parts = text.Trim().Split(['x', 'X', '*']);
        error = null;
        if (parts.Length != 3)
        {
            error = $"malformed shape '{text}': expected MxKxN, e.g. 197x768x3072";
            return null;
        }
        int[] values = new int[3];
        for (int i = 0; i < 3; i++)
        {
            if (!int.TryParse(parts[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out values[i]) || values[i] <= 0)
            {
                error = $"malformed shape '{text}': M, K and N must be positive integers (MxKxN, e.g. 197x768x3072)";
                return null;
            }
        }
        if ((long)values[0] * values[1] > 1L << 28 || (long)values[1] * values[2] > 1L << 28)
        {
            error = $"shape '{text}' is too large for a micro-benchmark (M*K and K*N must stay below 2^28)";
            return null;
        }
        return new LayerShape("custom", text.Trim(), values[0], values[1], values[2]);
    }
}
