using System.Diagnostics;

namespace XnnKleidi.Cli.Bench;

/// <summary>
/// Waits, between timed batches, until no other thread of the benchmark's processes is
/// running. ONNX Runtime's intra-op workers spin for 2^20 iterations (tens of milliseconds)
/// after their last task before they sleep; on a 2-core machine the runner timed next would
/// lose its second core to them for most of its batch, which showed up as two-thread p90s at
/// twice the p50. Process CPU time cannot tell: Linux accounts other threads' time only at
/// scheduler ticks (4 ms here). A thread's state in /proc/&lt;pid&gt;/task/&lt;tid&gt;/stat is current, so
/// the wait polls that until every other thread is asleep, for at most <see cref="Limit"/>.
/// On systems without /proc it returns at once.
/// </summary>
internal static class Quiescence
{
    public static readonly TimeSpan Limit = TimeSpan.FromMilliseconds(200);

    /// <summary>Waits until no thread of <paramref name="processIds"/> but the caller runs; returns how long it waited.</summary>
    public static TimeSpan WaitForOtherThreads(IReadOnlyList<int> processIds)
    {
        ArgumentNullException.ThrowIfNull(processIds);
        var waited = Stopwatch.StartNew();
        int self = Environment.ProcessId;
        int callerThread = CurrentThreadId();
        while (waited.Elapsed < Limit)
        {
            bool busy = false;
            foreach (int pid in processIds)
            {
                if (AnyRunning(pid, pid == self ? callerThread : -1))
                {
                    busy = true;
                    break;
                }
            }
            if (!busy)
            {
                break;
            }

            Thread.Sleep(1);
        }
        return waited.Elapsed;
    }

    private static int CurrentThreadId()
    {
        // /proc/thread-self is a link to /proc/<pid>/task/<tid>.
        try
        {
            string? target = new DirectoryInfo("/proc/thread-self").ResolveLinkTarget(returnFinalTarget: false)?.FullName;
            return target != null && int.TryParse(Path.GetFileName(target), out int tid) ? tid : -1;
        }
        catch (IOException)
        {
            return -1;
        }
    }

    private static bool AnyRunning(int pid, int exceptThread)
    {
        string[] tasks;
        try
        {
            tasks = Directory.GetDirectories($"/proc/{pid}/task");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
        foreach (string task in tasks)
        {
            if (int.TryParse(Path.GetFileName(task), out int tid) && tid == exceptThread)
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(task, "stat"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // the thread ended meanwhile
            }
            // "tid (comm) S ...": the state follows the last ')' (comm may itself hold parentheses).
            int close = stat.LastIndexOf(')');
            if (close >= 0 && close + 2 < stat.Length && stat[close + 2] == 'R')
            {
                return true;
            }
        }
        return false;
    }
}
