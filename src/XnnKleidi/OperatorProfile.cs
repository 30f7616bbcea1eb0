namespace XnnKleidi;

/// <summary>One operator of a <see cref="Linear"/>'s runtime and the time XNNPACK measured for it in the last run.</summary>
/// <param name="Name">XNNPACK's name of the operator, e.g. "Convert (NC, F32, QP8)".</param>
/// <param name="Time">Its time in the last run, in XNNPACK's resolution of whole microseconds (rounded down).</param>
public sealed record OperatorTiming(string Name, TimeSpan Time);

/// <summary>
/// Where the time of a <see cref="Linear"/>'s last run went, as XNNPACK measures it with basic profiling: the convert
/// (QD8 or QP8 packing of the activations) and the GEMM, each on its own, and the whole native call around them.
/// </summary>
/// <param name="Batch">The batch size (rows) of the run.</param>
/// <param name="Operators">Each operator's time, in the order they run.</param>
/// <param name="InvokeTime">The time of the whole <c>xnn_invoke_runtime</c> call, measured by the layer around it.</param>
public sealed record OperatorProfile(int Batch, IReadOnlyList<OperatorTiming> Operators, TimeSpan InvokeTime)
{
    /// <summary>The operators' times added up; XNNPACK chains them from the start of the call, so this is close to <see cref="InvokeTime"/>.</summary>
    public TimeSpan OperatorTotal => Operators.Aggregate(TimeSpan.Zero, (total, op) => total + op.Time);
}
