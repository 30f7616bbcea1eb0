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
}

/// <summary>The measured peak of one core.</summary>
internal sealed record PeakResult(string Kind, double Gops, string Instruction);

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

    /// <summary>GOP/s at the median time.</summary>
    public double? Gops => Statistics is { P50: > 0 } s ? Shape.Operations / s.P50 : null;

    /// <summary>p50 with packing on over p50 with packing off, same shape/scheme/threads/backend (&lt; 1: packing pays).</summary>
    public double? OnOffRatio { get; set; }
    /// <summary>Managed p50 over native p50 of the same case (the binding's overhead; 1.00 = none).</summary>
    public double? ManagedNativeRatio { get; set; }
    /// <summary>ONNX Runtime's p50 over this case's p50 (how many times faster XnnKleidi is).</summary>
    public double? SpeedupOverOrt { get; set; }
    /// <summary>GOP/s as a percentage of threads x one core's measured peak.</summary>
    public double? PercentOfPeak { get; set; }

    public string Quantization => Scheme switch
    {
        WeightScheme.F32 => "f32",
        _ when Backend == Backend.OnnxRuntime && Scheme == WeightScheme.Qc8w => "qu8-per-tensor-qc8w",
        _ when Backend == Backend.OnnxRuntime => "qs8-block-" + Scheme.ToString().ToLowerInvariant(),
        _ when PackingActive == true => "qp8-" + Scheme.ToString().ToLowerInvariant(),
        _ => "qd8-" + Scheme.ToString().ToLowerInvariant(),
    };

    public string BackendName => Backend switch
    {
        Backend.XnnKleidi => "xnnkleidi",
        Backend.Native => "xnnpack-c",
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
    public List<string> Notes { get; } = [];
    public bool CheckFailed => Cases.Any(c => c.Check is { Passed: false } || (c.Error != null && c.Backend == Backend.XnnKleidi));
}

/// <summary>The machine and library a report belongs to.</summary>
internal sealed record HostSummary(
    string Rid, string Cpu, string CpuFeatures, string BuildInfo, string? EmulationReason, string Runtime);
