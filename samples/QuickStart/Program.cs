using XnnKleidi;

const int K = 4096, N = 1024, M = 1;
var random = new Random(42);
float[] weights = new float[N * K];               // [N, K] row-major, PyTorch's nn.Linear layout
for (int i = 0; i < weights.Length; i++) weights[i] = random.NextSingle() - 0.5f;
float[] input = new float[M * K], output = new float[M * N];

var options = new LinearOptions { ForceActivationPacking = true };
using Linear linear = Linear.Create(K, N, weights, WeightScheme.Qc4w, options: options);
linear.Run(input, output, batch: M);

Console.WriteLine(string.Join(" -> ", linear.OperatorNames));
Console.WriteLine(linear.IsActivationPackingActive
    ? $"packed (QP8), KleidiAI kernel {linear.GetKleidiAIKernelName(M)}"
    : $"not packed (QD8): {linear.PackingFallbackReason}");
