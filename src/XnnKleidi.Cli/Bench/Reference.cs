using System.Numerics;

namespace XnnKleidi.Cli.Bench;

/// <summary>How a runtime quantizes the activations before its integer GEMM.</summary>
internal enum ActivationQuantization
{
    /// <summary>No quantization: fp32 all the way (the f32 scheme).</summary>
    None,
    /// <summary>One asymmetric int8 scale per row (XNNPACK's qdint8 and KleidiAI's qai8dxp).</summary>
    PerRow,
    /// <summary>One asymmetric uint8 scale for the whole M x K tensor (ONNX Runtime's DynamicQuantizeLinear).</summary>
    PerTensor,
    /// <summary>
    /// Symmetric int8 scales per block of K (ONNX Runtime's MatMulNBits with accuracy_level 4):
    /// a step of at most max|x| / 127 over the row.
    /// </summary>
    SymmetricPerBlock,
}

/// <summary>
/// A float64 reference of one layer, computed from the dequantized weights, and the error
/// bound an output may show. The bound: dynamic quantization maps a range [lo, hi] that
/// includes 0 onto 255 steps of (hi - lo) / 255; each activation is off by at most one step
/// (half a step of rounding plus half a step from rounding the zero point), so an output is
/// off by at most step * sum_k |w_nk|. On top comes fp32 arithmetic, whose error scales with
/// sum_k |x_k| * |w_nk|: 1e-5 of it covers the rescaling of an exact int32 sum; a float
/// accumulation over K terms needs K * 2^-24 (the classic gamma_K bound).
/// </summary>
internal sealed class Reference
{
    private readonly double[] _expected;
    private readonly double[] _sumAbsXw;
    private readonly double[] _sumAbsW;
    private readonly double[] _rowStep;
    private readonly double[] _rowMaxAbs;
    private readonly double _tensorStep;

    public Reference(BenchData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        M = data.M;
        N = data.N;
        K = data.K;
        var k = data.K;
        var w = data.DequantizedWeights();
        _expected = new double[data.M * data.N];
        _sumAbsXw = new double[data.M * data.N];
        _sumAbsW = new double[data.N];
        _rowStep = new double[data.M];
        _rowMaxAbs = new double[data.M];
        for (var n = 0; n < data.N; n++)
        {
            double sum = 0;
            for (var c = 0; c < k; c++) sum += Math.Abs(w[n * k + c]);
            _sumAbsW[n] = sum;
        }
        double tensorLo = 0, tensorHi = 0;
        for (var m = 0; m < data.M; m++)
        {
            double lo = 0, hi = 0;
            for (var c = 0; c < k; c++)
            {
                lo = Math.Min(lo, data.Input[m * k + c]);
                hi = Math.Max(hi, data.Input[m * k + c]);
            }
            _rowStep[m] = (hi - lo) / 255.0;
            _rowMaxAbs[m] = Math.Max(hi, -lo);
            tensorLo = Math.Min(tensorLo, lo);
            tensorHi = Math.Max(tensorHi, hi);
        }
        _tensorStep = (tensorHi - tensorLo) / 255.0;

        Parallel.For(0, data.M, m =>
        {
            var x = new double[k];
            for (var c = 0; c < k; c++) x[c] = data.Input[m * k + c];
            var width = Vector<double>.Count;
            for (var n = 0; n < data.N; n++)
            {
                var row = new ReadOnlySpan<double>(w, n * k, k);
                var dot = Vector<double>.Zero;
                var abs = Vector<double>.Zero;
                var c = 0;
                for (; c + width <= k; c += width)
                {
                    var xv = new Vector<double>(x, c);
                    var wv = new Vector<double>(row.Slice(c, width));
                    dot += xv * wv;
                    abs += Vector.Abs(xv * wv);
                }
                double d = Vector.Sum(dot), a = Vector.Sum(abs);
                for (; c < k; c++)
                {
                    d += x[c] * row[c];
                    a += Math.Abs(x[c] * row[c]);
                }
                _expected[m * data.N + n] = d + data.Bias[n];
                _sumAbsXw[m * data.N + n] = a;
            }
        });
    }

    public int M { get; }
    public int N { get; }
    public int K { get; }

    public double Expected(int m, int n) => _expected[m * N + n];

    public double Tolerance(int m, int n, ActivationQuantization quantization)
    {
        var arithmetic = quantization == ActivationQuantization.None
            ? Math.Max(1e-5, K * Math.Pow(2, -24)) * _sumAbsXw[m * N + n]
            : 1e-5 * _sumAbsXw[m * N + n];
        var step = quantization switch
        {
            ActivationQuantization.PerRow => _rowStep[m],
            ActivationQuantization.PerTensor => _tensorStep,
            ActivationQuantization.SymmetricPerBlock => _rowMaxAbs[m] / 127.0,
            _ => 0.0,
        };
        return step * _sumAbsW[n] + arithmetic + 1e-6;
    }

    /// <summary>Compares an M x N output; returns null when every element is within its bound.</summary>
    public CheckResult Check(ReadOnlySpan<float> output, ActivationQuantization quantization)
    {
        if (output.Length < M * N)
        {
            return new CheckResult(false, M * N, double.NaN, $"output has {output.Length} elements, expected {M * N}");
        }
        var failures = 0;
        var worst = 0.0;
        string? first = null;
        for (var m = 0; m < M; m++)
        {
            for (var n = 0; n < N; n++)
            {
                var expected = Expected(m, n);
                var tolerance = Tolerance(m, n, quantization);
                var error = Math.Abs(output[m * N + n] - expected);
                if (!(error <= tolerance))
                {
                    failures++;
                    first ??= FormattableString.Invariant(
                        $"output[{m}][{n}] = {output[m * N + n]:G9}, reference {expected:G9}, tolerance {tolerance:G3}");
                }
                worst = Math.Max(worst, double.IsNaN(error) ? double.PositiveInfinity : error / tolerance);
            }
        }
        return new CheckResult(failures == 0, M * N, worst,
            failures == 0 ? null : FormattableString.Invariant($"{failures} of {M * N} outputs out of bounds; first: {first}"));
    }
}

/// <summary>The outcome of one output check. WorstRatio is max(|error| / tolerance).</summary>
internal sealed record CheckResult(bool Passed, int Elements, double WorstRatio, string? Failure);
