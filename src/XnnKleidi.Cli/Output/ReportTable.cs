using System.Globalization;
using Spectre.Console;
using XnnKleidi.Cli.Bench;
using XnnKleidi.Oracle;

namespace XnnKleidi.Cli.Output;

/// <summary>The human-readable report: Spectre.Console tables on the console.</summary>
internal static class ReportTable
{
    public static void Write(IAnsiConsole console, BenchReport report)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(report);
        WriteEmulationWarning(console, report.Host);
        console.MarkupLine($"[bold]xnnkleidi bench[/] on {Markup.Escape(report.Host.Cpu)} ({Markup.Escape(report.Host.Rid)}), " +
                           $"{Markup.Escape(report.Host.BuildInfo)}");
        console.MarkupLine($"CPU features: {Markup.Escape(report.Host.CpuFeatures)}");
        foreach (PeakResult peak in report.Peaks)
        {
            console.MarkupLine(peak.Gops is double gops
                ? FormattableString.Invariant(
                    $"Peak {peak.Kind} [bold]{Markup.Escape(peak.Probe)}[/], one core: [bold]{gops:0} GOP/s[/] ({Markup.Escape(peak.Instruction)}, register-resident loop)")
                : $"Peak {peak.Kind} [bold]{Markup.Escape(peak.Probe)}[/] ({Markup.Escape(peak.Instruction)}): {Markup.Escape(peak.Note ?? "not timed")}");
        }

        if (report.Options.Check)
        {
            WriteCheckTable(console, report);
        }
        else
        {
            WriteTimingTable(console, report);
        }

        WriteErrors(console, report);
        WriteKernelTable(console, report);
        WriteCrossovers(console, report);
        WriteNoise(console, report);
        WriteTargets(console, report);
        foreach (string note in report.Notes)
        {
            console.MarkupLine($"[grey]note:[/] {Markup.Escape(note)}");
        }

        WriteEmulationWarning(console, report.Host);
    }

    /// <summary>The run's noise floor per thread count, the ratios inside it, and the cases a stolen core spoiled.</summary>
    private static void WriteNoise(IAnsiConsole console, BenchReport report)
    {
        foreach (NoiseFloor floor in report.NoiseFloors)
        {
            console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"noise floor at {floor.Threads} thread(s): ±{100 * floor.Floor:0.0} %, the widest of {floor.Pairs} pairs of identical runtimes ({floor.Widest}); a ratio closer to 1 says nothing")));
        }

        foreach (CaseResult c in report.Cases.Where(c => c.WithinNoiseFloor != null))
        {
            console.MarkupLine($"[grey]within the noise:[/] {Markup.Escape(Targets.Where(c))}: {Markup.Escape(c.WithinNoiseFloor!)}");
        }

        foreach (CaseResult c in report.Cases.Where(c => c.CoreStolen != null))
        {
            console.MarkupLine($"[yellow]core stolen:[/] {Markup.Escape(Targets.Where(c))} ({Markup.Escape(c.BackendName)}): {Markup.Escape(c.CoreStolen!)}; no ratio or target counts on it");
        }
    }

    /// <summary>Each swept layer: packed over unpacked p50 per batch size, what it means, and where packing starts to pay.</summary>
    private static void WriteCrossovers(IAnsiConsole console, BenchReport report)
    {
        foreach (PackingCrossover crossover in report.Crossovers)
        {
            string cap = crossover.KernelFamilyCap is { } family ? $", {XnnKleidiLibrary.GetName(family)} cap" : "";
            var table = new Table().Title(Markup.Escape(FormattableString.Invariant(
                $"Packed against unpacked, {crossover.K}x{crossover.N} {crossover.Scheme.ToString().ToLowerInvariant()}, {crossover.Threads} thread(s){cap}")));
            table.AddColumn("M");
            table.AddColumn(new TableColumn("on/off p50").RightAligned());
            table.AddColumn("verdict");
            foreach (CrossoverPoint point in crossover.Points)
            {
                string verdict = point.Verdict switch
                {
                    PackingVerdict.Pays => "packing pays",
                    PackingVerdict.Loses => "packing loses",
                    PackingVerdict.WithinNoise => "within the noise",
                    PackingVerdict.NotCounted => "not counted",
                    _ => "no packed kernel",
                };
                bool marked = point.M == crossover.PaysFromBatch;
                table.AddRow(
                    (marked ? "[bold]> " : "") + point.M.ToString(CultureInfo.InvariantCulture) + (marked ? "[/]" : ""),
                    point.OnOffRatio is double ratio ? ratio.ToString("0.00", CultureInfo.InvariantCulture) : "-",
                    Markup.Escape(point.Why == null ? verdict : $"{verdict} ({point.Why})"));
            }

            console.Write(table);
            console.MarkupLine($"[bold]{Markup.Escape(crossover.Summary)}[/]");
        }
    }

    public static void WriteEmulationWarning(IAnsiConsole console, HostSummary host)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(host);
        if (host.EmulationReason != null)
        {
            console.MarkupLine($"[bold red]EMULATED CPU ({Markup.Escape(host.EmulationReason)}): any timing taken here measures the emulator, " +
                               "not a CPU, and is meaningless. Only the outputs and the kernel choices mean anything.[/]");
        }
    }

    private static string ShortRan(CaseResult c) => c.Backend switch
    {
        Backend.OnnxRuntime => "ORT",
        Backend.OnnxRuntimeReducedRange => "ORT7",
        _ when c.Scheme == WeightScheme.F32 => "F32",
        _ => c.PackingActive == true ? "QP8" : "QD8",
    };

    private static string CheckText(CheckResult? check) => check switch
    {
        null => "",
        { Passed: true } => FormattableString.Invariant($"[green]ok[/] {check.WorstRatio:0.00}"),
        _ => FormattableString.Invariant($"[red]FAIL x{check.WorstRatio:0.0}[/]"),
    };

    /// <summary>A comparator's ratio, with a star when <see cref="ComparatorGate"/> does not let it count.</summary>
    private static string GatedRatio(CaseResult ours, CaseResult? other, double? ratio) =>
        ratio is not double r ? ""
        : ComparatorGate.WhyNotCounted(ours, other) == null ? Format.Ratio(r)
        : $"[grey]{Format.Ratio(r)}*[/]";

    private static string ComparatorCheck(CaseResult? other) => other switch
    {
        null => "",
        { Error: not null } => "[red]error[/]",
        _ => CheckText(other.Check),
    };

    private static string MedianWithInterval(TimingStatistics s) => double.IsNaN(s.MedianLow)
        ? "[bold]" + Format.Microseconds(s.P50) + "[/]"
        : $"[bold]{Format.Microseconds(s.P50)}[/] ({Format.Microseconds(s.MedianLow)}-{Format.Microseconds(s.MedianHigh)})";

    private static string Stability(CaseResult c) => c.Statistics is not { } s ? ""
        : s.IsStable ? FormattableString.Invariant($"±{100 * s.RelativeHalfWidth:0.0}%")
        : double.IsInfinity(s.RelativeHalfWidth) ? "[red]UNSTABLE[/] (too few)"
        : FormattableString.Invariant($"[red]UNSTABLE[/] ±{100 * s.RelativeHalfWidth:0.0}%");

    private static void WriteTimingTable(IAnsiConsole console, BenchReport report)
    {
        var managed = report.Cases.Where(c => c.Backend == Backend.XnnKleidi).ToList();
        string? familyRatioHeader = report.Options.KernelFamilies.Count > 1 ? "vs " + XnnKleidiLibrary.GetName(report.Options.KernelFamilies[0]) : null;
        string[] headers = ["Ran", "p50 (95% CI)", "median", "p90", "p99", "check", "GOP/s", "% own peak", "% fastest", "on/off"];
        Table table = NewTable(
            report, "per call, microseconds: p50 (its 95 % confidence interval) and friends",
            familyRatioHeader == null ? headers : [.. headers, familyRatioHeader]);
        foreach (CaseResult c in managed)
        {
            List<string> cells = KeyCells(report, c);
            if (c.Statistics is not { } s)
            {
                cells.AddRange(["", $"[red]{Markup.Escape(Shorten(c.Error ?? "not measured"))}[/]", "", "", "", "", "", "", "", ""]);
                if (familyRatioHeader != null)
                {
                    cells.Add("");
                }

                table.AddRow([.. cells]);
                continue;
            }

            cells.AddRange(
            [
                ShortRan(c),
                MedianWithInterval(s),
                Stability(c),
                Format.Microseconds(s.P90),
                Format.Microseconds(s.P99),
                CheckText(c.Check),
                Format.Number(c.Gops, "0"),
                c.PercentOfOwnPeak is double own ? Format.Number(own, "0") + " " + Markup.Escape(c.OwnPeakFamily ?? "") : "",
                c.PercentOfFastestPeak is double fastest ? Format.Number(fastest, "0") + " " + Markup.Escape(c.FastestPeakFamily ?? "") : "",
                RatioMarkup(c.OnOffRatio, lowerIsBetter: true),
            ]);
            if (familyRatioHeader != null)
            {
                cells.Add(FamilyRatioMarkup(c));
            }

            table.AddRow([.. cells]);
        }

        console.Write(table);
        console.MarkupLine("[grey]median: the half-width of the 95 % interval of the p50 (distribution-free, from the binomial " +
                           "distribution of ranks); UNSTABLE: wider than ±" +
                           FormattableString.Invariant($"{100 * TimingStatistics.StableHalfWidth:0}") +
                           " % after running up to 4x longer; no target is evaluated on it. check: the output against the float64 " +
                           "reference, worst |error| / the bound of that runtime's own quantization (ok below 1). % own peak: GOP/s / " +
                           "(threads x the measured peak of the instruction family its kernel uses); % fastest: of the fastest family " +
                           "on this core, where that is another. on/off: p50 with packing on / off (< 1: packing pays).[/]");
        if (familyRatioHeader != null)
        {
            console.MarkupLine($"[grey]{Markup.Escape(familyRatioHeader)}: p50 under the row's kernel-family cap / p50 of the same case " +
                               "under the first family (< 1: this family is faster); * a ratio that counts as neither win nor loss " +
                               "(an output outside its bound, or an unstable median).[/]");
            foreach (string reason in managed
                .Where(c => c.FamilyBaseline != null)
                .Select(c => KernelFamilyRuns.WhyFamilyRatioNotCounted(c, c.FamilyBaseline!) is { } why
                    ? $"{Targets.Where(c)} vs {KernelFamilyRuns.BaselineName(c.FamilyBaseline!)}: {why}" : null)
                .OfType<string>()
                .Distinct())
            {
                console.MarkupLine($"[grey]*[/] {Markup.Escape(reason)}");
            }
        }

        bool anyNative = report.Cases.Any(c => c.Backend == Backend.Native);
        bool anyOrt = report.Cases.Any(c => c.Backend == Backend.OnnxRuntime);
        bool anyReducedRange = report.Cases.Any(c => c.Backend == Backend.OnnxRuntimeReducedRange);
        if (!anyNative && !anyOrt)
        {
            return;
        }

        var comparatorHeaders = new List<string>();
        if (anyNative)
        {
            comparatorHeaders.AddRange(["C p50", "managed/C", "C check"]);
        }

        if (anyOrt)
        {
            comparatorHeaders.AddRange(["ORT p50", "ORT/us", "ORT check"]);
        }

        if (anyReducedRange)
        {
            comparatorHeaders.AddRange(["ORT 7-bit p50", "ORT7/us", "ORT7 check"]);
        }

        Table comparators = NewTable(report, "the same layer from C and in ONNX Runtime, run in turn with ours", [.. comparatorHeaders]);
        foreach (CaseResult c in managed.Where(c => c.Statistics != null))
        {
            List<string> cells = KeyCells(report, c);
            if (anyNative)
            {
                cells.AddRange(ComparatorCells(c, c.NativeCounterpart ?? Counterpart(report, c, Backend.Native), c.ManagedNativeRatio));
            }

            if (anyOrt)
            {
                cells.AddRange(ComparatorCells(c, c.OrtCounterpart ?? Counterpart(report, c, Backend.OnnxRuntime), c.SpeedupOverOrt));
            }

            if (anyReducedRange)
            {
                cells.AddRange(ComparatorCells(c, c.OrtReducedRangeCounterpart ?? Counterpart(report, c, Backend.OnnxRuntimeReducedRange), c.SpeedupOverOrtReducedRange));
            }

            comparators.AddRow([.. cells]);
        }

        console.Write(comparators);
        console.MarkupLine("[grey]managed/C: our p50 / the C harness's p50 of the very same runtime (same flags, operators and " +
                           "output, checked; the binding's overhead). ORT/us: ONNX Runtime's p50 / ours (> 1: we are faster); " +
                           "ORT 7-bit: its weights requantized to 7 bits (reduce_range), judged against the reference of those " +
                           "weights. * a ratio that counts as neither win nor loss: a comparator outside its error bound, or an " +
                           "unstable median.[/]");
        foreach (CaseResult ort in report.Cases.Where(c => c.Backend == Backend.OnnxRuntime && c.Note != null))
        {
            console.MarkupLine($"[grey]ORT {Markup.Escape($"{ort.Shape.ShapeText} {Scheme(ort)}, {ort.Threads}t")}:[/] {Markup.Escape(ort.Note!)}");
        }

        foreach (string reason in managed
            .SelectMany(c => new[] { (Ours: c, Other: c.NativeCounterpart), (Ours: c, Other: c.OrtCounterpart), (Ours: c, Other: c.OrtReducedRangeCounterpart) })
            .Where(pair => pair.Other?.Statistics != null)
            .Select(pair => ComparatorGate.WhyNotCounted(pair.Ours, pair.Other) is { } why ? $"{Targets.Where(pair.Ours)} vs {ComparatorGate.ShortName(pair.Other!)}: {why}" : null)
            .OfType<string>()
            .Distinct())
        {
            console.MarkupLine($"[grey]*[/] {Markup.Escape(reason)}");
        }
    }

    private static readonly string[] KeyHeaders = ["Model / layer", "MxKxN", "Scheme", "Thr", "Packing"];

    /// <summary>The columns that name a case; a --kernel-family run adds the family.</summary>
    private static IEnumerable<string> KeyHeadersOf(BenchReport report) =>
        report.Options.KernelFamilies.Count > 0 ? KeyHeaders.Append("Family") : KeyHeaders;

    private static Table NewTable(BenchReport report, string title, params string[] headers)
    {
        Table table = new Table().Border(TableBorder.Rounded).Title($"[bold]{Markup.Escape(title)}[/]");
        foreach (string header in KeyHeadersOf(report).Concat(headers))
        {
            table.AddColumn(new TableColumn(header).RightAligned());
        }

        table.Columns[0].LeftAligned();
        return table;
    }

    private static List<string> KeyCells(BenchReport report, CaseResult c)
    {
        List<string> cells =
        [
            Markup.Escape($"{c.Shape.Model} {c.Shape.Layer}"), c.Shape.ShapeText, Scheme(c),
            c.Threads.ToString(System.Globalization.CultureInfo.InvariantCulture), c.PackingName,
        ];
        if (report.Options.KernelFamilies.Count > 0)
        {
            cells.Add(FamilyText(c));
        }

        return cells;
    }

    /// <summary>The cap a case ran under, and the family that ran when it is a lower one (e.g. "i8mm (ran dotprod)").</summary>
    internal static string FamilyText(CaseResult c)
    {
        ArgumentNullException.ThrowIfNull(c);
        if (c.KernelFamilyCap is not { } cap)
        {
            return "";
        }

        string capName = XnnKleidiLibrary.GetName(cap);
        return c.KernelFamily is { } ran && ran != cap ? $"{capName} (ran {XnnKleidiLibrary.GetName(ran)})" : capName;
    }

    private static string FamilyRatioMarkup(CaseResult c)
    {
        if (c.FamilyRatio is not double ratio || c.FamilyBaseline is not { } baseline)
        {
            return "";
        }

        return KernelFamilyRuns.WhyFamilyRatioNotCounted(c, baseline) == null
            ? RatioMarkup(ratio, lowerIsBetter: true)
            : $"[grey]{Format.Ratio(ratio)}*[/]";
    }

    private static string[] ComparatorCells(CaseResult ours, CaseResult? other, double? ratio) =>
    [
        other?.Statistics is { } s ? Format.Microseconds(s.P50) : other?.Error != null ? "[red]error[/]" : "",
        GatedRatio(ours, other, ratio),
        ComparatorCheck(other),
    ];

    private static CaseResult? Counterpart(BenchReport report, CaseResult c, Backend backend) => report.Cases.FirstOrDefault(o =>
        o.Backend == backend && o.Shape == c.Shape && o.Scheme == c.Scheme && o.Threads == c.Threads &&
        o.KernelFamilyCap == c.KernelFamilyCap);

    private static void WriteCheckTable(IAnsiConsole console, BenchReport report)
    {
        Table table = new Table().Border(TableBorder.Rounded).Title("[bold]outputs against the float64 reference[/]");
        foreach (string header in KeyHeadersOf(report).Concat(["Backend", "Ran", "worst |err|/tol", "result"]))
        {
            table.AddColumn(header);
        }
        foreach (CaseResult c in report.Cases)
        {
            string result = c.Error != null ? $"[red]{Markup.Escape(Shorten(c.Error))}[/]"
                : c.Check is { Passed: false } failed ? $"[red]FAIL: {Markup.Escape(failed.Failure ?? "")}[/]"
                : c.Check != null ? "[green]pass[/]" : "";
            List<string> cells = KeyCells(report, c);
            cells.AddRange([c.BackendName, ShortRan(c), c.Check is { } check ? Format.Number(check.WorstRatio, "0.000") : "", result]);
            table.AddRow([.. cells]);
        }
        console.Write(table);
        int checkedCount = report.Cases.Count(c => c.Check != null);
        int failedCount = report.Cases.Count(c => c.Check is { Passed: false } || c.Error != null);
        console.MarkupLine(failedCount == 0
            ? $"[green]check: {checkedCount} outputs within bounds, 0 failed[/]"
            : $"[red]check: {failedCount} of {report.Cases.Count} cases failed[/]");
    }

    private static void WriteKernelTable(IAnsiConsole console, BenchReport report)
    {
        var rows = report.Cases
            .Where(c => c.Backend == Backend.XnnKleidi && c.Operators.Count > 0)
            .GroupBy(c => (c.Scheme, c.PackingName, Family: FamilyText(c), Ops: string.Join(" -> ", c.Operators), c.Kernel, c.FallbackReason))
            .ToList();
        if (rows.Count == 0)
        {
            return;
        }

        bool families = report.Options.KernelFamilies.Count > 0;
        Table table = new Table().Border(TableBorder.Rounded).Title("[bold]what ran[/]");
        string[] headers = ["Scheme", "Packing", "Operators (XNNPACK profiling)", "Kernel", "Why not packed"];
        foreach (string header in families ? headers.Take(2).Append("Family").Concat(headers.Skip(2)) : headers)
        {
            table.AddColumn(header);
        }

        foreach (var row in rows)
        {
            List<string> cells = [row.Key.Scheme.ToString().ToLowerInvariant(), row.Key.PackingName];
            if (families)
            {
                cells.Add(Markup.Escape(row.Key.Family));
            }

            cells.AddRange([Markup.Escape(row.Key.Ops), Markup.Escape(row.Key.Kernel ?? ""), Markup.Escape(row.Key.FallbackReason ?? "")]);
            table.AddRow([.. cells]);
        }
        console.Write(table);
    }

    private static void WriteTargets(IAnsiConsole console, BenchReport report)
    {
        if (report.Host.EmulationReason != null && !report.Options.Check)
        {
            console.MarkupLine("[bold red]targets: not evaluated, the CPU is emulated[/]");
            return;
        }
        if (report.Targets.Count == 0)
        {
            return;
        }

        Table table = new Table().Border(TableBorder.Rounded).Title("[bold]targets[/]");
        foreach (string header in new[] { "Target", "Case", "Measured", "Needed", "" })
        {
            table.AddColumn(header);
        }
        // Three decimals: a ratio of 1.049 against a threshold of 1.05 must not read "1.05 ... not met".
        foreach (TargetVerdict t in report.Targets)
        {
            table.AddRow(Markup.Escape(t.Target), Markup.Escape(t.Where), Format.Number(t.Measured, "0.000"), Markup.Escape(t.Detail),
                t.Met switch { true => "[green]target met[/]", false => "[red]target not met[/]", _ => "[grey]not evaluated[/]" });
        }
        console.Write(table);
    }

    /// <summary>A table cell keeps the first words of an error; the whole message is listed under the table.</summary>
    private static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";

    private static void WriteErrors(IAnsiConsole console, BenchReport report)
    {
        foreach (string message in report.Cases.Where(c => c.Error != null).Select(c => $"{c.BackendName} {c.Shape.ShapeText} {c.Scheme.ToString().ToLowerInvariant()} {c.PackingName} {c.Threads}t: {c.Error}").Distinct())
        {
            console.MarkupLine($"[red]error:[/] {Markup.Escape(message)}");
        }
    }

    private static string Scheme(CaseResult c) => c.Scheme.ToString().ToLowerInvariant();

    private static string RatioMarkup(double? ratio, bool lowerIsBetter)
    {
        if (ratio is not double r)
        {
            return "";
        }

        string text = Format.Ratio(r);
        bool good = lowerIsBetter ? r < 0.97 : r > 1.03;
        bool bad = lowerIsBetter ? r > 1.03 : r < 0.97;
        return good ? $"[green]{text}[/]" : bad ? $"[red]{text}[/]" : text;
    }
}
