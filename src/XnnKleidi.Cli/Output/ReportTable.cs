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
            console.MarkupLine(FormattableString.Invariant(
                $"Peak {peak.Kind}, one core: [bold]{peak.Gops:0} GOP/s[/] ({Markup.Escape(peak.Instruction)}, register-resident loop)"));
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
        WriteTargets(console, report);
        foreach (string note in report.Notes)
        {
            console.MarkupLine($"[grey]note:[/] {Markup.Escape(note)}");
        }

        WriteEmulationWarning(console, report.Host);
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
        _ when c.Scheme == WeightScheme.F32 => "F32",
        _ => c.PackingActive == true ? "QP8" : "QD8",
    };

    private static string CheckText(CheckResult? check) => check switch
    {
        null => "",
        { Passed: true } => FormattableString.Invariant($"[green]ok[/] {check.WorstRatio:0.00}"),
        _ => "[red]FAIL[/]",
    };

    private static void WriteTimingTable(IAnsiConsole console, BenchReport report)
    {
        Table table = new Table().Border(TableBorder.Rounded).Title("[bold]p50 and friends per call, microseconds[/]");
        string[] headers =
        [
            "Model / layer", "MxKxN", "Scheme", "Thr", "Packing", "Ran", "p50", "p90", "p99", "min", "mean ± sd",
            "GOP/s", "% peak", "on/off", "vs C", "ORT p50", "ORT/us", "check",
        ];
        foreach (string header in headers)
        {
            table.AddColumn(new TableColumn(header).RightAligned());
        }

        table.Columns[0].LeftAligned();
        var ortByGroup = report.Cases.Where(c => c.Backend == Backend.OnnxRuntime).ToList();
        foreach (CaseResult? c in report.Cases.Where(c => c.Backend == Backend.XnnKleidi))
        {
            TimingStatistics? s = c.Statistics;
            CaseResult? ort = ortByGroup.FirstOrDefault(o => o.Shape == c.Shape && o.Scheme == c.Scheme && o.Threads == c.Threads);
            if (s == null)
            {
                table.AddRow(Markup.Escape($"{c.Shape.Model} {c.Shape.Layer}"), c.Shape.ShapeText, Scheme(c), c.Threads.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    c.PackingName, "", $"[red]{Markup.Escape(Shorten(c.Error ?? "not measured"))}[/]", "", "", "", "", "", "", "", "", "", "", "");
                continue;
            }
            table.AddRow(
                Markup.Escape($"{c.Shape.Model} {c.Shape.Layer}"),
                c.Shape.ShapeText,
                Scheme(c),
                c.Threads.ToString(System.Globalization.CultureInfo.InvariantCulture),
                c.PackingName,
                ShortRan(c),
                "[bold]" + Format.Microseconds(s.P50) + "[/]",
                Format.Microseconds(s.P90),
                Format.Microseconds(s.P99),
                Format.Microseconds(s.Min),
                Format.Microseconds(s.Mean) + " ± " + Format.Microseconds(s.StandardDeviation),
                Format.Number(c.Gops, "0"),
                Format.Number(c.PercentOfPeak, "0"),
                RatioMarkup(c.OnOffRatio, lowerIsBetter: true),
                Format.Ratio(c.ManagedNativeRatio),
                ort?.Statistics is { } os ? Format.Microseconds(os.P50) : ort?.Error != null ? "[red]error[/]" : "",
                Format.Ratio(c.SpeedupOverOrt),
                CheckText(ort?.Check));
        }
        console.Write(table);
        console.MarkupLine("[grey]on/off: p50 with packing on / off (< 1: packing pays). vs C: managed p50 / the C harness's p50 " +
                           "(the binding's overhead). ORT/us: ONNX Runtime's p50 / ours (> 1: we are faster). % peak: GOP/s / " +
                           "(threads x one core's measured int8 or fp32 peak). check: ORT's output against the float64 reference, " +
                           "worst |error| / tolerance.[/]");
    }

    private static void WriteCheckTable(IAnsiConsole console, BenchReport report)
    {
        Table table = new Table().Border(TableBorder.Rounded).Title("[bold]outputs against the float64 reference[/]");
        foreach (string header in new[] { "Model / layer", "MxKxN", "Scheme", "Thr", "Packing", "Backend", "Ran", "worst |err|/tol", "result" })
        {
            table.AddColumn(header);
        }
        foreach (CaseResult c in report.Cases)
        {
            string result = c.Error != null ? $"[red]{Markup.Escape(Shorten(c.Error))}[/]"
                : c.Check is { Passed: false } failed ? $"[red]FAIL: {Markup.Escape(failed.Failure ?? "")}[/]"
                : c.Check != null ? "[green]pass[/]" : "";
            table.AddRow(
                Markup.Escape($"{c.Shape.Model} {c.Shape.Layer}"), c.Shape.ShapeText, Scheme(c),
                c.Threads.ToString(System.Globalization.CultureInfo.InvariantCulture), c.PackingName, c.BackendName, ShortRan(c),
                c.Check is { } check ? Format.Number(check.WorstRatio, "0.000") : "", result);
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
            .GroupBy(c => (c.Scheme, c.PackingName, Ops: string.Join(" -> ", c.Operators), c.Kernel, c.FallbackReason))
            .ToList();
        if (rows.Count == 0)
        {
            return;
        }

        Table table = new Table().Border(TableBorder.Rounded).Title("[bold]what ran[/]");
        foreach (string header in new[] { "Scheme", "Packing", "Operators (XNNPACK profiling)", "Kernel", "Why not packed" })
        {
            table.AddColumn(header);
        }

        foreach (IGrouping<(WeightScheme Scheme, string PackingName, string Ops, string? Kernel, string? FallbackReason), CaseResult>? row in rows)
        {
            table.AddRow(row.Key.Scheme.ToString().ToLowerInvariant(), row.Key.PackingName, Markup.Escape(row.Key.Ops),
                Markup.Escape(row.Key.Kernel ?? ""), Markup.Escape(row.Key.FallbackReason ?? ""));
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
                t.Met switch { true => "[green]target met[/]", false => "[red]target not met[/]", _ => "n/a" });
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
