using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using XnnKleidi.Cli.Output;
using XnnKleidi.Cli.Platform;

namespace XnnKleidi.Cli.Commands;

/// <summary>`xnnkleidi info`: RID, native build, CPU features, and QP8 packing per weight scheme.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print the same information as one JSON object." };
        var command = new Command("info",
            "Show the RID, the native build (XNNPACK commit, KleidiAI version or \"disabled\"), the CPU features XNNPACK " +
            "sees, and for each weight scheme whether KleidiAI activation packing (QP8) is available here and, if not, why.\n\n" +
            "Examples:\n" +
            "  xnnkleidi info\n" +
            "  xnnkleidi info --json")
        {
            json,
        };
        command.SetAction(parse => Run(parse.GetValue(json)));
        return command;
    }

    private static int Run(bool asJson)
    {
        var native = NativeInfo.Read();
        if (asJson)
        {
            var packing = new JsonObject();
            foreach (PackingSupport p in native.Packing)
            {
                packing[p.Scheme] = new JsonObject { ["available"] = p.Available, ["reason"] = p.Reason, ["kernel"] = p.Kernel };
            }
            var families = new JsonObject();
            foreach ((string scheme, string? oneRow, string? manyRows) in native.LoadError == null ? KernelFamilies() : [])
            {
                families[scheme] = new JsonObject { ["m1"] = oneRow, ["mGreaterThan1"] = manyRows };
            }
            var root = new JsonObject
            {
                ["rid"] = HostInfo.Rid,
                ["cpu"] = HostInfo.CpuName,
                ["emulated"] = HostInfo.IsEmulated,
                ["emulationReason"] = HostInfo.EmulationReason,
                ["buildInfo"] = native.BuildInfo,
                ["cpuFeatures"] = new JsonArray([.. native.CpuFeatures.Select(f => (JsonNode?)JsonValue.Create(f))]),
                ["activationPacking"] = packing,
                ["sme"] = native.LoadError == null && XnnKleidiLibrary.CpuFeatures.HasFlag(CpuFeatures.ArmSme),
                ["sme2"] = native.LoadError == null && XnnKleidiLibrary.CpuFeatures.HasFlag(CpuFeatures.ArmSme2),
                ["smeVectorLengthBits"] = native.LoadError == null ? XnnKleidiLibrary.SmeVectorLengthBits : 0,
                ["maxArmKernelFamily"] = native.LoadError == null ? FamilyName(XnnKleidiLibrary.MaxArmKernelFamily) : null,
                ["kernelFamily"] = families,
                ["error"] = native.LoadError,
            };
            Console.Out.WriteLine(root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return native.LoadError == null ? 0 : Program.Failed;
        }

        IAnsiConsole console = ConsoleFactory.Create();
        Grid grid = new Grid().AddColumn().AddColumn();
        grid.AddRow("[bold]RID[/]", Markup.Escape(HostInfo.Rid));
        grid.AddRow("[bold]CPU[/]", Markup.Escape(HostInfo.CpuName));
        grid.AddRow("[bold]Native build[/]", Markup.Escape(native.BuildInfo));
        grid.AddRow("[bold]CPU features (XNNPACK)[/]", Markup.Escape(native.CpuFeatures.Count == 0 ? "(none reported)" : string.Join(' ', native.CpuFeatures)));
        console.Write(grid);
        if (native.LoadError != null)
        {
            console.MarkupLine($"[red]{Markup.Escape(native.LoadError)}[/]");
            return Program.Failed;
        }
        Table table = new Table().Border(TableBorder.Rounded).Title("[bold]KleidiAI activation packing (QP8) per weight scheme[/]");
        table.AddColumn("Scheme").AddColumn("QP8 here").AddColumn("Why / kernel");
        foreach (PackingSupport p in native.Packing)
        {
            table.AddRow(p.Scheme, p.Available ? "[green]available[/]" : "[yellow]not available[/]",
                Markup.Escape(p.Available ? p.Kernel ?? p.Reason : p.Reason));
        }
        console.Write(table);
        int svl = XnnKleidiLibrary.SmeVectorLengthBits;
        console.MarkupLine(Markup.Escape(
            $"SME: {(XnnKleidiLibrary.CpuFeatures.HasFlag(CpuFeatures.ArmSme) ? "yes" : "no")}, " +
            $"SME2: {(XnnKleidiLibrary.CpuFeatures.HasFlag(CpuFeatures.ArmSme2) ? "yes" : "no")}, " +
            $"streaming vector length: {(svl == 0 ? "none" : $"{svl} bits")} (SME and SME2 as XNNPACK sees them, after any cap; the length is the CPU's), " +
            $"kernel-family cap: {FamilyName(XnnKleidiLibrary.MaxArmKernelFamily) ?? "none"} ({XnnKleidiLibrary.MaxArmKernelFamilyVariable})"));
        Table familyTable = new Table().Border(TableBorder.Rounded).Title("[bold]Kernel family per scheme (activation packing on)[/]");
        familyTable.AddColumn("Scheme").AddColumn("M = 1").AddColumn("M > 1");
        foreach ((string scheme, string? oneRow, string? manyRows) in KernelFamilies())
        {
            familyTable.AddRow(scheme, oneRow ?? "-", manyRows ?? "-");
        }
        console.Write(familyTable);
        ReportTable.WriteEmulationWarning(console, new Bench.HostSummary(HostInfo.Rid, HostInfo.CpuName, "", native.BuildInfo, HostInfo.EmulationReason, ""));
        return 0;
    }

    /// <summary>
    /// The family each scheme's layer would run with packing on, for one row and for more (a small layer is built to
    /// ask it; null entries on other architectures than arm64).
    /// </summary>
    private static IEnumerable<(string Scheme, string? OneRow, string? ManyRows)> KernelFamilies()
    {
        foreach (WeightScheme scheme in new[] { WeightScheme.Qc8w, WeightScheme.Qc4w, WeightScheme.Qb4w, WeightScheme.F32 })
        {
            const int K = 64, N = 8;
            using Linear linear = Linear.Create(K, N, new float[K * N], scheme,
                options: new LinearOptions { ActivationPacking = ActivationPacking.On });
            yield return (scheme.ToString().ToLowerInvariant(), FamilyName(linear.GetKernelFamily(1)), FamilyName(linear.GetKernelFamily(17)));
        }
    }

    private static string? FamilyName(ArmKernelFamily? family) => family is { } value ? XnnKleidiLibrary.GetName(value) : null;
}
