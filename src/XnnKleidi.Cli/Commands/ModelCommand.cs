using System.CommandLine;
using System.Text.RegularExpressions;
using Spectre.Console;
using XnnKleidi.Cli.Bench;
using XnnKleidi.Cli.Model;
using XnnKleidi.Cli.Output;
using XnnKleidi.Cli.Platform;
using XnnKleidi.Formats;
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
            Description = "Run a model's linear layers in forward order as one forward pass per packing mode: a model of the " +
                          $"catalogue ({string.Join(", ", ModelCatalog.Names)}), each layer with its own random weights at the " +
                          "model's shapes and sizes, or a model file (.safetensors, a sharded set's .index.json, .gguf) with its " +
                          "own weights, where each scheme's quantization error on those weights is reported next to the speed. " +
                          "Reports the model total (p50 and its 95 % interval), each layer's convert and GEMM from XNNPACK's " +
                          "profile, what auto chose, and the same shapes timed on their own. --iterations counts forward passes; " +
                          "--warmup defaults to 2 passes and --min-time to 3 s of passes per mode.",
            HelpName = string.Join('|', ModelCatalog.Names) + "|FILE",
        };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } value && ModelSource.Parse(value, out string? error) == null)
            {
                result.AddError(error!);
            }
        });
        return option;
    }

    /// <summary>The `--tokens` option of `bench`, for a model file.</summary>
    public static Option<int?> CreateTokensOption()
    {
        var option = new Option<int?>("--tokens")
        {
            Description = "With --model FILE: run every layer of the file at M rows, instead of a prefill and a decode.",
            HelpName = "M",
        };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is { } tokens && (tokens < 1 || tokens > LanguageModel.MaxPromptTokens))
            {
                result.AddError($"--tokens must be between 1 and {LanguageModel.MaxPromptTokens}");
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

    /// <summary>The `--memory-budget` option of `bench --model`: MiB of packed weights the run may hold at once.</summary>
    public static Option<int?> CreateMemoryBudgetOption()
    {
        var option = new Option<int?>("--memory-budget")
        {
            Description = "With --model: MiB of packed weights the run may hold at once. Each packing mode holds its own packed " +
                          "copy of the model (auto two, where its variants differ between batch sizes); within the budget the " +
                          "modes are held and timed side by side, over it one after another. Default: half the memory this " +
                          "process may use.",
            HelpName = "MiB",
        };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is { } mebibytes && mebibytes < 1)
            {
                result.AddError("--memory-budget must be at least 1 (MiB)");
            }
        });
        return option;
    }

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

        /// <summary>--memory-budget in MiB; null for the default.</summary>
        public int? MemoryBudgetMebibytes { get; init; }
        /// <summary>For a model file: every layer at this many rows, instead of phases.</summary>
        public int? Tokens { get; init; }
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

    /// <summary>A model's weights as one scheme holds them, what their conversion lost, and (for a file) how far they are from it.</summary>
    private sealed record PreparedWeights(ModelWeights Weights, IReadOnlyList<string> Conversions, WeightAccuracy? Accuracy);

    /// <summary>One model run: a phase (language models and files), a scheme, and the layers at that phase's M.</summary>
    private sealed record Workload(GenerationPhase? Phase, int? Tokens, WeightScheme Scheme, IReadOnlyList<ModelLayer> Layers,
        IReadOnlyList<LinearLayer>? FileLayers);

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

        ModelSource source = ModelSource.Parse(request.Model, out string? sourceError) ?? throw new UsageException(sourceError!);
        if (source is FileModel fileSource)
        {
            ModelFile file;
            try
            {
                file = ModelFile.Open(fileSource.FullPath);
            }
            catch (ModelFileFormatException e)
            {
                throw new UsageException("bench --model: " + e.Message.ReplaceLineEndings(" "));
            }

            using (file)
            {
                return RunWorkloads(request, source, Workloads(request, source, file), file);
            }
        }

        return RunWorkloads(request, source, Workloads(request, source, null), null);
    }

    /// <summary>Every run the request asks for, validated before any of them starts.</summary>
    private static List<Workload> Workloads(Request request, ModelSource source, ModelFile? file)
    {
        string model = source.Name;
        bool isLanguageModel = LanguageModel.Find(model) != null;
        if (file == null && request.Schemes.Count != 1)
        {
            throw new UsageException("bench --model: give one --scheme (a model run holds every layer in one weight scheme; " +
                                     "a model file may be run in several, each on its own)");
        }

        if (request.Tokens != null && file == null)
        {
            throw new UsageException($"bench --model {model}: --tokens is for model files; the catalogue's models have their own rows");
        }

        if (request.Tokens != null && (request.Phases.Count > 0 || request.PromptTokens != null))
        {
            throw new UsageException("bench --model: --tokens runs every layer at one M; it cannot be combined with --phase or --prompt-tokens");
        }

        if (!isLanguageModel && file == null && (request.Phases.Count > 0 || request.PromptTokens != null))
        {
            throw new UsageException($"bench --model {model}: --phase and --prompt-tokens are for the language models " +
                                     $"({string.Join(", ", LanguageModel.All.Select(m => m.Name))}) and model files; {model} has one forward pass");
        }

        IReadOnlyList<GenerationPhase?> phases = request.Tokens != null || (!isLanguageModel && file == null) ? [null]
            : request.Phases.Count > 0 ? [.. request.Phases.Cast<GenerationPhase?>()]
            : [GenerationPhase.Prefill, GenerationPhase.Decode];
        if (request.PromptTokens != null && !phases.Contains(GenerationPhase.Prefill))
        {
            throw new UsageException("bench --model: --prompt-tokens sets the prefill's M; it has no meaning for decode alone");
        }

        int promptTokens = request.PromptTokens ?? LanguageModel.DefaultPromptTokens;
        Regex? layerFilter = request.LayerPattern == null ? null : LayerFilter.TryCreate(request.LayerPattern, out _);
        IReadOnlyList<LinearLayer>? fileLayers = null;
        if (file != null)
        {
            IReadOnlyList<LinearLayer> convertible = [.. file.LinearLayers.Where(layer => layer.Weight.IsConvertible)];
            if (convertible.Count == 0)
            {
                throw new UsageException($"bench --model {model}: the file has no linear layer of a type XnnKleidi converts " +
                                         $"(`xnnkleidi inspect {model}` lists its tensors)");
            }

            fileLayers = layerFilter == null ? convertible : [.. convertible.Where(layer => layerFilter.IsMatch(layer.Name))];
            if (fileLayers.Count == 0)
            {
                throw new UsageException($"bench --model {model}: --layers '{request.LayerPattern}' matches none of its {convertible.Count} layers " +
                                         $"(they are named like '{convertible[0].Name}' and '{convertible[^1].Name}')");
            }

            if (fileLayers.FirstOrDefault(layer => layer.InputChannels > int.MaxValue || layer.OutputChannels > int.MaxValue) is { } huge)
            {
                throw new UsageException($"bench --model {model}: {huge.Name} is {huge.OutputChannels}x{huge.InputChannels}, more than a layer holds");
            }
        }

        var workloads = new List<Workload>();
        foreach (WeightScheme scheme in request.Schemes)
        {
            foreach (GenerationPhase? phase in phases)
            {
                IReadOnlyList<ModelLayer> layers;
                if (fileLayers != null)
                {
                    // A file's layers all see the same rows: --tokens, the prompt in a prefill, one in a decode.
                    int m = request.Tokens ?? (phase == GenerationPhase.Decode ? 1 : promptTokens);
                    layers = [.. fileLayers.Select(layer => new ModelLayer(layer.Name, m, (int)layer.InputChannels, (int)layer.OutputChannels))];
                }
                else
                {
                    IReadOnlyList<ModelLayer> all = ModelCatalog.Get(model, phase, promptTokens);
                    layers = layerFilter == null ? all : [.. all.Where(layer => layerFilter.IsMatch(layer.Name))];
                    if (layers.Count == 0)
                    {
                        throw new UsageException($"bench --model {model}: --layers '{request.LayerPattern}' matches none of its {all.Count} layers " +
                                                 $"(they are named like '{all[0].Name}' and '{all[^1].Name}')");
                    }
                }

                if (ModelWeights.Unsupported(layers, scheme, request.BlockSize) is { } unsupported)
                {
                    throw new UsageException($"bench --model {model}: {unsupported}");
                }

                workloads.Add(new Workload(phase, request.Tokens, scheme, layers, fileLayers));
            }
        }

        return workloads;
    }

    private static int RunWorkloads(Request request, ModelSource source, List<Workload> workloads, ModelFile? file)
    {
        bool severalPhases = workloads.Select(w => w.Phase).Distinct().Count() > 1;
        bool severalSchemes = workloads.Select(w => w.Scheme).Distinct().Count() > 1;
        // With several phases or schemes, each run's files carry them before the extension: run.qb4w.decode.json.
        string? PathFor(string? path, Workload workload)
        {
            if (path == null || (!severalPhases && !severalSchemes))
            {
                return path;
            }

            string suffix = (severalSchemes ? "." + workload.Scheme.ToString().ToLowerInvariant() : "")
                + (severalPhases && workload.Phase is { } phase ? "." + phase.ToString().ToLowerInvariant() : "");
            return Path.ChangeExtension(path, suffix.TrimStart('.') + Path.GetExtension(path));
        }

        foreach (Workload workload in workloads)
        {
            foreach (string path in request.Outputs.Select(o => o.Path).Append(request.PlotPath).Select(path => PathFor(path, workload)).OfType<string>())
            {
                BenchCommand.EnsureWritable(path);
            }
        }

        int exitCode = 0, passed = 0, failed = 0;
        int promptTokens = request.PromptTokens ?? LanguageModel.DefaultPromptTokens;
        // The phases of one scheme share the model: its weights are made once and only the M of each layer changes.
        PreparedWeights? previousWeights = null;
        foreach (Workload workload in workloads)
        {
            var options = new ModelRunOptions
            {
                Model = source.Name,
                Phase = workload.Phase,
                PromptTokens = workload.Phase == GenerationPhase.Prefill ? promptTokens : null,
                Tokens = workload.Tokens,
                LayerPattern = request.LayerPattern,
                Scheme = workload.Scheme,
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
                MemoryBudgetBytes = request.MemoryBudgetMebibytes * 1024L * 1024L,
            };
            ModelReport report = RunOne(request, options, workload, file, ref previousWeights,
                [.. request.Outputs.Select(o => (PathFor(o.Path, workload)!, o.Format))], PathFor(request.PlotPath, workload));
            passed += report.ChecksPassed;
            failed += report.ChecksFailed;
            exitCode = Math.Max(exitCode, options.Check && report.ChecksFailed > 0 ? Program.Failed : 0);
        }

        // Each run closed with its own line; the last line counts them all, as the build reads it.
        if (request.Check && workloads.Count > 1)
        {
            TextWriter summaryWriter = request.StdoutFormat == "table" ? Console.Out : Console.Error;
            summaryWriter.WriteLine(RunSummaryLine.Format(HostSummaryFactory.Create().Rid, RunSummaryLine.ExpectedCpu, passed, failed));
        }

        return exitCode;
    }

    private static ModelReport RunOne(Request request, ModelRunOptions options, Workload workload, ModelFile? file,
        ref PreparedWeights? previousWeights,
        IReadOnlyList<(string Path, string Format)> outputs, string? plotPath)
    {
        IReadOnlyList<ModelLayer> layers = workload.Layers;
        IAnsiConsole console = ConsoleFactory.Create();
        HostSummary host = HostSummaryFactory.Create();
        if (host.EmulationReason != null && !request.Quiet)
        {
            ReportTable.WriteEmulationWarning(console, host);
        }

        PreparedWeights prepared;
        if (previousWeights is { } previous && previous.Weights.Scheme == options.Scheme && previous.Weights.WithLayers(layers) is { } shared)
        {
            // Another phase of the same model and scheme: the weights, their conversion and their accuracy are the same.
            prepared = previous with { Weights = shared };
        }
        else
        {
            // Another scheme's weights are not needed any more: let them go before the new ones are made.
            previousWeights = null;
            ModelWeights made;
            IReadOnlyList<string> conversions = [];
            if (file != null && workload.FileLayers != null)
            {
                try
                {
                    (made, conversions) = ModelWeights.FromFile(file, workload.FileLayers, layers, options.Scheme, options.BlockSize, options.Seed);
                }
                catch (ModelFileFormatException e)
                {
                    throw new UsageException("bench --model: " + e.Message.ReplaceLineEndings(" "));
                }
            }
            else
            {
                made = ModelWeights.Generate(options.Model, layers, options.Scheme, options.BlockSize, options.Seed);
            }

            // Generating or converting the weights leaves about their size again in garbage on the large-object heap
            // (the chunks, the copies the LinearWeights factories take), which the collector would otherwise keep
            // resident for the whole run beside every packed copy.
            System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            WeightAccuracy? accuracy = file != null && workload.FileLayers != null && !options.Check
                ? WeightAccuracy.Measure(file, workload.FileLayers, made)
                : null;
            prepared = new PreparedWeights(made, conversions, accuracy);
        }

        previousWeights = prepared;
        ModelWeights weights = prepared.Weights;
        var report = new ModelReport { Options = options, Host = host, Layers = layers, WeightBytes = weights.WeightBytes };
        report.Notes.AddRange(prepared.Conversions.Select(line => "weights: " + line));
        report.Accuracy = prepared.Accuracy;
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
