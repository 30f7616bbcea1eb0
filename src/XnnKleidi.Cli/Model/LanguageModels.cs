namespace XnnKleidi.Cli.Model;

/// <summary>The two phases of generating text with a decoder-only language model.</summary>
internal enum GenerationPhase
{
    /// <summary>The prompt's tokens, all at once: every block's linears see M = prompt tokens.</summary>
    Prefill,

    /// <summary>One new token: every linear sees M = 1.</summary>
    Decode,
}

/// <summary>
/// A decoder-only transformer's linear layers, described by its published configuration: per block the attention's
/// query, key, value and output projections and the gated MLP's gate, up and down projections, then the head that
/// maps the last hidden state to the vocabulary. Names are those of Hugging Face's checkpoints. Attention over the KV
/// cache (the score and value products), the norms, the rotary embedding and the embedding lookup are not linear
/// layers with weights and are not part of it.
/// </summary>
/// <param name="Name">The catalogue name.</param>
/// <param name="Source">Where the configuration comes from.</param>
/// <param name="Hidden">hidden_size.</param>
/// <param name="Intermediate">intermediate_size.</param>
/// <param name="Blocks">num_hidden_layers.</param>
/// <param name="QueryHeads">num_attention_heads.</param>
/// <param name="KeyValueHeads">num_key_value_heads (grouped-query attention).</param>
/// <param name="HeadDim">head_dim.</param>
/// <param name="Vocabulary">vocab_size.</param>
/// <param name="TiedHead">tie_word_embeddings: the head shares the embedding's weights (one copy in a checkpoint, but
/// a GEMM of its own here, since the head is quantized for the GEMM and the embedding is a lookup).</param>
internal sealed record LanguageModel(
    string Name, string Source, int Hidden, int Intermediate, int Blocks, int QueryHeads, int KeyValueHeads, int HeadDim,
    int Vocabulary, bool TiedHead)
{
    /// <summary>The default prompt length of a prefill.</summary>
    public const int DefaultPromptTokens = 128;

    /// <summary>The longest prompt a prefill accepts here (the activations of one layer are M × max(K, N) floats).</summary>
    public const int MaxPromptTokens = 8192;

    /// <summary>
    /// The linears of one forward step of <paramref name="phase"/>, in forward order. In a prefill every block sees
    /// all <paramref name="promptTokens"/> rows, and the head only the last one: generation needs the next token's
    /// logits alone, as ExecuTorch's exported LLMs compute them by default.
    /// </summary>
    public IReadOnlyList<ModelLayer> Layers(GenerationPhase phase, int promptTokens)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(promptTokens, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(promptTokens, MaxPromptTokens);
        int m = phase == GenerationPhase.Prefill ? promptTokens : 1;
        int queryWidth = QueryHeads * HeadDim;
        int keyValueWidth = KeyValueHeads * HeadDim;
        var layers = new List<ModelLayer>(Blocks * 7 + 1);
        for (int block = 0; block < Blocks; block++)
        {
            string prefix = $"model.layers.{block}.";
            layers.Add(new(prefix + "self_attn.q_proj", m, Hidden, queryWidth));
            layers.Add(new(prefix + "self_attn.k_proj", m, Hidden, keyValueWidth));
            layers.Add(new(prefix + "self_attn.v_proj", m, Hidden, keyValueWidth));
            layers.Add(new(prefix + "self_attn.o_proj", m, queryWidth, Hidden));
            layers.Add(new(prefix + "mlp.gate_proj", m, Hidden, Intermediate));
            layers.Add(new(prefix + "mlp.up_proj", m, Hidden, Intermediate));
            layers.Add(new(prefix + "mlp.down_proj", m, Intermediate, Hidden));
        }

        layers.Add(new("lm_head", 1, Hidden, Vocabulary));
        return layers;
    }

    // meta-llama/Llama-3.2-1B, config.json: hidden_size 2048, intermediate_size 8192, num_hidden_layers 16,
    // num_attention_heads 32, num_key_value_heads 8, head_dim 64, vocab_size 128256, tie_word_embeddings true.
    public static readonly LanguageModel Llama32_1B = new(
        "llama-3.2-1b", "meta-llama/Llama-3.2-1B", Hidden: 2048, Intermediate: 8192, Blocks: 16, QueryHeads: 32,
        KeyValueHeads: 8, HeadDim: 64, Vocabulary: 128_256, TiedHead: true);

    // Qwen/Qwen2.5-0.5B, config.json: hidden_size 896, intermediate_size 4864, num_hidden_layers 24,
    // num_attention_heads 14, num_key_value_heads 2 (head_dim 896 / 14 = 64), vocab_size 151936,
    // tie_word_embeddings true. Its q, k and v projections carry a bias, which the layers here have anyway.
    public static readonly LanguageModel Qwen25_05B = new(
        "qwen2.5-0.5b", "Qwen/Qwen2.5-0.5B", Hidden: 896, Intermediate: 4864, Blocks: 24, QueryHeads: 14,
        KeyValueHeads: 2, HeadDim: 64, Vocabulary: 151_936, TiedHead: true);

    public static IReadOnlyList<LanguageModel> All { get; } = [Llama32_1B, Qwen25_05B];

    public static LanguageModel? Find(string name) =>
        All.FirstOrDefault(model => string.Equals(model.Name, name, StringComparison.OrdinalIgnoreCase));
}
