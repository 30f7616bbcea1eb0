using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace XnnKleidi.Cli.Bench;

/// <summary>
/// <c>bench --kernel-family sme2,i8mm</c>: the same cases under several caps on the Arm kernel families, side by side.
/// XNNPACK reads the CPU once per process, so each family runs in a child process of this CLI that caps itself with
/// <see cref="XnnKleidiLibrary.SetMaxArmKernelFamily"/> before it touches the library, and hands its cases back as
/// JSON. The families take turns shape by shape (one child per shape and family), so that drift of the machine falls
/// on every family alike, as the packings take turns batch by batch within one process. The parent merges the cases
/// into one report and divides each p50 by the p50 of the same case under the first family asked for.
/// </summary>
internal static class KernelFamilyRuns
{
    /// <summary>
    /// The command that runs an arm64 program under emulation (e.g. <c>qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu max</c>):
    /// qemu-user has no binfmt_misc here, so a child of an emulated process must be started through it again.
    /// </summary>
    public const string EmulatorVariable = "XNNKLEIDI_EMULATOR";

    /// <summary>The version of the request and response documents; a child of another version is refused.</summary>
    public const int Protocol = 1;

    /// <summary>What the parent asks one child to run: one family's cap over some of the cases.</summary>
    internal sealed record Request(int Protocol, ArmKernelFamily Family, BenchOptions Options, string ResponsePath);

    /// <summary>What a child measured, under the cap it reports to be in force.</summary>
    internal sealed record Response(
        int Protocol, ArmKernelFamily Family, ArmKernelFamily? CapInForce, HostSummary Host, List<CaseResult> Cases,
        List<PeakResult> Peaks, List<TargetVerdict> Targets, List<string> Notes);

    /// <summary>NaN stands for "no interval" in the statistics, so the named literals must round-trip.</summary>
    internal static JsonSerializerOptions SerializerOptions { get; } = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>The most capable family that <paramref name="features"/> offer (an arm64 CPU always has NEON).</summary>
    public static ArmKernelFamily BestFamily(CpuFeatures features) =>
        features.HasFlag(CpuFeatures.ArmSme2) ? ArmKernelFamily.Sme2
        : features.HasFlag(CpuFeatures.ArmSme) ? ArmKernelFamily.Sme
        : features.HasFlag(CpuFeatures.ArmI8mm) ? ArmKernelFamily.I8mm
        : features.HasFlag(CpuFeatures.ArmDotprod) ? ArmKernelFamily.Dotprod
        : ArmKernelFamily.Neon;

    /// <summary>
    /// Why <paramref name="families"/> cannot be compared on this CPU, or null. A family above what the CPU offers is
    /// refused rather than run: its cap would change nothing, and its "ratio" would compare a family with itself.
    /// </summary>
    public static string? WhyNot(IReadOnlyList<ArmKernelFamily> families, Architecture architecture, CpuFeatures features, ArmKernelFamily? capInForce)
    {
        ArgumentNullException.ThrowIfNull(families);
        if (architecture != Architecture.Arm64)
        {
            return $"--kernel-family compares Arm kernel families ({string.Join(", ", XnnKleidiLibrary.ArmKernelFamilyNames)}); " +
                   $"this process runs on {architecture.ToString().ToLowerInvariant()}, where there is nothing to cap";
        }

        ArmKernelFamily best = BestFamily(features);
        string offered = string.Join(", ", Enum.GetValues<ArmKernelFamily>().Where(f => f <= best).OrderDescending().Select(XnnKleidiLibrary.GetName));
        foreach (ArmKernelFamily family in families)
        {
            if (family > best)
            {
                string capNote = capInForce is { } cap
                    ? $"; {XnnKleidiLibrary.MaxArmKernelFamilyVariable}={XnnKleidiLibrary.GetName(cap)} caps this process"
                    : "";
                return $"--kernel-family {XnnKleidiLibrary.GetName(family)}: this CPU does not offer it (it offers {offered}{capNote})";
            }
        }

        return null;
    }

    /// <summary>
    /// Runs every family over every shape in child processes and merges what they measured. A child that fails
    /// (a crash, no response, a response of another protocol or cap) ends the run with its standard error.
    /// </summary>
    public static BenchReport Run(BenchOptions options, HostSummary host, Action<string>? progress)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(host);
        DirectoryInfo directory = Directory.CreateTempSubdirectory("xnnkleidi-kernel-family-");
        try
        {
            var responses = new List<Response>();
            var peaksOfFamily = new Dictionary<ArmKernelFamily, IReadOnlyList<PeakResult>>();
            int run = 0, runs = options.Shapes.Count * options.KernelFamilies.Count;
            foreach (LayerShape shape in options.Shapes)
            {
                foreach (ArmKernelFamily family in options.KernelFamilies)
                {
                    run++;
                    string name = XnnKleidiLibrary.GetName(family);
                    string layer = shape.Layer == shape.ShapeText ? shape.ShapeText : $"{shape.Layer} {shape.ShapeText}";
                    progress?.Invoke($"kernel family {name}: {shape.Model} {layer} ({run} of {runs}, a process of its own)");
                    BenchOptions childOptions = options with
                    {
                        Shapes = [shape],
                        KernelFamilies = [],
                        KnownPeaks = peaksOfFamily.GetValueOrDefault(family),
                    };
                    string requestPath = Path.Combine(directory.FullName, $"request-{run}.json");
                    var request = new Request(Protocol, family, childOptions, Path.Combine(directory.FullName, $"response-{run}.json"));
                    File.WriteAllText(requestPath, JsonSerializer.Serialize(request, SerializerOptions));
                    Response response = RunChild(request, requestPath, name);
                    if (options.ComparePeak && !peaksOfFamily.ContainsKey(family))
                    {
                        peaksOfFamily[family] = response.Peaks;
                    }

                    responses.Add(response);
                }
            }

            return Merge(options, host, responses);
        }
        finally
        {
            try
            {
                directory.Delete(recursive: true);
            }
            catch (IOException)
            {
                // A temporary directory left behind is not worth failing a finished run for.
            }
        }
    }

    private static Response RunChild(Request request, string requestPath, string familyName)
    {
        ProcessStartInfo start = StartInfoForThisProgram();
        start.ArgumentList.Add("bench");
        start.ArgumentList.Add(ChildOption);
        start.ArgumentList.Add(requestPath);
        // The child caps itself through the managed call, which takes precedence over the variable; the variable is
        // set as well, so that the C harness the child may start for --compare native runs under the same cap.
        start.Environment[XnnKleidiLibrary.MaxArmKernelFamilyVariable] = familyName;
        using Process child = Start(start, familyName);
        Task<string> standardError = child.StandardError.ReadToEndAsync();
        string standardOutput = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        string errors = (standardOutput + standardError.Result).Trim();
        string Tail() => errors.Length == 0 ? "no output" : errors.Length <= 2000 ? errors : "..." + errors[^2000..];
        if (child.ExitCode != 0 || !File.Exists(request.ResponsePath))
        {
            throw new InvalidOperationException($"the run under kernel family {familyName} failed (exit code {child.ExitCode}): {Tail()}");
        }

        Response response = JsonSerializer.Deserialize<Response>(File.ReadAllText(request.ResponsePath), SerializerOptions)
            ?? throw new InvalidOperationException($"the run under kernel family {familyName} wrote an empty response");
        if (response.Protocol != Protocol || response.Family != request.Family)
        {
            throw new InvalidOperationException(
                $"the run under kernel family {familyName} answered protocol {response.Protocol} for {response.Family}, expected protocol {Protocol} for {request.Family}");
        }

        if (response.CapInForce != request.Family)
        {
            string inForce = response.CapInForce is { } cap ? XnnKleidiLibrary.GetName(cap) : "none";
            throw new InvalidOperationException($"the run under kernel family {familyName} reports the cap {inForce} in force");
        }

        return response;
    }

    private static Process Start(ProcessStartInfo start, string familyName)
    {
        try
        {
            return Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            string from = Environment.GetEnvironmentVariable(EmulatorVariable) is { Length: > 0 } ? $" (named by {EmulatorVariable})" : "";
            throw new InvalidOperationException($"cannot start {start.FileName}{from} for the run under kernel family {familyName}: {e.Message}", e);
        }
    }

    /// <summary>The hidden option that makes `bench` a child of a kernel-family run: it names the request file.</summary>
    public const string ChildOption = "--kernel-family-child";

    /// <summary>
    /// How to start this program again: its own executable (or `dotnet` and the entry assembly), through
    /// <see cref="EmulatorVariable"/> when this process runs emulated.
    /// </summary>
    internal static ProcessStartInfo StartInfoForThisProgram()
    {
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("the path of this program is unknown");
        string emulator = Environment.GetEnvironmentVariable(EmulatorVariable) ?? "";
        string[] emulatorParts = emulator.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var start = new ProcessStartInfo(emulatorParts.Length > 0 ? emulatorParts[0] : self)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in emulatorParts.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        if (emulatorParts.Length > 0)
        {
            start.ArgumentList.Add(self);
        }

        // Under `dotnet XnnKleidi.Cli.dll` the process is the host; the program is the entry assembly.
        if (Path.GetFileNameWithoutExtension(self) == "dotnet" && System.Reflection.Assembly.GetEntryAssembly()?.Location is { Length: > 0 } assembly)
        {
            start.ArgumentList.Add(assembly);
        }

        return start;
    }

    /// <summary>
    /// One report from the children's responses, in the order shape, scheme, threads, family (as asked), then each
    /// child's own order; the family ratio of every case against the same case under the first family.
    /// </summary>
    internal static BenchReport Merge(BenchOptions options, HostSummary host, IReadOnlyList<Response> responses)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(responses);
        var report = new BenchReport { Options = options, Host = host };
        var cases = new List<CaseResult>();
        foreach (Response response in responses)
        {
            BenchEngine.LinkCounterparts(response.Cases);
            cases.AddRange(response.Cases);
            foreach (PeakResult peak in response.Peaks.Where(p => report.Peaks.All(known => known.Probe != p.Probe)))
            {
                report.Peaks.Add(peak);
            }

            report.Targets.AddRange(response.Targets);
            report.Notes.AddRange(response.Notes.Where(n => !report.Notes.Contains(n)));
        }

        static int IndexOf<T>(IReadOnlyList<T> list, T item)
        {
            for (int i = 0; i < list.Count; i++)
            {
                if (EqualityComparer<T>.Default.Equals(list[i], item))
                {
                    return i;
                }
            }

            return int.MaxValue;
        }

        report.Cases.AddRange(cases
            .Select((c, order) => (Case: c, Order: order))
            .OrderBy(x => IndexOf(options.Shapes, x.Case.Shape))
            .ThenBy(x => IndexOf(options.Schemes, x.Case.Scheme))
            .ThenBy(x => IndexOf(options.Threads, x.Case.Threads))
            .ThenBy(x => x.Case.KernelFamilyCap is { } f ? IndexOf(options.KernelFamilies, f) : int.MaxValue)
            .ThenBy(x => x.Order)
            .Select(x => x.Case));

        ArmKernelFamily first = options.KernelFamilies[0];
        foreach (CaseResult c in report.Cases.Where(c => c.KernelFamilyCap != first && c.Statistics != null))
        {
            c.FamilyBaseline = report.Cases.FirstOrDefault(b =>
                b.KernelFamilyCap == first && b.Shape == c.Shape && b.Scheme == c.Scheme && b.Threads == c.Threads &&
                b.Packing == c.Packing && b.Backend == c.Backend && b.Statistics != null);
            c.FamilyRatio = c.FamilyBaseline is { } baseline ? c.Statistics!.P50 / baseline.Statistics!.P50 : null;
        }

        report.Notes.Add(
            $"kernel families {string.Join(", ", options.KernelFamilies.Select(XnnKleidiLibrary.GetName))}: each ran in processes of its own " +
            "(XNNPACK reads the CPU once per process), taking turns shape by shape; " +
            $"\"vs {XnnKleidiLibrary.GetName(first)}\" is a case's p50 over the same case's p50 under {XnnKleidiLibrary.GetName(first)} (< 1: faster)");
        return report;
    }

    /// <summary>The name a ratio gives the first family's case when it says why the ratio does not count.</summary>
    public static string BaselineName(CaseResult baseline) =>
        baseline.KernelFamilyCap is { } family ? $"the {XnnKleidiLibrary.GetName(family)} run" : "the first family's run";

    /// <summary>
    /// Null when the family ratio of <paramref name="c"/> against <paramref name="baseline"/> counts; else why not
    /// (<see cref="ComparatorGate"/>), naming the baseline by its family.
    /// </summary>
    public static string? WhyFamilyRatioNotCounted(CaseResult c, CaseResult baseline) =>
        ComparatorGate.WhyNotCounted(c, baseline, BaselineName(baseline));
}
