using System.Diagnostics;
using System.Globalization;
using XnnKleidi.Cli.Platform;

namespace XnnKleidi.Cli.Bench;

/// <summary>
/// The C harness (native/bench, executable xnnkleidi-bench) as a child process: it builds the
/// same XNNPACK graph from the same seed and times it with the same loop. One request line
/// in, one answer line out; see native/bench/bench-harness.c for the protocol.
/// </summary>
internal sealed class NativeHarness : IDisposable
{
    public const string ExecutableName = "xnnkleidi-bench";
    private const int ProtocolVersion = 3;
    public const int Slots = 16;
    private readonly Process process;

    private NativeHarness(Process process, string path, string buildInfo)
    {
        this.process = process;
        Path = path;
        BuildInfo = buildInfo;
    }

    public string Path { get; }

    /// <summary>The harness process, whose threads the engine lets settle between batches.</summary>
    public int ProcessId => process.Id;
    public string BuildInfo { get; private set; }

    /// <summary>Where the harness may be, in the order tried.</summary>
    public static IEnumerable<string> Candidates()
    {
        string? fromEnvironment = Environment.GetEnvironmentVariable("XNNKLEIDI_BENCH_HARNESS");
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            yield return fromEnvironment;
        }

        string rid = HostInfo.Rid;
        string baseDirectory = AppContext.BaseDirectory;
        yield return System.IO.Path.Combine(baseDirectory, ExecutableName);
        yield return System.IO.Path.Combine(baseDirectory, "runtimes", rid, "native", ExecutableName);
        // A development tree: artifacts/native/<rid>/ (copied there by the Native target) or
        // the CMake build folder itself.
        for (var dir = new DirectoryInfo(baseDirectory); dir != null; dir = dir.Parent)
        {
            yield return System.IO.Path.Combine(dir.FullName, "artifacts", "native", rid, ExecutableName);
            yield return System.IO.Path.Combine(dir.FullName, "artifacts", "build", rid, "bench", ExecutableName);
        }
    }

    /// <summary>
    /// NuGet does not keep Unix file modes, so in an installed tool package the harness arrives
    /// without its execute bit. The owner may set it; anyone else gets the start error, which
    /// the caller reports as "comparison unavailable".
    /// </summary>
    private static void EnsureExecutable(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        try
        {
            UnixFileMode mode = File.GetUnixFileMode(path);
            if ((mode & UnixFileMode.UserExecute) == 0)
            {
                File.SetUnixFileMode(path, mode | UnixFileMode.UserExecute);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Starts the harness, or explains in one sentence why it could not.</summary>
    public static NativeHarness Start()
    {
        foreach (string candidate in Candidates())
        {
            if (!File.Exists(candidate))
            {
                continue;
            }

            EnsureExecutable(candidate);
            var info = new ProcessStartInfo(candidate)
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = false,
                UseShellExecute = false,
            };
            Process process = Process.Start(info)
                ?? throw new InvalidOperationException($"could not start the native harness {candidate}");
            var harness = new NativeHarness(process, candidate, "");
            string[] parts = harness.Request("hello").Split(' ', 2);
            if (parts.Length < 2 || parts[0] != ProtocolVersion.ToString(CultureInfo.InvariantCulture))
            {
                harness.Dispose();
                throw new InvalidOperationException(
                    $"the native harness {candidate} speaks protocol '{parts[0]}', this CLI speaks {ProtocolVersion}; rebuild it");
            }
            harness.BuildInfo = parts[1];
            return harness;
        }
        throw new FileNotFoundException(
            $"the C harness '{ExecutableName}' was not found beside the CLI, in runtimes/{HostInfo.Rid}/native/, nor in " +
            $"artifacts/native/{HostInfo.Rid}/ or artifacts/build/{HostInfo.Rid}/bench/ above {AppContext.BaseDirectory}; " +
            "build it with `cmake --build artifacts/build/<rid> --target xnnkleidi-bench` or set XNNKLEIDI_BENCH_HARNESS");
    }

    /// <summary>
    /// Builds the layer in the harness with exactly <paramref name="runtimeFlags"/>; returns what the harness reports
    /// about it: the output checksum, the runtime flags its timed runtime was created with, and the operator names.
    /// </summary>
    public HarnessLayer Layer(int slot, BenchData data, bool pack, int threads, uint runtimeFlags)
    {
        ArgumentNullException.ThrowIfNull(data);
        string scheme = data.Scheme.ToString().ToLowerInvariant();
        string answer = Request(FormattableString.Invariant(
            $"layer {slot} {scheme} {data.M} {data.K} {data.N} {data.BlockSize} {(pack ? 1 : 0)} {threads} {data.Seed} {runtimeFlags}"));
        string[] parts = answer.Split(' ', 3);
        if (parts.Length < 2)
        {
            throw new InvalidOperationException($"native harness: malformed layer answer '{answer}'");
        }

        double checksum = double.Parse(parts[0], CultureInfo.InvariantCulture);
        uint flags = uint.Parse(parts[1], CultureInfo.InvariantCulture);
        string[] operators = parts.Length > 2 && parts[2] != "-" ? parts[2].Split('|') : [];
        return new HarnessLayer(checksum, flags, operators);
    }

    /// <summary>Times <paramref name="count"/> calls; appends one time in nanoseconds per call.</summary>
    public void Time(int slot, int count, List<double> nanoseconds)
    {
        ArgumentNullException.ThrowIfNull(nanoseconds);
        string answer = Request(FormattableString.Invariant($"time {slot} {count}"));
        foreach (string value in answer.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            nanoseconds.Add(double.Parse(value, CultureInfo.InvariantCulture));
        }
    }

    /// <summary>The output of the slot's last call, M x N, for the check against the float64 reference.</summary>
    public float[] Output(int slot)
    {
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"xnnkleidi-bench-{Environment.ProcessId}-{slot}.bin");
        try
        {
            string answer = Request(FormattableString.Invariant($"output {slot} {path}"));
            int count = int.Parse(answer, CultureInfo.InvariantCulture);
            byte[] bytes = File.ReadAllBytes(path);
            if (bytes.Length != count * sizeof(float))
            {
                throw new InvalidOperationException($"native harness: the output file has {bytes.Length} bytes, not {count} floats");
            }

            float[] output = new float[count];
            Buffer.BlockCopy(bytes, 0, output, 0, bytes.Length);
            return output;
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Releases a slot's layer.</summary>
    public void Free(int slot) => Request(FormattableString.Invariant($"free {slot}"));

    /// <summary>The peak probes the harness itself finds this CPU (and OS) able to run or identify.</summary>
    public IReadOnlyList<string> SupportedProbes() => Request("probes").Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>
    /// Runs one peak probe for about the given time. The harness checks the CPU again and refuses a probe it
    /// cannot run; a probe it can only identify answers "not-timed".
    /// </summary>
    public PeakAnswer Peak(string probe, double milliseconds)
    {
        process.StandardInput.WriteLine(FormattableString.Invariant($"peak {probe} {milliseconds}"));
        process.StandardInput.Flush();
        string answer = process.StandardOutput.ReadLine()
            ?? throw new InvalidOperationException($"the native harness exited (code {ExitCodeOrUnknown()}) on 'peak {probe}'");
        if (answer.StartsWith("ok ", StringComparison.Ordinal))
        {
            string[] parts = answer[3..].Split(' ', 2);
            return new PeakAnswer(double.Parse(parts[0], CultureInfo.InvariantCulture), parts.Length > 1 ? parts[1] : "", null);
        }

        const string notTimed = "error not-timed ";
        if (answer.StartsWith(notTimed, StringComparison.Ordinal))
        {
            return new PeakAnswer(null, answer[notTimed.Length..], "identified; no timed probe for this instruction");
        }

        throw new InvalidOperationException($"native harness: {(answer.StartsWith("error ", StringComparison.Ordinal) ? answer[6..] : answer)}");
    }

    private string Request(string line)
    {
        process.StandardInput.WriteLine(line);
        process.StandardInput.Flush();
        string answer = process.StandardOutput.ReadLine()
            ?? throw new InvalidOperationException($"the native harness exited (code {ExitCodeOrUnknown()}) on '{line}'");
        if (answer.StartsWith("ok", StringComparison.Ordinal))
        {
            return answer.Length > 3 ? answer[3..] : "";
        }
        throw new InvalidOperationException($"native harness: {(answer.StartsWith("error ", StringComparison.Ordinal) ? answer[6..] : answer)}");
    }

    private string ExitCodeOrUnknown()
    {
        try
        {
            return process.WaitForExit(1000) ? process.ExitCode.ToString(CultureInfo.InvariantCulture) : "still running";
        }
        catch (InvalidOperationException)
        {
            return "unknown";
        }
    }

    public void Dispose()
    {
        try
        {
            if (!process.HasExited)
            {
                process.StandardInput.WriteLine("quit");
                process.StandardInput.Flush();
                if (!process.WaitForExit(2000))
                {
                    process.Kill();
                }
            }
        }
        catch (InvalidOperationException)
        {
        }
        catch (IOException)
        {
        }
        process.Dispose();
    }
}

/// <summary>What the C harness reports about a layer it built.</summary>
internal sealed record HarnessLayer(double Checksum, uint RuntimeFlags, IReadOnlyList<string> Operators);

/// <summary>A peak probe's answer: GOP/s when timed, else why not.</summary>
internal sealed record PeakAnswer(double? Gops, string Instruction, string? NotTimedReason);
