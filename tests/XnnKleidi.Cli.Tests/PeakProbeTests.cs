using System.Runtime.InteropServices;
using NUnit.Framework;
using XnnKleidi.Cli.Bench;

namespace XnnKleidi.Cli.Tests;

/// <summary>Peak probes: chosen by CPU feature, and each one this CPU has runs and reports a figure.</summary>
public class PeakProbeTests
{
    private const CpuFeatures Avx2Core = CpuFeatures.X86Avx2 | CpuFeatures.X86Fma3;

    private const CpuFeatures AvxVnniAvx512Core = Avx2Core | CpuFeatures.X86Avx512f | CpuFeatures.X86Avx512Skx |
        CpuFeatures.X86Avx512Vnni | CpuFeatures.X86AvxVnni;

    private static string[] Names(Architecture architecture, CpuFeatures features) =>
        [.. PeakProbes.Select(architecture, features).Select(p => p.Name)];

    [Test]
    public void Avx2Core_GetsBothAvx2Int8FamiliesAndFma3_AndNoVnni() =>
        Assert.That(Names(Architecture.X64, Avx2Core), Is.EqualTo(new[] { "avx2-vpmaddubsw", "avx2-vpmaddwd", "fma3" }));

    [Test]
    public void Avx512VnniCore_GetsEveryFamilyItHas_ButNotAmx() =>
        Assert.That(Names(Architecture.X64, AvxVnniAvx512Core), Is.EqualTo(new[]
        {
            "avx512vnni-zmm", "avx512vnni-ymm", "avxvnni", "avx512bw-vpmaddwd", "avx2-vpmaddubsw", "avx2-vpmaddwd",
            "avx512f-fma", "fma3",
        }));

    [Test]
    public void AmxCore_GetsAmx() =>
        Assert.That(Names(Architecture.X64, AvxVnniAvx512Core | CpuFeatures.X86Avx512Amx), Does.Contain("amx-int8"));

    [Test]
    public void ArmCores_GetDotProductFamiliesByFeature_AndSme2IsIdentifiedOnly()
    {
        Assert.That(Names(Architecture.Arm64, CpuFeatures.ArmNeon), Is.EqualTo(new[] { "neon-fmla" }));
        Assert.That(Names(Architecture.Arm64, CpuFeatures.ArmNeon | CpuFeatures.ArmDotprod), Is.EqualTo(new[] { "sdot", "neon-fmla" }));
        IReadOnlyList<PeakProbe> max = PeakProbes.Select(Architecture.Arm64,
            CpuFeatures.ArmNeon | CpuFeatures.ArmDotprod | CpuFeatures.ArmI8mm | CpuFeatures.ArmSme | CpuFeatures.ArmSme2);
        Assert.That(max.Select(p => p.Name), Is.EqualTo(new[] { "sme2-mopa", "smmla", "sdot", "neon-fmla" }));
        Assert.That(max.Single(p => p.Name == "sme2-mopa").Timed, Is.False);
    }

    [Test]
    public void UnderEmulation_TheFamiliesAreIdentified_AndNoneIsTimed()
    {
        var options = new BenchOptions { Shapes = [], Schemes = [WeightScheme.Qc8w], Packings = [ActivationPacking.Off], Threads = [1], ComparePeak = true };
        const CpuFeatures max = CpuFeatures.ArmNeon | CpuFeatures.ArmDotprod | CpuFeatures.ArmI8mm | CpuFeatures.ArmSme2;
        var report = new BenchReport
        {
            Options = options,
            Host = new HostSummary("linux-arm64", "QEMU max", "", "", "qemu-aarch64", ".NET", max, Architecture.Arm64),
        };

        new BenchEngine(options, (data, packing, threads) => new StubLayer(data)).Run(report, null, null, null);

        Assert.That(report.Peaks.Select(p => p.Probe), Is.EqualTo(new[] { "sme2-mopa", "smmla", "sdot", "neon-fmla" }));
        Assert.That(report.Peaks.Select(p => p.Gops), Is.All.Null);
        Assert.That(report.Peaks.Select(p => p.Note), Is.All.EqualTo("identified; not timed: the CPU is emulated"));
    }

    [TestCase(WeightScheme.Qc8w, "xnn_qd8_f32_qc8w_gemm_minmax_ukernel_4x8c8__avx2", "avx2-vpmaddwd")]
    [TestCase(WeightScheme.Qc8w, "xnn_qd8_f32_qc8w_gemm_minmax_ukernel_10x16c8__avx512vnni_prfm", "avx512vnni-zmm")]
    [TestCase(WeightScheme.Qc8w, "xnn_qd8_f32_qc8w_gemm_minmax_ukernel_5x8c8__avx256vnni", "avx512vnni-ymm")]
    [TestCase(WeightScheme.Qc4w, "xnn_qd8_f32_qc4w_gemm_minmax_ukernel_5x8c8__avxvnni_prfm", "avxvnni")]
    [TestCase(WeightScheme.Qc8w, "xnn_qd8_f32_qc8w_gemm_minmax_ukernel_7x16c8__avx512skx", "avx512bw-vpmaddwd")]
    [TestCase(WeightScheme.Qb4w, "xnn_qd8_f32_qb4w_gemm_minmax_ukernel_14x16c8__avx512vnnigfni_prfm", "avx512vnni-zmm")]
    [TestCase(WeightScheme.Qc8w, "xnn_qd8_f32_qc8w_gemm_minmax_ukernel_16x64c4__avx512amx", "amx-int8")]
    [TestCase(WeightScheme.Qc8w, "Fully Connected (NC, QD8, F32, QC8W) GEMM", null)]
    public void X64Gemm_BelongsToTheFamilyItsQd8KernelNames(WeightScheme scheme, string kernel, string? family) =>
        Assert.That(PeakProbes.FamilyOf(Architecture.X64, CpuFeatures.X86Avx2, scheme, kernel), Is.EqualTo(family));

    [TestCase(AvxVnniAvx512Core, "avx512f-fma")]
    [TestCase(Avx2Core, "fma3")]
    public void X64Fp32Gemm_BelongsToTheFmaFamilyTheCpuHas(CpuFeatures features, string family) =>
        Assert.That(PeakProbes.FamilyOf(Architecture.X64, features, WeightScheme.F32, null), Is.EqualTo(family));

    [TestCase("xnn_qd8_f32_qc8w_gemm_minmax_ukernel_4x16c8__neoni8mm", "smmla")]
    [TestCase("xnn_qd8_f32_qc4w_gemm_minmax_ukernel_4x16c4__neondot", "sdot")]
    [TestCase("xnn_qd8_f32_qc8w_gemm_minmax_ukernel_2x8c2s4__neon_mlal", null)]
    public void ArmUnpackedGemm_BelongsToTheFamilyItsQd8KernelNames(string kernel, string? family) =>
        Assert.That(PeakProbes.FamilyOf(Architecture.Arm64, CpuFeatures.ArmNeon, WeightScheme.Qc8w, kernel), Is.EqualTo(family));

    [Test]
    public void ArmPackedGemm_BelongsToTheFamilyItsKleidiAIKernelNames()
    {
        const CpuFeatures max = CpuFeatures.ArmNeon | CpuFeatures.ArmDotprod | CpuFeatures.ArmI8mm;
        Assert.That(PeakProbes.FamilyOf(Architecture.Arm64, max, WeightScheme.Qc4w, "kai_matmul_clamp_f32_qai8dxp4x8_qsi4cxp8x8_8x8x32_neon_i8mm"), Is.EqualTo("smmla"));
        Assert.That(PeakProbes.FamilyOf(Architecture.Arm64, max, WeightScheme.Qc4w, "kai_matmul_clamp_f32_qai8dxp1x8_qsi4cxp8x8_1x8x32_neon_dotprod"), Is.EqualTo("sdot"));
        Assert.That(PeakProbes.FamilyOf(Architecture.Arm64, CpuFeatures.ArmNeon, WeightScheme.Qc8w, null), Is.Null);
    }

    [Test]
    public void EveryProbeThisCpuHas_RunsInTheHarness_AndReportsAPositiveFigure()
    {
        IReadOnlyList<PeakProbe> probes = PeakProbes.Select(RuntimeInformation.ProcessArchitecture, XnnKleidiLibrary.CpuFeatures);
        Assert.That(probes, Is.Not.Empty);
        using NativeHarness harness = NativeHarness.Start();
        IReadOnlyList<string> harnessProbes = harness.SupportedProbes();
        foreach (PeakProbe probe in probes)
        {
            // The harness's own check of the CPU agrees with the library's features.
            Assert.That(harnessProbes, Does.Contain(probe.Name));
            PeakAnswer answer = harness.Peak(probe.Name, 5);
            if (probe.Timed)
            {
                Assert.That(answer.Gops, Is.GreaterThan(0), probe.Name);
            }
            else
            {
                Assert.That((answer.Gops, answer.NotTimedReason), Is.EqualTo(((double?)null, "identified; no timed probe for this instruction")), probe.Name);
            }
        }
    }

    [Test]
    public void ProbeTheCpuLacks_IsRefusedByTheHarness_NotRun()
    {
        PeakProbe? missing = (RuntimeInformation.ProcessArchitecture == Architecture.X64 ? PeakProbes.X64 : PeakProbes.Arm64)
            .FirstOrDefault(p => (XnnKleidiLibrary.CpuFeatures & p.Requires) != p.Requires);
        Assume.That(missing, Is.Not.Null, "this CPU has every probed family");
        using NativeHarness harness = NativeHarness.Start();

        Assert.That(harness.SupportedProbes(), Does.Not.Contain(missing!.Name));
        Assert.That(() => harness.Peak(missing.Name, 5), Throws.InvalidOperationException.With.Message.Contains("unsupported"));
    }
}
