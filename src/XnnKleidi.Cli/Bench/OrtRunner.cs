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
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions;
    private readonly OrtValue _input;
    private readonly OrtValue _output;
    private readonly float[] _outputBuffer;
    private readonly string[] _inputNames = [OnnxModelBuilder.InputName];
    private readonly string[] _outputNames = [OnnxModelBuilder.OutputName];
    private readonly OrtValue[] _inputValues;
    private readonly OrtValue[] _outputValues;

    public OrtRunner(BenchData data, int threads)
    {
        ArgumentNullException.ThrowIfNull(data);
        var op = OnnxModelBuilder.OperatorFor(data.Scheme)
            ?? throw new NotSupportedException($"ONNX Runtime has no operator for {data.Scheme.ToString().ToLowerInvariant()}");
        using var options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        _session = new InferenceSession(OnnxModelBuilder.Serialize(data), options);
        _runOptions = new RunOptions();
        _outputBuffer = new float[data.M * data.N];
        _input = OrtValue.CreateTensorValueFromMemory(data.Input, [data.M, data.K]);
        _output = OrtValue.CreateTensorValueFromMemory(_outputBuffer, [data.M, data.N]);
        _inputValues = [_input];
        _outputValues = [_output];
        Operators = [$"{op} (ONNX Runtime {OrtEnv.Instance().GetVersionString()}, CPU)"];
    }

    public IReadOnlyList<string> Operators { get; }

    public ReadOnlySpan<float> Output => _outputBuffer;

    public void Run() => _session.Run(_runOptions, _inputNames, _inputValues, _outputNames, _outputValues);

    public void Dispose()
    {
        _input.Dispose();
        _output.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }
}
