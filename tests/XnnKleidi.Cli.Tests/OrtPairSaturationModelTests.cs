using NUnit.Framework;
using XnnKleidi.Cli.Bench;
using XnnKleidi.Oracle;

namespace XnnKleidi.Cli.Tests;

/// <summary>The two integer models of ONNX Runtime's DynamicQuantizeMatMul, judged by the float64 oracle.</summary>
public class OrtPairSaturationModelTests
{
    // Inputs in [-2, 2] put the zero point near 128, so u8 values reach 255 and pairs of full-range weights pass int16.
    private static readonly BenchData Data = new(WeightScheme.Qc8w, 8, 256, 48, 32, 42);

    [Test]
    public void ExactPairs_StayWithinTheOraclesPerTensorBound()
    {
        CheckResult check = new LayerReference(Data).Check(OrtPairSaturationModel.Output(Data, saturatePairs: false), ActivationQuantization.PerTensor);
        Assert.That(check.Passed, Is.True, check.Failure);
    }

    [Test]
    public void SaturatingPairs_OfFullRangeWeights_FailTheBound()
    {
        CheckResult check = new LayerReference(Data).Check(OrtPairSaturationModel.Output(Data, saturatePairs: true), ActivationQuantization.PerTensor);
        Assert.That(check.Passed, Is.False);
    }

    [Test]
    public void SevenBitWeights_CannotSaturate_BothModelsAgree()
    {
        BenchData reduced = Data.WithReducedRangeWeights();
        Assert.That(OrtPairSaturationModel.Output(reduced, saturatePairs: true), Is.EqualTo(OrtPairSaturationModel.Output(reduced, saturatePairs: false)));
        Assert.That(reduced.Qc8wWeights.Max(w => Math.Abs((int)w)), Is.LessThanOrEqualTo(BenchData.ReducedRangeLimit));
    }

    [Test]
    public void OnAVnniCore_OnnxRuntime_FollowsTheExactModel()
    {
        Assume.That((XnnKleidiLibrary.CpuFeatures & (CpuFeatures.X86Avx512Vnni | CpuFeatures.X86AvxVnni)) != 0, "a VNNI core");
        using var runner = new OrtRunner(Data, 1);
        runner.Run();

        string diagnosis = OrtPairSaturationModel.Diagnose(Data, new LayerReference(Data), runner.Output);

        Assert.That(diagnosis, Does.StartWith("follows the model with exact int32 pair sums"));
    }
}
