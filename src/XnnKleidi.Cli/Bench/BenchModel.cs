using System.Runtime.InteropServices;
using System.Text.Json.Serialization;
using XnnKleidi.Oracle;

namespace XnnKleidi.Cli.Bench;

/// <summary>Who ran a case.</summary>
internal enum Backend
{
    /// <summary>XnnKleidi's managed API (the binding under test).</summary>
    XnnKleidi,
    /// <summary>The same XNNPACK graph from C (native/bench), for the binding's overhead.</summary>
    Native,
    /// <summary>ONNX Runtime's CPU execution provider on the same layer.</summary>
    OnnxRuntime,
    /// <summary>
    /// ONNX Runtime's DynamicQuantizeMatMul with the qc8w weights requantized to 7 bits (its quantization tool's
    /// reduce_range, advised for AVX2 and AVX-512 without VNNI): x64 only.
    /// </summary>
    OnnxRuntimeReducedRange,
}

/// <summary>What the user asked `bench` to do.</summary>
internal sealed record BenchOptions
{
    public required IReadOnlyList<LayerShape> Shapes { get; init; }
    public required IReadOnlyList<WeightScheme> Schemes { get; init; }
    public required IReadOnlyList<ActivationPacking> Packings { get; init; }
    public required IReadOnlyList<int> Threads { get; init; }
    public int Warmup { get; init; } = 5;
    /// <summary>Timed calls per case; null means "until MinTime".</summary>
    public int? Iterations { get; init; }
    public double MinTimeSeconds { get; init; } = 0.5;
    public bool Check { get; init; }
    public bool CompareNative { get; init; }
    public bool CompareOrt { get; init; }
    public bool ComparePeak { get; init; }
    public int BlockSize { get; init; } = BenchData.DefaultBlockSize;
    public uint Seed { get; init; } = 42;
    /// <summary>
    /// The Arm kernel families to compare, each capped in its own process (see <see cref="KernelFamilyRuns"/>); empty
    /// for a run under whatever cap this process has.
    /// </summary>
    public IReadOnlyList<ArmKernelFamily> KernelFamilies { get; init; } = [];
    /// <summary>
    /// Peaks already measured on this CPU under the same cap, used instead of measuring them again; null to measure.
    /// The kernel-family runs pass them from the first process of a family to its later ones.
    /// </summary>
    public IReadOnlyList<PeakResult>? KnownPeaks { get; init; }
}

/// <summary>
/// One probe's peak on one core: GOP/s when it was timed, else <see cref="Note"/> says why not (identified only,
/// emulated CPU, the harness refused it).
/// </summary>
internal sealed record PeakResult(string Probe, string Kind, string Instruction, double? Gops, string? Note);

/// <summary>One measured (or checked) case: a shape, a scheme, a thread count, a packing and a backend.</summary>
internal sealed class CaseResult
{
    public required LayerShape Shape { get; init; }
    public required WeightScheme Scheme { get; init; }
    public required int Threads { get; init; }
    /// <summary>The packing asked for; null for ONNX Runtime, which has none.</summary>
    public ActivationPacking? Packing { get; init; }
    public required Backend Backend { get; init; }

    public TimingStatistics? Statistics { get; set; }
    public IReadOnlyList<string> Operators { get; set; } = [];
    /// <summary>Whether the activations were really packed (QP8), as the runtime reports.</summary>
    public bool? PackingActive { get; set; }
    /// <summary>Why packing was not used although asked for, as the managed API says.</summary>
    public string? FallbackReason { get; set; }
    /// <summary>The KleidiAI kernel when packing ran, or the GEMM operator's name.</summary>
    public string? Kernel { get; set; }
    public CheckResult? Check { get; set; }
    /// <summary>Set when the case could not run; the message says why.</summary>
    public string? Error { get; set; }
    /// <summary>A remark that does not make the case fail (e.g. what Auto chose).</summary>
    public string? Note { get; set; }
    /// <summary>The cap on the Arm kernel families this case ran under (<c>--kernel-family</c>), or null for none.</summary>
    public ArmKernelFamily? KernelFamilyCap { get; set; }
    /// <summary>The Arm kernel family the layer runs at this batch, as <see cref="Linear.GetKernelFamily"/> says; null off Arm.</summary>
    public ArmKernelFamily? KernelFamily { get; set; }
    /// <summary>
    /// p50 under this case's kernel-family cap over p50 of the same case under the first family asked for (&lt; 1:
    /// this family is faster); null for the first family and without <c>--kernel-family</c>.
    /// </summary>
    public double? FamilyRatio { get; set; }

    /// <summary>
    /// Set when this case ran on several threads no faster than on one although its work could be split: another
    /// process probably held a core, so no ratio or target counts on it (<see cref="RunNoise"/>).
    /// </summary>
    public string? CoreStolen { get; set; }

    /// <summary>
    /// The average number of the benchmark's threads (this process and the C harness) that were ready to run but waited
    /// for a CPU while this case was timed; null where the system does not report it (<see cref="RunQueueWait"/>).
    /// </summary>
    public double? WaitingThreads { get; set; }
    /// <summary>Set when this case's ratio to packing off does not clear the run's own noise floor (<see cref="RunNoise"/>).</summary>
    public string? WithinNoiseFloor { get; set; }

    /// <summary>Whether the median's confidence interval stayed wider than <see cref="TimingStatistics.StableHalfWidth"/>: no target is evaluated on it.</summary>
    public bool Unstable => Statistics is { IsStable: false };

    /// <summary>GOP/s at the median time.</summary>
    public double? Gops => Statistics is { P50: > 0 } s ? Shape.Operations / s.P50 : null;

    /// <summary>p50 with packing on over p50 with packing off, same shape/scheme/threads/backend (&lt; 1: packing pays).</summary>
    public double? OnOffRatio { get; set; }
    /// <summary>Managed p50 over native p50 of the same case (the binding's overhead; 1.00 = none).</summary>
    public double? ManagedNativeRatio { get; set; }
    /// <summary>ONNX Runtime's p50 over this case's p50 (how many times faster XnnKleidi is).</summary>
    public double? SpeedupOverOrt { get; set; }
    /// <summary>ONNX Runtime's p50 with 7-bit weights over this case's p50.</summary>
    public double? SpeedupOverOrtReducedRange { get; set; }
    // The counterparts are not serialized: a kernel-family run hands its cases to the parent process as JSON, and
    // the parent links them again from the cases themselves (BenchEngine.LinkCounterparts), so the document stays a list.
    /// <summary>The C harness's case of the same layer (managed cases only), once measured.</summary>
    [JsonIgnore]
    public CaseResult? NativeCounterpart { get; set; }
    /// <summary>ONNX Runtime's case of the same layer (managed cases only).</summary>
    [JsonIgnore]
    public CaseResult? OrtCounterpart { get; set; }
    /// <summary>ONNX Runtime's case with 7-bit weights (managed qc8w cases on x64 only).</summary>
    [JsonIgnore]
    public CaseResult? OrtReducedRangeCounterpart { get; set; }
    /// <summary>The peak probe of the instruction family this case's kernel uses (see <see cref="PeakProbes.FamilyOf"/>).</summary>
    public string? OwnPeakFamily { get; set; }
    /// <summary>GOP/s as a percentage of threads x one core's measured peak of its own kernel family.</summary>
    public double? PercentOfOwnPeak { get; set; }
    /// <summary>The fastest measured family of the same kind (int8 or fp32) on this core, when it is not the own one.</summary>
    public string? FastestPeakFamily { get; set; }
    /// <summary>GOP/s as a percentage of threads x the fastest family's peak, when that is not the own family.</summary>
    public double? PercentOfFastestPeak { get; set; }
    /// <summary>The same case under the first kernel family asked for, which <see cref="FamilyRatio"/> divides by.</summary>
    [JsonIgnore]
    public CaseResult? FamilyBaseline { get; set; }

    public string Quantization => Scheme switch
    {
        WeightScheme.F32 => "f32",
        _ when Backend == Backend.OnnxRuntime && Scheme == WeightScheme.Qc8w => "qu8-per-tensor-qc8w",
        _ when Backend == Backend.OnnxRuntimeReducedRange => "qu8-per-tensor-qc7w",
        _ when Backend == Backend.OnnxRuntime => "qs8-block-" + Scheme.ToString().ToLowerInvariant(),
        _ when PackingActive == true => "qp8-" + Scheme.ToString().ToLowerInvariant(),
        _ => "qd8-" + Scheme.ToString().ToLowerInvariant(),
    };

    public string BackendName => Backend switch
    {
        Backend.XnnKleidi => "xnnkleidi",
        Backend.Native => "xnnpack-c",
        Backend.OnnxRuntimeReducedRange => "onnxruntime-reduce-range",
        _ => "onnxruntime",
    };

    public string PackingName => Packing?.ToString().ToLowerInvariant() ?? "-";
}

/// <summary>A speed target, evaluated on this run.</summary>
internal sealed record TargetVerdict(string Target, string Where, double? Measured, double Threshold, bool? Met, string Detail);

/// <summary>Everything one `bench` run measured.</summary>
internal sealed class BenchReport
{
    public required BenchOptions Options { get; init; }
    public required HostSummary Host { get; init; }
    public List<CaseResult> Cases { get; } = [];
    public List<PeakResult> Peaks { get; } = [];
    public List<TargetVerdict> Targets { get; } = [];
    /// <summary>For `--sweep`: each swept layer's packed against unpacked p50 over the batch sizes, and its crossover.</summary>
    public List<PackingCrossover> Crossovers { get; } = [];
    /// <summary>The run's noise floor per thread count, from runners that executed identical runtimes.</summary>
    public List<NoiseFloor> NoiseFloors { get; } = [];
    public List<string> Notes { get; } = [];
    public bool CheckFailed => Cases.Any(c => c.Check is { Passed: false } || (c.Error != null && c.Backend == Backend.XnnKleidi));
}

/// <summary>The machine and library a report belongs to; <paramref name="Features"/> select the peak probes.</summary>
internal sealed record HostSummary(
    string Rid, string Cpu, string CpuFeatures, string BuildInfo, string? EmulationReason, string Runtime,
    CpuFeatures Features = XnnKleidi.CpuFeatures.None, Architecture Architecture = Architecture.X64);
