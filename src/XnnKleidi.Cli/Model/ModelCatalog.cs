using XnnKleidi.Cli.Bench;

namespace XnnKleidi.Cli.Model;

/// <summary>
/// One fully connected layer of a model's forward pass, with its own weights.
/// </summary>
/// <param name="Name">The layer's name in the model's source (PyTorch module path).</param>
/// <param name="M">Rows per call: the tokens (or frames) the layer sees in the model's example input.</param>
/// <param name="K">Input features.</param>
/// <param name="N">Output features.</param>
/// <param name="CallsPerPass">How often the forward pass calls this layer with the same weights (an LSTM's state
/// projection runs once per step); 1 for every other layer.</param>
internal sealed record ModelLayer(string Name, int M, int K, int N, int CallsPerPass = 1)
{
    public string ShapeText => $"{M}x{K}x{N}";

    /// <summary>The bytes of its weights as XnnKleidi holds them for <paramref name="scheme"/>, scales included.</summary>
    public long WeightBytes(WeightScheme scheme, int blockSize) => scheme switch
    {
        WeightScheme.Qc8w => ((long)N * K) + (4L * N),
        WeightScheme.Qc4w => ((long)N * ((K + 1) / 2)) + (4L * N),
        WeightScheme.Qb4w => ((long)N * ((K + 1) / 2)) + (2L * N * (K / blockSize)),
        _ => 4L * N * K,
    };
}

/// <summary>
/// The linear layers of each model's forward pass, in the order the pass runs them, one entry per layer with its
/// own weights. The shapes are those of <see cref="Presets"/> (the same published configurations and ExecuTorch
/// example inputs), expanded to every layer of every block; what a preset counts as "12 times" is here twelve
/// layers with twelve sets of weights.
/// </summary>
internal static class ModelCatalog
{
    /// <summary>Every model: the presets' four, then the language models, which run one generation phase at a time.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Presets.Names, .. LanguageModel.All.Select(model => model.Name)];

    /// <summary>The layers of a model that has one forward pass (not a language model).</summary>
    public static IReadOnlyList<ModelLayer> Get(string name) => name switch
    {
        Presets.VitB16 => VitB16(),
        Presets.MobileBert => MobileBert(),
        Presets.Wav2Letter => Wav2Letter(),
        Presets.Emformer => Emformer(),
        _ when LanguageModel.Find(name) != null =>
            throw new ArgumentException($"{name} is a language model: give the phase to run", nameof(name)),
        _ => throw new ArgumentException($"unknown model '{name}'", nameof(name)),
    };

    /// <summary>The layers of <paramref name="name"/>: a language model's for <paramref name="phase"/>, any other
    /// model's one forward pass (which has no phase).</summary>
    public static IReadOnlyList<ModelLayer> Get(string name, GenerationPhase? phase, int promptTokens) =>
        LanguageModel.Find(name) is { } languageModel
            ? languageModel.Layers(phase ?? throw new ArgumentException($"{name} is a language model: give the phase to run", nameof(phase)), promptTokens)
            : Get(name);

    // torchvision's vit_b_16 (ExecuTorch's examples/models/torchvision_vit), input 1x3x224x224: the patch embedding
    // (a 16x16/16 Conv2d, a GEMM over 196 patches after im2col), 12 encoder layers of 197 tokens, each
    // self_attention.in_proj (Q, K and V packed, 768 -> 2304), self_attention.out_proj, mlp.0 (768 -> 3072) and mlp.3
    // (3072 -> 768), then heads.head on the class token only. 86.3 MB of qc8w weights.
    private static List<ModelLayer> VitB16()
    {
        var layers = new List<ModelLayer> { new("conv_proj", 196, 768, 768) };
        for (int block = 0; block < 12; block++)
        {
            string prefix = $"encoder.layers.encoder_layer_{block}.";
            layers.Add(new(prefix + "self_attention.in_proj", 197, 768, 2304));
            layers.Add(new(prefix + "self_attention.out_proj", 197, 768, 768));
            layers.Add(new(prefix + "mlp.0", 197, 768, 3072));
            layers.Add(new(prefix + "mlp.3", 197, 3072, 768));
        }

        layers.Add(new("heads.head", 1, 768, 1000));
        return layers;
    }

    // google/mobilebert-uncased as Hugging Face's MobileBertModel runs it (ExecuTorch's examples/models/mobilebert),
    // 8 tokens: the trigram embedding transformation (384 -> 512), then 24 layers, each: the bottleneck's input and
    // (key_query_shared_bottleneck) attention projections (512 -> 128), query and key (128 -> 128) on the shared
    // bottleneck, value (512 -> 128) on the layer input, the attention output (128 -> 128), three extra feed-forward
    // networks (num_feedforward_networks = 4: 128 -> 512 -> 128), the layer's own intermediate (128 -> 512) and
    // output (512 -> 128), and the output bottleneck (128 -> 512). No pooler layer: its dense exists only with
    // classifier_activation, which this configuration sets to false (the pooler returns the first token as it is).
    private static List<ModelLayer> MobileBert()
    {
        var layers = new List<ModelLayer> { new("embeddings.embedding_transformation", 8, 384, 512) };
        for (int block = 0; block < 24; block++)
        {
            string prefix = $"encoder.layer.{block}.";
            layers.Add(new(prefix + "bottleneck.input.dense", 8, 512, 128));
            layers.Add(new(prefix + "bottleneck.attention.dense", 8, 512, 128));
            layers.Add(new(prefix + "attention.self.query", 8, 128, 128));
            layers.Add(new(prefix + "attention.self.key", 8, 128, 128));
            layers.Add(new(prefix + "attention.self.value", 8, 512, 128));
            layers.Add(new(prefix + "attention.output.dense", 8, 128, 128));
            for (int ffn = 0; ffn < 3; ffn++)
            {
                layers.Add(new(prefix + $"ffn.{ffn}.intermediate.dense", 8, 128, 512));
                layers.Add(new(prefix + $"ffn.{ffn}.output.dense", 8, 512, 128));
            }

            layers.Add(new(prefix + "intermediate.dense", 8, 128, 512));
            layers.Add(new(prefix + "output.dense", 8, 512, 128));
            layers.Add(new(prefix + "output.bottleneck.dense", 8, 128, 512));
        }

        return layers;
    }

    // torchaudio's Wav2Letter for waveforms, num_classes 4096, input 10x1x700 (ExecuTorch's examples/models/wav2letter):
    // every layer a Conv1d, here its GEMM after im2col (M = 10 x output frames, K = in_channels x kernel).
    private static List<ModelLayer> Wav2Letter()
    {
        var layers = new List<ModelLayer>
        {
            new("acoustic_model.0 (conv k250 s160)", 40, 250, 250),
            new("acoustic_model.2 (conv k48 s2)", 20, 12000, 250),
        };
        for (int i = 0; i < 7; i++)
        {
            layers.Add(new($"acoustic_model.{4 + (2 * i)} (conv k7)", 20, 1750, 250));
        }

        layers.Add(new("acoustic_model.18 (conv k32)", 30, 8000, 2000));
        layers.Add(new("acoustic_model.20 (conv k1)", 30, 2000, 2000));
        layers.Add(new("acoustic_model.22 (conv k1, classifier)", 30, 2000, 4096));
        return layers;
    }

    // torchaudio's emformer_rnnt_base (4097 symbols), 128 input frames (ExecuTorch's examples/models/emformer_rnnt):
    // the transcriber's input_linear on 128 frames, 20 Emformer layers on 36 rows (28 utterance frames after the
    // stride-4 time reduction plus 2 segments x 4 right-context frames), each emb_to_query, emb_to_key_value, out_proj
    // and the two position-wise feed-forward linears; the transcriber's output_linear on the 28 frames; the predictor's
    // 3 LSTM layers over 128 tokens, each an input-to-gates projection of all tokens at once and a state-to-gates
    // projection once per token (the same weights 128 times); the predictor's linear; one joiner step.
    private static List<ModelLayer> Emformer()
    {
        var layers = new List<ModelLayer> { new("transcriber.input_linear", 128, 80, 128) };
        for (int block = 0; block < 20; block++)
        {
            string prefix = $"transcriber.transformer.emformer_layers.{block}.";
            layers.Add(new(prefix + "attention.emb_to_query", 36, 512, 512));
            layers.Add(new(prefix + "attention.emb_to_key_value", 36, 512, 1024));
            layers.Add(new(prefix + "attention.out_proj", 36, 512, 512));
            layers.Add(new(prefix + "pos_ff.1", 36, 512, 2048));
            layers.Add(new(prefix + "pos_ff.4", 36, 2048, 512));
        }

        layers.Add(new("transcriber.output_linear", 28, 512, 1024));
        for (int lstm = 0; lstm < 3; lstm++)
        {
            layers.Add(new($"predictor.lstm_layers.{lstm}.x2g", 128, 512, 2048));
            layers.Add(new($"predictor.lstm_layers.{lstm}.p2g", 1, 512, 2048, CallsPerPass: 128));
        }

        layers.Add(new("predictor.linear", 128, 512, 1024));
        layers.Add(new("joiner.linear", 1, 1024, 4097));
        return layers;
    }
}
