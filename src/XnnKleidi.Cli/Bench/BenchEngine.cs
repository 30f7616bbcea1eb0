using System.Diagnostics;
using XnnKleidi.Cli.Onnx;
using XnnKleidi.Oracle;

namespace XnnKleidi.Cli.Bench;

/// <summary>
/// Runs the cases of a `bench` command. The cases of one shape, scheme and thread count form a
/// group; within a group every runner (managed with each packing, the C harness with each
/// packing, ONNX Runtime) is called in turn, one batch of about 10 ms at a time, until each has
/// its iterations or its minimum time. Drift of the machine (frequency, other processes) thus
/// falls on all of them alike, and the ratios between them stay honest.
/// A case that fails, while it is built, checked or timed, records the failure as its error and
/// the run goes on with the other cases.
/// </summary>
internal sealed class BenchEngine
{
    private const double BatchSeconds = 0.010;
    private static readonly double NanosecondsPerTick = 1e9 / Stopwatch.Frequency;
    private readonly BenchOptions options;
    private readonly Func<BenchData, ActivationPacking, int, IManagedLayer> createManaged;

    public BenchEngine(BenchOptions options, Func<BenchData, ActivationPacking, int, IManagedLayer> createManaged)
    {
        this.options = options;
        this.createManaged = createManaged;
    }

    /// <summary>The number of groups, for a progress bar.</summary>
    public int GroupCount => options.Shapes.Count * options.Schemes.Count * options.Threads.Count;

    public void Run(BenchReport report, NativeHarness? harness, Action<string>? onGroupStart, Action? onGroupDone)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (options.ComparePeak && !options.Check)
        {
            MeasurePeaks(report, harness);
        }

        foreach (LayerShape shape in options.Shapes)
        {
            foreach (WeightScheme scheme in options.Schemes)
            {
                string? unsupported = BenchData.Unsupported(scheme, shape.K, options.BlockSize);
                if (unsupported != null)
                {
                    report.Notes.Add($"{shape.Model} {shape.Layer} {shape.ShapeText} {scheme.ToString().ToLowerInvariant()}: skipped, {unsupported}");
                    for (int i = 0; i < options.Threads.Count; i++)
                    {
                        onGroupDone?.Invoke();
                    }

                    continue;
                }

                // The data and its float64 reference serve every thread count of the shape.
                var data = new BenchData(scheme, shape.M, shape.K, shape.N, options.BlockSize, options.Seed);
                var reference = new Lazy<LayerReference>(() => new LayerReference(data));
                foreach (int threads in options.Threads)
                {
                    onGroupStart?.Invoke($"{shape.Model} {shape.ShapeText} {scheme.ToString().ToLowerInvariant()} {threads}t");
                    RunGroup(report, harness, data, reference, shape, threads);
                    onGroupDone?.Invoke();
                }
            }
        }

        Derive(report);
    }

    /// <summary>
    /// Whether <paramref name="exception"/> is the failure of one case only. Every native failure, native
    /// out-of-memory included, arrives as <see cref="XnnPackException"/> (or from ONNX Runtime and the C harness as
    /// their own exceptions) and ends only that case. A managed <see cref="OutOfMemoryException"/> means this
    /// process's own heap is exhausted; every later case would fail the same way, so it ends the run.
    /// </summary>
    internal static bool FailsOneCase(Exception exception) => exception is not OutOfMemoryException;

    private static string Describe(Exception exception) => $"{exception.GetType().Name}: {exception.Message}";

    private static void MeasurePeaks(BenchReport report, NativeHarness? harness)
    {
        if (harness == null)
        {
            report.Notes.Add("peak: not measured, the native harness is not available");
            return;
        }

        foreach ((string kind, double milliseconds) in new[] { ("int8", 1500.0), ("fp32", 500.0) })
        {
            try
            {
                (double gops, string instruction) = harness.Peak(kind, milliseconds);
                report.Peaks.Add(new PeakResult(kind, gops, instruction));
            }
            catch (Exception e) when (FailsOneCase(e))
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

        /// <summary>Set when a timed call failed: the participant is then out of the round robin.</summary>
        public bool Failed { get; set; }
    }

    private void RunGroup(BenchReport report, NativeHarness? harness, BenchData data, Lazy<LayerReference> lazyReference, LayerShape shape, int threads)
    {
        WeightScheme scheme = data.Scheme;
        bool runsOrt = options.CompareOrt && OnnxModelBuilder.OperatorFor(scheme) != null;
        LayerReference? reference = options.Check || runsOrt ? lazyReference.Value : null;
        List<Participant> participants = [];
        List<IDisposable> disposables = [];
        int slot = 0;
        try
        {
            foreach (ActivationPacking packing in options.Packings)
            {
                var result = new CaseResult { Shape = shape, Scheme = scheme, Threads = threads, Packing = packing, Backend = Backend.XnnKleidi };
                report.Cases.Add(result);
                IManagedLayer managed;
                try
                {
                    managed = createManaged(data, packing, threads);
                    disposables.Add(managed);
                    managed.Run();
                    result.Operators = managed.Operators;
                    result.PackingActive = managed.PackingActive;
                    result.FallbackReason = managed.FallbackReason;
                    result.Kernel = managed.Kernel;
                    result.Note = managed.Note;
                    if (reference != null && options.Check)
                    {
                        result.Check = reference.Check(managed.Output, Reference.ActivationQuantizationOf(scheme));
                    }
                }
                catch (Exception e) when (FailsOneCase(e))
                {
                    result.Error = Describe(e);
                    continue;
                }

                participants.Add(new Participant { Result = result, TimeBatch = (count, samples) => TimeManaged(managed, count, samples) });
                if (options.CompareNative && !options.Check)
                {
                    AddNative(report, harness, data, shape, threads, packing, managed, slot++ % NativeHarness.Slots, participants);
                }
            }

            if (runsOrt)
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
                catch (Exception e) when (FailsOneCase(e))
                {
                    ort.Error = Describe(e);
                }
            }

            if (!options.Check)
            {
                Measure(participants, harness?.ProcessId);
            }
        }
        finally
        {
            foreach (IDisposable disposable in disposables)
            {
                disposable.Dispose();
            }

            if (harness != null && options.CompareNative && !options.Check)
            {
                for (int i = 0; i < Math.Min(slot, NativeHarness.Slots); i++)
                {
                    try
                    {
                        harness.Free(i);
                    }
                    catch (Exception e) when (FailsOneCase(e))
                    {
                        // A slot the harness cannot free is reused by the next group's `layer`, which replaces it.
                    }
                }
            }
        }
    }

    /// <summary>The same layer in the C harness, checked by its output checksum against the managed output.</summary>
    private static void AddNative(
        BenchReport report, NativeHarness? harness, BenchData data, LayerShape shape, int threads, ActivationPacking packing,
        IManagedLayer managed, int nativeSlot, List<Participant> participants)
    {
        var native = new CaseResult { Shape = shape, Scheme = data.Scheme, Threads = threads, Packing = packing, Backend = Backend.Native };
        report.Cases.Add(native);
        if (harness == null)
        {
            native.Error = "the native harness is not available";
            return;
        }

        try
        {
            (double checksum, string[] operators) = harness.Layer(nativeSlot, data, managed.PackingActive, threads, managed.RuntimeFlags);
            native.Operators = operators;
            native.PackingActive = managed.PackingActive;
            native.Kernel = managed.Kernel;
            double managedSum = 0.0;
            foreach (float value in managed.Output)
            {
                managedSum += value;
            }

            if (Math.Abs(checksum - managedSum) > 1e-6 * Math.Max(1.0, Math.Abs(managedSum)))
            {
                native.Error = FormattableString.Invariant(
                    $"the C harness computed a different output (checksum {checksum:G9}, managed {managedSum:G9})");
                return;
            }

            participants.Add(new Participant { Result = native, TimeBatch = (count, samples) => harness.Time(nativeSlot, count, samples) });
        }
        catch (Exception e) when (FailsOneCase(e))
        {
            native.Error = e.Message;
        }
    }

    private static void TimeManaged(ILayerRunner runner, int count, List<double> samples)
    {
        for (int i = 0; i < count; i++)
        {
            long start = Stopwatch.GetTimestamp();
            runner.Run();
            long end = Stopwatch.GetTimestamp();
            samples.Add((end - start) * NanosecondsPerTick);
        }
    }

    /// <summary>Times one batch into <paramref name="samples"/>; a failure becomes the participant's error and takes it out of the run.</summary>
    private static bool TryTime(Participant participant, int count, List<double> samples)
    {
        try
        {
            participant.TimeBatch(count, samples);
            return true;
        }
        catch (Exception e) when (FailsOneCase(e))
        {
            participant.Failed = true;
            // The harness's messages already say "native harness: ..."; managed ones name their exception type.
            participant.Result.Error = participant.Result.Backend == Backend.Native ? e.Message : Describe(e);
            return false;
        }
    }

    private void Measure(List<Participant> participants, int? harnessProcessId)
    {
        if (participants.Count == 0)
        {
            return;
        }

        // Warm-up, and a first estimate of the per-call time to size the batches.
        foreach (Participant participant in participants)
        {
            var warm = new List<double>();
            if (!TryTime(participant, Math.Max(1, options.Warmup), warm))
            {
                continue;
            }

            double perCall = Math.Max(warm.Min(), 1.0);
            participant.BatchSize = (int)Math.Clamp(BatchSeconds * 1e9 / perCall, 1, 20000);
            if (options.Iterations is int iterations)
            {
                participant.BatchSize = Math.Min(participant.BatchSize, iterations);
            }
        }

        // Round robin until everyone is done; a hard cap keeps a slow case from running away.
        var deadline = Stopwatch.StartNew();
        double cap = Math.Max(10.0 * options.MinTimeSeconds * participants.Count, 30.0);
        bool Done(Participant p) => p.Failed || (options.Iterations is int n
            ? p.Samples.Count >= n
            : p.Seconds >= options.MinTimeSeconds && p.Samples.Count >= 10);

        // Each round runs the runners in a new order (a fixed-seed shuffle, so runs repeat), so
        // that no runner always follows the same one and inherits its cache footprint and idle
        // threads every time.
        // Other runners' worker threads may still spin from their last batch; with more than one
        // thread per call they would take a core from the runner timed next.
        bool multiThreaded = participants[0].Result.Threads > 1;
        int[] processIds = harnessProcessId is int harnessPid ? [Environment.ProcessId, harnessPid] : [Environment.ProcessId];
        var shuffle = new Random(20241108);
        Participant[] order = [.. participants];
        while (participants.Any(p => !Done(p)) && deadline.Elapsed.TotalSeconds < cap)
        {
            shuffle.Shuffle(order);
            foreach (Participant participant in order)
            {
                if (Done(participant))
                {
                    continue;
                }

                if (multiThreaded)
                {
                    Quiescence.WaitForOtherThreads(processIds);
                }

                int count = participant.BatchSize;
                if (options.Iterations is int n)
                {
                    count = Math.Min(count, n - participant.Samples.Count);
                }

                TryTime(participant, count, participant.Samples);
            }
        }

        foreach (Participant participant in participants)
        {
            // A failed case has no statistics: samples before its failure would describe a layer that broke.
            if (participant.Samples.Count > 0 && !participant.Failed)
            {
                participant.Result.Statistics = TimingStatistics.FromNanoseconds(participant.Samples);
            }
        }
    }

    /// <summary>Ratios between cases, and the percentage of peak.</summary>
    private static void Derive(BenchReport report)
    {
        List<CaseResult> cases = report.Cases;
        CaseResult? Find(CaseResult c, Backend backend, ActivationPacking? packing) => cases.FirstOrDefault(o =>
            o.Shape == c.Shape && o.Scheme == c.Scheme && o.Threads == c.Threads && o.Backend == backend &&
            o.Packing == packing && o.Statistics != null);
        foreach (CaseResult c in cases.Where(c => c.Statistics != null))
        {
            double p50 = c.Statistics!.P50;
            if (c.Backend != Backend.OnnxRuntime && c.Packing == ActivationPacking.On && Find(c, c.Backend, ActivationPacking.Off) is { } off)
            {
                c.OnOffRatio = p50 / off.Statistics!.P50;
            }

            if (c.Backend == Backend.XnnKleidi)
            {
                if (Find(c, Backend.Native, c.Packing) is { } native)
                {
                    c.ManagedNativeRatio = p50 / native.Statistics!.P50;
                }

                if (Find(c, Backend.OnnxRuntime, null) is { } ort)
                {
                    c.SpeedupOverOrt = ort.Statistics!.P50 / p50;
                }
            }

            PeakResult? peak = report.Peaks.FirstOrDefault(p => p.Kind == (c.Scheme == WeightScheme.F32 ? "fp32" : "int8"));
            if (peak != null && c.Gops is double gops)
            {
                c.PercentOfPeak = 100.0 * gops / (peak.Gops * c.Threads);
            }
        }
    }
}
