using System.IO.MemoryMappedFiles;

namespace XnnKleidi.Formats;

/// <summary>
/// A model file mapped read-only into memory: the operating system reads only the pages that are touched, so a
/// multi-gigabyte file costs nothing until one of its tensors is converted. Every read is bounds-checked against
/// the file's length and reports an overrun as a <see cref="ModelFileFormatException"/>.
/// </summary>
internal sealed unsafe class MappedFile : IDisposable
{
    private readonly MemoryMappedFile map;
    private readonly MemoryMappedViewAccessor view;
    private byte* start;

    private MappedFile(string path, long length, MemoryMappedFile map, MemoryMappedViewAccessor view)
    {
        Path = path;
        Length = length;
        this.map = map;
        this.view = view;
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        start = pointer + view.PointerOffset;
    }

    public string Path { get; }

    public long Length { get; }

    public static MappedFile Open(string path)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new ModelFileFormatException(path, $"cannot be opened: {e.Message}", innerException: e);
        }

        long length = stream.Length;
        if (length == 0)
        {
            stream.Dispose();
            throw new ModelFileFormatException(path, "is empty");
        }

        try
        {
            var map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            var view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            return new MappedFile(path, length, map, view);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stream.Dispose();
            throw new ModelFileFormatException(path, $"cannot be mapped into memory: {e.Message}", innerException: e);
        }
    }

    /// <summary>Maps <paramref name="path"/> and hands it to <paramref name="parse"/>, unmapping it again if that throws.</summary>
    public static T OpenAndParse<T>(string path, Func<MappedFile, T> parse)
    {
        MappedFile file = Open(path);
        try
        {
            return parse(file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>The <paramref name="length"/> bytes at <paramref name="offset"/>, which must lie inside the file.</summary>
    public ReadOnlySpan<byte> Bytes(long offset, long length, string what, string? tensorName = null)
    {
        ObjectDisposedException.ThrowIf(start == null, this);
        if (offset < 0 || length < 0 || length > int.MaxValue || offset > Length - length)
        {
            throw new ModelFileFormatException(
                Path,
                FormattableString.Invariant($"{what}: {length} bytes at offset {offset} do not lie inside the file of {Length} bytes"),
                tensorName,
                offset);
        }

        return new ReadOnlySpan<byte>(start + offset, (int)length);
    }

    public void Dispose()
    {
        if (start != null)
        {
            start = null;
            view.SafeMemoryMappedViewHandle.ReleasePointer();
        }

        view.Dispose();
        map.Dispose();
    }
}
