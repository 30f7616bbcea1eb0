namespace XnnKleidi.Cli.Bench;

/// <summary>The weight schemes the benchmark measures.</summary>
internal enum Scheme
{
    /// <summary>8-bit weights with one fp32 scale per output channel (XNNPACK qcint8).</summary>
    Qc8w,
    /// <summary>4-bit weights (zero point 8) with one fp32 scale per output channel (qcint4).</summary>
    Qc4w,
    /// <summary>4-bit weights (zero point 8) with a bf16 scale per block of K (qbint4).</summary>
    Qb4w,
    /// <summary>Plain fp32 weights and activations: the baseline without quantization.</summary>
    F32,
}

/// <summary>
/// One layer's inputs and weights, generated from a seed. The generator is the one in
/// native/bench/bench-harness.c, bit for bit, so that the C harness builds the same layer
/// from the same seed; the harness's output checksum confirms it.
/// </summary>
internal sealed class BenchData
{
    public const int DefaultBlockSize = 32;

    public BenchData(Scheme scheme, int m, int k, int n, int blockSize, uint seed)
    {
        Scheme = scheme;
        M = m;
        K = k;
        N = n;
        BlockSize = blockSize;
        Seed = seed;
        Input = new float[m * k];
        Bias = new float[n];
        var rowBytes = (k + 1) / 2;
        var blocksPerRow = scheme == Scheme.Qb4w ? k / blockSize : 0;
        F32Weights = scheme == Scheme.F32 ? new float[n * k] : [];
        Qc8wWeights = scheme == Scheme.Qc8w ? new sbyte[n * k] : [];
        Nibbles = scheme is Scheme.Qc4w or Scheme.Qb4w ? new byte[n * rowBytes] : [];
        ChannelScales = scheme is Scheme.Qc8w or Scheme.Qc4w ? new float[n] : [];
        BlockScalesBf16 = scheme == Scheme.Qb4w ? new ushort[n * blocksPerRow] : [];

        var state = seed;
        float Uniform(float lo, float hi)
        {
            state = unchecked(state * 1664525u + 1013904223u);
            return lo + (hi - lo) * (float)(state >> 8) / 16777216.0f;
        }

        for (var i = 0; i < Input.Length; i++) Input[i] = Uniform(-2.0f, 2.0f);
        for (var i = 0; i < n; i++) Bias[i] = Uniform(-1.0f, 1.0f);
        for (var row = 0; row < n; row++)
        {
            if (scheme is Scheme.Qc8w or Scheme.Qc4w) ChannelScales[row] = Uniform(0.01f, 0.05f);
            for (var col = 0; col < k; col++)
            {
                switch (scheme)
                {
                    case Scheme.F32:
                        F32Weights[row * k + col] = Uniform(-0.05f, 0.05f);
                        break;
                    case Scheme.Qc8w:
                        Qc8wWeights[row * k + col] = (sbyte)(int)Uniform(-127.0f, 127.99f);
                        break;
                    case Scheme.Qc4w:
                    case Scheme.Qb4w:
                        if (scheme == Scheme.Qb4w && col % blockSize == 0)
                        {
                            BlockScalesBf16[row * blocksPerRow + col / blockSize] = ToBf16(Uniform(0.01f, 0.05f));
                        }
                        var q = (byte)(int)Uniform(0.0f, 15.99f);
                        ref var b = ref Nibbles[row * rowBytes + col / 2];
                        b = col % 2 == 0 ? q : (byte)(b | (q << 4));
                        break;
                }
            }
        }
    }

    public Scheme Scheme { get; }
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

    /// <summary>Truncating fp32 -> bf16, as the harness does; the reference reads the same bits back.</summary>
    public static ushort ToBf16(float value) => (ushort)(BitConverter.SingleToUInt32Bits(value) >> 16);

    public static float FromBf16(ushort value) => BitConverter.UInt32BitsToSingle((uint)value << 16);

    /// <summary>What weight [row, col] stands for after dequantization, exactly.</summary>
    public double DequantizedWeight(int row, int col)
    {
        switch (Scheme)
        {
            case Scheme.F32:
                return F32Weights[row * K + col];
            case Scheme.Qc8w:
                return Qc8wWeights[row * K + col] * (double)ChannelScales[row];
            default:
                var b = Nibbles[row * ((K + 1) / 2) + col / 2];
                var q = (col % 2 == 0 ? b & 0xF : b >> 4) - 8;
                var scale = Scheme == Scheme.Qc4w
                    ? ChannelScales[row]
                    : FromBf16(BlockScalesBf16[row * (K / BlockSize) + col / BlockSize]);
                return q * (double)scale;
        }
    }

    /// <summary>The dequantized weights as an N x K array of doubles (for the reference).</summary>
    public double[] DequantizedWeights()
    {
        var w = new double[N * K];
        for (var row = 0; row < N; row++)
        {
            for (var col = 0; col < K; col++) w[row * K + col] = DequantizedWeight(row, col);
        }
        return w;
    }

    /// <summary>Why a scheme cannot take this shape, or null.</summary>
    public static string? Unsupported(Scheme scheme, int k, int blockSize) => scheme switch
    {
        Scheme.Qb4w when k % blockSize != 0 =>
            $"qb4w needs K ({k}) to be a multiple of the block size ({blockSize})",
        Scheme.Qc4w when k % 2 != 0 => $"qc4w packs two weights per byte and needs an even K ({k})",
        _ => null,
    };
}
