using System.CommandLine;
using Spectre.Console;
using XnnKleidi.Cli.Bench;
using XnnKleidi.Cli.Output;
using XnnKleidi.Cli.Platform;

namespace XnnKleidi.Cli.Commands;

/// <summary>
/// `xnnkleidi tune`: fills an auto-tuning cache file with the decisions of per-batch Auto for every layer shape of
/// some presets, at the given thread counts and batch sizes, and prints them. The library does the timing and keeps
/// the cache; this command only drives it.
/// </summary>
internal static class TuneCommand
{
    public static Command Create()
    {
        string[] presetNames = [.. Presets.Names];
        Option<List<string>> preset = OptionParsing.ListOption(
            "--preset",
            $"Whose layer shapes (K x N) to tune: {string.Join(", ", presetNames)}. Comma-separated or repeated. Required.",
            string.Join(",", presetNames),
            item => presetNames.Contains(item, StringComparer.OrdinalIgnoreCase)
                ? (item.ToLowerInvariant(), null)
                : ("", $"unknown preset '{item}' (expected {string.Join(", ", presetNames)})"));
        preset.Required = true;
        Option<List<WeightScheme>> scheme = OptionParsing.ListOption(
            "--scheme",
            "Weight schemes: qc8w, qc4w, qb4w (blocks of 32). Default: qb4w.",
            "qc8w,qc4w,qb4w",
            item => OptionParsing.EnumItem(item, "scheme", WeightScheme.Qc8w, WeightScheme.Qc4w, WeightScheme.Qb4w));
        Option<List<int>> threads = OptionParsing.ListOption(
            "--threads",
            "Thread counts to tune for (the calling thread included). Default: 1.",
            "N,...",
            item => OptionParsing.PositiveInt(item, "thread counts"));
        Option<List<int>> batches = OptionParsing.ListOption(
            "--batches",
            $"Batch sizes (rows) to decide at. Default: {string.Join(",", LinearOptions.DefaultAutoTuningBatches)}.",
            "M,...",
            item => OptionParsing.PositiveInt(item, "batch sizes"));
        var cache = new Option<string>("--cache")
        {
            Description = "The auto-tuning cache file: read first when it exists (its decisions are reused), written back at the end. Required.",
            HelpName = "FILE.json",
            Required = true,
        };
        Option<int> budget = new Option<int>("--budget-ms")
        {
            Description = "Milliseconds of timing per layer, shared by its batch sizes.",
            DefaultValueFactory = _ => 50,
        }.AtLeast(1);
        var command = new Command("tune",
            "Run per-batch Auto for every layer shape of the presets, with each thread count, store its decisions in an " +
            "auto-tuning cache file (docs/auto-tuning.md describes it), and print them as a table. Decisions already in the " +
            "file for this device, build, cap and thread count are reused, not timed again. Where packing cannot run " +
            "(x86-64, an Arm CPU without dotprod and i8mm) nothing is timed and the reason is printed. Under emulation the " +
            "timings, and so the decisions, mean nothing about real hardware.\n\n" +
            "Examples:\n" +
            "  xnnkleidi tune --preset vit-b16 --cache tuning.json\n" +
            "  xnnkleidi tune --preset vit-b16,mobilebert --scheme qb4w,qc8w --threads 1,2 --batches 1,8,64 --cache tuning.json")
        {
            preset, scheme, threads, batches, cache, budget,
        };
        command.SetAction(parse => Run(
            parse.GetValue(preset)!,
            OrDefault(parse.GetValue(scheme), [WeightScheme.Qb4w]),
            OrDefault(parse.GetValue(threads), [1]),
            OrDefault(parse.GetValue(batches), [.. LinearOptions.DefaultAutoTuningBatches]),
            parse.GetValue(cache)!,
            TimeSpan.FromMilliseconds(parse.GetValue(budget))));
        return command;
    }

    private static int Run(List<string> presets, List<WeightScheme> schemes, List<int> threadCounts, List<int> batches, string cachePath, TimeSpan budget)
    {
        IAnsiConsole console = ConsoleFactory.Create();
        AutoTuningCache cache = File.Exists(cachePath) ? AutoTuningCache.Load(cachePath) : new AutoTuningCache();
        int[] tunedBatches = [.. batches.Distinct().Order()];
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]Per-batch Auto: the variant chosen at each batch size[/]");
        table.AddColumn("K x N");
        table.AddColumn("scheme");
        table.AddColumn("threads");
        foreach (int batch in tunedBatches)
        {
            table.AddColumn(new TableColumn($"M={batch}").RightAligned());
        }

        table.AddColumn("variants");
        table.AddColumn(new TableColumn("packed weights").RightAligned());
        table.AddColumn("source");
        var notes = new SortedSet<string>(StringComparer.Ordinal);
        int contended = 0;
        (int K, int N)[] shapes = [.. presets.SelectMany(Presets.Get).Select(layer => (layer.K, layer.N)).Distinct()];
        foreach (int threadCount in threadCounts)
        {
            using var pool = new XnnThreadPool(threadCount);
            foreach (WeightScheme scheme in schemes)
            {
                foreach ((int k, int n) in shapes)
                {
                    if (scheme == WeightScheme.Qb4w && k % LinearWeights.DefaultBlockSize != 0)
                    {
                        notes.Add($"{k} x {n} is left out for qb4w: K is not a whole number of blocks of {LinearWeights.DefaultBlockSize}.");
                        continue;
                    }

                    var options = new LinearOptions
                    {
                        ActivationPacking = ActivationPacking.Auto,
                        AutoTuningBatches = tunedBatches,
                        AutoTuningBudget = budget,
                        AutoTuningCache = cache,
                        ThreadPool = pool,
                    };
                    float[] weights = Weights(n * k, seed: k + n);
                    using Linear layer = Linear.Create(k, n, weights, scheme, options: options);
                    var row = new List<string> { $"{k} x {n}", ActivationPackingName(scheme), threadCount.ToString(System.Globalization.CultureInfo.InvariantCulture) };
                    foreach (int batch in tunedBatches)
                    {
                        LinearExecutionInfo info = layer.GetExecutionInfo(batch);
                        row.Add(Cell(info));
                        if (info.Timing is { IsCpuContended: true, WaitingThreads: double waiting } && info.Timing.Batch == info.Batch)
                        {
                            contended++;
                            notes.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                                $"! {k} x {n} {ActivationPackingName(scheme)} on {threadCount} thread(s): {waiting:0.##} of this process's threads waited for a CPU on average while it was timed, so something else held a core; its decisions are used for this run only and not stored in {cachePath}."));
                        }
                        if (info.Timing is null && info.PackingFallbackReason is { } reason)
                        {
                            notes.Add($"Nothing timed for {ActivationPackingName(scheme)}: {reason}.");
                        }
                    }

                    row.Add(layer.VariantCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    row.Add($"{layer.PackedWeightBytes / 1024.0:0.#} KiB");
                    row.Add(layer.AutoTimings.Count == 0 ? "-" : layer.AutoTimings.All(timing => timing.IsFromCache) ? "cache" : "timed");
                    table.AddRow([.. row.Select(Markup.Escape)]);
                }
            }
        }

        cache.Save(cachePath);
        console.Write(table);
        console.WriteLine("Each cell: the variant that runs, then the packed/unpacked median time ratio at that batch size and its verdict " +
                          "(< packed faster, > unpacked faster, = within the noise, which follows a neighbour or takes QD8; ! timed while something else held a core, not stored).");
        foreach (string note in notes)
        {
            console.WriteLine(note);
        }

        if (HostInfo.IsEmulated)
        {
            console.WriteLine($"Emulated ({HostInfo.EmulationReason}): these timings, and the decisions drawn from them, mean nothing about real hardware.");
        }

        console.WriteLine($"{cache.Count} entries in {cachePath}." +
                          (contended > 0 ? $" {contended} decisions marked ! were timed while a core was held and are not among them: run tune again on an idle machine." : string.Empty));
        return 0;
    }

    // An absent list option reads as empty: the default applies then.
    private static List<T> OrDefault<T>(List<T>? given, List<T> fallback) => given is { Count: > 0 } ? given : fallback;

    private static string Cell(LinearExecutionInfo info)
    {
        string variant = info.IsActivationPackingActive ? "QP8" : "QD8";
        if (info.Timing is not { } timing || timing.Batch != info.Batch)
        {
            return variant;
        }

        string verdict = timing.Verdict switch
        {
            AutoTuningVerdict.PackedFaster => "<",
            AutoTuningVerdict.UnpackedFaster => ">",
            _ => "=",
        };
        return $"{variant} {timing.Ratio.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)}{verdict}{(timing.IsCpuContended ? "!" : string.Empty)}";
    }

    private static string ActivationPackingName(WeightScheme scheme) => scheme.ToString().ToLowerInvariant();

    private static float[] Weights(int count, int seed)
    {
        // The kernels' speed does not depend on the values; any spread will do.
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return values;
    }
}
