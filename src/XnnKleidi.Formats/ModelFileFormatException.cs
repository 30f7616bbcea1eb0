namespace XnnKleidi.Formats;

/// <summary>
/// A model file that cannot be read as what it claims to be: truncated, inconsistent, or using something this
/// reader does not know. The message names the file and, where one is at fault, the tensor or the byte offset.
/// </summary>
public sealed class ModelFileFormatException : Exception
{
    /// <summary>Creates the exception for <paramref name="filePath"/>; the message starts with the path.</summary>
    public ModelFileFormatException(string filePath, string detail, string? tensorName = null, long? offset = null, Exception? innerException = null)
        : base(Compose(filePath, detail, tensorName, offset), innerException)
    {
        FilePath = filePath;
        TensorName = tensorName;
        Offset = offset;
    }

    /// <summary>The file at fault.</summary>
    public string FilePath { get; }

    /// <summary>The tensor at fault, when one is.</summary>
    public string? TensorName { get; }

    /// <summary>The byte offset in the file where the problem was found, when it is known.</summary>
    public long? Offset { get; }

    private static string Compose(string filePath, string detail, string? tensorName, long? offset)
    {
        string where = tensorName != null ? $" tensor '{tensorName}'" : "";
        string at = offset is { } value ? FormattableString.Invariant($" (at byte {value})") : "";
        return $"{filePath}:{where}{at} {detail}";
    }
}
