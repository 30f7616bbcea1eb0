using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using XnnKleidi.Cli.Bench;
using XnnKleidi.Cli.Model;
using XnnKleidi.Cli.Output;
using XnnKleidi.Cli.Platform;
using XnnKleidi.Oracle;

namespace XnnKleidi.Cli.Commands;

/// <summary>`xnnkleidi bench`: the micro-benchmark.</summary>
internal static class BenchCommand
{
    /// <summary>What `--compare` puts beside the managed runs.</summary>
    internal enum CompareWith
    {
        Native,
        Ort,
        Peak,
    }

    private enum OutputFormat
    {
        Table,
        Json,
        Csv,
    }

    public static Command Create()
    {
        string[] presetNames = Presets.Names.Append(Presets.All).ToArray();
        Option<List<string>> preset = OptionParsing.ListOption(
            "--preset",
            "The fully connected layers of an example model of ExecuTorch's XNNPACK backend, shapes from the model's " +
            $"published configuration: {string.Join(", ", presetNames)}. Comma-separated or repeated.",
            "name",
            item => presetNames.Contains(item, StringComparer.OrdinalIgnoreCase)
                ? (item.ToLowerInvariant(), null)
                : ("", $"unknown preset '{item}' (expected {string.Join(", ", presetNames)})"));
        Option<List<LayerShape>> shape = OptionParsing.ListOption<LayerShape>(
            "--shape",
            "A custom layer, M rows x K inputs x N outputs, e.g. 197x768x3072. Repeatable.",
            "MxKxN",
            item => Presets.ParseShape(item, out string? error) is { } parsed ? (parsed, null) : (null!, error));
        Option<List<(int K, int N)>> sweep = OptionParsing.ListOption<(int K, int N)>(
            "--sweep",
            "A layer of K inputs x N outputs timed at M = 1, 2, 4, ... up to --sweep-max, packing off and on: the table, the " +
            "JSON and the chart show packed against unpacked per batch size, and the batch size from which packing pays. Repeatable.",
            "KxN",
            item => PackingCrossover.ParseLayer(item, out string? error) is { } layer ? (layer, null) : (default, error));
        var sweepMax = new Option<int>("--sweep-max")
        {
            Description = $"The largest batch size of --sweep (default {PackingCrossover.DefaultMaxBatch}).",
            DefaultValueFactory = _ => PackingCrossover.DefaultMaxBatch,
            HelpName = "M",
        };
        sweepMax.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > 4096)
            {
                result.AddError("--sweep-max must be between 1 and 4096");
            }
        });
        Option<List<WeightScheme>> scheme = OptionParsing.ListOption(
            "--scheme",
            "Weight schemes: qc8w (int8, per channel), qc4w (int4, per channel), qb4w (int4, blocks of 32 with bf16 " +
            "scales), f32 (no quantization). Default: qc8w.",
            "qc8w,qc4w,qb4w,f32",
            item => OptionParsing.EnumItem(item, "scheme", WeightScheme.Qc8w, WeightScheme.Qc4w, WeightScheme.Qb4w, WeightScheme.F32));
        Option<List<ActivationPacking>> packing = OptionParsing.ListOption(
            "--packing",
            "KleidiAI activation packing: off, on (where the CPU has a packed kernel; else the reason is shown), " +
            "auto (XnnKleidi times both and keeps the faster). Default: off,on,auto.",
            "off,on,auto",
            item => OptionParsing.EnumItem(item, "packing", ActivationPacking.Off, ActivationPacking.On, ActivationPacking.Auto));
        Option<List<int>> threads = OptionParsing.ListOption(
            "--threads",
            "Thread counts to measure (the calling thread included), e.g. 1,2. Default: 1.",
            "N,...",
            item => OptionParsing.PositiveInt(item, "thread counts"));
        Option<int> warmup = new Option<int>("--warmup")
        {
            Description = "Untimed calls per case before timing.",
            DefaultValueFactory = _ => 5,
        }.AtLeast(0);
        var iterations = new Option<int?>("--iterations", "-n")
        {
            Description = "Timed calls per case (instead of --min-time).",
        };
        iterations.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is <= 0)
            {
                r.AddError("--iterations must be a positive integer");
            }
        });
        var minTime = new Option<double>("--min-time")
        {
            Description = "Seconds of timed calls per case, at least (when --iterations is not given).",
            DefaultValueFactory = _ => 0.5,
        };
        minTime.Validators.Add(r =>
        {
            if (!(r.GetValueOrDefault<double>() > 0))
            {
                r.AddError("--min-time must be a positive number of seconds");
            }
        });
        var check = new Option<bool>("--check")
        {
            Description = "Run every case once and validate its outputs against a float64 reference of the dequantized " +
                          "weights, within a bound derived from the activation quantization step; exit code 1 if any fails. " +
                          "No timing.",
        };
        Option<List<CompareWith>> compare = OptionParsing.ListOption(
            "--compare",
            "Side by side in the same run: native (the same XNNPACK graph from C, alternated with the managed calls: " +
            "the binding's overhead), ort (ONNX Runtime: DynamicQuantizeMatMul for qc8w, MatMulNBits for qb4w, Gemm for " +
            "f32; outputs checked), peak (this core's int8/fp32 peak from a register-resident loop; GEMMs shown as % of it).",
            "native,ort,peak",
            item => OptionParsing.EnumItem(item, "comparison", Enum.GetValues<CompareWith>()));
        Option<string> format = new Option<string>("--format")
        {
            Description = "What goes to standard output: table (default), json (ExecuTorch-style benchmark records) or csv.",
            HelpName = "table|json|csv",
            DefaultValueFactory = _ => "table",
        }.AcceptOnlyFromAmong("table", "json", "csv");
        var output = new Option<List<string>>("--out", "-o")
        {
            Description = "Also write the results to FILE: JSON for .json, CSV for .csv (else --format). Repeatable.",
            HelpName = "FILE",
            Arity = ArgumentArity.OneOrMore,
            DefaultValueFactory = _ => [],
        };
        Option<string?> plot = OptionParsing.ChartPathOption(
            "Write two charts: to FILE.png or FILE.svg each runner's p50 relative to packing off per layer " +
            "(packing on with its 95 % interval, auto, the C harness, ONNX Runtime), and to FILE-p50.png|.svg the " +
            "p50 per layer with packing off/on/auto side by side.");
        Option<int> blockSize = new Option<int>("--block-size")
        {
            Description = "qb4w block size along K (a multiple of 32 for XNNPACK; a power of two >= 16 for ONNX Runtime).",
            DefaultValueFactory = _ => BenchData.DefaultBlockSize,
        }.AtLeast(1);
        blockSize.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() % 32 != 0)
            {
                r.AddError("--block-size must be a multiple of 32");
            }
        });
        var seed = new Option<uint>("--seed")
        {
            Description = "Seed of the generated weights and inputs (the C harness uses the same generator).",
            DefaultValueFactory = _ => 42u,
        };
        var quiet = new Option<bool>("--quiet", "-q")
        {
            Description = "No progress bar and no tables: only the one-line summary (and the files asked for).",
        };
        Option<List<ArmKernelFamily>> kernelFamily = OptionParsing.ListOption(
            "--kernel-family",
            "Arm only: run every case under each cap on the kernel families (as XNNKLEIDI_MAX_ARM_ISA would), side by " +
            "side, e.g. sme2,i8mm; the table and JSON give each p50 over the first family's. Each family runs in processes " +
            $"of its own; under qemu-user, {KernelFamilyRuns.EmulatorVariable} must name the emulator command " +
            "(e.g. \"qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu max\").",
            "sme2,sme,i8mm,dotprod,neon",
            item => OptionParsing.EnumItem(item, "kernel family", ArmKernelFamily.Sme2, ArmKernelFamily.Sme, ArmKernelFamily.I8mm, ArmKernelFamily.Dotprod, ArmKernelFamily.Neon));
        // The request file of one family's share of a --kernel-family run; only the CLI itself passes it.
        var kernelFamilyChild = new Option<string?>(KernelFamilyRuns.ChildOption) { Hidden = true };
        Option<string?> model = ModelCommand.CreateOption();
        Option<int?> checkRows = ModelCommand.CreateCheckRowsOption();
        Option<List<GenerationPhase>> phase = ModelCommand.CreatePhaseOption();
        Option<int?> promptTokens = ModelCommand.CreatePromptTokensOption();
        Option<string?> layers = ModelCommand.CreateLayersOption();
        Option<int?> tokens = ModelCommand.CreateTokensOption();
        Option<int?> memoryBudget = ModelCommand.CreateMemoryBudgetOption();

        var command = new Command("bench",
            "Measure quantized linear layers with KleidiAI activation packing off, on and auto.\n\n" +
            "Examples:\n" +
            "  xnnkleidi bench --preset vit-b16 --packing off,on,auto --threads 1,2 --compare native,ort,peak\n" +
            "  xnnkleidi bench --shape 197x768x3072 --shape 1x768x768 --scheme qc8w,qb4w --iterations 200\n" +
            "  xnnkleidi bench --preset all --check --quiet\n" +
            "  xnnkleidi bench --preset mobilebert --format json --out mobilebert.json --plot mobilebert.png\n" +
            "  xnnkleidi bench --preset vit-b16 --scheme qc8w,qc4w,qb4w --packing off,on --kernel-family sme2,i8mm\n" +
            "  xnnkleidi bench --model vit-b16 --packing off,on,auto --threads 1,2 --out vit.json --plot vit.png\n" +
            "  xnnkleidi bench --sweep 2048x8192 --scheme qb4w --sweep-max 256 --out sweep.json --plot sweep.png\n" +
            "  xnnkleidi bench --model llama-3.2-1b --scheme qb4w --phase prefill,decode --prompt-tokens 128 --packing off,on\n" +
            "  xnnkleidi bench --model model.safetensors --scheme qc8w,qc4w,qb4w --tokens 16 --packing off,on")
        {
            preset, shape, scheme, packing, threads, warmup, iterations, minTime, check, compare, format, output, plot,
            blockSize, seed, quiet, kernelFamily, model, checkRows, phase, promptTokens, tokens, layers, sweep, sweepMax, kernelFamilyChild,
            memoryBudget,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(kernelFamilyChild) is { } requestPath)
            {
                return RunKernelFamilyChild(requestPath);
            }

            List<ArmKernelFamily> families = parse.GetValue(kernelFamily) ?? [];
            if (parse.GetValue(model) is { } modelName)
            {
                if (families.Count > 0)
                {
                    throw new UsageException("bench: --kernel-family is for --preset and --shape runs, not --model");
                }

                OutputFormat modelStdout = Enum.Parse<OutputFormat>(parse.GetValue(format)!, ignoreCase: true);
                var modelOutputs = parse.GetValue(output)!.Select(path => (Path: path, Format: FileFormat(path, modelStdout).ToString().ToLowerInvariant())).ToList();
                // ModelCommand checks the files it will write: with several phases, one per phase.
                return ModelCommand.Run(new ModelCommand.Request
                {
                    Model = modelName,
                    Phases = parse.GetValue(phase) ?? [],
                    PromptTokens = parse.GetValue(promptTokens),
                    MemoryBudgetMebibytes = parse.GetValue(memoryBudget),
                    Tokens = parse.GetValue(tokens),
                    LayerPattern = parse.GetValue(layers),
                    Schemes = OrDefault(parse.GetValue(scheme), WeightScheme.Qc8w),
                    Packings = OrDefault(parse.GetValue(packing), ActivationPacking.Off, ActivationPacking.On, ActivationPacking.Auto),
                    Threads = OrDefault(parse.GetValue(threads), 1),
                    Warmup = parse.GetValue(warmup),
                    WarmupGiven = parse.GetResult(warmup) is { Implicit: false },
                    Iterations = parse.GetValue(iterations),
                    MinTimeSeconds = parse.GetValue(minTime),
                    MinTimeGiven = parse.GetResult(minTime) is { Implicit: false },
                    Check = parse.GetValue(check),
                    CheckRows = parse.GetValue(checkRows),
                    BlockSize = parse.GetValue(blockSize),
                    Seed = parse.GetValue(seed),
                    StdoutFormat = modelStdout.ToString().ToLowerInvariant(),
                    Outputs = modelOutputs,
                    PlotPath = parse.GetValue(plot),
                    Quiet = parse.GetValue(quiet),
                    Conflicting = new (Option Option, string Name)[] { (preset, "--preset"), (shape, "--shape"), (compare, "--compare"), (sweep, "--sweep") }
                        .Where(o => parse.GetResult(o.Option) is { Implicit: false }).Select(o => o.Name).ToList(),
                });
            }

            var shapes = new List<LayerShape>();
            List<string> presets = parse.GetValue(preset) ?? [];
            foreach (string name in presets.Contains(Presets.All) ? Presets.Names : presets)
            {
                shapes.AddRange(Presets.Get(name));
            }
            shapes.AddRange(parse.GetValue(shape) ?? []);
            List<(int K, int N)> sweeps = parse.GetValue(sweep) ?? [];
            int maxBatch = parse.GetValue(sweepMax);
            foreach ((int k, int n) in sweeps)
            {
                if ((long)maxBatch * k > 1L << 28)
                {
                    throw new UsageException($"bench: --sweep {k}x{n} up to M = {maxBatch} is too large for a micro-benchmark (M*K must stay below 2^28)");
                }

                shapes.AddRange(PackingCrossover.Shapes(k, n, maxBatch));
            }

            if (sweeps.Count == 0 && parse.GetResult(sweepMax) is { Implicit: false })
            {
                throw new UsageException("bench: --sweep-max needs --sweep");
            }

            List<ActivationPacking>? packingsGiven = parse.GetResult(packing) is { Implicit: false } ? parse.GetValue(packing) : null;
            if (sweeps.Count > 0 && packingsGiven != null && !(packingsGiven.Contains(ActivationPacking.Off) && packingsGiven.Contains(ActivationPacking.On)))
            {
                throw new UsageException("bench: --sweep compares packing off with on; give both in --packing");
            }

            if (shapes.Count == 0)
            {
                throw new UsageException("bench: give --preset, --shape or --sweep (see `xnnkleidi bench --help`)");
            }
            foreach ((Option option, string name) in new (Option, string)[]
                     { (checkRows, "--check-rows"), (phase, "--phase"), (promptTokens, "--prompt-tokens"), (tokens, "--tokens"), (layers, "--layers"), (memoryBudget, "--memory-budget") })
            {
                if (parse.GetResult(option) is { Implicit: false })
                {
                    throw new UsageException($"bench: {name} is for --model runs");
                }
            }

            List<CompareWith> comparisons = parse.GetValue(compare) ?? [];
            if (ComparisonRefusal(comparisons, OperatingSystem.IsWindows()) is { } refusal)
            {
                throw new UsageException(refusal);
            }

            var options = new BenchOptions
            {
                Shapes = shapes,
                Schemes = OrDefault(parse.GetValue(scheme), WeightScheme.Qc8w),
                // A sweep asks one question, packed against unpacked, so its default leaves auto out.
                Packings = sweeps.Count > 0 && packingsGiven == null
                    ? [ActivationPacking.Off, ActivationPacking.On]
                    : OrDefault(packingsGiven, ActivationPacking.Off, ActivationPacking.On, ActivationPacking.Auto),
                Threads = OrDefault(parse.GetValue(threads), 1),
                Warmup = parse.GetValue(warmup),
                Iterations = parse.GetValue(iterations),
                MinTimeSeconds = parse.GetValue(minTime),
                Check = parse.GetValue(check),
                CompareNative = comparisons.Contains(CompareWith.Native),
                CompareOrt = comparisons.Contains(CompareWith.Ort),
                ComparePeak = comparisons.Contains(CompareWith.Peak),
                BlockSize = parse.GetValue(blockSize),
                Seed = parse.GetValue(seed),
                KernelFamilies = families,
            };
            OutputFormat stdoutFormat = Enum.Parse<OutputFormat>(parse.GetValue(format)!, ignoreCase: true);
            var outputs = parse.GetValue(output)!.Select(path => (Path: path, Format: FileFormat(path, stdoutFormat))).ToList();
            string? plotPath = parse.GetValue(plot);
            // Fail on an unwritable file now, not after minutes of measuring.
            foreach (string path in outputs.Select(o => o.Path).Append(plotPath).Append(plotPath == null ? null : PlotWriter.P50ChartPath(plotPath)).OfType<string>())
            {
                EnsureWritable(path);
            }
            return Run(options, stdoutFormat, outputs, plotPath, parse.GetValue(quiet));
        });
        return command;
    }

    /// <summary>
    /// Why `--compare` cannot run what it names on this operating system, or null when it can. The comparisons with C
    /// and with the peak both run in the C harness, which is not built for Windows; saying so before anything is
    /// measured is clearer than a run whose comparison columns stay empty.
    /// </summary>
    internal static string? ComparisonRefusal(IReadOnlyCollection<CompareWith> comparisons, bool windows)
    {
        string[] needHarness = [.. comparisons.Where(c => c is CompareWith.Native or CompareWith.Peak).Distinct()
            .Select(c => c.ToString().ToLowerInvariant())];
        if (!windows || needHarness.Length == 0)
        {
            return null;
        }

        return $"bench: --compare {string.Join(",", needHarness)} is not available on Windows: it runs in the C harness " +
               $"{NativeHarness.ExecutableName}, which is not built for Windows (its peak probe reads the CPU through Linux " +
               "system calls); --compare ort runs here, or run the comparison on Linux";
    }

    /// <summary>The library's view of this CPU, or none when the library cannot load (the run then reports the load error).</summary>
    private static CpuFeatures CpuFeaturesOrNone()
    {
        try
        {
            return XnnKleidiLibrary.CpuFeatures;
        }
        catch (Exception e) when (e is DllNotFoundException or InvalidOperationException or BadImageFormatException or EntryPointNotFoundException)
        {
            return CpuFeatures.None;
        }
    }

    /// <summary>An absent list option reads as null or empty; then the documented default applies.</summary>
    private static List<T> OrDefault<T>(List<T>? value, params T[] defaults) => value is { Count: > 0 } ? value : [.. defaults];

    private static OutputFormat FileFormat(string path, OutputFormat fallback)
    {
        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            return OutputFormat.Json;
        }

        if (path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
        {
            return OutputFormat.Csv;
        }

        if (fallback == OutputFormat.Table)
        {
            throw new UsageException($"--out {path}: name the file .json or .csv, or give --format json|csv");
        }
        return fallback;
    }

    /// <summary>Creates <paramref name="path"/>'s folder and opens the file for appending, or refuses the path as a usage error.</summary>
    internal static void EnsureWritable(string path)
    {
        try
        {
            string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
            if (!string.IsNullOrEmpty(directory))
            {
                Directory.CreateDirectory(directory);
            }

            using (new FileStream(path, FileMode.Append, FileAccess.Write))
            {
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new UsageException($"cannot write '{path}': {e.Message}");
        }
    }

    private static int Run(BenchOptions options, OutputFormat stdoutFormat, List<(string Path, OutputFormat Format)> outputs, string? plotPath, bool quiet)
    {
        IAnsiConsole console = ConsoleFactory.Create();
        HostSummary host = CurrentHost();
        if (host.EmulationReason != null && !quiet)
        {
            ReportTable.WriteEmulationWarning(console, host);
        }

        BenchReport report;
        if (options.KernelFamilies.Count > 0)
        {
            if (KernelFamilyRuns.WhyNot(options.KernelFamilies, host.Architecture, host.Features, MaxArmKernelFamilyOrNone()) is { } whyNot)
            {
                throw new UsageException(whyNot);
            }

            if (host.EmulationReason != null && string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(KernelFamilyRuns.EmulatorVariable)))
            {
                throw new UsageException(
                    $"--kernel-family runs each family in a process of its own, and this CPU is emulated ({host.EmulationReason}): " +
                    $"name the emulator command in {KernelFamilyRuns.EmulatorVariable}, e.g. \"qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu max\"");
            }

            Action<string>? progress = quiet ? null : line => Console.Error.WriteLine(line);
            report = KernelFamilyRuns.Run(options, host, progress);
        }
        else
        {
            report = Measure(options, host, console, showProgress: !quiet && !Console.IsOutputRedirected && console.Profile.Capabilities.Interactive);
        }

        report.Crossovers.AddRange(PackingCrossover.Find(report));
        foreach ((string? path, OutputFormat format) in outputs)
        {
            File.WriteAllText(path, format == OutputFormat.Json ? RecordWriters.ToJson(report) : RecordWriters.ToCsv(report));
        }
        if (plotPath != null)
        {
            PlotWriter.Write(report, plotPath);
        }
        switch (stdoutFormat)
        {
            case OutputFormat.Json:
                Console.Out.WriteLine(RecordWriters.ToJson(report));
                break;
            case OutputFormat.Csv:
                Console.Out.Write(RecordWriters.ToCsv(report));
                break;
            default:
                if (!quiet)
                {
                    ReportTable.Write(console, report);
                }

                break;
        }
        TextWriter summaryWriter = stdoutFormat == OutputFormat.Table ? Console.Out : Console.Error;
        summaryWriter.WriteLine(Summary(report));
        if (quiet && host.EmulationReason != null)
        {
            summaryWriter.WriteLine($"note: the CPU is emulated ({host.EmulationReason}); timings would be meaningless.");
        }
        return report.CheckFailed && options.Check ? Program.Failed : 0;
    }

    /// <summary>The machine and library this process sees; the features select the peak probes and name each GEMM's family.</summary>
    private static HostSummary CurrentHost() => HostSummaryFactory.Create() with
    {
        Features = CpuFeaturesOrNone(),
        Architecture = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture,
    };

    /// <summary>The cap in force in this process, or none (also when the library cannot load: the run reports that).</summary>
    private static ArmKernelFamily? MaxArmKernelFamilyOrNone()
    {
        try
        {
            return XnnKleidiLibrary.MaxArmKernelFamily;
        }
        catch (Exception e) when (e is DllNotFoundException or InvalidOperationException or BadImageFormatException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>
    /// Runs the cases of <paramref name="options"/> in this process, under the cap this process has; a kernel-family
    /// child names that cap in <paramref name="kernelFamilyCap"/>, and its cases (and their targets) carry it.
    /// </summary>
    private static BenchReport Measure(BenchOptions options, HostSummary host, IAnsiConsole console, bool showProgress, ArmKernelFamily? kernelFamilyCap = null)
    {
        string? emulationNote = null;
        if (host.EmulationReason != null && (options.CompareNative || options.CompareOrt || options.ComparePeak))
        {
            // Under qemu-user the comparisons cannot run, and would mean nothing if they did:
            // an arm64 child process (the C harness, the peak probe) needs binfmt_misc to start,
            // and ONNX Runtime 1.31.1 dies with SIGSEGV creating a session under QEMU 7.2.
            // The peak families are still identified from the CPU features; none is timed.
            options = options with { CompareNative = false, CompareOrt = false };
            emulationNote = "--compare native,ort is ignored under emulation (the C harness cannot start without binfmt_misc, and ONNX Runtime " +
                            "crashes under qemu-user); peak families are identified, not timed";
        }
        var report = new BenchReport { Options = options, Host = host };
        if (emulationNote != null)
        {
            report.Notes.Add(emulationNote);
        }

        NativeHarness? harness = null;
        bool needsHarness = options.CompareNative || (options.ComparePeak && options.KnownPeaks == null);
        if (needsHarness && !options.Check && host.EmulationReason == null)
        {
            try
            {
                harness = NativeHarness.Start();
            }
            catch (Exception e) when (e is FileNotFoundException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                report.Notes.Add($"native/peak comparison unavailable: {e.Message}");
            }
        }
        try
        {
            var engine = new BenchEngine(options, ManagedLayer.Create);
            if (showProgress)
            {
                console.Progress()
                    .AutoClear(true)
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                    .Start(context =>
                    {
                        ProgressTask task = context.AddTask("bench", maxValue: engine.GroupCount);
                        engine.Run(report, harness, description => task.Description = Markup.Escape(description), () => task.Increment(1));
                    });
            }
            else
            {
                engine.Run(report, harness, null, null);
            }
        }
        finally
        {
            harness?.Dispose();
        }
        foreach (CaseResult c in report.Cases)
        {
            c.KernelFamilyCap = kernelFamilyCap;
        }

        report.NoiseFloors.AddRange(RunNoise.Assess(report));
        Targets.Evaluate(report);
        return report;
    }

    /// <summary>
    /// One family's share of a --kernel-family run, in a child process: cap this process before anything loads the
    /// library, run the cases of the request, and write what was measured to the response file. Exit code 0 when the
    /// response was written (a failed check included: the parent judges it), 1 when it could not be.
    /// </summary>
    private static int RunKernelFamilyChild(string requestPath)
    {
        KernelFamilyRuns.Request request =
            System.Text.Json.JsonSerializer.Deserialize<KernelFamilyRuns.Request>(File.ReadAllText(requestPath), KernelFamilyRuns.SerializerOptions)
            ?? throw new InvalidOperationException($"{requestPath}: empty kernel-family request");
        if (request.Protocol != KernelFamilyRuns.Protocol)
        {
            throw new InvalidOperationException($"{requestPath}: kernel-family request of protocol {request.Protocol}, this program speaks {KernelFamilyRuns.Protocol}");
        }

        XnnKleidiLibrary.SetMaxArmKernelFamily(request.Family);
        HostSummary host = CurrentHost();
        BenchReport report = Measure(request.Options, host, ConsoleFactory.Create(), showProgress: false, kernelFamilyCap: request.Family);
        var response = new KernelFamilyRuns.Response(
            KernelFamilyRuns.Protocol, request.Family, XnnKleidiLibrary.MaxArmKernelFamily, host, report.Cases, report.Peaks,
            report.Targets, report.Notes);
        File.WriteAllText(request.ResponsePath, System.Text.Json.JsonSerializer.Serialize(response, KernelFamilyRuns.SerializerOptions));
        return 0;
    }

    /// <summary>
    /// The closing line. For --check it is "&lt;rid&gt;/&lt;cpu&gt;: N passed, M failed" (the CPU model from
    /// XNNKLEIDI_EXPECTED_CPU, as the test runs name it), one countable line for a build to insist on;
    /// otherwise a count of cases and targets.
    /// </summary>
    private static string Summary(BenchReport report)
    {
        if (report.Options.Check)
        {
            int failed = report.Cases.Count(c => c.Check is { Passed: false } || c.Error != null);
            int passed = report.Cases.Count(c => c.Check is { Passed: true } && c.Error == null);
            return RunSummaryLine.Format(report.Host.Rid, RunSummaryLine.ExpectedCpu, passed, failed);
        }

        int measured = report.Cases.Count(c => c.Statistics != null);
        int errors = report.Cases.Count(c => c.Error != null);
        int met = report.Targets.Count(t => t.Met == true);
        int missed = report.Targets.Count(t => t.Met == false);
        string targets = report.Host.EmulationReason != null ? "targets not evaluated (emulated CPU)"
            : report.Targets.Count == 0 ? "no target applies to these cases"
            : FormattableString.Invariant($"targets: {met} met, {missed} not met");
        return FormattableString.Invariant($"bench: {measured} cases measured, {errors} could not run; {targets}");
    }
}
