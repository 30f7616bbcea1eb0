namespace XnnKleidi.Internal;

/// <summary>
/// Which variant of a layer runs each batch size: the choice made at the nearest tuned batch size at or below it, or at
/// the smallest tuned one for a batch below them all. Immutable, so Run reads it without a lock of its own.
/// </summary>
internal sealed class BatchPlan
{
    private readonly int[] tunedBatches;
    private readonly int[] variantIndices;

    public BatchPlan(IReadOnlyList<BatchChoice> choices, Func<BatchChoice, int> variantIndex)
    {
        tunedBatches = [.. choices.Select(choice => choice.Batch)];
        variantIndices = [.. choices.Select(variantIndex)];
        Choices = choices;
    }

    /// <summary>A plan without timings: one variant for every batch size.</summary>
    public static BatchPlan Single { get; } = new([], _ => 0);

    public IReadOnlyList<BatchChoice> Choices { get; }

    public int VariantFor(int batch) => tunedBatches.Length == 0 ? 0 : variantIndices[IndexFor(tunedBatches, batch)];

    public BatchChoice? ChoiceFor(int batch) => tunedBatches.Length == 0 ? null : Choices[IndexFor(tunedBatches, batch)];

    /// <summary>The index, in ascending <paramref name="sortedBatches"/>, of the tuned batch size that governs <paramref name="batch"/>.</summary>
    public static int IndexFor(int[] sortedBatches, int batch)
    {
        int index = Array.BinarySearch(sortedBatches, batch);
        // Not found: ~index is the first larger one, so the one before it is the nearest below.
        return index >= 0 ? index : Math.Max(0, ~index - 1);
    }
}
