namespace XnnKleidi.Internal;

/// <summary>One runtime <see cref="LayerBuilder"/> built, and what is known about it.</summary>
internal sealed record BuiltVariant(RuntimeHandle Runtime, string[] OperatorNames, bool IsPacked, long PackedWeightBytes);

/// <summary>
/// What <see cref="LayerBuilder"/> hands to a new <see cref="Linear"/>: one or two runtimes, the plan that says which
/// runs each batch size, and why packing does not run where it was asked for and does not.
/// </summary>
internal sealed record BuiltLayer(IReadOnlyList<BuiltVariant> Variants, BatchPlan Plan, string? PackingUnavailableReason);

/// <summary>
/// Decides Off, On or Auto for a layer and builds the runtimes it will run: it copies the weights into native memory,
/// creates one runtime per variant that is needed, times them for <see cref="ActivationPacking.Auto"/> at each tuned
/// batch size (unless an <see cref="AutoTuningCache"/> knows the answer), keeps the variants some batch size chose,
/// and frees everything else, including the native weight copies (XNNPACK has packed them by then).
/// </summary>
internal static unsafe class LayerBuilder
{
    public static BuiltLayer Build(LinearWeights weights, ReadOnlySpan<float> bias, float outputMin, float outputMax, LinearOptions options)
    {
        using var copies = new NativeWeightCopies(weights, bias);
        var graph = new LayerGraph(weights, copies, outputMin, outputMax);
        var created = new List<RuntimeHandle>();
        var kept = new List<RuntimeHandle>();
        try
        {
            RuntimeHandle CreateRuntime(uint convertFlags, bool shared)
            {
                RuntimeHandle runtime = graph.With(convertFlags, subgraph => RuntimeFactory.Create(
                    subgraph, RuntimeFactory.FlagsFor(options), options.ThreadPool, shared ? options.WeightsCache : null, shared ? options.Workspace : null));
                created.Add(runtime);
                return runtime;
            }

            BuiltVariant Describe(RuntimeHandle runtime, uint convertFlags)
            {
                kept.Add(runtime);
                (string[] names, long bytes) = graph.ReadOperatorNamesAndPackedBytes(convertFlags);
                return new BuiltVariant(runtime, names, names.Any(name => name.Contains("QP8", StringComparison.Ordinal)), bytes);
            }

            WeightScheme scheme = weights.Scheme;
            ActivationPacking mode = options.ActivationPacking;
            string? reason = mode == ActivationPacking.Off ? null : ActivationPackingSupport.GetUnavailableReason(scheme);
            // Only ever pass the flag libxnnkleidi hands out for these weights: a flag for another weight type once
            // crashed XNNPACK, and 0 is always safe.
            uint flag = mode == ActivationPacking.Off || reason is not null ? 0u : ActivationPackingSupport.PackFlag(scheme);
            if (flag == 0 || mode == ActivationPacking.On)
            {
                BuiltVariant only = Describe(CreateRuntime(flag, shared: true), flag);
                if (flag != 0 && !only.IsPacked)
                {
                    reason = NotPacked(flag, only.OperatorNames);
                }

                return new BuiltLayer([only], BatchPlan.Single, reason);
            }

            int threads = options.ThreadPool?.ThreadCount ?? 1;
            AutoTuningCache? cache = options.AutoTuningCache;
            AutoTuningEnvironment? environment = cache is null ? null : AutoTuningEnvironment.Current;
            var timings = new List<ActivationPackingTiming>();
            var missing = new List<int>();
            foreach (int batch in options.AutoTuningBatches)
            {
                ActivationPackingTiming? known = cache?.Find(environment!, threads, weights, batch);
                if (known is null)
                {
                    missing.Add(batch);
                }
                else
                {
                    timings.Add(known);
                }
            }

            // A weights cache must be finalized before anything runs, and a shared workspace may be busy, so time
            // private runtimes and build the chosen ones again with the shared objects if there are any.
            bool hasShared = options.WeightsCache is not null || options.Workspace is not null;
            RuntimeHandle? packed = null, unpacked = null;
            if (missing.Count > 0)
            {
                packed = CreateRuntime(flag, shared: !hasShared);
                unpacked = CreateRuntime(0, shared: !hasShared);
                List<ActivationPackingTiming> measured = AutoTuner.Time(
                    packed, unpacked, missing, weights.InputChannels, weights.OutputChannels, options.AutoTuningBudget * missing.Count / options.AutoTuningBatches.Count,
                    options.RunQueueWaitSource);
                foreach (ActivationPackingTiming timing in measured)
                {
                    cache?.Store(environment!, threads, weights, timing);
                }

                timings.AddRange(measured);
                if (hasShared)
                {
                    // Free both private runtimes (their packed weights) before the shared ones are built.
                    packed.Dispose();
                    unpacked.Dispose();
                    packed = unpacked = null;
                }
            }

            IReadOnlyList<BatchChoice> choices = PackingDecisions.Choose(timings, options.AutoTuningSingleVariantBatch);
            var variants = new List<BuiltVariant>(2);
            int packedIndex = -1, unpackedIndex = -1;
            if (choices.Any(choice => !choice.UsePacked))
            {
                unpackedIndex = variants.Count;
                variants.Add(Describe(unpacked ?? CreateRuntime(0, shared: true), 0));
            }

            if (choices.Any(choice => choice.UsePacked))
            {
                packedIndex = variants.Count;
                BuiltVariant packedVariant = Describe(packed ?? CreateRuntime(flag, shared: true), flag);
                variants.Add(packedVariant);
                if (!packedVariant.IsPacked)
                {
                    reason = NotPacked(flag, packedVariant.OperatorNames);
                }
            }

            var plan = new BatchPlan(choices, choice => choice.UsePacked ? packedIndex : unpackedIndex);
            return new BuiltLayer(variants, plan, reason);
        }
        catch
        {
            kept.Clear();
            throw;
        }
        finally
        {
            foreach (RuntimeHandle runtime in created)
            {
                if (!kept.Contains(runtime))
                {
                    runtime.Dispose();
                }
            }
        }
    }

    private static string NotPacked(uint flag, IEnumerable<string> names) =>
        $"XNNPACK did not pack the activations although libxnnkleidi's flag 0x{flag:X} was set; it runs {string.Join(", ", names)}";
}
