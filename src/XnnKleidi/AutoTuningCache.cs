using XnnKleidi.Internal;

namespace XnnKleidi;

/// <summary>
/// Remembers what <see cref="ActivationPacking.Auto"/> decided, so that a layer of the same shape on the same device
/// skips the timing: give it to layers through <see cref="LinearOptions.AutoTuningCache"/>. A decision found for a
/// tuned batch size is used as it is; one not found is timed and stored. Entries measured under another
/// <see cref="AutoTuningEnvironment"/> (library build, CPU, kernel-family cap), another thread count or for another layer
/// shape are kept but never used. The cache touches no file unless <see cref="Load"/> or <see cref="Save"/> is called.
/// Thread-safe.
/// </summary>
public sealed class AutoTuningCache
{
    /// <summary>The value of the file's "format" member.</summary>
    public const string FormatName = "xnnkleidi-auto-tuning-cache";

    /// <summary>The file format version this library writes and the only one it reads.</summary>
    public const int FormatVersion = 1;

    private readonly Lock gate = new();
    private readonly Dictionary<EntryKey, AutoTuningCacheEntry> entries = [];

    /// <summary>The number of entries, of every environment.</summary>
    public int Count
    {
        get
        {
            lock (gate)
            {
                return entries.Count;
            }
        }
    }

    /// <summary>A snapshot of the entries, of every environment.</summary>
    public IReadOnlyList<AutoTuningCacheEntry> Entries
    {
        get
        {
            lock (gate)
            {
                return [.. entries.Values];
            }
        }
    }

    /// <summary>Reads a cache file written by <see cref="Save"/>.</summary>
    /// <exception cref="AutoTuningCacheFileException">The file is not valid JSON (corrupt or truncated), is not a tuning cache, has another format version, or holds an invalid entry.</exception>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    public static AutoTuningCache Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var cache = new AutoTuningCache();
        foreach (AutoTuningCacheEntry entry in AutoTuningCacheFile.Read(path))
        {
            cache.Store(entry);
        }

        return cache;
    }

    /// <summary>
    /// Writes every entry to <paramref name="path"/>: first to a temporary file beside it, then renamed over it, so that
    /// a reader never sees half a file and two processes saving at once leave one of their files whole.
    /// </summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        AutoTuningCacheFile.Write(path, Entries);
    }

    /// <summary>Forgets every entry.</summary>
    public void Clear()
    {
        lock (gate)
        {
            entries.Clear();
        }
    }

    /// <summary>The timing stored for this layer at <paramref name="batch"/> under the current environment and <paramref name="threads"/>.</summary>
    internal ActivationPackingTiming? Find(AutoTuningEnvironment environment, int threads, LinearWeights weights, int batch) =>
        Find(environment, threads, weights.Scheme, weights.InputChannels, weights.OutputChannels, BlockSizeOf(weights), batch);

    /// <summary>The timing stored under exactly this key, marked as read from the cache; null when there is none.</summary>
    internal ActivationPackingTiming? Find(AutoTuningEnvironment environment, int threads, WeightScheme scheme, int inputChannels, int outputChannels, int blockSize, int batch)
    {
        EntryKey key = KeyOf(environment, threads, scheme, inputChannels, outputChannels, blockSize, batch);
        lock (gate)
        {
            return entries.TryGetValue(key, out AutoTuningCacheEntry? entry) ? entry.Timing with { IsFromCache = true, TotalTime = TimeSpan.Zero, WaitingThreads = null } : null;
        }
    }

    /// <summary>
    /// Stores a timing for this layer under the current environment and <paramref name="threads"/>, unless it was taken
    /// while something else held a core (<see cref="ActivationPackingTiming.IsCpuContended"/>): such a timing describes
    /// that moment's load, and kept in a file it would decide every later start. Returns whether it was stored.
    /// </summary>
    internal bool Store(AutoTuningEnvironment environment, int threads, LinearWeights weights, ActivationPackingTiming timing)
    {
        if (timing.IsCpuContended)
        {
            return false;
        }

        Store(new AutoTuningCacheEntry(
            environment, threads, weights.Scheme, weights.InputChannels, weights.OutputChannels, BlockSizeOf(weights),
            timing with { IsFromCache = false, WaitingThreads = null }));
        return true;
    }

    /// <summary>Adds an entry, replacing one with the same key.</summary>
    internal void Store(AutoTuningCacheEntry entry)
    {
        EntryKey key = KeyOf(entry.Environment, entry.Threads, entry.Scheme, entry.InputChannels, entry.OutputChannels, entry.BlockSize, entry.Timing.Batch);
        lock (gate)
        {
            entries[key] = entry;
        }
    }

    internal static int BlockSizeOf(LinearWeights weights) => weights.Scheme == WeightScheme.Qb4w ? weights.BlockSize : 0;

    private static EntryKey KeyOf(AutoTuningEnvironment environment, int threads, WeightScheme scheme, int inputChannels, int outputChannels, int blockSize, int batch) =>
        new(environment, threads, scheme, inputChannels, outputChannels, blockSize, batch);

    private readonly record struct EntryKey(
        AutoTuningEnvironment Environment, int Threads, WeightScheme Scheme, int InputChannels, int OutputChannels, int BlockSize, int Batch);
}
