using System.Globalization;

namespace XnnKleidi;

/// <summary>
/// How long the threads of a process were ready to run but waited for a CPU. A timing during which they waited was
/// taken while something else held a core (another process, or the hypervisor's other guests when they are scheduled
/// inside this one): its medians can be tight and still describe the machine's load, not the library's speed.
/// <see cref="ActivationPacking.Auto"/> reads it around its timing (<see cref="ActivationPackingTiming.WaitingThreads"/>),
/// and an <see cref="AutoTuningCache"/> never stores a timing taken under contention.
/// </summary>
/// <remarks>
/// Linux reports it exactly, per thread, in <c>/proc/&lt;pid&gt;/task/&lt;tid&gt;/schedstat</c> (the second field, in
/// nanoseconds). Process CPU time cannot tell the same thing: a thread that spins while waiting for work uses CPU
/// time on an idle machine too, and Linux accounts other processes' time only at scheduler ticks. Other systems have no
/// such counter, so there the wait is unknown (null) and nothing is flagged.
/// </remarks>
public static class RunQueueWait
{
    /// <summary>
    /// On average this many threads of the process (or more) waited for a CPU during a timing: it was contended. Two
    /// threads sharing one core average 1; a quarter leaves room for the runtime's own short-lived threads (the JIT's
    /// background compiler, the garbage collector) without letting a held core pass.
    /// </summary>
    public const double ContendedWaitingThreads = 0.25;

    /// <summary>
    /// The run-queue wait summed over the threads of <paramref name="processId"/> that exist now, each since it
    /// started; null where the system does not report it or the process cannot be read. Only differences between two
    /// readings mean anything, and only while the same threads live (a thread that ends takes its wait with it).
    /// </summary>
    public static TimeSpan? OfProcess(int processId)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        string[] tasks;
        try
        {
            tasks = Directory.GetDirectories($"/proc/{processId.ToString(CultureInfo.InvariantCulture)}/task");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        long nanoseconds = 0;
        bool anyRead = false;
        foreach (string task in tasks)
        {
            string text;
            try
            {
                text = File.ReadAllText(Path.Combine(task, "schedstat"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The thread ended between the listing and the read, or the kernel has no schedstat.
                continue;
            }

            if (ParseWaitNanoseconds(text) is long wait)
            {
                nanoseconds += wait;
                anyRead = true;
            }
        }

        return anyRead ? TimeSpan.FromTicks(nanoseconds / 100) : null;
    }

    /// <summary>The run-queue wait of this process's threads; see <see cref="OfProcess"/>.</summary>
    public static TimeSpan? OfCurrentProcess() => OfProcess(Environment.ProcessId);

    /// <summary>
    /// The average number of threads that waited for a CPU between two readings taken <paramref name="elapsed"/>
    /// apart; null when either reading is unknown or no time passed. A negative difference (threads that ended took
    /// their wait with them) counts as no wait.
    /// </summary>
    public static double? AverageWaitingThreads(TimeSpan? before, TimeSpan? after, TimeSpan elapsed)
    {
        if (before is not TimeSpan start || after is not TimeSpan end || elapsed <= TimeSpan.Zero)
        {
            return null;
        }

        return Math.Max(0, (end - start).TotalSeconds) / elapsed.TotalSeconds;
    }

    /// <summary>True when <paramref name="averageWaitingThreads"/> is known and at least <see cref="ContendedWaitingThreads"/>.</summary>
    public static bool IsContended(double? averageWaitingThreads) => averageWaitingThreads >= ContendedWaitingThreads;

    /// <summary>"0.92 threads waited for a CPU on average", the words the library and the benchmark use.</summary>
    internal static string Describe(double averageWaitingThreads) =>
        string.Create(CultureInfo.InvariantCulture, $"{averageWaitingThreads:0.##} of this process's threads waited for a CPU on average");

    // schedstat holds three numbers: time on the CPU, time waiting on a run queue (both in ns), and time slices.
    internal static long? ParseWaitNanoseconds(string schedstat)
    {
        string[] fields = schedstat.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return fields.Length >= 2 && long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out long wait) ? wait : null;
    }
}
