using System.CommandLine;
using System.Text.RegularExpressions;
using Spectre.Console;
using XnnKleidi.Cli.Bench;
using XnnKleidi.Cli.Model;
using XnnKleidi.Cli.Output;
using XnnKleidi.Cli.Platform;
using XnnKleidi.Oracle;

namespace XnnKleidi.Cli.Commands;

/// <summary>`xnnkleidi bench --model NAME`: a model's linear layers as one forward pass, per packing mode.</summary>
internal static class ModelCommand
{
    /// <summary>The `--model` option of `bench`.</summary>
    public static Option<string?> CreateOption()
    {
        var option = new Option<string?>("--model")
        {
            Description = "Run a model's linear layers in forward order, each with its own random weights at the model's shapes and " +
                          $"sizes, as one forward pass per packing mode: {string.Join(", ", ModelCatalog.Names)}. Reports the model " +
                          "total (p50 and its 95 % interval), each layer's convert and GEMM from XNNPACK's profile, what auto chose, " +
                          "and the same shapes timed on their own. --iterations counts forward passes; --warmup defaults to 2 passes and --min-time to 3 s " +
                          "of passes per mode.",
            HelpName = string.Join('|', ModelCatalog.Names),
        };
        option.Validators.Add(result =>
        {
            string? value = result.GetValueOrDefault<string?>();
            if (value != null && !ModelCatalog.Names.Contains(value.ToLowerInvariant()))
            {
                result.AddError($"--model: unknown model '{value}' (expected {string.Join(", ", ModelCatalog.Names)})");
            }
        });
        return option;
    }

    /// <summary>The `--check-rows` option of `bench`, for --model --check.</summary>
    public static Option<int?> CreateCheckRowsOption()
    {
        var option = new Option<int?>("--check-rows")
        {
            Description = "With --model and --check: validate N rows of each layer's output (every column), spread evenly with the " +
                          "first and the last included, instead of every row. The float64 reference of a whole model is the slow " +
                          "part of a check under emulation.",
            HelpName = "N",
        };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is <= 0)
            {
                result.AddError("--check-rows must be a positive integer");
            }
        });
        return option;
    }

    /// <summary>The `--phase` option of `bench`, for a language model.</summary>
    public static Option<List<GenerationPhase>> CreatePhaseOption() => OptionParsing.ListOption(
        "--phase",
        "With --model and a language model (" + string.Join(", ", LanguageModel.All.Select(model => model.Name)) + "): the " +
        "generation phases to run, each timed and reported on its own: prefill (the prompt's tokens at once) and decode " +
        "(one token, M = 1). Attention over the KV cache is not a linear layer and is not timed. Default: prefill,decode.",
        "prefill,decode",
        item => OptionParsing.EnumItem(item, "phase", GenerationPhase.Prefill, GenerationPhase.Decode));

    /// <summary>The `--prompt-tokens` option of `bench`, for a language model's prefill.</summary>
    public static Option<int?> CreatePromptTokensOption()
    {
        var option = new Option<int?>("--prompt-tokens")
        {
            Description = $"With --model, a language model and the prefill phase: the prompt's tokens, the M of every block's " +
                          $"linears (the head sees the last token only). Default: {LanguageModel.DefaultPromptTokens}.",
            HelpName = "P",
        };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is { } tokens && (tokens < 1 || tokens > LanguageModel.MaxPromptTokens))
            {
                result.AddError($"--prompt-tokens must be between 1 and {LanguageModel.MaxPromptTokens}");
            }
        });
        return option;
    }

    /// <summary>The `--layers` option of `bench`, for --model.</summary>
    public static Option<string?> CreateLayersOption()
    {
        var option = new Option<string?>("--layers")
        {
            Description = "With --model: run only the layers whose name matches this regular expression (.NET syntax, " +
                          "case-sensitive), in the model's order, e.g. '^model\\.layers\\.0\\.' for a language model's first block.",
            HelpName = "REGEX",
        };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } pattern && LayerFilter.TryCreate(pattern, out string? error) == null)
            {
                result.AddError($"--layers: {error}");
            }
        });
        return option;
    }

    /// <summary>What `bench` hands over when --model is given; the options mean what they mean for `bench`.</summary>
    internal sealed record Request
    {
        public required string Model { get; init; }
        /// <summary>The phases given with --phase; empty when none was.</summary>
        public IReadOnlyList<GenerationPhase> Phases { get; init; } = [];
        public int? PromptTokens { get; init; }
        public string? LayerPattern { get; init; }
        public required IReadOnlyList<WeightScheme> Schemes { get; init; }
        public required IReadOnlyList<ActivationPacking> Packings { get; init; }
        public required IReadOnlyList<int> Threads { get; init; }
        public required int Warmup { get; init; }
        public required bool WarmupGiven { get; init; }
        public int? Iterations { get; init; }
        public required double MinTimeSeconds { get; init; }
        public required bool MinTimeGiven { get; init; }
        public required bool Check { get; init; }
        public int? CheckRows { get; init; }
        public required int BlockSize { get; init; }
        public required uint Seed { get; init; }
        /// <summary>table, json or csv: what goes to standard output.</summary>
        public required string StdoutFormat { get; init; }
        /// <summary>Files to write, each with "json" or "csv".</summary>
        public required IReadOnlyList<(string Path, string Format)> Outputs { get; init; }
        public string? PlotPath { get; init; }
        public required bool Quiet { get; init; }
        /// <summary>Options of `bench` that have no meaning for a model run and were given (--preset, --shape, --compare).</summary>
        public required IReadOnlyList<string> Conflicting { get; init; }
    }

    public static int Run(Request request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Conflicting.Count > 0)
        {
            throw new UsageException($"bench --model: {string.Join(", ", request.Conflicting)} cannot be combined with --model");
        }

        if (request.CheckRows != null && !request.Check)
        {
            throw new UsageException("bench --model: --check-rows needs --check");
        }

        if (request.Schemes.Count != 1)
        {
            throw new UsageException("bench --model: give one --scheme (a model run holds every layer in one weight scheme)");
        }

        string model = request.Model.ToLowerInvariant();
        WeightScheme scheme = request.Schemes[0];
        bool isLanguageModel = LanguageModel.Find(model) != null;
        if (!isLanguageModel && (request.Phases.Count > 0 || request.PromptTokens != null))
        {
            throw new UsageException($"bench --model {model}: --phase and --prompt-tokens are for the language models " +
                                     $"({string.Join(", ", LanguageModel.All.Select(m => m.Name))}); {model} has one forward pass");
        }

        IReadOnlyList<GenerationPhase?> phases = !isLanguageModel ? [null]
            : request.Phases.Count > 0 ? [.. request.Phases.Cast<GenerationPhase?>()]
            : [GenerationPhase.Prefill, GenerationPhase.Decode];
        if (request.PromptTokens != null && !phases.Contains(GenerationPhase.Prefill))
        {
            throw new UsageException("bench --model: --prompt-tokens sets the prefill's M; it has no meaning for decode alone");
        }

        int promptTokens = request.PromptTokens ?? LanguageModel.DefaultPromptTokens;
        Regex? layerFilter = request.LayerPattern == null ? null : LayerFilter.TryCreate(request.LayerPattern, out _);
        var workloads = new List<(GenerationPhase? Phase, IReadOnlyList<ModelLayer> Layers)>();
        foreach (GenerationPhase? phase in phases)
        {
            IReadOnlyList<ModelLayer> all = ModelCatalog.Get(model, phase, promptTokens);
            IReadOnlyList<ModelLayer> layers = layerFilter == null ? all : [.. all.Where(layer => layerFilter.IsMatch(layer.Name))];
            if (layers.Count == 0)
            {
                throw new UsageException($"bench --model {model}: --layers '{request.LayerPattern}' matches none of its {all.Count} layers " +
                                         $"(they are named like '{all[0].Name}' and '{all[^1].Name}')");
            }

            if (ModelWeights.Unsupported(layers, scheme, request.BlockSize) is { } unsupported)
            {
                throw new UsageException($"bench --model {model}: {unsupported}");
            }

            workloads.Add((phase, layers));
        }

        // With more than one phase, each phase's files carry its name before the extension.
        string? PhasePath(string? path, GenerationPhase? phase) => path == null || workloads.Count == 1 || phase == null ? path
            : Path.ChangeExtension(path, $"{phase.Value.ToString().ToLowerInvariant()}{Path.GetExtension(path)}");
        foreach ((GenerationPhase? phase, _) in workloads)
        {
            foreach (string path in request.Outputs.Select(o => o.Path).Append(request.PlotPath).Select(path => PhasePath(path, phase)).OfType<string>())
            {
                BenchCommand.EnsureWritable(path);
            }
        }

        int exitCode = 0, passed = 0, failed = 0;
        foreach ((GenerationPhase? phase, IReadOnlyList<ModelLayer> layers) in workloads)
        {
            var options = new ModelRunOptions
            {
                Model = model,
                Phase = phase,
                PromptTokens = phase == GenerationPhase.Prefill ? promptTokens : null,
                LayerPattern = request.LayerPattern,
                Scheme = scheme,
                Packings = request.Packings,
                Threads = request.Threads,
                // A forward pass touches every layer's weights, so two passes warm what a model run can warm.
                Warmup = request.WarmupGiven ? request.Warmup : 2,
                Iterations = request.Iterations,
                MinTimeSeconds = request.MinTimeGiven ? request.MinTimeSeconds : 3.0,
                HotMinTimeSeconds = request.MinTimeGiven ? request.MinTimeSeconds : 0.5,
                Check = request.Check,
                CheckRows = request.CheckRows,
                BlockSize = request.BlockSize,
                Seed = request.Seed,
            };
            ModelReport report = RunOne(request, options, layers, [.. request.Outputs.Select(o => (PhasePath(o.Path, phase)!, o.Format))],
                PhasePath(request.PlotPath, phase));
            passed += report.ChecksPassed;
            failed += report.ChecksFailed;
            exitCode = Math.Max(exitCode, options.Check && report.ChecksFailed > 0 ? Program.Failed : 0);
        }

        // Each phase closed with its own line; the last line counts them all, as the build reads it.
        if (request.Check && workloads.Count > 1)
        {
            TextWriter summaryWriter = request.StdoutFormat == "table" ? Console.Out : Console.Error;
            summaryWriter.WriteLine(RunSummaryLine.Format(HostSummaryFactory.Create().Rid, RunSummaryLine.ExpectedCpu, passed, failed));
        }

        return exitCode;
    }

    private static ModelReport RunOne(Request request, ModelRunOptions options, IReadOnlyList<ModelLayer> layers,
        IReadOnlyList<(string Path, string Format)> outputs, string? plotPath)
    {
        IAnsiConsole console = ConsoleFactory.Create();
        HostSummary host = HostSummaryFactory.Create();
        if (host.EmulationReason != null && !request.Quiet)
        {
            ReportTable.WriteEmulationWarning(console, host);
        }

        ModelWeights weights = ModelWeights.Generate(options.Model, layers, options.Scheme, options.BlockSize, options.Seed);
        var report = new ModelReport { Options = options, Host = host, Layers = layers, WeightBytes = weights.WeightBytes };
        if (options.Phase != null)
        {
            report.Notes.Add("Attention over the KV cache (the score and value products), the norms, the rotary embedding and the " +
                             "embedding lookup are not linear layers and are not timed: the totals are the linear layers' alone.");
        }

        if (options.LayerPattern != null)
        {
            report.Notes.Add($"Only the layers matching --layers '{options.LayerPattern}' ran: the totals are theirs, not the model's.");
        }

        var benchmark = new ModelBenchmark(options, weights);
        bool showProgress = !request.Quiet && !Console.IsOutputRedirected && console.Profile.Capabilities.Interactive;
        if (showProgress)
        {
            console.Status().Start("building", context => benchmark.Run(report, status => context.Status(Markup.Escape(status))));
        }
        else
        {
            benchmark.Run(report, null);
        }

        foreach ((string path, string format) in outputs)
        {
            File.WriteAllText(path, format == "json" ? ModelRecordWriters.ToJson(report) : ModelRecordWriters.ToCsv(report));
        }

        if (plotPath != null && !options.Check)
        {
            ModelPlotWriter.Write(report, plotPath);
        }

        switch (request.StdoutFormat)
        {
            case "json":
                Console.Out.WriteLine(ModelRecordWriters.ToJson(report));
                break;
            case "csv":
                Console.Out.Write(ModelRecordWriters.ToCsv(report));
                break;
            default:
                if (!request.Quiet)
                {
                    ModelTable.Write(console, report);
                }

                break;
        }

        TextWriter summaryWriter = request.StdoutFormat == "table" ? Console.Out : Console.Error;
        summaryWriter.WriteLine(Summary(report));
        if (request.Quiet && host.EmulationReason != null)
        {
            summaryWriter.WriteLine($"note: the CPU is emulated ({host.EmulationReason}); timings would be meaningless.");
        }

        return report;
    }

    /// <summary>
    /// The closing line: for --check "&lt;rid&gt;/&lt;cpu&gt;: N passed, M failed" (one per layer, mode and thread count,
    /// the form the build counts); otherwise one line per thread count with the totals.
    /// </summary>
    private static string Summary(ModelReport report)
    {
        if (report.Options.Check)
        {
            return RunSummaryLine.Format(report.Host.Rid, RunSummaryLine.ExpectedCpu, report.ChecksPassed, report.ChecksFailed);
        }

        var parts = report.Runs.Where(run => run.Total != null).Select(run => FormattableString.Invariant(
            $"{run.PackingName} {run.Threads}t {run.Total!.Median / 1000.0:0.00} ms"));
        string emulated = report.Host.EmulationReason != null ? " (emulated CPU: timings meaningless)" : "";
        return $"bench --model {report.Options.Workload}: {string.Join(", ", parts)}{emulated}";
    }
}
