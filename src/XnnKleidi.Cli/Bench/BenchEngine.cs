using System.Diagnostics;
using System.Runtime.InteropServices;
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
/// the run goes on with the other cases. Every output is checked against the float64 reference before
/// anything is timed, the C harness's layer is checked to be the managed one (flags, operators, output),
/// and a median whose confidence interval stays wide after longer runs marks its case unstable.
/// </summary>
internal sealed class BenchEngine
{
    private const double BatchSeconds = 0.010;
    /// <summary>How many times the minimum time a case may run to narrow the interval of its median.</summary>
    private const double MaxExtension = 4.0;
    /// <summary>Milliseconds of each timed peak probe (the best 1 ms slice counts).</summary>
    private const double PeakMilliseconds = 400.0;
    private static readonly double NanosecondsPerTick = 1e9 / Stopwatch.Frequency;
    private readonly BenchOptions options;
    private readonly Func<BenchData, ActivationPacking, int, IManagedLayer> createManaged;

    public BenchEngine(BenchOptions options, Func<BenchData, ActivationPacking, int, IManagedLayer> createManaged)
    {
        this.options = options;
        this.createManaged = createManaged;
    }

    /// <summary>
    /// The runtime flags the C harness is asked for, from the managed layer under comparison: its own
    /// <see cref="IManagedLayer.RuntimeFlags"/>. Only a test replaces it, to prove that a harness runtime with other
    /// flags is caught.
    /// </summary>
    internal Func<IManagedLayer, uint> HarnessRuntimeFlags { get; init; } = managed => managed.RuntimeFlags;

    /// <summary>The number of groups, for a progress bar.</summary>
    public int GroupCount => options.Shapes.Count * options.Schemes.Count * options.Threads.Count;

    public void Run(BenchReport report, NativeHarness? harness, Action<string>? onGroupStart, Action? onGroupDone)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (options.ComparePeak && !options.Check)
        {
            if (options.KnownPeaks is { } known)
            {
                report.Peaks.AddRange(known);
            }
            else
            {
                MeasurePeaks(report, harness);
            }
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
                var reference = new LayerReference(data);
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

    /// <summary>
    /// One peak per instruction family the CPU has, as the library reports its features; the harness checks the CPU
    /// again before it runs one. A family with no timed loop is listed as identified.
    /// </summary>
    private static void MeasurePeaks(BenchReport report, NativeHarness? harness)
    {
        IReadOnlyList<PeakProbe> probes = PeakProbes.Select(report.Host.Architecture, report.Host.Features);
        if (probes.Count == 0)
        {
            report.Notes.Add("peak: no probe matches this CPU's features");
            return;
        }

        if (harness == null)
        {
            string why = report.Host.EmulationReason != null ? "identified; not timed: the CPU is emulated" : "not timed: the native harness is not available";
            foreach (PeakProbe probe in probes)
            {
                report.Peaks.Add(new PeakResult(probe.Name, probe.Kind, probe.Instruction, null, why));
            }

            return;
        }

        IReadOnlyList<string> harnessProbes;
        try
        {
            harnessProbes = harness.SupportedProbes();
        }
        catch (Exception e) when (FailsOneCase(e))
        {
            report.Notes.Add($"peak: {e.Message}");
            return;
        }

        foreach (PeakProbe probe in probes)
        {
            if (!harnessProbes.Contains(probe.Name))
            {
                // The library lists the features, but the harness's own check of the CPU and OS disagrees: run nothing.
                report.Peaks.Add(new PeakResult(probe.Name, probe.Kind, probe.Instruction, null, "not timed: the harness finds this CPU or OS unable to run it"));
                continue;
            }

            if (!probe.Timed)
            {
                report.Peaks.Add(new PeakResult(probe.Name, probe.Kind, probe.Instruction, null, "identified; no timed probe for this instruction"));
                continue;
            }

            try
            {
                PeakAnswer answer = harness.Peak(probe.Name, PeakMilliseconds);
                report.Peaks.Add(new PeakResult(probe.Name, probe.Kind, probe.Instruction, answer.Gops, answer.NotTimedReason));
            }
            catch (Exception e) when (FailsOneCase(e))
            {
                report.Peaks.Add(new PeakResult(probe.Name, probe.Kind, probe.Instruction, null, e.Message));
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

        /// <summary>Run-queue wait of the benchmark's processes summed over this participant's timed batches; null once any reading was unknown.</summary>
        public TimeSpan? Wait { get; set; } = TimeSpan.Zero;

        /// <summary>Wall time of this participant's timed batches, the readings included.</summary>
        public TimeSpan Wall { get; set; }
    }

    /// <summary>The run-queue wait of all the benchmark's processes (this one and the C harness); null if any is unknown.</summary>
    private static TimeSpan? RunQueueWaitOf(int[] processIds)
    {
        TimeSpan total = TimeSpan.Zero;
        foreach (int pid in processIds)
        {
            if (RunQueueWait.OfProcess(pid) is not TimeSpan wait)
            {
                return null;
            }

            total += wait;
        }

        return total;
    }

    private void RunGroup(BenchReport report, NativeHarness? harness, BenchData data, LayerReference reference, LayerShape shape, int threads)
    {
        WeightScheme scheme = data.Scheme;
        bool runsOrt = options.CompareOrt && OnnxModelBuilder.OperatorFor(scheme) != null;
        // 7-bit weights on x64 only: reduce_range exists for x86's int16 intermediate, not for Arm's dot products.
        bool runsOrtReducedRange = runsOrt && scheme == WeightScheme.Qc8w && RuntimeInformation.ProcessArchitecture == Architecture.X64;
        // Accuracy before speed: every output is checked against the reference, in a timed run too.
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
                    result.KernelFamily = managed.KernelFamily;
                    result.Note = managed.Note;
                    result.Check = reference.Check(managed.Output, Reference.ActivationQuantizationOf(scheme));
                }
                catch (Exception e) when (FailsOneCase(e))
                {
                    result.Error = Describe(e);
                    continue;
                }

                participants.Add(new Participant { Result = result, TimeBatch = (count, samples) => TimeManaged(managed, count, samples) });
                if (options.CompareNative && !options.Check)
                {
                    AddNative(report, harness, data, reference, shape, threads, packing, managed, slot++ % NativeHarness.Slots, participants);
                }
            }

            if (runsOrt)
            {
                AddOrt(report, data, reference, shape, threads, Backend.OnnxRuntime, participants, disposables);
            }

            if (runsOrtReducedRange)
            {
                BenchData reduced = data.WithReducedRangeWeights();
                AddOrt(report, reduced, new LayerReference(reduced), shape, threads, Backend.OnnxRuntimeReducedRange, participants, disposables);
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

    /// <summary>ONNX Runtime on the same layer (or its 7-bit variant), its output checked against its own reference.</summary>
    private static void AddOrt(
        BenchReport report, BenchData data, LayerReference reference, LayerShape shape, int threads, Backend backend,
        List<Participant> participants, List<IDisposable> disposables)
    {
        var ort = new CaseResult { Shape = shape, Scheme = data.Scheme, Threads = threads, Packing = null, Backend = backend };
        report.Cases.Add(ort);
        try
        {
            var runner = new OrtRunner(data, threads);
            disposables.Add(runner);
            runner.Run();
            ort.Operators = runner.Operators;
            ort.Kernel = OnnxModelBuilder.OperatorFor(data.Scheme);
            ort.Check = reference.Check(runner.Output, OnnxModelBuilder.ActivationQuantizationFor(data.Scheme));
            if (backend == Backend.OnnxRuntime && data.Scheme == WeightScheme.Qc8w)
            {
                // Whether ONNX Runtime's int8 kernel saturated here, decided by the output itself.
                ort.Note = OrtPairSaturationModel.Diagnose(data, reference, runner.Output);
            }

            if (backend == Backend.OnnxRuntimeReducedRange)
            {
                ort.Note = FormattableString.Invariant($"weights requantized to 7 bits (within ±{BenchData.ReducedRangeLimit}), checked against the reference of those weights");
            }

            participants.Add(new Participant { Result = ort, TimeBatch = (count, samples) => TimeManaged(runner, count, samples) });
        }
        catch (Exception e) when (FailsOneCase(e))
        {
            ort.Error = Describe(e);
        }
    }

    /// <summary>
    /// The same layer in the C harness, built with the managed layer's own runtime flags; it is timed only when
    /// its flags, operators and output checksum match the managed layer's, and its own output is checked against
    /// the float64 reference like every other.
    /// </summary>
    private void AddNative(
        BenchReport report, NativeHarness? harness, BenchData data, LayerReference reference, LayerShape shape, int threads,
        ActivationPacking packing, IManagedLayer managed, int nativeSlot, List<Participant> participants)
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
            HarnessLayer layer = harness.Layer(nativeSlot, data, managed.PackingActive, threads, HarnessRuntimeFlags(managed));
            native.Operators = layer.Operators;
            native.PackingActive = managed.PackingActive;
            native.Kernel = managed.Kernel;
            native.KernelFamily = managed.KernelFamily;
            if (LikeForLike.Mismatch(managed, layer) is { } mismatch)
            {
                native.Error = mismatch;
                return;
            }

            native.Check = reference.Check(harness.Output(nativeSlot), Reference.ActivationQuantizationOf(data.Scheme));
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
        double cap = Math.Max(2.0 * MaxExtension * options.MinTimeSeconds * participants.Count, 30.0);
        // With a minimum time, a case whose median is not yet known to within TimingStatistics.StableHalfWidth
        // runs on, up to MaxExtension times the minimum; a fixed count of iterations is never extended.
        bool Done(Participant p) => p.Failed || (options.Iterations is int n
            ? p.Samples.Count >= n
            : p.Seconds >= options.MinTimeSeconds && p.Samples.Count >= 10 &&
              (p.Seconds >= MaxExtension * options.MinTimeSeconds || TimingStatistics.FromNanoseconds(p.Samples).IsStable));

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

                // The run queue is read around each batch, outside the timed calls: a thread of these processes that
                // waited for a CPU while a batch ran means something held a core (RunNoise names it).
                TimeSpan? waitBefore = RunQueueWaitOf(processIds);
                long batchStart = Stopwatch.GetTimestamp();
                TryTime(participant, count, participant.Samples);
                TimeSpan? waitAfter = RunQueueWaitOf(processIds);
                participant.Wall += Stopwatch.GetElapsedTime(batchStart);
                participant.Wait = participant.Wait is TimeSpan sum && waitBefore is TimeSpan before && waitAfter is TimeSpan after
                    ? sum + (after > before ? after - before : TimeSpan.Zero)
                    : null;
            }
        }

        foreach (Participant participant in participants)
        {
            // A failed case has no statistics: samples before its failure would describe a layer that broke.
            if (participant.Samples.Count > 0 && !participant.Failed)
            {
                participant.Result.Statistics = TimingStatistics.FromNanoseconds(participant.Samples);
                participant.Result.WaitingThreads = RunQueueWait.AverageWaitingThreads(TimeSpan.Zero, participant.Wait, participant.Wall);
            }
        }
    }

    /// <summary>
    /// Links each managed case to its measured comparators of the same shape, scheme and threads: the C harness with
    /// the same packing, ONNX Runtime and its 7-bit variant.
    /// </summary>
    internal static void LinkCounterparts(IReadOnlyList<CaseResult> cases)
    {
        ArgumentNullException.ThrowIfNull(cases);
        foreach (CaseResult c in cases.Where(c => c.Backend == Backend.XnnKleidi && c.Statistics != null))
        {
            c.NativeCounterpart = FindMeasured(cases, c, Backend.Native, c.Packing);
            c.OrtCounterpart = FindMeasured(cases, c, Backend.OnnxRuntime, null);
            c.OrtReducedRangeCounterpart = FindMeasured(cases, c, Backend.OnnxRuntimeReducedRange, null);
        }
    }

    private static CaseResult? FindMeasured(IReadOnlyList<CaseResult> cases, CaseResult c, Backend backend, ActivationPacking? packing) =>
        cases.FirstOrDefault(o =>
            o.Shape == c.Shape && o.Scheme == c.Scheme && o.Threads == c.Threads && o.Backend == backend &&
            o.Packing == packing && o.Statistics != null);

    /// <summary>Ratios between cases, each case's comparators, and its share of the peaks measured in this run.</summary>
    private static void Derive(BenchReport report)
    {
        List<CaseResult> cases = report.Cases;
        LinkCounterparts(cases);
        foreach (CaseResult c in cases.Where(c => c.Statistics != null))
        {
            double p50 = c.Statistics!.P50;
            if (c.Backend is Backend.XnnKleidi or Backend.Native && c.Packing == ActivationPacking.On && FindMeasured(cases, c, c.Backend, ActivationPacking.Off) is { } off)
            {
                c.OnOffRatio = p50 / off.Statistics!.P50;
            }

            if (c.Backend == Backend.XnnKleidi)
            {
                c.ManagedNativeRatio = c.NativeCounterpart is { } native ? p50 / native.Statistics!.P50 : null;
                c.SpeedupOverOrt = c.OrtCounterpart is { } ort ? ort.Statistics!.P50 / p50 : null;
                c.SpeedupOverOrtReducedRange = c.OrtReducedRangeCounterpart is { } reduced ? reduced.Statistics!.P50 / p50 : null;
            }

            if (c.Backend == Backend.XnnKleidi && c.Gops is double gops)
            {
                string kind = c.Scheme == WeightScheme.F32 ? PeakProbes.Fp32 : PeakProbes.Int8;
                c.OwnPeakFamily = PeakProbes.FamilyOf(report.Host.Architecture, report.Host.Features, c.Scheme, c.Kernel);
                PeakResult? own = report.Peaks.FirstOrDefault(p => p.Probe == c.OwnPeakFamily && p.Gops > 0);
                if (own != null)
                {
                    c.PercentOfOwnPeak = 100.0 * gops / (own.Gops!.Value * c.Threads);
                }

                PeakResult? fastest = report.Peaks.Where(p => p.Kind == kind && p.Gops > 0).MaxBy(p => p.Gops);
                if (fastest != null && fastest.Probe != c.OwnPeakFamily && fastest.Gops > (own?.Gops ?? 0))
                {
                    c.FastestPeakFamily = fastest.Probe;
                    c.PercentOfFastestPeak = 100.0 * gops / (fastest.Gops!.Value * c.Threads);
                }
            }
        }
    }
}
