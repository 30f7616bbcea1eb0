using Microsoft.ML.OnnxRuntime;
using XnnKleidi.Cli.Onnx;

namespace XnnKleidi.Cli.Bench;

/// <summary>
/// ONNX Runtime's CPU execution provider on the same layer, the same weights and the same
/// number of threads (intra-op threads, counting the calling thread, as XNNPACK's pthreadpool
/// does). Input and output are preallocated OrtValues over pinned arrays, so a call allocates
/// nothing and the timing loop measures the operator.
/// </summary>
internal sealed class OrtRunner : ILayerRunner
{
    private readonly InferenceSession session;
    private readonly RunOptions runOptions;
    private readonly OrtValue input;
    private readonly OrtValue output;
    private readonly float[] outputBuffer;
    private readonly string[] inputNames = [OnnxModelBuilder.InputName];
    private readonly string[] outputNames = [OnnxModelBuilder.OutputName];
    private readonly OrtValue[] inputValues;
    private readonly OrtValue[] outputValues;

    public OrtRunner(BenchData data, int threads)
    {
        ArgumentNullException.ThrowIfNull(data);
        string op = OnnxModelBuilder.OperatorFor(data.Scheme)
            ?? throw new NotSupportedException($"ONNX Runtime has no operator for {data.Scheme.ToString().ToLowerInvariant()}");
        using var options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        session = new InferenceSession(OnnxModelBuilder.Serialize(data), options);
        runOptions = new RunOptions();
        outputBuffer = new float[data.M * data.N];
        input = OrtValue.CreateTensorValueFromMemory(data.Input, [data.M, data.K]);
        output = OrtValue.CreateTensorValueFromMemory(outputBuffer, [data.M, data.N]);
        inputValues = [input];
        outputValues = [output];
        Operators = [$"{op} (ONNX Runtime {OrtEnv.Instance().GetVersionString()}, CPU)"];
    }

    public IReadOnlyList<string> Operators { get; }

    public ReadOnlySpan<float> Output => outputBuffer;

    public void Run() => session.Run(runOptions, inputNames, inputValues, outputNames, outputValues);

    public void Dispose()
    {
        input.Dispose();
        output.Dispose();
        runOptions.Dispose();
        session.Dispose();
    }
}
