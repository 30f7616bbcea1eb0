using System.CommandLine;
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

    /// <summary>What `bench` hands over when --model is given; the options mean what they mean for `bench`.</summary>
    internal sealed record Request
    {
        public required string Model { get; init; }
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
        IReadOnlyList<ModelLayer> layers = ModelCatalog.Get(model);
        if (ModelWeights.Unsupported(layers, scheme, request.BlockSize) is { } unsupported)
        {
            throw new UsageException($"bench --model {model}: {unsupported}");
        }

        var options = new ModelRunOptions
        {
            Model = model,
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

        IAnsiConsole console = ConsoleFactory.Create();
        HostSummary host = HostSummaryFactory.Create();
        if (host.EmulationReason != null && !request.Quiet)
        {
            ReportTable.WriteEmulationWarning(console, host);
        }

        ModelWeights weights = ModelWeights.Generate(model, layers, scheme, request.BlockSize, request.Seed);
        var report = new ModelReport { Options = options, Host = host, Layers = layers, WeightBytes = weights.WeightBytes };
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

        foreach ((string path, string format) in request.Outputs)
        {
            File.WriteAllText(path, format == "json" ? ModelRecordWriters.ToJson(report) : ModelRecordWriters.ToCsv(report));
        }

        if (request.PlotPath != null && !options.Check)
        {
            ModelPlotWriter.Write(report, request.PlotPath);
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

        return options.Check && report.ChecksFailed > 0 ? Program.Failed : 0;
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
        return $"bench --model {report.Options.Model}: {string.Join(", ", parts)}{emulated}";
    }
}
