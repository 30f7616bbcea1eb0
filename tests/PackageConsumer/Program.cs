// Consumer test of the XnnKleidi package: a qc4w Linear with ForceActivationPacking, whose
// kernel is checked against what the CPU model (XNNKLEIDI_EXPECTED_CPU) must give, and a qc8w
// Linear; each output checked against a float64 reference of the dequantized weights.
using XnnKleidi;

string cpu = Environment.GetEnvironmentVariable("XNNKLEIDI_EXPECTED_CPU") ?? "x64";
const int M = 3, K = 64, N = 24;
int passed = 0, failed = 0;
void Check(bool condition, string what)
{
    if (condition) { passed++; } else { failed++; Console.WriteLine($"FAIL: {what}"); }
}

// Already-quantized 4-bit weights: value q in [0, 15] stands for (q - 8) * scale; two a byte, low nibble first.
var random = new Random(7);
byte[] nibbles = new byte[N * K / 2];
float[] scales = new float[N];
double[] dequantized = new double[N * K];
for (int n = 0; n < N; n++)
{
    scales[n] = 0.01f + (0.04f * random.NextSingle());
    for (int k = 0; k < K; k++)
    {
        int q = random.Next(16);
        nibbles[((n * K) + k) / 2] |= (byte)(k % 2 == 0 ? q : q << 4);
        dequantized[(n * K) + k] = (q - 8) * (double)scales[n];
    }
}
float[] input = new float[M * K];
for (int i = 0; i < input.Length; i++) input[i] = (random.NextSingle() * 4) - 2;
float[] output = new float[M * N];

var options = new LinearOptions { ForceActivationPacking = true };
using Linear linear = Linear.Create(K, N, LinearWeights.FromQc4w(nibbles, scales, N, K), options: options);
linear.Run(input, output, batch: M);

Console.WriteLine($"operators: {string.Join(" -> ", linear.OperatorNames)}");
Console.WriteLine(linear.IsActivationPackingActive
    ? $"activation packing: on, KleidiAI kernel {linear.GetKleidiAIKernelName(M)}"
    : $"activation packing: off ({linear.PackingFallbackReason})");

bool expectPacked = cpu is "max" or "cortex-a76";
Check(linear.IsActivationPackingActive == expectPacked, $"packing active = {linear.IsActivationPackingActive} on {cpu}");
string activation = expectPacked ? "QP8" : "QD8";
Check(linear.OperatorNames.Contains($"Fully Connected (NC, {activation}, F32, QC4W) GEMM"), $"a {activation} qc4w GEMM ran");
if (!expectPacked)
{
    string expectedReason = cpu == "x64" ? "Arm-only" : "dotprod";
    Check(linear.PackingFallbackReason?.Contains(expectedReason, StringComparison.Ordinal) == true,
        $"the fallback reason names '{expectedReason}': {linear.PackingFallbackReason}");
}

// The activations are quantized per row to int8 with step (max - min) / 255 over a range that includes 0; each is
// off by at most one step, so an output is off by at most step * sum|w|, plus fp32 accumulation error.
void CheckAgainstReference(string scheme, double[] weights, float[] actualOutput)
{
    for (int m = 0; m < M; m++)
    {
        double lo = 0, hi = 0;
        for (int k = 0; k < K; k++) { lo = Math.Min(lo, input[(m * K) + k]); hi = Math.Max(hi, input[(m * K) + k]); }
        double step = (hi - lo) / 255;
        for (int n = 0; n < N; n++)
        {
            double expected = 0, sumAbsW = 0, sumAbsXw = 0;
            for (int k = 0; k < K; k++)
            {
                double w = weights[(n * K) + k], x = input[(m * K) + k];
                expected += x * w;
                sumAbsW += Math.Abs(w);
                sumAbsXw += Math.Abs(x * w);
            }
            double tolerance = (step * sumAbsW) + (1e-5 * sumAbsXw) + 1e-6;
            double actual = actualOutput[(m * N) + n];
            Check(Math.Abs(actual - expected) <= tolerance, $"{scheme} output[{m}][{n}] = {actual}, reference {expected} ± {tolerance}");
        }
    }
}
CheckAgainstReference("qc4w", dequantized, output);

// Already-quantized int8 weights in [-127, 127] (the library refuses -128), one scale per output channel.
sbyte[] int8Weights = new sbyte[N * K];
float[] int8Scales = new float[N];
double[] int8Dequantized = new double[N * K];
for (int n = 0; n < N; n++)
{
    int8Scales[n] = 0.001f + (0.004f * random.NextSingle());
    for (int k = 0; k < K; k++)
    {
        int8Weights[(n * K) + k] = (sbyte)random.Next(-127, 128);
        int8Dequantized[(n * K) + k] = int8Weights[(n * K) + k] * (double)int8Scales[n];
    }
}
float[] int8Output = new float[M * N];
using (Linear qc8w = Linear.Create(K, N, LinearWeights.FromQc8w(int8Weights, int8Scales, N, K)))
{
    qc8w.Run(input, int8Output, batch: M);
    Check(qc8w.OperatorNames.Any(name => name.Contains("QC8W", StringComparison.Ordinal)), $"a qc8w GEMM ran: {string.Join(" -> ", qc8w.OperatorNames)}");
}
CheckAgainstReference("qc8w", int8Dequantized, int8Output);

string rid = System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier;
Console.WriteLine($"package-consumer/{rid}/{cpu}: {passed} passed, {failed} failed");
return failed == 0 ? 0 : 1;
