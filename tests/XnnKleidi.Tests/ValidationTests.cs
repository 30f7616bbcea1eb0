using NUnit.Framework;
using XnnKleidi.Internal;
using XnnKleidi.Interop;
using XnnKleidi.Tests.Support;

namespace XnnKleidi.Tests;

/// <summary>Every invalid argument is refused in managed code, before anything reaches XNNPACK, naming the argument.</summary>
[TestFixture]
public sealed class ValidationTests
{
    private const int K = 64;
    private const int N = 4;
    private static readonly float[] Weights = TestData.Uniform(N * K, -1f, 1f, seed: 1);

    [TestCase(0, N, "inputChannels")]
    [TestCase(-1, N, "inputChannels")]
    [TestCase(K, 0, "outputChannels")]
    [TestCase(K, -3, "outputChannels")]
    public void Create_NonPositiveChannels_ThrowsOutOfRange(int k, int n, string parameter)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Linear.Create(k, n, Weights, WeightScheme.Qc8w));
        Assert.That(ex!.ParamName, Is.EqualTo(parameter));
    }

    [Test]
    public void Create_WeightsOfWrongLength_ThrowsNamingWeights()
    {
        var ex = Assert.Throws<ArgumentException>(() => Linear.Create(K, N, Weights.AsSpan(1), WeightScheme.Qc8w));
        Assert.That(ex!.ParamName, Is.EqualTo("weights"));
    }

    [TestCase(float.NaN)]
    [TestCase(float.PositiveInfinity)]
    [TestCase(float.NegativeInfinity)]
    public void Quantize_NonFiniteWeight_ThrowsNamingWeights(float bad)
    {
        float[] weights = (float[])Weights.Clone();
        weights[37] = bad;
        foreach (WeightScheme scheme in Enum.GetValues<WeightScheme>())
        {
            var ex = Assert.Throws<ArgumentException>(() => LinearWeights.Quantize(weights, N, K, scheme), scheme.ToString());
            Assert.That(ex!.ParamName, Is.EqualTo("weights"), scheme.ToString());
        }
    }

    [Test]
    public void Quantize_Qb4wWithKNotAMultipleOfTheBlock_ThrowsNamingInputChannels()
    {
        var ex = Assert.Throws<ArgumentException>(() => LinearWeights.Quantize(new float[N * 48], N, 48, WeightScheme.Qb4w, blockSize: 32));
        Assert.That(ex!.ParamName, Is.EqualTo("inputChannels"));
    }

    [TestCase(0)]
    [TestCase(16)]
    [TestCase(48)]
    [TestCase(-32)]
    public void Quantize_Qb4wBlockSizeNotAPositiveMultipleOf32_ThrowsOutOfRange(int blockSize)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => LinearWeights.Quantize(Weights, N, K, WeightScheme.Qb4w, blockSize));
        Assert.That(ex!.ParamName, Is.EqualTo("blockSize"));
    }

    [Test]
    public void Quantize_UnknownScheme_ThrowsOutOfRange()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => LinearWeights.Quantize(Weights, N, K, (WeightScheme)42));
        Assert.That(ex!.ParamName, Is.EqualTo("scheme"));
    }

    [Test]
    public void Quantize_MoreWeightsThanAnArrayHolds_ThrowsNamingInputChannels()
    {
        // 2^20 × 2^20 overflows int; it must be refused, not wrapped around.
        var ex = Assert.Throws<ArgumentException>(() => LinearWeights.Quantize(ReadOnlySpan<float>.Empty, 1 << 20, 1 << 20, WeightScheme.Qc8w));
        Assert.That(ex!.ParamName, Is.EqualTo("inputChannels"));
    }

    [TestCase(0f)]
    [TestCase(-0.5f)]
    [TestCase(float.NaN)]
    [TestCase(float.PositiveInfinity)]
    [TestCase(1e-40f)] // subnormal: XNNPACK rejects it
    public void FromQc8w_BadScale_ThrowsNamingScales(float bad)
    {
        float[] scales = [0.1f, 0.1f, bad, 0.1f];
        var ex = Assert.Throws<ArgumentException>(() => LinearWeights.FromQc8w(new sbyte[N * K], scales, N, K));
        Assert.That(ex!.ParamName, Is.EqualTo("scales"));
    }

    [Test]
    public void FromQc8w_WrongLengths_NameTheArgument()
    {
        Assert.That(Assert.Throws<ArgumentException>(() => LinearWeights.FromQc8w(new sbyte[(N * K) - 1], [1f, 1f, 1f, 1f], N, K))!.ParamName, Is.EqualTo("values"));
        Assert.That(Assert.Throws<ArgumentException>(() => LinearWeights.FromQc8w(new sbyte[N * K], [1f, 1f, 1f], N, K))!.ParamName, Is.EqualTo("scales"));
    }

    [Test]
    public void FromQc4w_WrongPackedLength_ThrowsNamingPackedValues()
    {
        // K = 3, N = 3: three rows of two bytes (the last nibble of each is padding).
        var ex = Assert.Throws<ArgumentException>(() => LinearWeights.FromQc4w(new byte[5], [1f, 1f, 1f], 3, 3));
        Assert.That(ex!.ParamName, Is.EqualTo("packedValues"));
        Assert.DoesNotThrow(() => LinearWeights.FromQc4w(new byte[6], [1f, 1f, 1f], 3, 3));
    }

    [TestCase((ushort)0x7FC0)] // NaN
    [TestCase((ushort)0x7F80)] // +Inf
    [TestCase((ushort)0x0000)] // 0
    [TestCase((ushort)0xBF80)] // -1
    public void FromQb4w_BadScale_ThrowsNamingBf16Scales(ushort bad)
    {
        ushort[] scales = [0x3F80, bad, 0x3F80, 0x3F80, 0x3F80, 0x3F80, 0x3F80, 0x3F80];
        var ex = Assert.Throws<ArgumentException>(() => LinearWeights.FromQb4w(new byte[N * K / 2], scales, N, K));
        Assert.That(ex!.ParamName, Is.EqualTo("bf16Scales"));
    }

    [Test]
    public void Create_WeightsOfAnotherShape_ThrowsNamingWeights()
    {
        LinearWeights weights = LinearWeights.Quantize(Weights, N, K, WeightScheme.Qc8w);
        var ex = Assert.Throws<ArgumentException>(() => Linear.Create(N, K, weights));
        Assert.That(ex!.ParamName, Is.EqualTo("weights"));
    }

    [Test]
    public void Create_NullWeights_ThrowsArgumentNull()
    {
        var ex = Assert.Throws<ArgumentNullException>(() => Linear.Create(K, N, (LinearWeights)null!));
        Assert.That(ex!.ParamName, Is.EqualTo("weights"));
    }

    [Test]
    public void Create_BiasOfWrongLengthOrNotFinite_ThrowsNamingBias()
    {
        Assert.That(Assert.Throws<ArgumentException>(() => Linear.Create(K, N, Weights, WeightScheme.Qc8w, bias: new float[N + 1]))!.ParamName, Is.EqualTo("bias"));
        Assert.That(Assert.Throws<ArgumentException>(() => Linear.Create(K, N, Weights, WeightScheme.Qc8w, bias: [0f, float.NaN, 0f, 0f]))!.ParamName, Is.EqualTo("bias"));
    }

    [TestCase(float.NaN, 1f, "outputMin")]
    [TestCase(0f, float.NaN, "outputMax")]
    [TestCase(1f, 1f, "outputMin")]
    [TestCase(2f, 1f, "outputMin")]
    public void Create_InvalidClamp_ThrowsNamingTheBound(float min, float max, string parameter)
    {
        var ex = Assert.Throws<ArgumentException>(() => Linear.Create(K, N, Weights, WeightScheme.Qc8w, outputMin: min, outputMax: max));
        Assert.That(ex!.ParamName, Is.EqualTo(parameter));
    }

    [Test]
    public void Create_UnknownPackingMode_ThrowsNamingOptions()
    {
        var ex = Assert.Throws<ArgumentException>(() => Linear.Create(K, N, Weights, WeightScheme.Qc8w, options: new LinearOptions { ActivationPacking = (ActivationPacking)7 }));
        Assert.That(ex!.ParamName, Is.EqualTo("options"));
    }

    [Test]
    public void Create_AutoTuningBatchWhoseBufferOverflows_ThrowsNamingOptions()
    {
        var options = new LinearOptions { ActivationPacking = ActivationPacking.Auto, AutoTuningBatch = int.MaxValue / 2 };
        var ex = Assert.Throws<ArgumentException>(() => Linear.Create(K, N, Weights, WeightScheme.Qc4w, options: options));
        Assert.That(ex!.ParamName, Is.EqualTo("options"));
    }

    [Test]
    public void Options_NonPositiveBudgetOrBatch_ThrowOutOfRange()
    {
        var options = new LinearOptions();
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => options.AutoTuningBudget = TimeSpan.Zero)!.ParamName, Is.EqualTo("AutoTuningBudget"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => options.AutoTuningBatch = 0)!.ParamName, Is.EqualTo("AutoTuningBatch"));
    }

    [Test]
    public void ThreadPool_LessThanOneThread_ThrowsOutOfRange()
    {
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => new XnnThreadPool(0).Dispose())!.ParamName, Is.EqualTo("threads"));
    }

    [Test]
    public void PaddedInputBuffer_NegativeLength_ThrowsOutOfRange()
    {
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => new PaddedInputBuffer(-1).Dispose())!.ParamName, Is.EqualTo("length"));
    }

    [Test]
    public void Run_NegativeBatch_ThrowsOutOfRange()
    {
        using Linear linear = Linear.Create(K, N, Weights, WeightScheme.Qc8w);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => linear.Run(ReadOnlySpan<float>.Empty, Span<float>.Empty, -1));
        Assert.That(ex!.ParamName, Is.EqualTo("batch"));
    }

    [TestCase(2, (2 * K) - 1, 2 * N, "input")]
    [TestCase(2, (2 * K) + 1, 2 * N, "input")]
    [TestCase(2, 2 * K, (2 * N) - 1, "output")]
    [TestCase(2, 2 * K, (2 * N) + 1, "output")]
    [TestCase(0, 1, 0, "input")]
    public void Run_WrongLengths_ThrowNamingTheSpan(int batch, int inputLength, int outputLength, string parameter)
    {
        using Linear linear = Linear.Create(K, N, Weights, WeightScheme.Qc8w);
        var ex = Assert.Throws<ArgumentException>(() => linear.Run(new float[inputLength], new float[outputLength], batch));
        Assert.That(ex!.ParamName, Is.EqualTo(parameter));
    }

    [Test]
    public void Run_BatchWhoseSizeOverflowsInt_ThrowsNamingInput()
    {
        using Linear linear = Linear.Create(K, N, Weights, WeightScheme.Qc8w);
        // int.MaxValue × 64 wraps around in 32-bit arithmetic; the check must not.
        var ex = Assert.Throws<ArgumentException>(() => linear.Run(new float[64], new float[4], int.MaxValue));
        Assert.That(ex!.ParamName, Is.EqualTo("input"));
    }

    [Test]
    public void Run_PaddedBufferTooShortOrNull_ThrowsNamingInput()
    {
        using Linear linear = Linear.Create(K, N, Weights, WeightScheme.Qc8w);
        using var shortBuffer = new PaddedInputBuffer((2 * K) - 1);
        Assert.That(Assert.Throws<ArgumentException>(() => linear.Run(shortBuffer, new float[2 * N], 2))!.ParamName, Is.EqualTo("input"));
        Assert.That(Assert.Throws<ArgumentNullException>(() => linear.Run((PaddedInputBuffer)null!, new float[2 * N], 2))!.ParamName, Is.EqualTo("input"));
    }

    [Test]
    public void Run_OutputInsideThePaddedInput_ThrowsNamingOutput()
    {
        using Linear linear = Linear.Create(K, N, Weights, WeightScheme.F32);
        using var buffer = new PaddedInputBuffer(K + N);
        var ex = Assert.Throws<ArgumentException>(() => linear.Run(buffer, buffer.Span.Slice(K - 1, N), 1));
        Assert.That(ex!.ParamName, Is.EqualTo("output"));
        Assert.DoesNotThrow(() => linear.Run(buffer, buffer.Span.Slice(K, N), 1), "right after the rows it reads is fine");
    }

    [Test]
    public void Run_AfterDispose_ThrowsObjectDisposed_AndDisposeTwiceIsHarmless()
    {
        Linear linear = Linear.Create(K, N, Weights, WeightScheme.Qc8w);
        linear.Dispose();
        Assert.DoesNotThrow(linear.Dispose);
        Assert.Throws<ObjectDisposedException>(() => linear.Run(new float[K], new float[N], 1));
        Assert.Throws<ObjectDisposedException>(() => linear.Run(new float[0], new float[0], 0));
    }

    [Test]
    public void Run_DisposedPaddedBuffer_ThrowsObjectDisposed()
    {
        using Linear linear = Linear.Create(K, N, Weights, WeightScheme.Qc8w);
        var buffer = new PaddedInputBuffer(K);
        buffer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => linear.Run(buffer, new float[N], 1));
        Assert.Throws<ObjectDisposedException>(() => _ = buffer.Span);
    }

    [Test]
    public void Create_WithDisposedSharedObjects_ThrowsObjectDisposed()
    {
        var pool = new XnnThreadPool(1);
        pool.Dispose();
        Assert.Throws<ObjectDisposedException>(() => Linear.Create(K, N, Weights, WeightScheme.Qc8w, options: new LinearOptions { ThreadPool = pool }));
        var cache = new XnnWeightsCache();
        cache.Dispose();
        Assert.Throws<ObjectDisposedException>(() => Linear.Create(K, N, Weights, WeightScheme.Qc8w, options: new LinearOptions { WeightsCache = cache }));
        var workspace = new XnnWorkspace();
        workspace.Dispose();
        Assert.Throws<ObjectDisposedException>(() => Linear.Create(K, N, Weights, WeightScheme.Qc8w, options: new LinearOptions { Workspace = workspace }));
    }

    [Test]
    public void KernelName_NonPositiveBatch_ThrowsOutOfRange()
    {
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => ActivationPackingSupport.GetKleidiAIKernelName(WeightScheme.Qc4w, 0))!.ParamName, Is.EqualTo("batch"));
    }

    private static IEnumerable<TestCaseData> StatusMappings()
    {
        // The status travels as an int: the generated enum is internal, and this method is public.
        yield return new TestCaseData((int)xnn_status.xnn_status_invalid_parameter, XnnStatus.InvalidParameter);
        yield return new TestCaseData((int)xnn_status.xnn_status_invalid_state, XnnStatus.InvalidState);
        yield return new TestCaseData((int)xnn_status.xnn_status_uninitialized, XnnStatus.Uninitialized);
        yield return new TestCaseData((int)xnn_status.xnn_status_reallocation_required, XnnStatus.ReallocationRequired);
        yield return new TestCaseData((int)xnn_status.xnn_status_out_of_memory, XnnStatus.OutOfMemory);
        yield return new TestCaseData((int)xnn_status.xnn_status_unsupported_parameter, XnnStatus.UnsupportedParameter);
        yield return new TestCaseData((int)xnn_status.xnn_status_deprecated, XnnStatus.Deprecated);
        yield return new TestCaseData(99, XnnStatus.InvalidState);
    }

    [TestCaseSource(nameof(StatusMappings))]
    public void StatusMapping_EveryStatus_GivesXnnPackExceptionWithStatusAndOperation(int status, XnnStatus expected)
    {
        Exception ex = Ensure.Failure((xnn_status)status, "xnn_reshape_runtime");

        Assert.Multiple(() =>
        {
            Assert.That(ex, Is.TypeOf<XnnPackException>());
            Assert.That(((XnnPackException)ex).Status, Is.EqualTo(expected));
            Assert.That(((XnnPackException)ex).Operation, Is.EqualTo("xnn_reshape_runtime"));
            Assert.That(ex.Message, Does.Contain("xnn_reshape_runtime").And.Contain($"({status})"));
        });
    }

    [Test]
    public void StatusMapping_UnsupportedHardware_IsPlatformNotSupportedWrappingTheStatus()
    {
        Exception ex = Ensure.Failure(xnn_status.xnn_status_unsupported_hardware, "xnn_initialize");

        Assert.That(ex, Is.TypeOf<PlatformNotSupportedException>());
        Assert.That(ex.InnerException, Is.TypeOf<XnnPackException>());
        Assert.That(((XnnPackException)ex.InnerException!).Status, Is.EqualTo(XnnStatus.UnsupportedHardware));
        Assert.That(ex.Message, Does.Contain("does not support this CPU"));
    }

    [Test]
    public void StatusMapping_OutOfMemory_IsNotAnOutOfMemoryException()
    {
        // Code that treats OutOfMemoryException as fatal must not end a process over one native allocation.
        Assert.That(Ensure.Failure(xnn_status.xnn_status_out_of_memory, "xnn_create_runtime_v4"), Is.Not.InstanceOf<OutOfMemoryException>());
    }

    [Test]
    public void XnnStatus_MatchesTheCEnumValueForValue()
    {
        foreach (xnn_status status in Enum.GetValues<xnn_status>())
        {
            string expected = string.Concat(status.ToString()["xnn_status_".Length..].Split('_').Select(word => char.ToUpperInvariant(word[0]) + word[1..]));
            Assert.That(((XnnStatus)(int)status).ToString(), Is.EqualTo(expected), status.ToString());
        }

        Assert.That(Enum.GetValues<XnnStatus>(), Has.Length.EqualTo(Enum.GetValues<xnn_status>().Length));
    }

    [Test]
    public void StatusMapping_Success_DoesNotThrow()
    {
        Assert.DoesNotThrow(() => Ensure.Success(xnn_status.xnn_status_success, "xnn_invoke_runtime"));
    }
}
