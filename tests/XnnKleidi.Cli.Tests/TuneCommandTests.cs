using NUnit.Framework;

namespace XnnKleidi.Cli.Tests;

/// <summary>`xnnkleidi tune` on this machine: it writes a cache file the library reads back, and prints a row per layer shape.</summary>
public class TuneCommandTests
{
    private string directory = string.Empty;

    [SetUp]
    public void CreateDirectory()
    {
        directory = Path.Combine(Path.GetTempPath(), $"xnnkleidi-tune-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
    }

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(directory, recursive: true);

    [Test]
    public void WithoutCacheFile_IsABadArgument()
    {
        (int code, _, string error) = ConsoleCapture.Run("tune", "--preset", "emformer");

        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(2));
            Assert.That(error, Does.Contain("--cache"));
        });
    }

    [Test]
    public void EmformerQb4w_WritesACacheTheLibraryLoads_AndNamesWhatItLeftOut()
    {
        string path = Path.Combine(directory, "tuning.json");

        (int code, string output, string error) = ConsoleCapture.Run(
            "tune", "--preset", "emformer", "--scheme", "qb4w", "--batches", "1,4", "--budget-ms", "2", "--cache", path);

        Assert.That(code, Is.EqualTo(0), error);
        AutoTuningCache loaded = AutoTuningCache.Load(path);
        Assert.Multiple(() =>
        {
            Assert.That(output, Does.Contain("512 x 2048"));
            // K = 80 is not a whole number of blocks of 32.
            Assert.That(output, Does.Contain("80 x 128 is left out for qb4w"));
            Assert.That(output, Does.Contain($"{loaded.Count} entries in {path}."));
            if (!ActivationPackingSupport.IsAvailable(WeightScheme.Qb4w))
            {
                Assert.That(loaded.Count, Is.Zero, "nothing to time, nothing stored");
                Assert.That(output, Does.Contain($"Nothing timed for qb4w: {ActivationPackingSupport.GetUnavailableReason(WeightScheme.Qb4w)}."));
            }
        });
    }
}
