using XnnKleidi.Cli.Bench;

namespace XnnKleidi.Cli.Tests;

/// <summary>
/// A managed layer that computes nothing: its output stays as given (zeros by default), it reports the given
/// operators and runtime flags, and from call <c>failAfterCalls + 1</c> on it fails with native out-of-memory.
/// </summary>
internal sealed class StubLayer(float[] output, IReadOnlyList<string>? operators = null, uint flags = 0, int? failAfterCalls = null) : IManagedLayer
{
    public static readonly XnnPackException NativeOutOfMemory =
        new(XnnStatus.OutOfMemory, "xnn_create_runtime_v4", "xnn_create_runtime_v4 failed: out of memory");

    private int calls;

    /// <summary>A layer of <paramref name="data"/>'s shape whose output stays zero.</summary>
    public StubLayer(BenchData data, int? failAfterCalls = null)
        : this(new float[data.M * data.N], failAfterCalls: failAfterCalls)
    {
    }

    public IReadOnlyList<string> Operators => operators ?? [];

    public ReadOnlySpan<float> Output => output;

    public bool PackingActive => false;

    public string? FallbackReason => null;

    public string? Kernel => null;

    public ArmKernelFamily? KernelFamily => null;

    public uint RuntimeFlags => flags;

    public string? Note => null;

    public void Run()
    {
        calls++;
        if (calls > failAfterCalls)
        {
            throw NativeOutOfMemory;
        }
    }

    public void Dispose()
    {
    }
}
