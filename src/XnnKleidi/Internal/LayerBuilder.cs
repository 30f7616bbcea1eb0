namespace XnnKleidi.Internal;

/// <summary>What <see cref="LayerBuilder"/> hands to a new <see cref="Linear"/>: the runtime it runs, and what is known about it.</summary>
internal sealed record BuiltLayer(RuntimeHandle Runtime, string[] OperatorNames, bool PackingActive, string? PackingFallbackReason, ActivationPackingTiming? Timing);

/// <summary>
/// Decides Off, On or Auto for a layer and builds the runtime it will run: it copies the weights into native memory,
/// creates one runtime per variant that is needed, times them for <see cref="ActivationPacking.Auto"/>, keeps the
/// winner, and frees everything else, including the native weight copies (XNNPACK has packed them by then).
/// </summary>
internal static unsafe class LayerBuilder
{
    public static BuiltLayer Build(LinearWeights weights, ReadOnlySpan<float> bias, float outputMin, float outputMax, LinearOptions options)
    {
        using var copies = new NativeWeightCopies(weights, bias);
        var graph = new LayerGraph(weights, copies, outputMin, outputMax);
        var created = new List<RuntimeHandle>();
        RuntimeHandle? kept = null;
        try
        {
            RuntimeHandle CreateRuntime(uint convertFlags, bool shared)
            {
                RuntimeHandle runtime = graph.With(convertFlags, subgraph => RuntimeFactory.Create(
                    subgraph, RuntimeFactory.FlagsFor(options), options.ThreadPool, shared ? options.WeightsCache : null, shared ? options.Workspace : null));
                created.Add(runtime);
                return runtime;
            }

            WeightScheme scheme = weights.Scheme;
            ActivationPacking mode = options.ActivationPacking;
            string? reason = mode == ActivationPacking.Off ? null : ActivationPackingSupport.GetUnavailableReason(scheme);
            // Only ever pass the flag libxnnkleidi hands out for these weights: a flag for another weight type once
            // crashed XNNPACK, and 0 is always safe.
            uint flag = mode == ActivationPacking.Off || reason is not null ? 0u : ActivationPackingSupport.PackFlag(scheme);
            uint keptFlag = flag;
            ActivationPackingTiming? timing = null;
            if (flag == 0 || mode == ActivationPacking.On)
            {
                kept = CreateRuntime(flag, shared: true);
            }
            else
            {
                // Auto: a weights cache must be finalized before anything runs, and a shared workspace may be busy,
                // so time private runtimes and build the winner again with the shared objects if there are any.
                bool hasShared = options.WeightsCache is not null || options.Workspace is not null;
                RuntimeHandle packed = CreateRuntime(flag, shared: !hasShared);
                RuntimeHandle unpacked = CreateRuntime(0, shared: !hasShared);
                timing = AutoTuner.Time(packed, unpacked, options.AutoTuningBatch, weights.InputChannels, weights.OutputChannels, options.AutoTuningBudget);
                keptFlag = timing.PackedIsFaster ? flag : 0;
                if (hasShared)
                {
                    // Free both private runtimes (their packed weights) before the shared one is built.
                    packed.Dispose();
                    unpacked.Dispose();
                    kept = CreateRuntime(keptFlag, shared: true);
                }
                else
                {
                    kept = timing.PackedIsFaster ? packed : unpacked;
                }

                if (!timing.PackedIsFaster)
                {
                    reason = $"Auto chose QD8: it ran {Format(timing.UnpackedTime)} per call against {Format(timing.PackedTime)} for QP8 at batch {timing.Batch}";
                }
            }

            string[] names = graph.ReadOperatorNames(keptFlag);
            bool packedNames = names.Any(name => name.Contains("QP8", StringComparison.Ordinal));
            if (flag != 0 && reason is null && !packedNames)
            {
                reason = $"XNNPACK did not pack the activations although libxnnkleidi's flag 0x{flag:X} was set; it runs {string.Join(", ", names)}";
            }

            return new BuiltLayer(kept, names, packedNames, reason, timing);
        }
        catch
        {
            kept = null;
            throw;
        }
        finally
        {
            foreach (RuntimeHandle runtime in created)
            {
                if (!ReferenceEquals(runtime, kept))
                {
                    runtime.Dispose();
                }
            }
        }
    }

    private static string Format(TimeSpan time) => $"{time.TotalMicroseconds:0.#} µs";
}
