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

        foreach (int threads in options.Threads)
        {
            onProgress?.Invoke($"{options.Model}: building {options.Packings.Count} models for {threads} thread{(threads == 1 ? "" : "s")}");
            using XnnThreadPool? threadPool = threads > 1 ? new XnnThreadPool(threads) : null;
            List<(ModelModeResult Result, ModelInstance Instance, Recorder Recorder)> modes = BuildModes(report, threads, threadPool);
            try
            {
                onProgress?.Invoke($"{options.Model}: timing forward passes, {threads} thread{(threads == 1 ? "" : "s")}");
                TimePasses(modes);
                onProgress?.Invoke($"{options.Model}: timing each shape on its own (hot cache), {threads} thread{(threads == 1 ? "" : "s")}");
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

        Derive(report);
    }

    private List<(ModelModeResult, ModelInstance, Recorder)> BuildModes(ModelReport report, int threads, XnnThreadPool? threadPool)
    {
        var modes = new List<(ModelModeResult, ModelInstance, Recorder)>();
        foreach (ActivationPacking packing in options.Packings)
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
                PackingActive = linear.ActivationPackingActive,
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
        var pools = new List<XnnThreadPool>();
        var instances = new List<(ModelModeResult Result, ModelInstance Instance)>();
        try
        {
            foreach (int threads in options.Threads)
            {
                XnnThreadPool? pool = threads > 1 ? new XnnThreadPool(threads) : null;
                if (pool != null)
                {
                    pools.Add(pool);
                }

                foreach ((ModelModeResult result, ModelInstance instance, _) in BuildModes(report, threads, pool))
                {
                    instances.Add((result, instance));
                }
            }

            IReadOnlyList<ModelLayer> layers = weights.Layers;
            for (int index = 0; index < layers.Count; index++)
            {
                ModelLayer layer = layers[index];
                onProgress?.Invoke($"{options.Model}: checking layer {index + 1} of {layers.Count}, {layer.Name} ({layer.ShapeText})");
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
                float[] checkedOutput = new float[rows.Length * layer.N];
                foreach ((ModelModeResult result, ModelInstance instance) in instances)
                {
                    ModelLayerResult layerResult = result.Layers[index];
                    try
                    {
                        input.CopyTo(instance.InputOf(index).Span);
                        instance.Run(index);
                        ReadOnlySpan<float> output = instance.OutputOf(index);
                        for (int r = 0; r < rows.Length; r++)
                        {
                            output.Slice(rows[r] * layer.N, layer.N).CopyTo(checkedOutput.AsSpan(r * layer.N));
                        }

                        CheckResult check = CheckResult.Compare(checkedOutput, expected, tolerance, layer.N);
                        layerResult.Check = check.Passed || rows.Length == layer.M
                            ? check
                            : check with { Failure = $"{check.Failure}; the checked rows are the layer's rows {string.Join(", ", rows)}, in that order" };
                    }
                    catch (Exception e) when (BenchEngine.FailsOneCase(e))
                    {
                        layerResult.Check = new CheckResult(false, expected.Length, double.NaN, $"{e.GetType().Name}: {e.Message}");
                    }
                }
            }
        }
        finally
        {
            foreach ((_, ModelInstance instance) in instances)
            {
                instance.Dispose();
            }

            foreach (XnnThreadPool pool in pools)
            {
                pool.Dispose();
            }
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
