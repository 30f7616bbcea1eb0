using XnnKleidi.Cli.Bench;
using XnnKleidi.Oracle;

namespace XnnKleidi.Cli.Model;

/// <summary>What the user asked `bench --model` to do.</summary>
internal sealed record ModelRunOptions
{
    public required string Model { get; init; }
    /// <summary>For a language model, the phase run (prefill or decode); null for the other models.</summary>
    public GenerationPhase? Phase { get; init; }
    /// <summary>For a prefill, the prompt's tokens (the M of every block's linears).</summary>
    public int? PromptTokens { get; init; }
    /// <summary>For a model file run at one M (--tokens): that M.</summary>
    public int? Tokens { get; init; }
    /// <summary>The --layers pattern that chose the layers run, or null for every layer of the model.</summary>
    public string? LayerPattern { get; init; }
    public required WeightScheme Scheme { get; init; }
    public required IReadOnlyList<ActivationPacking> Packings { get; init; }
    public required IReadOnlyList<int> Threads { get; init; }
    /// <summary>Untimed forward passes per mode before timing (and untimed calls before each hot-cache shape).</summary>
    public int Warmup { get; init; } = 2;
    /// <summary>Timed forward passes per mode (and calls per hot-cache shape); null means "until the minimum times".</summary>
    public int? Iterations { get; init; }
    /// <summary>Seconds of timed forward passes per mode, at least.</summary>
    public double MinTimeSeconds { get; init; } = 3.0;
    /// <summary>Seconds of timed calls per shape and mode for the hot-cache figures, at least.</summary>
    public double HotMinTimeSeconds { get; init; } = 0.5;
    public bool Check { get; init; }
    /// <summary>With --check: how many rows of each layer's output to validate, spread evenly, the first and the last
    /// included; null validates every row.</summary>
    public int? CheckRows { get; init; }
    public int BlockSize { get; init; } = BenchData.DefaultBlockSize;
    public uint Seed { get; init; } = 42;
    public double Confidence { get; init; } = MedianInterval.DefaultConfidence;
    /// <summary>
    /// The bytes of packed weights the run may hold at once (--memory-budget); null for half the memory this process
    /// may use. Over it, the packing modes are built and timed one after another instead of side by side.
    /// </summary>
    public long? MemoryBudgetBytes { get; init; }

    /// <summary>The model and, for a language model, its phase: "vit-b16", "llama-3.2-1b decode",
    /// "llama-3.2-1b prefill of 128 tokens".</summary>
    public string Workload => Phase switch
    {
        GenerationPhase.Prefill => FormattableString.Invariant($"{Model} prefill of {PromptTokens} tokens"),
        GenerationPhase.Decode => $"{Model} decode",
        _ when Tokens != null => FormattableString.Invariant($"{Model} at {Tokens} tokens"),
        _ => Model,
    };
}

/// <summary>One layer of one mode's model: what ran, its p50s, and (with --check) its output against the oracle.</summary>
internal sealed class ModelLayerResult
{
    public required int Index { get; init; }
    public required ModelLayer Layer { get; init; }
    public bool? PackingActive { get; set; }
    public string? FallbackReason { get; set; }
    public string? Kernel { get; set; }
    /// <summary>What Auto measured when it chose, for packing auto.</summary>
    public ActivationPackingTiming? AutoTiming { get; set; }
    /// <summary>p50 of one call's wall time (Linear.Run), microseconds.</summary>
    public double? CallP50Us { get; set; }
    /// <summary>p50 of the convert operator's time (QD8 or QP8) as XNNPACK's profile reports it, microseconds.</summary>
    public double? ConvertP50Us { get; set; }
    /// <summary>p50 of the GEMM operator's time as XNNPACK's profile reports it, microseconds.</summary>
    public double? GemmP50Us { get; set; }
    public CheckResult? Check { get; set; }

    /// <summary>The mode the layer runs in: "on" when its activations are packed, else "off".</summary>
    public string RanAs => PackingActive == true ? "on" : "off";
}

/// <summary>One packing mode at one thread count: the model total, and every layer.</summary>
internal sealed class ModelModeResult
{
    public required int Threads { get; init; }
    public required ActivationPacking Packing { get; init; }
    public List<ModelLayerResult> Layers { get; } = [];
    /// <summary>The forward pass's time, the sum of its layers' calls, microseconds: median and its interval.</summary>
    public MedianInterval? Total { get; set; }
    /// <summary>This mode's total p50 over packing off's, same threads (for packing on; &lt; 1: packing pays).</summary>
    public double? OnOffRatio { get; set; }
    /// <summary>For auto: the faster of off and on at the same threads.</summary>
    public ActivationPacking? BestFixed { get; set; }
    /// <summary>For auto: its total p50 over the best fixed mode's.</summary>
    public double? AutoOverBestFixed { get; set; }
    public string? Error { get; set; }

    public string PackingName => Packing.ToString().ToLowerInvariant();
}

/// <summary>
/// One distinct shape of a model, one mode: the p50 of its calls inside the forward pass (every layer of the shape
/// pooled) against the p50 of one of those layers called over and over on its own (weights and activations hot).
/// </summary>
internal sealed record ModelShapeComparison(
    int Threads, ActivationPacking Packing, int M, int K, int N, int Layers,
    double InModelCallP50Us, double HotCallP50Us,
    double? InModelGemmP50Us, double? HotGemmP50Us,
    double? InModelConvertP50Us, double? HotConvertP50Us)
{
    public string ShapeText => $"{M}x{K}x{N}";

    public string PackingName => Packing.ToString().ToLowerInvariant();

    public double InModelOverHot => InModelCallP50Us / HotCallP50Us;

    public double? GemmInModelOverHot => InModelGemmP50Us is double a && HotGemmP50Us is double b && b > 0 ? a / b : null;
}

/// <summary>Everything one `bench --model` run measured or checked.</summary>
internal sealed class ModelReport
{
    /// <summary>The version of the JSON this report is written as; `compare` refuses any other.</summary>
    public const int SchemaVersion = 1;

    /// <summary>The JSON's "kind", so that `compare` can tell a model run from `bench`'s per-shape records.</summary>
    public const string Kind = "xnnkleidi-model-run";

    public required ModelRunOptions Options { get; init; }
    public required HostSummary Host { get; init; }
    public required IReadOnlyList<ModelLayer> Layers { get; init; }
    public required long WeightBytes { get; init; }
    public List<ModelModeResult> Runs { get; } = [];
    public List<ModelShapeComparison> Shapes { get; } = [];
    public List<string> Notes { get; } = [];
    /// <summary>For a model file (timed runs): each layer's quantization error on the file's own weights.</summary>
    public WeightAccuracy? Accuracy { get; set; }

    public int ChecksPassed => Runs.Sum(run => run.Layers.Count(layer => layer.Check is { Passed: true }));

    public int ChecksFailed => Runs.Sum(run => run.Layers.Count(layer => layer.Check is { Passed: false })
        + (run.Error != null ? 1 : 0));
}
