using System.Diagnostics;
using XnnKleidi.Interop;

namespace XnnKleidi.Internal;

/// <summary>
/// What one runtime of a layer keeps between calls so that the steady state is one native call: the batch the runtime
/// is reshaped to, and the pointers it is set up with. Not thread-safe: <see cref="Linear"/> calls it under its lock.
/// </summary>
internal sealed unsafe class RunState : IDisposable
{
    private readonly RuntimeHandle runtime;
    private readonly int inputChannels;
    private readonly XnnWorkspace? workspace;
    private readonly XnnWeightsCache? weightsCache;
    private readonly bool profiling;
    private long lastInvokeTicks;
    private int lastBatch;
    private int reshapedBatch = -1;
    private void* setupInput;
    private void* setupOutput;
    private int setupGeneration;

    public RunState(RuntimeHandle runtime, int inputChannels, LinearOptions options)
    {
        this.runtime = runtime;
        this.inputChannels = inputChannels;
        workspace = options.Workspace;
        weightsCache = options.WeightsCache;
        profiling = options.EnableProfiling;
    }

    /// <summary>How many times the runtime was reshaped (for the tests: only a new batch size may cost one).</summary>
    public int ReshapeCount { get; private set; }

    /// <summary>Reshapes the runtime when the batch changes, and only then.</summary>
    public void PrepareBatch(int batch)
    {
        if (batch == reshapedBatch)
        {
            return;
        }

        // Forget the old shape first: if reshaping fails, the next call tries again.
        reshapedBatch = -1;
        setupInput = null;
        RuntimeCalls.Reshape(runtime, batch, inputChannels);
        reshapedBatch = batch;
        ReshapeCount++;
        if (workspace is not null)
        {
            workspace.Generation++;
        }
    }

    public void Execute(void* input, float* output)
    {
        weightsCache?.EnsureFinalized();
        int generation = workspace?.Generation ?? 0;
        // Setting up again only when a pointer moved (or a shared workspace moved) keeps the steady state at one native call.
        if (input != setupInput || output != setupOutput || generation != setupGeneration)
        {
            RuntimeCalls.Setup(runtime, input, output);
            setupInput = input;
            setupOutput = output;
            setupGeneration = generation;
        }

        if (!profiling)
        {
            RuntimeCalls.Invoke(runtime);
            return;
        }

        long start = Stopwatch.GetTimestamp();
        RuntimeCalls.Invoke(runtime);
        lastInvokeTicks = Stopwatch.GetTimestamp() - start;
        lastBatch = reshapedBatch;
    }

    /// <summary>XNNPACK's per-operator times of the last run, with <paramref name="operatorNames"/> in the same order.</summary>
    public OperatorProfile ReadProfile(IReadOnlyList<string> operatorNames)
    {
        if (!profiling)
        {
            throw new InvalidOperationException("The layer was created without profiling; set LinearOptions.EnableProfiling to measure its operators.");
        }

        if (lastBatch == 0)
        {
            throw new InvalidOperationException("The layer has not run yet (a batch of 0 runs nothing), so there is no profile.");
        }

        ulong* microseconds = stackalloc ulong[operatorNames.Count];
        nuint written = 0;
        Ensure.Success(
            NativeMethods.xnn_get_runtime_profiling_info(
                runtime.Runtime, xnn_profile_info.xnn_profile_info_operator_timing, (nuint)(operatorNames.Count * sizeof(ulong)), microseconds, &written),
            "xnn_get_runtime_profiling_info(operator_timing)");
        var operators = new OperatorTiming[operatorNames.Count];
        for (int i = 0; i < operators.Length; i++)
        {
            operators[i] = new OperatorTiming(operatorNames[i], TimeSpan.FromMicroseconds(microseconds[i]));
        }

        return new OperatorProfile(lastBatch, operators, Stopwatch.GetElapsedTime(0, lastInvokeTicks));
    }

    public void Dispose() => runtime.Dispose();
}
