using System.Globalization;
using System.Text.Json;

namespace XnnKleidi.Internal;

/// <summary>
/// The JSON file of an <see cref="AutoTuningCache"/> (docs/auto-tuning.md describes it): a "format" name, a "version",
/// and one object per entry. Reading checks everything and refuses the whole file on the first problem, naming it.
/// </summary>
internal static class AutoTuningCacheFile
{
    public static List<AutoTuningCacheEntry> Read(string path)
    {
        byte[] bytes = RetryWhileShared(() => File.ReadAllBytes(path));
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes);
        }
        catch (JsonException error)
        {
            throw new AutoTuningCacheFileException(path, $"is not valid JSON, so it is corrupt or truncated ({error.Message})", error);
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object ||
                !root.TryGetProperty("format", out JsonElement format) || format.ValueKind != JsonValueKind.String ||
                format.GetString() != AutoTuningCache.FormatName)
            {
                throw new AutoTuningCacheFileException(path, $"is not an XnnKleidi auto-tuning cache (no \"format\": \"{AutoTuningCache.FormatName}\")");
            }

            if (!root.TryGetProperty("version", out JsonElement version) || version.ValueKind != JsonValueKind.Number ||
                !version.TryGetInt32(out int versionNumber))
            {
                throw new AutoTuningCacheFileException(path, "has no format version");
            }

            if (versionNumber != AutoTuningCache.FormatVersion)
            {
                throw new AutoTuningCacheFileException(path, $"has format version {versionNumber}; this library reads version {AutoTuningCache.FormatVersion} only");
            }

            if (!root.TryGetProperty("entries", out JsonElement entries) || entries.ValueKind != JsonValueKind.Array)
            {
                throw new AutoTuningCacheFileException(path, "has no \"entries\" array");
            }

            var result = new List<AutoTuningCacheEntry>(entries.GetArrayLength());
            int index = 0;
            foreach (JsonElement entry in entries.EnumerateArray())
            {
                try
                {
                    result.Add(ReadEntry(entry));
                }
                catch (Exception error) when (error is InvalidOperationException or KeyNotFoundException or FormatException or ArgumentException)
                {
                    throw new AutoTuningCacheFileException(path, $"holds an invalid entry {index}: {error.Message}", error);
                }

                index++;
            }

            return result;
        }
    }

    /// <summary>
    /// Writes the file. The relaxed encoder keeps "+" and non-ASCII text readable; the file is never embedded in HTML.
    /// </summary>
    public static void Write(string path, IReadOnlyList<AutoTuningCacheEntry> entries)
    {
        string fullPath = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(fullPath) ?? ".";
        // Beside the target, so that the rename stays on one file system and replaces the file in one step.
        string temporary = Path.Combine(directory, $".{Path.GetFileName(fullPath)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
                {
                    WriteDocument(writer, entries);
                }

                stream.Flush(flushToDisk: true);
            }

            RetryWhileShared(() =>
            {
                File.Move(temporary, fullPath, overwrite: true);
                return true;
            });
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>
    /// Windows neither renames a file over one that another process has open nor opens a file while a rename
    /// replaces it: the loser gets a sharing violation or access denied for as long as the other's read or rename
    /// lasts. So on Windows each is tried again for up to two seconds before the error is let through. Linux renames
    /// over open files, and a reader there keeps the file it opened.
    /// </summary>
    private static T RetryWhileShared<T>(Func<T> operation)
    {
        if (!OperatingSystem.IsWindows())
        {
            return operation();
        }

        long deadline = Environment.TickCount64 + 2000;
        while (true)
        {
            try
            {
                return operation();
            }
            catch (Exception error) when (IsSharingConflict(error) && Environment.TickCount64 < deadline)
            {
                Thread.Sleep(1);
            }
        }
    }

    // ERROR_ACCESS_DENIED is what a rename over an open file gives; ERROR_SHARING_VIOLATION and ERROR_LOCK_VIOLATION
    // what opening a file being replaced gives.
    private static bool IsSharingConflict(Exception error) => error switch
    {
        UnauthorizedAccessException => true,
        IOException io => (io.HResult & 0xFFFF) is 32 or 33,
        _ => false,
    };

    private static void WriteDocument(Utf8JsonWriter writer, IReadOnlyList<AutoTuningCacheEntry> entries)
    {
        writer.WriteStartObject();
        writer.WriteString("format", AutoTuningCache.FormatName);
        writer.WriteNumber("version", AutoTuningCache.FormatVersion);
        writer.WriteStartArray("entries");
        foreach (AutoTuningCacheEntry entry in entries)
        {
            writer.WriteStartObject();
            writer.WriteStartObject("environment");
            writer.WriteString("libraryBuild", entry.Environment.LibraryBuild);
            writer.WriteNumber("abiVersion", entry.Environment.AbiVersion);
            writer.WriteString("cpu", entry.Environment.Cpu);
            writer.WriteString("cpuFeatures", entry.Environment.CpuFeatures);
            writer.WriteNumber("smeVectorLengthBits", entry.Environment.SmeVectorLengthBits);
            writer.WriteString("kernelFamilyCap", entry.Environment.KernelFamilyCap);
            writer.WriteEndObject();
            writer.WriteNumber("threads", entry.Threads);
            writer.WriteStartObject("layer");
            writer.WriteString("scheme", ActivationPackingSupport.Name(entry.Scheme));
            writer.WriteNumber("inputChannels", entry.InputChannels);
            writer.WriteNumber("outputChannels", entry.OutputChannels);
            writer.WriteNumber("blockSize", entry.BlockSize);
            writer.WriteEndObject();
            ActivationPackingTiming timing = entry.Timing;
            writer.WriteNumber("batch", timing.Batch);
            writer.WriteNumber("packedMedianMicroseconds", timing.PackedTime.TotalMicroseconds);
            writer.WriteNumber("unpackedMedianMicroseconds", timing.UnpackedTime.TotalMicroseconds);
            writer.WriteNumber("pairs", timing.PackedRuns);
            writer.WriteNumber("ratio", timing.Ratio);
            writer.WriteNumber("ratioLow", timing.RatioLow);
            writer.WriteNumber("ratioHigh", timing.RatioHigh);
            writer.WriteString("verdict", VerdictName(timing.Verdict));
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static AutoTuningCacheEntry ReadEntry(JsonElement entry)
    {
        JsonElement environment = entry.GetProperty("environment");
        JsonElement layer = entry.GetProperty("layer");
        int batch = Positive(entry, "batch");
        int pairs = Positive(entry, "pairs");
        var timing = new ActivationPackingTiming(
            batch,
            TimeSpan.FromMicroseconds(NonNegative(entry, "packedMedianMicroseconds")),
            TimeSpan.FromMicroseconds(NonNegative(entry, "unpackedMedianMicroseconds")),
            pairs,
            pairs,
            TimeSpan.Zero)
        {
            Ratio = NonNegative(entry, "ratio"),
            RatioLow = NonNegative(entry, "ratioLow"),
            RatioHigh = NonNegative(entry, "ratioHigh"),
            Verdict = ParseVerdict(entry.GetProperty("verdict").GetString()),
        };
        return new AutoTuningCacheEntry(
            new AutoTuningEnvironment(
                Text(environment, "libraryBuild"),
                environment.GetProperty("abiVersion").GetUInt32(),
                Text(environment, "cpu"),
                Text(environment, "cpuFeatures"),
                NonNegativeInteger(environment, "smeVectorLengthBits"),
                Text(environment, "kernelFamilyCap")),
            Positive(entry, "threads"),
            ParseScheme(layer.GetProperty("scheme").GetString()),
            Positive(layer, "inputChannels"),
            Positive(layer, "outputChannels"),
            NonNegativeInteger(layer, "blockSize"),
            timing);
    }

    private static string Text(JsonElement element, string name) =>
        element.GetProperty(name).GetString() ?? throw new FormatException($"\"{name}\" is null");

    private static int Positive(JsonElement element, string name)
    {
        int value = element.GetProperty(name).GetInt32();
        return value >= 1 ? value : throw new FormatException($"\"{name}\" is {value}; it must be at least 1");
    }

    private static int NonNegativeInteger(JsonElement element, string name)
    {
        int value = element.GetProperty(name).GetInt32();
        return value >= 0 ? value : throw new FormatException($"\"{name}\" is {value}; it must not be negative");
    }

    private static double NonNegative(JsonElement element, string name)
    {
        double value = element.GetProperty(name).GetDouble();
        return double.IsFinite(value) && value >= 0
            ? value
            : throw new FormatException($"\"{name}\" is {value.ToString(CultureInfo.InvariantCulture)}; it must be finite and not negative");
    }

    private static string VerdictName(AutoTuningVerdict verdict) => verdict switch
    {
        AutoTuningVerdict.PackedFaster => "packedFaster",
        AutoTuningVerdict.UnpackedFaster => "unpackedFaster",
        _ => "withinNoise",
    };

    private static AutoTuningVerdict ParseVerdict(string? name) => name switch
    {
        "packedFaster" => AutoTuningVerdict.PackedFaster,
        "unpackedFaster" => AutoTuningVerdict.UnpackedFaster,
        "withinNoise" => AutoTuningVerdict.WithinNoise,
        _ => throw new FormatException($"\"verdict\" is '{name}'; it must be packedFaster, unpackedFaster or withinNoise"),
    };

    private static WeightScheme ParseScheme(string? name) => name switch
    {
        "qc8w" => WeightScheme.Qc8w,
        "qc4w" => WeightScheme.Qc4w,
        "qb4w" => WeightScheme.Qb4w,
        _ => throw new FormatException($"\"scheme\" is '{name}'; it must be qc8w, qc4w or qb4w"),
    };
}
