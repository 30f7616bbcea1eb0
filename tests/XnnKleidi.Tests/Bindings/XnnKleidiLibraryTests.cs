using NUnit.Framework;
using XnnKleidi.Interop;

namespace XnnKleidi.Tests.Bindings;

/// <summary>
/// The public description of the native library: its CPU feature flags are the generated C enum's, one for one,
/// and what it reports is what the raw functions return.
/// </summary>
[TestFixture]
public sealed class XnnKleidiLibraryTests
{
    [Test]
    public void CpuFeatures_HasACounterpartForEveryGeneratedEnumerator()
    {
        ulong[] publicValues = [.. Enum.GetValues<CpuFeatures>().Select(feature => (ulong)feature)];
        Assert.That(
            Enum.GetValues<xnnkleidi_cpu_feature>().Select(feature => (ulong)feature),
            Is.SubsetOf(publicValues));
    }

    [Test]
    public void CpuFeatures_HasNoMemberBeyondTheGeneratedEnumerators()
    {
        ulong[] generatedValues = [.. Enum.GetValues<xnnkleidi_cpu_feature>().Select(feature => (ulong)feature)];
        Assert.That(
            Enum.GetValues<CpuFeatures>().Where(feature => feature != CpuFeatures.None).Select(feature => (ulong)feature),
            Is.SubsetOf(generatedValues));
    }

    [TestCase(CpuFeatures.ArmNeon, "neon")]
    [TestCase(CpuFeatures.ArmFp16Arith, "fp16-arith")]
    [TestCase(CpuFeatures.X86Avx512Vnni, "avx512vnni")]
    [TestCase(CpuFeatures.X86AvxVnniInt8, "avxvnniint8")]
    public void GetName_IsTheCEnumeratorWithoutPrefixAndArchitecture(CpuFeatures feature, string expected) =>
        Assert.That(XnnKleidiLibrary.GetName(feature), Is.EqualTo(expected));

    [Test]
    public void GetName_OfTwoFeatures_IsRefused() =>
        Assert.That(() => XnnKleidiLibrary.GetName(CpuFeatures.ArmNeon | CpuFeatures.ArmDotprod), Throws.ArgumentException);

    [Test]
    public void GetNames_ListsEachSetFeature_LowestBitFirst() =>
        Assert.That(
            XnnKleidiLibrary.GetNames(CpuFeatures.ArmI8mm | CpuFeatures.ArmNeon | CpuFeatures.X86Avx2),
            Is.EqualTo(new[] { "neon", "i8mm", "avx2" }));

    [Test]
    public void ArmKernelFamily_IsTheGeneratedEnumWithoutItsNoCapValue()
    {
        int[] generatedValues = [.. Enum.GetValues<xnnkleidi_arm_isa>()
            .Where(isa => isa != xnnkleidi_arm_isa.xnnkleidi_arm_isa_unlimited).Select(isa => (int)isa)];
        Assert.That(Enum.GetValues<ArmKernelFamily>().Select(family => (int)family), Is.EquivalentTo(generatedValues));
    }

    [Test]
    public unsafe void ArmKernelFamilyNames_AreTheNamesTheNativeParserTakes()
    {
        foreach (ArmKernelFamily family in Enum.GetValues<ArmKernelFamily>())
        {
            byte[] name = System.Text.Encoding.ASCII.GetBytes(XnnKleidiLibrary.GetName(family) + "\0");
            fixed (byte* text = name)
            {
                Assert.That((int)NativeMethods.xnnkleidi_parse_arm_isa((sbyte*)text), Is.EqualTo((int)family), XnnKleidiLibrary.GetName(family));
            }
        }

        Assert.That(XnnKleidiLibrary.ArmKernelFamilyNames, Is.EqualTo(new[] { "sme2", "sme", "i8mm", "dotprod", "neon" }));
    }

    [Test]
    public void CpuFeatures_AreTheBitsTheNativeLibraryReports()
    {
        CpuFeatures reported = XnnKleidiLibrary.CpuFeatures;
        Assert.That((ulong)reported, Is.EqualTo(NativeMethods.xnnkleidi_cpu_features()));
    }

    [Test]
    public void AbiVersion_IsTheOneTheBindingsWereGeneratedFor() =>
        Assert.That(XnnKleidiLibrary.AbiVersion, Is.EqualTo(NativeMethods.XNNKLEIDI_ABI_VERSION));

    [Test]
    public void LoadedPath_IsTheLibraryTheLoaderLoaded()
    {
        string path = XnnKleidiLibrary.LoadedPath;
        Assert.That(path, Is.EqualTo(NativeLibraryLoader.LoadedPath));
        Assert.That(File.Exists(path), Is.True, path);
    }

    [Test]
    public void BuildInfo_NamesTheXnnpackCommit() =>
        Assert.That(XnnKleidiLibrary.BuildInfo, Does.Contain("xnnpack"));

    [Test]
    public void RuntimeFlags_AreTheFlagsLinearCreatesItsRuntimeWith() =>
        Assert.That(XnnKleidiLibrary.RuntimeFlags, Is.EqualTo(Linear.RuntimeFlags));
}
