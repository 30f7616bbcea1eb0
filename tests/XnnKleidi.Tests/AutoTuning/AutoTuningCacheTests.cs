using System.Diagnostics;
using System.Runtime.CompilerServices;
using NUnit.Framework;
using XnnKleidi.Tests.Support;

namespace XnnKleidi.Tests.AutoTuning;

/// <summary>
/// The tuning cache in memory and on disk: what it keeps, what it refuses to use, and the files it refuses to read.
/// The entries are made up; nothing here times a layer.
/// </summary>
[TestFixture]
public sealed class AutoTuningCacheTests
{
    private const string SaverVariable = "XNNKLEIDI_TUNING_CACHE_SAVER";
    private const int SavesPerChild = 150;

    private static readonly AutoTuningEnvironment Device = new("XnnKleidi 0.1.0; xnnpack=test", 7, "arm64 parts 0x41:0xd0c", "neon dotprod i8mm", 256, "none");

    private string directory = string.Empty;

    /// <summary>
    /// When the test executable is started with the saver variable ("path;tag"), it saves a cache of its own over and
    /// over and exits before the test platform starts: the other half of the two-processes test.
    /// </summary>
    [ModuleInitializer]
    internal static void SaveRepeatedlyIfAsked()
    {
        string? request = Environment.GetEnvironmentVariable(SaverVariable);
        if (string.IsNullOrEmpty(request))
        {
            return;
        }

        string[] parts = request.Split(';');
        AutoTuningCache cache = CacheTagged(int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
        for (int i = 0; i < SavesPerChild; i++)
        {
            cache.Save(parts[0]);
        }

        Environment.Exit(0);
    }

    [SetUp]
    public void CreateDirectory()
    {
        directory = Path.Combine(Path.GetTempPath(), $"xnnkleidi-tuning-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
    }

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(directory, recursive: true);

    [Test]
    public void SaveThenLoad_GivesBackEveryEntry()
    {
        AutoTuningCache cache = CacheTagged(1);
        string path = Path.Combine(directory, "tuning.json");

        cache.Save(path);
        AutoTuningCache loaded = AutoTuningCache.Load(path);

        Assert.That(loaded.Entries, Is.EquivalentTo(cache.Entries));
    }

    [Test]
    public void LoadedEntry_IsFoundForItsOwnKey_AndMarkedAsFromTheCache()
    {
        string path = Path.Combine(directory, "tuning.json");
        CacheTagged(1).Save(path);

        ActivationPackingTiming? found = AutoTuningCache.Load(path).Find(Device, 2, WeightScheme.Qb4w, 2048, 8192, 32, 4);

        Assert.Multiple(() =>
        {
            Assert.That(found, Is.Not.Null);
            Assert.That(found!.Verdict, Is.EqualTo(AutoTuningVerdict.PackedFaster));
            Assert.That(found.IsFromCache, Is.True);
            Assert.That(found.TotalTime, Is.EqualTo(TimeSpan.Zero));
        });
    }

    private static IEnumerable<TestCaseData> ForeignKeys()
    {
        yield return new TestCaseData(Device with { LibraryBuild = "XnnKleidi 0.1.1; xnnpack=test" }, 2, 2048, 8192, 32).SetName("Find_OtherLibraryBuild_IsIgnored");
        yield return new TestCaseData(Device with { AbiVersion = 8 }, 2, 2048, 8192, 32).SetName("Find_OtherAbiVersion_IsIgnored");
        yield return new TestCaseData(Device with { Cpu = "arm64 parts 0x41:0xd08" }, 2, 2048, 8192, 32).SetName("Find_OtherCpu_IsIgnored");
        yield return new TestCaseData(Device with { CpuFeatures = "neon dotprod" }, 2, 2048, 8192, 32).SetName("Find_OtherCpuFeatures_IsIgnored");
        yield return new TestCaseData(Device with { SmeVectorLengthBits = 512 }, 2, 2048, 8192, 32).SetName("Find_OtherStreamingVectorLength_IsIgnored");
        yield return new TestCaseData(Device with { KernelFamilyCap = "dotprod" }, 2, 2048, 8192, 32).SetName("Find_OtherKernelFamilyCap_IsIgnored");
        yield return new TestCaseData(Device, 1, 2048, 8192, 32).SetName("Find_OtherThreadCount_IsIgnored");
        yield return new TestCaseData(Device, 2, 8192, 2048, 32).SetName("Find_OtherLayerShape_IsIgnored");
        yield return new TestCaseData(Device, 2, 2048, 8192, 64).SetName("Find_OtherBlockSize_IsIgnored");
    }

    [TestCaseSource(nameof(ForeignKeys))]
    public void Find_KeyDifferingInOnePart_FindsNothing(AutoTuningEnvironment environment, int threads, int inputChannels, int outputChannels, int blockSize)
    {
        AutoTuningCache cache = CacheTagged(1);

        Assert.Multiple(() =>
        {
            Assert.That(cache.Find(Device, 2, WeightScheme.Qb4w, 2048, 8192, 32, 4), Is.Not.Null, "the entry is there for its own key");
            Assert.That(cache.Find(environment, threads, WeightScheme.Qb4w, inputChannels, outputChannels, blockSize, 4), Is.Null);
        });
    }

    [Test]
    public void Find_OtherScheme_FindsNothing()
    {
        Assert.That(CacheTagged(1).Find(Device, 2, WeightScheme.Qc4w, 2048, 8192, 32, 4), Is.Null);
    }

    [Test]
    public void LoadedFile_EntriesOfAnotherDevice_AreKeptOnSaveButNeverFound()
    {
        string path = Path.Combine(directory, "tuning.json");
        CacheTagged(1).Save(path);
        File.WriteAllText(path, File.ReadAllText(path).Replace("0x41:0xd0c", "0x41:0xd08", StringComparison.Ordinal));

        AutoTuningCache loaded = AutoTuningCache.Load(path);

        Assert.Multiple(() =>
        {
            Assert.That(loaded.Count, Is.EqualTo(CacheTagged(1).Count));
            Assert.That(loaded.Find(Device, 2, WeightScheme.Qb4w, 2048, 8192, 32, 4), Is.Null);
        });
    }

    [Test]
    public void Load_NotJson_IsRefusedNamingTheFile()
    {
        string path = Path.Combine(directory, "corrupt.json");
        File.WriteAllText(path, "{ \"format\": \"xnnkleidi-auto-tuning-cache\", \u0001 garbage");

        AssertRefused(path, "is not valid JSON");
    }

    [Test]
    public void Load_TruncatedFile_IsRefusedNamingTheFile()
    {
        string path = Path.Combine(directory, "truncated.json");
        CacheTagged(1).Save(path);
        byte[] whole = File.ReadAllBytes(path);
        File.WriteAllBytes(path, whole[..(whole.Length / 2)]);

        AssertRefused(path, "is not valid JSON");
    }

    [Test]
    public void Load_OtherFormatVersion_IsRefusedNamingTheFileAndTheVersion()
    {
        string path = Path.Combine(directory, "future.json");
        CacheTagged(1).Save(path);
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"version\": 1", "\"version\": 2", StringComparison.Ordinal));

        AssertRefused(path, "has format version 2");
    }

    [Test]
    public void Load_ForeignJson_IsRefusedNamingTheFile()
    {
        string path = Path.Combine(directory, "package.json");
        File.WriteAllText(path, "{\"name\": \"something else\", \"version\": 1}");

        AssertRefused(path, "is not an XnnKleidi auto-tuning cache");
    }

    [Test]
    public void Load_EntryWithAnInvalidValue_IsRefusedNamingTheFileAndTheEntry()
    {
        string path = Path.Combine(directory, "invalid.json");
        CacheTagged(1).Save(path);
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"verdict\": \"packedFaster\"", "\"verdict\": \"faster\"", StringComparison.Ordinal));

        AssertRefused(path, "holds an invalid entry");
    }

    [Test]
    public void Load_MissingFile_ThrowsFileNotFound()
    {
        Assert.That(() => AutoTuningCache.Load(Path.Combine(directory, "absent.json")), Throws.InstanceOf<FileNotFoundException>());
    }

    [Test]
    public void TwoProcessesSavingAtOnce_LeaveAFileThatLoadsAsOneOfTheirCaches()
    {
        string path = Path.Combine(directory, "shared.json");
        Process[] savers = [StartSaver(path, 1), StartSaver(path, 2)];
        int readsDuringSaves = 0;
        // Every read while they save must see a whole file: the old one or a new one, never half of one.
        while (savers.Any(saver => !saver.HasExited))
        {
            if (File.Exists(path))
            {
                Assert.That(AutoTuningCache.Load(path).Count, Is.EqualTo(CacheTagged(1).Count));
                readsDuringSaves++;
            }
        }

        foreach (Process saver in savers)
        {
            saver.WaitForExit();
            Assert.That(saver.ExitCode, Is.Zero, saver.StandardError.ReadToEnd());
            saver.Dispose();
        }

        IReadOnlyList<AutoTuningCacheEntry> entries = AutoTuningCache.Load(path).Entries;
        Assert.Multiple(() =>
        {
            Assert.That(
                entries.SequenceEqual(CacheTagged(1).Entries) || entries.SequenceEqual(CacheTagged(2).Entries),
                Is.True,
                "the file is one process's cache, whole");
            Assert.That(Directory.GetFiles(directory), Is.EqualTo(new[] { path }), "no temporary file is left behind");
        });
        TestContext.Out.WriteLine($"{readsDuringSaves} reads while the two processes saved");
    }

    private static void AssertRefused(string path, string problem)
    {
        var error = Assert.Throws<AutoTuningCacheFileException>(() => AutoTuningCache.Load(path));
        Assert.Multiple(() =>
        {
            Assert.That(error!.FilePath, Is.EqualTo(path));
            Assert.That(error.Message, Does.Contain(path).And.Contain(problem));
        });
    }

    private static Process StartSaver(string path, int tag)
    {
        ProcessStartInfo start = ChildProcess.StartInfoForThisExecutable();
        start.Environment[SaverVariable] = $"{path};{tag}";
        return Process.Start(start) ?? throw new InvalidOperationException("could not start a saver");
    }

    /// <summary>A cache whose entries differ by <paramref name="tag"/> (in their times), so that two processes' files can be told apart.</summary>
    private static AutoTuningCache CacheTagged(int tag)
    {
        var cache = new AutoTuningCache();
        int[] batches = [1, 4, 16, 64, 256];
        for (int i = 0; i < batches.Length; i++)
        {
            bool packedFaster = batches[i] >= 4;
            var timing = new ActivationPackingTiming(
                batches[i],
                TimeSpan.FromTicks((packedFaster ? 80 : 120) * (i + 1) * tag),
                TimeSpan.FromTicks(100 * (i + 1) * tag),
                40,
                40,
                TimeSpan.Zero)
            {
                Ratio = packedFaster ? 0.8 : 1.2,
                RatioLow = packedFaster ? 0.78 : 1.17,
                RatioHigh = packedFaster ? 0.83 : 1.24,
                Verdict = packedFaster ? AutoTuningVerdict.PackedFaster : AutoTuningVerdict.UnpackedFaster,
            };
            cache.Store(new AutoTuningCacheEntry(Device, 2, WeightScheme.Qb4w, 2048, 8192, 32, timing));
        }

        return cache;
    }
}
