using System.Diagnostics;
using XnnKleidi.Cli.Bench;
using XnnKleidi.Oracle;

namespace XnnKleidi.Cli.Model;

/// <summary>
/// Runs a model's forward pass, layer after layer, once per packing mode and thread count, and times it. For each
/// thread count every mode's model is built first (sharing one thread pool, so no other pool's workers spin while one
/// is timed); then the modes take turns a pass at a time, in a new order every round (a fixed-seed shuffle), so that
/// the machine's drift falls on all of them alike. Each call's wall time is taken around Linear.Run, and its convert
/// and GEMM times are read from the layer's profile after the call, outside the timed span. A pass's total is the
/// sum of its calls. Then, in the same run, the first layer of each distinct shape is called over and over on its own
/// (hot cache), the modes again in turn, for the per-shape figures the whole model is compared with.
/// </summary>
internal sealed class ModelBenchmark
{
    private const double HotBatchSeconds = 0.010;
    private static readonly double MicrosecondsPerTick = 1e6 / Stopwatch.Frequency;
    private readonly ModelRunOptions options;
    private readonly ModelWeights weights;

    public ModelBenchmark(ModelRunOptions options, ModelWeights weights)
    {
        this.options = options;
        this.weights = weights;
    }

    public void Run(ModelReport report, Action<string>? onProgress)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (options.Check)
        {
            RunCheck(report, onProgress);
            return;
        }

        IReadOnlyList<IReadOnlyList<ActivationPacking>> groups = PlanResidentModes(report);
        foreach (int threads in options.Threads)
        {
            using XnnThreadPool? threadPool = threads > 1 ? new XnnThreadPool(threads) : null;
            foreach (IReadOnlyList<ActivationPacking> group in groups)
            {
                string what = $"{string.Join(", ", group.Select(NameOf))}, {threads} thread{(threads == 1 ? "" : "s")}";
                onProgress?.Invoke($"{options.Model}: building the model for {what}");
                List<(ModelModeResult Result, ModelInstance Instance, Recorder Recorder)> modes = BuildModes(report, threads, threadPool, group);
                try
                {
                    onProgress?.Invoke($"{options.Model}: timing forward passes, {what}");
                    TimePasses(modes);
                    onProgress?.Invoke($"{options.Model}: timing each shape on its own (hot cache), {what}");
                    TimeHotShapes(report, modes);
                }
                finally
                {
                    foreach ((_, ModelInstance instance, _) in modes)
                    {
                        instance.Dispose();
                    }
                }
            }
        }

        Derive(report);
    }

    /// <summary>
    /// Which packing modes are held at once. Side by side is the better measurement (the modes take turns a pass at a
    /// time, so the machine's drift falls on all alike), but every mode holds its own packed copy of the weights, and
    /// Auto two where the variants differ between batch sizes: a 1B-parameter model held four times does not fit a
    /// phone. So the modes are held together only while their estimated packed weights stay within the budget;
    /// otherwise one at a time, and the report says so.
    /// </summary>
    private IReadOnlyList<IReadOnlyList<ActivationPacking>> PlanResidentModes(ModelReport report)
    {
        long budget = options.MemoryBudgetBytes ?? DefaultMemoryBudgetBytes();
        bool packable = ActivationPackingSupport.IsAvailable(weights.Scheme);
        // The packed layouts add a few bytes per output channel (bias and scale in fp32) to the stored weights.
        long perCopy = weights.WeightBytes + weights.Layers.Sum(layer => 8L * layer.N);
        long together = options.Packings.Sum(packing => packing == ActivationPacking.Auto && packable ? 2 * perCopy : perCopy);
        string budgetText = $"{Mib(budget)} MiB" + (options.MemoryBudgetBytes == null ? " (half the memory this process may use; --memory-budget sets it)" : " (--memory-budget)");
        if (options.Packings.Count == 1)
        {
            report.Notes.Add($"Memory: one packing mode, {NameOf(options.Packings[0])}, with about {Mib(together)} MiB of packed weights " +
                             $"(the budget of {budgetText} decides only whether several modes are held side by side).");
            return [options.Packings];
        }

        if (together <= budget)
        {
            report.Notes.Add($"Memory: the packed weights of {string.Join(", ", options.Packings.Select(NameOf))} " +
                             $"(about {Mib(together)} MiB together) fit the budget of {budgetText}; the modes were held and timed side by side.");
            return [options.Packings];
        }

        report.Notes.Add($"Memory: the packed weights of {string.Join(", ", options.Packings.Select(NameOf))} " +
                         $"(about {Mib(together)} MiB together) exceed the budget of {budgetText}, so each mode was built, timed and freed " +
                         "in turn: drift of the machine between the modes is not cancelled, compare their totals with care.");
        return [.. options.Packings.Select(packing => (IReadOnlyList<ActivationPacking>)[packing])];
    }

    /// <summary>Half of what the garbage collector says this process may use (physical memory, or a container's limit).</summary>
    internal static long DefaultMemoryBudgetBytes() => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2;

    private static string NameOf(ActivationPacking packing) => packing.ToString().ToLowerInvariant();

    private static string Mib(long bytes) => FormattableString.Invariant($"{bytes / (1024.0 * 1024.0):0}");

    private List<(ModelModeResult, ModelInstance, Recorder)> BuildModes(
        ModelReport report, int threads, XnnThreadPool? threadPool, IReadOnlyList<ActivationPacking> packings)
    {
        var modes = new List<(ModelModeResult, ModelInstance, Recorder)>();
        foreach (ActivationPacking packing in packings)
        {
            var result = new ModelModeResult { Threads = threads, Packing = packing };
            report.Runs.Add(result);
            try
            {
                ModelInstance instance = ModelInstance.Create(weights, packing, threads, threadPool);
                Describe(result, instance);
                modes.Add((result, instance, new Recorder(weights.Layers.Count)));
            }
            catch (Exception e) when (BenchEngine.FailsOneCase(e))
            {
                result.Error = $"{e.GetType().Name}: {e.Message}";
            }
        }

        return modes;
    }

    /// <summary>What each layer of <paramref name="instance"/> runs, as the library reports it.</summary>
    private static void Describe(ModelModeResult result, ModelInstance instance)
    {
        for (int index = 0; index < instance.Linears.Count; index++)
        {
            Linear linear = instance.Linears[index];
            ModelLayer layer = instance.Model.Layers[index];
            result.Layers.Add(new ModelLayerResult
            {
                Index = index,
                Layer = layer,
                PackingActive = linear.IsActivationPackingActive,
                FallbackReason = linear.PackingFallbackReason,
                Kernel = linear.GetKleidiAIKernelName(layer.M)
                         ?? linear.OperatorNames.LastOrDefault(name => name.StartsWith("Fully Connected", StringComparison.Ordinal)),
                AutoTiming = linear.AutoTiming,
            });
        }
    }

    /// <summary>Per layer: every call's wall time and its profile's convert and GEMM; per pass: the total.</summary>
    private sealed class Recorder(int layerCount)
    {
        public List<double>[] Calls { get; } = NewLists(layerCount);
        public List<double>[] Converts { get; } = NewLists(layerCount);
        public List<double>[] Gemms { get; } = NewLists(layerCount);
        public List<double> Totals { get; } = [];
        public double Seconds => Totals.Sum() * 1e-6;

        private static List<double>[] NewLists(int count) => Enumerable.Range(0, count).Select(_ => new List<double>()).ToArray();
    }

    /// <summary>One call of layer <paramref name="index"/>: its wall time in microseconds; the profile goes to <paramref name="recorder"/>.</summary>
    private static double Call(ModelInstance instance, int index, Recorder? recorder)
    {
        long start = Stopwatch.GetTimestamp();
        instance.Run(index);
        long end = Stopwatch.GetTimestamp();
        double microseconds = (end - start) * MicrosecondsPerTick;
        if (recorder != null)
        {
            recorder.Calls[index].Add(microseconds);
            (double? convert, double? gemm) = Split(instance.Linears[index].GetLastRunProfile());
            if (convert is double c)
            {
                recorder.Converts[index].Add(c);
            }

            if (gemm is double g)
            {
                recorder.Gemms[index].Add(g);
            }
        }

        return microseconds;
    }

    /// <summary>The convert's and the GEMM's time from a profile, by XNNPACK's operator names (an fp32 layer has no convert).</summary>
    internal static (double? Convert, double? Gemm) Split(OperatorProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        double? convert = null, gemm = null;
        foreach (OperatorTiming op in profile.Operators)
        {
            if (op.Name.StartsWith("Convert", StringComparison.Ordinal))
            {
                convert = (convert ?? 0) + op.Time.TotalMicroseconds;
            }
            else if (op.Name.StartsWith("Fully Connected", StringComparison.Ordinal))
            {
                gemm = (gemm ?? 0) + op.Time.TotalMicroseconds;
            }
        }

        return (convert, gemm);
    }

    private static double Pass(ModelInstance instance, Recorder? recorder)
    {
        double total = 0;
        IReadOnlyList<ModelLayer> layers = instance.Model.Layers;
        for (int index = 0; index < layers.Count; index++)
        {
            for (int call = 0; call < layers[index].CallsPerPass; call++)
            {
                total += Call(instance, index, recorder);
            }
        }

        recorder?.Totals.Add(total);
        return total;
    }

    private void TimePasses(List<(ModelModeResult Result, ModelInstance Instance, Recorder Recorder)> modes)
    {
        foreach ((ModelModeResult result, ModelInstance instance, _) in modes)
        {
            for (int i = 0; i < Math.Max(1, options.Warmup); i++)
            {
                Pass(instance, null);
            }
        }

        // At least 11 passes: the smallest count whose 95 % interval of the median is narrower than min to max.
        const int MinimumPasses = 11;
        bool Done(Recorder recorder) => options.Iterations is int n
            ? recorder.Totals.Count >= n
            : recorder.Totals.Count >= MinimumPasses && recorder.Seconds >= options.MinTimeSeconds;
        var shuffle = new Random(20241108);
        var order = modes.ToArray();
        var cap = Stopwatch.StartNew();
        double capSeconds = Math.Max(10.0 * options.MinTimeSeconds * modes.Count, 60.0);
        while (modes.Any(m => !Done(m.Recorder)) && (options.Iterations != null || cap.Elapsed.TotalSeconds < capSeconds))
        {
            shuffle.Shuffle(order);
            foreach ((_, ModelInstance instance, Recorder recorder) in order)
            {
                if (!Done(recorder))
                {
                    Pass(instance, recorder);
                }
            }
        }

        foreach ((ModelModeResult result, _, Recorder recorder) in modes)
        {
            if (recorder.Totals.Count == 0)
            {
                continue;
            }

            result.Total = MedianInterval.Of(recorder.Totals, options.Confidence);
            foreach (ModelLayerResult layer in result.Layers)
            {
                layer.CallP50Us = Median(recorder.Calls[layer.Index]);
                layer.ConvertP50Us = Median(recorder.Converts[layer.Index]);
                layer.GemmP50Us = Median(recorder.Gemms[layer.Index]);
            }
        }
    }

    private void TimeHotShapes(ModelReport report, List<(ModelModeResult Result, ModelInstance Instance, Recorder Recorder)> modes)
    {
        IReadOnlyList<ModelLayer> layers = weights.Layers;
        var shapes = layers.Select((layer, index) => (layer, index))
            .GroupBy(x => (x.layer.M, x.layer.K, x.layer.N))
            .Select(group => (Shape: group.Key, First: group.First().index, Members: group.Select(x => x.index).ToList()))
            .ToList();
        foreach (((int m, int k, int n), int first, List<int> members) in shapes)
        {
            var hot = modes.Select(_ => new Recorder(layers.Count)).ToArray();
            int[] batchSizes = new int[modes.Count];
            for (int i = 0; i < modes.Count; i++)
            {
                double warm = double.MaxValue;
                for (int w = 0; w < Math.Max(1, options.Warmup); w++)
                {
                    warm = Math.Min(warm, Call(modes[i].Instance, first, null));
                }

                batchSizes[i] = (int)Math.Clamp(HotBatchSeconds * 1e6 / Math.Max(warm, 1.0), 1, 10000);
            }

            int Count(int i) => hot[i].Calls[first].Count;
            bool Done(int i) => options.Iterations is int iterations
                ? Count(i) >= iterations
                : Count(i) >= 10 && hot[i].Calls[first].Sum() * 1e-6 >= options.HotMinTimeSeconds;
            var shuffle = new Random(20241109);
            int[] order = Enumerable.Range(0, modes.Count).ToArray();
            while (order.Any(i => !Done(i)))
            {
                shuffle.Shuffle(order);
                foreach (int i in order.Where(i => !Done(i)))
                {
                    int calls = options.Iterations is int iterations ? Math.Min(batchSizes[i], iterations - Count(i)) : batchSizes[i];
                    for (int c = 0; c < calls; c++)
                    {
                        Call(modes[i].Instance, first, hot[i]);
                    }
                }
            }

            for (int i = 0; i < modes.Count; i++)
            {
                Recorder inModel = modes[i].Recorder;
                if (inModel.Totals.Count == 0)
                {
                    continue;
                }

                List<double> Pool(List<double>[] lists) => members.SelectMany(index => lists[index]).ToList();
                report.Shapes.Add(new ModelShapeComparison(
                    modes[i].Result.Threads, modes[i].Result.Packing, m, k, n, members.Count,
                    Median(Pool(inModel.Calls))!.Value, Median(hot[i].Calls[first])!.Value,
                    Median(Pool(inModel.Gemms)), Median(hot[i].Gemms[first]),
                    Median(Pool(inModel.Converts)), Median(hot[i].Converts[first])));
            }
        }
    }

    private static double? Median(List<double> samples) => samples.Count == 0 ? null : MedianInterval.Of(samples).Median;

    /// <summary>
    /// --check: every layer of every mode's model called once on an input of its own, its output compared with the
    /// float64 reference of the same weights. The reference of a layer is computed once and judges every mode and
    /// thread count; so each layer gets its own seeded input here rather than the layer before's output.
    /// </summary>
    private void RunCheck(ModelReport report, Action<string>? onProgress)
    {
        // The references first, once per layer: they judge every mode and thread count, and are small (the checked
        // rows' outputs and bounds), while the fp64 weights they come from are not and live one layer at a time.
        IReadOnlyList<ModelLayer> layers = weights.Layers;
        var references = new CheckReference[layers.Count];
        for (int index = 0; index < layers.Count; index++)
        {
            ModelLayer layer = layers[index];
            onProgress?.Invoke($"{options.Model}: the reference of layer {index + 1} of {layers.Count}, {layer.Name} ({layer.ShapeText})");
            references[index] = ReferenceOf(index);
        }

        IReadOnlyList<IReadOnlyList<ActivationPacking>> groups = PlanResidentModes(report);
        foreach (int threads in options.Threads)
        {
            using XnnThreadPool? pool = threads > 1 ? new XnnThreadPool(threads) : null;
            foreach (IReadOnlyList<ActivationPacking> group in groups)
            {
                var instances = BuildModes(report, threads, pool, group).Select(mode => (Result: mode.Item1, Instance: mode.Item2)).ToList();
                try
                {
                    for (int index = 0; index < layers.Count; index++)
                    {
                        ModelLayer layer = layers[index];
                        onProgress?.Invoke($"{options.Model}: checking layer {index + 1} of {layers.Count}, {layer.Name} ({layer.ShapeText}), {threads} thread(s)");
                        float[] input = new float[layer.M * layer.K];
                        ModelWeights.FillUniform(input, weights.CheckInputSeed(index));
                        foreach ((ModelModeResult result, ModelInstance instance) in instances)
                        {
                            result.Layers[index].Check = CheckLayer(instance, index, input, references[index]);
                        }
                    }
                }
                finally
                {
                    foreach ((_, ModelInstance instance) in instances)
                    {
                        instance.Dispose();
                    }
                }
            }
        }
    }

    /// <summary>The checked rows of one layer, their float64 reference outputs and the bound of each.</summary>
    private sealed record CheckReference(int[] Rows, double[] Expected, double[] Tolerance);

    private CheckReference ReferenceOf(int index)
    {
        ModelLayer layer = weights.Layers[index];
        float[] input = new float[layer.M * layer.K];
        ModelWeights.FillUniform(input, weights.CheckInputSeed(index));
        int[] rows = CheckedRows(layer.M, options.CheckRows);
        float[] checkedInput = new float[rows.Length * layer.K];
        for (int r = 0; r < rows.Length; r++)
        {
            input.AsSpan(rows[r] * layer.K, layer.K).CopyTo(checkedInput.AsSpan(r * layer.K));
        }

        // Each row is quantized on its own (QD8 and QP8 alike), so the reference and the bound of a row do not
        // depend on the other rows: the checked rows are judged as a batch of their own.
        double[] dequantized = Reference.Dequantize(weights.Weights[index]);
        double[] expected = Reference.Linear(checkedInput, dequantized, weights.Biases[index], rows.Length, layer.K, layer.N,
            float.NegativeInfinity, float.PositiveInfinity);
        double[] tolerance = Reference.Tolerance(checkedInput, dequantized, weights.Biases[index], rows.Length, layer.K, layer.N,
            weights.Scheme, weights.BlockSize);
        return new CheckReference(rows, expected, tolerance);
    }

    private static CheckResult CheckLayer(ModelInstance instance, int index, float[] input, CheckReference reference)
    {
        ModelLayer layer = instance.Model.Layers[index];
        int[] rows = reference.Rows;
        try
        {
            input.CopyTo(instance.InputOf(index).Span);
            instance.Run(index);
            ReadOnlySpan<float> output = instance.OutputOf(index);
            float[] checkedOutput = new float[rows.Length * layer.N];
            for (int r = 0; r < rows.Length; r++)
            {
                output.Slice(rows[r] * layer.N, layer.N).CopyTo(checkedOutput.AsSpan(r * layer.N));
            }

            CheckResult check = CheckResult.Compare(checkedOutput, reference.Expected, reference.Tolerance, layer.N);
            return check.Passed || rows.Length == layer.M
                ? check
                : check with { Failure = $"{check.Failure}; the checked rows are the layer's rows {string.Join(", ", rows)}, in that order" };
        }
        catch (Exception e) when (BenchEngine.FailsOneCase(e))
        {
            return new CheckResult(false, reference.Expected.Length, double.NaN, $"{e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>
    /// The rows --check validates: all, or <paramref name="count"/> of them spread evenly from the first to the last
    /// (the last row lies in the GEMM's partial tile when M is no multiple of the kernel's rows).
    /// </summary>
    internal static int[] CheckedRows(int m, int? count)
    {
        if (count is not int n || n >= m)
        {
            return [.. Enumerable.Range(0, m)];
        }

        if (n == 1)
        {
            return [m - 1];
        }

        return [.. Enumerable.Range(0, n).Select(i => (int)Math.Round(i * (m - 1) / (double)(n - 1))).Distinct()];
    }

    /// <summary>The total's on/off ratio, and auto against the faster fixed mode, per thread count.</summary>
    private static void Derive(ModelReport report)
    {
        foreach (IGrouping<int, ModelModeResult> group in report.Runs.GroupBy(run => run.Threads))
        {
            ModelModeResult? off = group.FirstOrDefault(run => run.Packing == ActivationPacking.Off && run.Total != null);
            ModelModeResult? on = group.FirstOrDefault(run => run.Packing == ActivationPacking.On && run.Total != null);
            ModelModeResult? auto = group.FirstOrDefault(run => run.Packing == ActivationPacking.Auto && run.Total != null);
            if (on != null && off != null)
            {
                on.OnOffRatio = on.Total!.Median / off.Total!.Median;
            }

            ModelModeResult? best = new[] { off, on }.OfType<ModelModeResult>().MinBy(run => run.Total!.Median);
            if (auto != null && best != null)
            {
                auto.BestFixed = best.Packing;
                auto.AutoOverBestFixed = auto.Total!.Median / best.Total!.Median;
            }
        }
    }
}
