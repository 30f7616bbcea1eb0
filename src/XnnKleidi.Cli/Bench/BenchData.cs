namespace XnnKleidi.Cli.Bench;

/// <summary>
/// One layer's inputs and weights, generated from a seed. The generator is the one in
/// native/bench/bench-harness.c, bit for bit, so that the C harness builds the same layer
/// from the same seed; the harness's output checksum confirms it.
/// </summary>
internal sealed class BenchData
{
    public const int DefaultBlockSize = 32;

    public BenchData(WeightScheme scheme, int m, int k, int n, int blockSize, uint seed)
    {
        Scheme = scheme;
        M = m;
        K = k;
        N = n;
        BlockSize = blockSize;
        Seed = seed;
        Input = new float[m * k];
        Bias = new float[n];
        int rowBytes = (k + 1) / 2;
        int blocksPerRow = scheme == WeightScheme.Qb4w ? k / blockSize : 0;
        F32Weights = scheme == WeightScheme.F32 ? new float[n * k] : [];
        Qc8wWeights = scheme == WeightScheme.Qc8w ? new sbyte[n * k] : [];
        Nibbles = scheme is WeightScheme.Qc4w or WeightScheme.Qb4w ? new byte[n * rowBytes] : [];
        ChannelScales = scheme is WeightScheme.Qc8w or WeightScheme.Qc4w ? new float[n] : [];
        BlockScalesBf16 = scheme == WeightScheme.Qb4w ? new ushort[n * blocksPerRow] : [];

        uint state = seed;
        float Uniform(float lo, float hi)
        {
            state = unchecked(state * 1664525u + 1013904223u);
            return lo + (hi - lo) * (float)(state >> 8) / 16777216.0f;
        }

        for (int i = 0; i < Input.Length; i++)
        {
            Input[i] = Uniform(-2.0f, 2.0f);
        }

        for (int i = 0; i < n; i++)
        {
            Bias[i] = Uniform(-1.0f, 1.0f);
        }

        for (int row = 0; row < n; row++)
        {
            if (scheme is WeightScheme.Qc8w or WeightScheme.Qc4w)
            {
                ChannelScales[row] = Uniform(0.01f, 0.05f);
            }

            for (int col = 0; col < k; col++)
            {
                switch (scheme)
                {
                    case WeightScheme.F32:
                        F32Weights[row * k + col] = Uniform(-0.05f, 0.05f);
                        break;
                    case WeightScheme.Qc8w:
                        Qc8wWeights[row * k + col] = (sbyte)(int)Uniform(-127.0f, 127.99f);
                        break;
                    case WeightScheme.Qc4w:
                    case WeightScheme.Qb4w:
                        if (scheme == WeightScheme.Qb4w && col % blockSize == 0)
                        {
                            BlockScalesBf16[row * blocksPerRow + col / blockSize] = ToBf16(Uniform(0.01f, 0.05f));
                        }
                        byte q = (byte)(int)Uniform(0.0f, 15.99f);
                        ref byte b = ref Nibbles[row * rowBytes + col / 2];
                        b = col % 2 == 0 ? q : (byte)(b | (q << 4));
                        break;
                }
            }
        }
    }

    private BenchData(BenchData source, sbyte[] qc8wWeights, float[] channelScales)
    {
        Scheme = source.Scheme;
        M = source.M;
        K = source.K;
        N = source.N;
        BlockSize = source.BlockSize;
        Seed = source.Seed;
        Input = source.Input;
        Bias = source.Bias;
        F32Weights = source.F32Weights;
        Qc8wWeights = qc8wWeights;
        Nibbles = source.Nibbles;
        ChannelScales = channelScales;
        BlockScalesBf16 = source.BlockScalesBf16;
    }

    /// <summary>The largest magnitude of a 7-bit weight: ONNX Runtime's reduce_range keeps int8 weights within ±63.</summary>
    public const int ReducedRangeLimit = 63;

    /// <summary>
    /// The same layer with its qc8w weights requantized to 7 bits, as ONNX Runtime's quantization tool does with
    /// reduce_range: each value halved and rounded to [−63, 63], each channel scale doubled. Then no pair of u8·s8
    /// products can pass int16 (2·255·63 = 32130 &lt; 32767), which AVX2's vpmaddubsw would saturate. The weights
    /// lose one bit, so this layer is judged against the reference of its own (7-bit) weights.
    /// </summary>
    public BenchData WithReducedRangeWeights()
    {
        if (Scheme != WeightScheme.Qc8w)
        {
            throw new InvalidOperationException($"reduce_range applies to qc8w weights, not {Scheme}");
        }

        var weights = new sbyte[Qc8wWeights.Length];
        for (int i = 0; i < weights.Length; i++)
        {
            weights[i] = (sbyte)Math.Clamp((int)Math.Round(Qc8wWeights[i] / 2.0, MidpointRounding.ToEven), -ReducedRangeLimit, ReducedRangeLimit);
        }

        float[] scales = [.. ChannelScales.Select(scale => scale * 2)];
        return new BenchData(this, weights, scales);
    }

    public WeightScheme Scheme { get; }
    public int M { get; }
    public int K { get; }
    public int N { get; }
    public int BlockSize { get; }
    public uint Seed { get; }

    /// <summary>M x K activations, row-major.</summary>
    public float[] Input { get; }
    public float[] Bias { get; }
    /// <summary>N x K fp32 weights (f32 scheme).</summary>
    public float[] F32Weights { get; }
    /// <summary>N x K int8 weights (qc8w).</summary>
    public sbyte[] Qc8wWeights { get; }
    /// <summary>N rows of ceil(K/2) bytes, element 2j in the low nibble (qc4w, qb4w), zero point 8.</summary>
    public byte[] Nibbles { get; }
    public float[] ChannelScales { get; }
    /// <summary>N x (K / BlockSize) bf16 scales (qb4w).</summary>
    public ushort[] BlockScalesBf16 { get; }

    /// <summary>Truncating fp32 -> bf16, as the harness does; the reference decodes the same bits.</summary>
    public static ushort ToBf16(float value) => (ushort)(BitConverter.SingleToUInt32Bits(value) >> 16);

    /// <summary>
    /// The weights as the library takes them: the same arrays, handed over unchanged. The layer under test and the
    /// float64 reference both start from this, so the reference judges exactly the weights the layer ran with.
    /// </summary>
    public LinearWeights CreateWeights() => Scheme switch
    {
        WeightScheme.Qc8w => LinearWeights.FromQc8w(Qc8wWeights, ChannelScales, N, K),
        WeightScheme.Qc4w => LinearWeights.FromQc4w(Nibbles, ChannelScales, N, K),
        WeightScheme.Qb4w => LinearWeights.FromQb4w(Nibbles, BlockScalesBf16, N, K, BlockSize),
        _ => LinearWeights.Quantize(F32Weights, N, K, WeightScheme.F32),
    };

    /// <summary>Why a scheme cannot take this shape, or null.</summary>
    public static string? Unsupported(WeightScheme scheme, int k, int blockSize) => scheme switch
    {
        WeightScheme.Qb4w when k % blockSize != 0 =>
            $"qb4w needs K ({k}) to be a multiple of the block size ({blockSize})",
        WeightScheme.Qc4w when k % 2 != 0 => $"qc4w packs two weights per byte and needs an even K ({k})",
        _ => null,
    };
}
