namespace XnnKleidi;

/// <summary>An <see cref="AutoTuningCache"/> file could not be used: it is corrupt, truncated, not a tuning cache, or of another format version.</summary>
public sealed class AutoTuningCacheFileException : IOException
{
    /// <summary>Creates the exception for <paramref name="filePath"/>; the message names the file.</summary>
    public AutoTuningCacheFileException(string filePath, string problem, Exception? innerException = null)
        : base($"The auto-tuning cache file '{filePath}' {problem}. Delete it or save a new one; nothing was read from it.", innerException)
    {
        FilePath = filePath;
    }

    /// <summary>The file that was refused.</summary>
    public string FilePath { get; }
}
