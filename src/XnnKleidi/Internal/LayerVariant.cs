namespace XnnKleidi.Internal;

/// <summary>One runtime of a layer, packed (QP8) or not, with what is known about it and the state its runs keep.</summary>
internal sealed class LayerVariant : IDisposable
{
    public LayerVariant(RunState state, string[] operatorNames, bool isPacked, long packedWeightBytes)
    {
        State = state;
        OperatorNames = operatorNames;
        IsPacked = isPacked;
        PackedWeightBytes = packedWeightBytes;
    }

    public RunState State { get; }

    public IReadOnlyList<string> OperatorNames { get; }

    /// <summary>True when XNNPACK runs a QP8 operator, i.e. the activations are packed for KleidiAI.</summary>
    public bool IsPacked { get; }

    public long PackedWeightBytes { get; }

    public void Dispose() => State.Dispose();
}
