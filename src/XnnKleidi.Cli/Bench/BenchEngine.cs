using System.Diagnostics;
using XnnKleidi.Cli.Onnx;

namespace XnnKleidi.Cli.Bench;

/// <summary>
/// Runs the cases of a `bench` command. The cases of one shape, scheme and thread count form a
/// group; within a group every runner (managed with each packing, the C harness with each
/// packing, ONNX Runtime) is called in turn, one batch of about 10 ms at a time, until each has
/// its iterations or its minimum time. Drift of the machine (frequency, other processes) thus
/// falls on all of them alike, and the ratios between them stay honest.
/// </summary>
internal sealed class BenchEngine
{
    private const double BatchSeconds = 0.010;
    private static readonly double NanosecondsPerTick = 1e9 / Stopwatch.Frequency;
    private readonly BenchOptions _options;
    private readonly Func<BenchData, Packing, int, IManagedLayer> _createManaged;

    public BenchEngine(BenchOptions options, Func<BenchData, Packing, int, IManagedLayer> createManaged)
    {
        _options = options;
        _createManaged = createManaged;
    }

    /// <summary>The number of groups, for a progress bar.</summary>
    public int GroupCount => _options.Shapes.Count * _options.Schemes.Count * _options.Threads.Count;

    public void Run(BenchReport report, NativeHarness? harness, Action<string>? onGroupStart, Action? onGroupDone)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (_options.ComparePeak && !_options.Check)
        {
            MeasurePeaks(report, harness);
        }
        foreach (var shape in _options.Shapes)
        {
            foreach (var scheme in _options.Schemes)
            {
                var unsupported = BenchData.Unsupported(scheme, shape.K, _options.BlockSize);
                if (unsupported != null)
                {
                    report.Notes.Add($"{shape.Model} {shape.Layer} {shape.ShapeText} {scheme.ToString().ToLowerInvariant()}: skipped, {unsupported}");
                    for (var i = 0; i < _options.Threads.Count; i++) onGroupDone?.Invoke();
                    continue;
                }
                // The data and its float64 reference serve every thread count of the shape.
                var data = new BenchData(scheme, shape.M, shape.K, shape.N, _options.BlockSize, _options.Seed);
                var reference = new Lazy<Reference>(() => new Reference(data));
                foreach (var threads in _options.Threads)
                {
                    onGroupStart?.Invoke($"{shape.Model} {shape.ShapeText} {scheme.ToString().ToLowerInvariant()} {threads}t");
                    RunGroup(report, harness, data, reference, shape, threads);
                    onGroupDone?.Invoke();
                }
            }
        }
        Derive(report);
    }

    private static void MeasurePeaks(BenchReport report, NativeHarness? harness)
    {
        if (harness == null)
        {
            report.Notes.Add("peak: not measured, the native harness is not available");
            return;
        }
        foreach (var (kind, milliseconds) in new[] { ("int8", 1500.0), ("fp32", 500.0) })
        {
            try
            {
                var (gops, instruction) = harness.Peak(kind, milliseconds);
                report.Peaks.Add(new PeakResult(kind, gops, instruction));
            }
            catch (InvalidOperationException e)
            {
                report.Notes.Add($"peak {kind}: {e.Message}");
            }
        }
    }

    /// <summary>One timed participant of a group.</summary>
    private sealed class Participant
    {
        public required CaseResult Result { get; init; }
        public required Action<int, List<double>> TimeBatch { get; init; }
        public List<double> Samples { get; } = [];
        public double Seconds => Samples.Sum() * 1e-9;
        public int BatchSize { get; set; } = 1;
    }

    private void RunGroup(BenchReport report, NativeHarness? harness, BenchData data, Lazy<Reference> lazyReference, LayerShape shape, int threads)
    {
        var scheme = data.Scheme;
        var reference = _options.Check || (_options.CompareOrt && OnnxModelBuilder.OperatorFor(scheme) != null) ? lazyReference.Value : null;
        var participants = new List<Participant>();
        var disposables = new List<IDisposable>();
        var slot = 0;
        try
        {
            foreach (var packing in _options.Packings)
            {
                var result = new CaseResult { Shape = shape, Scheme = scheme, Threads = threads, Packing = packing, Backend = Backend.XnnKleidi };
                report.Cases.Add(result);
                IManagedLayer managed;
                try
                {
                    managed = _createManaged(data, packing, threads);
                    disposables.Add(managed);
                    managed.Run();
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    result.Error = $"{e.GetType().Name}: {e.Message}";
                    continue;
                }
                result.Operators = managed.Operators;
                result.PackingActive = managed.PackingActive;
                result.FallbackReason = managed.FallbackReason;
                result.Kernel = managed.Kernel;
                result.Note = managed.Note;
                if (reference != null && _options.Check)
                {
                    result.Check = reference.Check(managed.Output,
                        scheme == Scheme.F32 ? ActivationQuantization.None : ActivationQuantization.PerRow);
                }
                participants.Add(new Participant { Result = result, TimeBatch = (count, samples) => TimeManaged(managed, count, samples) });

                if (_options.CompareNative && !_options.Check)
                {
                    var native = new CaseResult { Shape = shape, Scheme = scheme, Threads = threads, Packing = packing, Backend = Backend.Native };
                    report.Cases.Add(native);
                    if (harness == null)
                    {
                        native.Error = "the native harness is not available";
                        continue;
                    }
                    try
                    {
                        var nativeSlot = slot++ % NativeHarness.Slots;
                        var (checksum, operators) = harness.Layer(nativeSlot, data, managed.PackingActive, threads, managed.RuntimeFlags);
                        native.Operators = operators;
                        native.PackingActive = managed.PackingActive;
                        native.Kernel = managed.Kernel;
                        var managedSum = 0.0;
                        foreach (var value in managed.Output) managedSum += value;
                        if (Math.Abs(checksum - managedSum) > 1e-6 * Math.Max(1.0, Math.Abs(managedSum)))
                        {
                            native.Error = FormattableString.Invariant(
                                $"the C harness computed a different output (checksum {checksum:G9}, managed {managedSum:G9})");
                            continue;
                        }
                        participants.Add(new Participant { Result = native, TimeBatch = (count, samples) => harness.Time(nativeSlot, count, samples) });
                    }
                    catch (InvalidOperationException e)
                    {
                        native.Error = e.Message;
                    }
                }
            }

            if (_options.CompareOrt && OnnxModelBuilder.OperatorFor(scheme) != null)
            {
                var ort = new CaseResult { Shape = shape, Scheme = scheme, Threads = threads, Packing = null, Backend = Backend.OnnxRuntime };
                report.Cases.Add(ort);
                try
                {
                    var runner = new OrtRunner(data, threads);
                    disposables.Add(runner);
                    runner.Run();
                    ort.Operators = runner.Operators;
                    ort.Kernel = OnnxModelBuilder.OperatorFor(scheme);
                    ort.Check = reference!.Check(runner.Output, OnnxModelBuilder.ActivationQuantizationFor(scheme));
                    participants.Add(new Participant { Result = ort, TimeBatch = (count, samples) => TimeManaged(runner, count, samples) });
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    ort.Error = $"{e.GetType().Name}: {e.Message}";
                }
            }

            if (!_options.Check)
            {
                Measure(participants, harness?.ProcessId);
            }
        }
        finally
        {
            foreach (var disposable in disposables) disposable.Dispose();
            if (harness != null && _options.CompareNative && !_options.Check)
            {
                for (var i = 0; i < Math.Min(slot, NativeHarness.Slots); i++)
                {
                    try
                    {
                        harness.Free(i);
                    }
                    catch (InvalidOperationException)
                    {
                    }
                }
            }
        }
    }

    private static void TimeManaged(ILayerRunner runner, int count, List<double> samples)
    {
        for (var i = 0; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            runner.Run();
            var end = Stopwatch.GetTimestamp();
            samples.Add((end - start) * NanosecondsPerTick);
        }
    }

    private void Measure(List<Participant> participants, int? harnessProcessId)
    {
        if (participants.Count == 0) return;
        // Warm-up, and a first estimate of the per-call time to size the batches.
        foreach (var participant in participants)
        {
            var warm = new List<double>();
            participant.TimeBatch(Math.Max(1, _options.Warmup), warm);
            var perCall = Math.Max(warm.Min(), 1.0);
            participant.BatchSize = (int)Math.Clamp(BatchSeconds * 1e9 / perCall, 1, 20000);
            if (_options.Iterations is int iterations) participant.BatchSize = Math.Min(participant.BatchSize, iterations);
        }
        // Round robin until everyone is done; a hard cap keeps a slow case from running away.
        var deadline = Stopwatch.StartNew();
        var cap = Math.Max(10.0 * _options.MinTimeSeconds * participants.Count, 30.0);
        bool Done(Participant p) => _options.Iterations is int n
            ? p.Samples.Count >= n
            : p.Seconds >= _options.MinTimeSeconds && p.Samples.Count >= 10;
        // Each round runs the runners in a new order (a fixed-seed shuffle, so runs repeat), so
        // that no runner always follows the same one and inherits its cache footprint and idle
        // threads every time.
        // Other runners' worker threads may still spin from their last batch; with more than one
        // thread per call they would take a core from the runner timed next.
        var multiThreaded = participants[0].Result.Threads > 1;
        int[] processIds = harnessProcessId is int harnessPid ? [Environment.ProcessId, harnessPid] : [Environment.ProcessId];
        var shuffle = new Random(20241108);
        var order = participants.ToArray();
        while (participants.Any(p => !Done(p)) && deadline.Elapsed.TotalSeconds < cap)
        {
            shuffle.Shuffle(order);
            foreach (var participant in order)
            {
                if (Done(participant)) continue;
                if (multiThreaded) Quiescence.WaitForOtherThreads(processIds);
                var count = participant.BatchSize;
                if (_options.Iterations is int n) count = Math.Min(count, n - participant.Samples.Count);
                participant.TimeBatch(count, participant.Samples);
            }
        }
        foreach (var participant in participants)
        {
            if (participant.Samples.Count > 0)
            {
                participant.Result.Statistics = TimingStatistics.FromNanoseconds(participant.Samples);
            }
        }
    }

    /// <summary>Ratios between cases, and the percentage of peak.</summary>
    private static void Derive(BenchReport report)
    {
        var cases = report.Cases;
        CaseResult? Find(CaseResult c, Backend backend, Packing? packing) => cases.FirstOrDefault(o =>
            o.Shape == c.Shape && o.Scheme == c.Scheme && o.Threads == c.Threads && o.Backend == backend &&
            o.Packing == packing && o.Statistics != null);
        foreach (var c in cases.Where(c => c.Statistics != null))
        {
            var p50 = c.Statistics!.P50;
            if (c.Backend != Backend.OnnxRuntime && c.Packing == Packing.On && Find(c, c.Backend, Packing.Off) is { } off)
            {
                c.OnOffRatio = p50 / off.Statistics!.P50;
            }
            if (c.Backend == Backend.XnnKleidi)
            {
                if (Find(c, Backend.Native, c.Packing) is { } native) c.ManagedNativeRatio = p50 / native.Statistics!.P50;
                if (Find(c, Backend.OnnxRuntime, null) is { } ort) c.SpeedupOverOrt = ort.Statistics!.P50 / p50;
            }
            var peak = report.Peaks.FirstOrDefault(p => p.Kind == (c.Scheme == Scheme.F32 ? "fp32" : "int8"));
            if (peak != null && c.Gops is double gops)
            {
                c.PercentOfPeak = 100.0 * gops / (peak.Gops * c.Threads);
            }
        }
    }
}
