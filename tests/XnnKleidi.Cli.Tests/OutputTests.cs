using System.Text.Json;
using Google.Protobuf;
using NUnit.Framework;
using XnnKleidi.Cli.Bench;
using XnnKleidi.Cli.Onnx;
using XnnKleidi.Cli.Output;
using XnnKleidi.Oracle;

namespace XnnKleidi.Cli.Tests;

public class OutputTests
{
    private static BenchReport SampleReport()
    {
        var options = new BenchOptions
        {
            Shapes = [new LayerShape("custom", "a,\"b\"", 4, 64, 8)],
            Schemes = [WeightScheme.Qc8w],
            Packings = [ActivationPacking.Off],
            Threads = [2],
        };
        var report = new BenchReport { Options = options, Host = new HostSummary("linux-x64", "Test CPU", "avx2 fma3", "xnnpack=abc", null, ".NET") };
        report.Cases.Add(new CaseResult
        {
            Shape = options.Shapes[0], Scheme = WeightScheme.Qc8w, Threads = 2, Packing = ActivationPacking.Off, Backend = Backend.XnnKleidi,
            Statistics = TimingStatistics.FromNanoseconds([1000, 2000, 3000]),
            Operators = ["Convert (NC, F32, QD8)", "Fully Connected (NC, QD8, F32, QC8W) GEMM"],
            PackingActive = false, Kernel = "Fully Connected (NC, QD8, F32, QC8W) GEMM",
        });
        return report;
    }

    [Test]
    public void Json_RecordsCarryExecuTorchFieldsPlusOurs()
    {
        using var json = JsonDocument.Parse(RecordWriters.ToJson(SampleReport()));
        var first = json.RootElement[0];
        Assert.That(first.GetProperty("benchmarkModel").GetProperty("name").GetString(), Is.EqualTo("custom/a,\"b\""));
        Assert.That(first.GetProperty("benchmarkModel").GetProperty("backend").GetString(), Is.EqualTo("xnnkleidi"));
        Assert.That(first.GetProperty("benchmarkModel").GetProperty("quantization").GetString(), Is.EqualTo("qd8-qc8w"));
        Assert.That(first.GetProperty("metric").GetString(), Is.EqualTo("p50_latency_us"));
        Assert.That(first.GetProperty("actualValue").GetDouble(), Is.EqualTo(2.0));
        foreach (string field in new[] { "targetValue", "arch", "device", "os", "rid", "cpuFeatures", "threads", "kernel" })
        {
            Assert.That(first.TryGetProperty(field, out _), Is.True, field);
        }
        Assert.That(first.GetProperty("threads").GetInt32(), Is.EqualTo(2));
    }

    [Test]
    public void Json_RecordsCarryTheSchemaVersion_TheMediansInterval_AndTheStability()
    {
        using var json = JsonDocument.Parse(RecordWriters.ToJson(SampleReport()));
        JsonElement[] records = [.. json.RootElement.EnumerateArray()];
        Assert.That(records.Select(r => r.GetProperty("schemaVersion").GetInt32()), Is.All.EqualTo(RecordWriters.SchemaVersion));
        Assert.That(RecordWriters.SchemaVersion, Is.EqualTo(3));
        // Three samples are too few for a 95 % interval of the median: no interval record, and the case is unstable.
        Assert.That(records.Select(r => r.GetProperty("metric").GetString()), Has.None.StartWith("p50_ci95"));
        Assert.That(records[0].GetProperty("stable").GetBoolean(), Is.False);
    }

    [Test]
    public void Plot_WritesTheRatioChartAndTheP50ChartBesideIt()
    {
        string directory = Directory.CreateTempSubdirectory("xnnkleidi-plot-").FullName;
        try
        {
            string path = Path.Combine(directory, "bench.png");
            PlotWriter.Write(SampleReport(), path);

            byte[] pngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G'];
            Assert.That(PlotWriter.P50ChartPath(path), Is.EqualTo(Path.Combine(directory, "bench-p50.png")));
            Assert.That(File.ReadAllBytes(path).Take(4), Is.EqualTo(pngSignature));
            Assert.That(File.ReadAllBytes(PlotWriter.P50ChartPath(path)).Take(4), Is.EqualTo(pngSignature));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Test]
    public void Csv_HasOneHeaderAndOneRowPerCase_WithQuotedFields()
    {
        string[] lines = RecordWriters.ToCsv(SampleReport()).TrimEnd().Split('\n');
        Assert.That(lines, Has.Length.EqualTo(2));
        Assert.That(lines[0].Split(','), Is.EqualTo(RecordWriters.CsvColumns));
        Assert.That(lines[1], Does.StartWith("custom,\"a,\"\"b\"\"\",4,64,8,qc8w,2,off,xnnkleidi,"));
    }

    // Field numbers of onnx/onnx.proto, the specification, written here independently of the CLI's
    // onnx-subset.proto: the model is decoded with Google.Protobuf's schema-less wire reader, so a wrong
    // field number or type in the CLI's schema fails these tests.
    private const int ModelIrVersion = 1;
    private const int ModelGraph = 7;
    private const int ModelOpsetImport = 8;
    private const int OperatorSetDomain = 1;
    private const int GraphNode = 1;
    private const int GraphInitializer = 5;
    private const int GraphInput = 11;
    private const int GraphOutput = 12;
    private const int NodeOpType = 4;
    private const int NodeDomain = 7;
    private const int ValueInfoName = 1;
    private const int ValueInfoType = 2;
    private const int TypeTensorType = 1;
    private const int TensorTypeShape = 2;
    private const int ShapeDim = 1;
    private const int DimensionValue = 1;
    private const int TensorDataType = 2;
    private const int TensorName = 8;
    private const int TensorRawData = 9;
    private const int TensorDataTypeFloat = 1;

    // Schemes by name: NUnit test methods are public, and a TestCase argument must be a constant.
    [TestCase("Qc8w", "DynamicQuantizeMatMul", "com.microsoft")]
    [TestCase("Qb4w", "MatMulNBits", "com.microsoft")]
    [TestCase("F32", "Gemm", "")]
    public void OnnxModel_ReadWithTheSpecificationsFieldNumbers_HasTheLayersOperatorAndShapes(string schemeName, string op, string domain)
    {
        var data = new BenchData(Enum.Parse<WeightScheme>(schemeName), 3, 64, 5, 32, 1);
        WireMessage model = WireMessage.Parse(ByteString.CopyFrom(OnnxModelBuilder.Serialize(data)));
        WireMessage graph = model.Message(ModelGraph);
        WireMessage node = graph.Messages(GraphNode).Single();
        WireMessage input = graph.Messages(GraphInput).Single();
        WireMessage[] dims = input.Message(ValueInfoType).Message(TypeTensorType).Message(TensorTypeShape).Messages(ShapeDim);

        Assert.That(model.Varint(ModelIrVersion), Is.EqualTo(10));
        Assert.That(node.Text(NodeOpType), Is.EqualTo(op));
        Assert.That(node.Text(NodeDomain), Is.EqualTo(domain));
        Assert.That(model.Messages(ModelOpsetImport).Select(opset => opset.Text(OperatorSetDomain)), Does.Contain(domain));
        Assert.That(dims.Select(dim => dim.Varint(DimensionValue)), Is.EqualTo(new ulong[] { 3, 64 }));
        Assert.That(graph.Messages(GraphOutput).Single().Text(ValueInfoName), Is.EqualTo(OnnxModelBuilder.OutputName));
    }

    [Test]
    public void OnnxModel_F32Weights_AreAFloatTensorOfTheGeneratedWeightsRawBytes()
    {
        var data = new BenchData(WeightScheme.F32, 3, 64, 5, 32, 1);
        WireMessage graph = WireMessage.Parse(ByteString.CopyFrom(OnnxModelBuilder.Serialize(data))).Message(ModelGraph);
        WireMessage weights = graph.Messages(GraphInitializer).Single(tensor => tensor.Text(TensorName) == "w");
        byte[] expected = new byte[data.F32Weights.Length * sizeof(float)];
        Buffer.BlockCopy(data.F32Weights, 0, expected, 0, expected.Length);

        Assert.That(weights.Varint(TensorDataType), Is.EqualTo(TensorDataTypeFloat));
        Assert.That(weights.Bytes(TensorRawData).ToByteArray(), Is.EqualTo(expected));
    }

    /// <summary>A protobuf message decoded without a schema: each field number with its raw values.</summary>
    private sealed class WireMessage
    {
        private readonly Dictionary<int, List<object>> fields;

        private WireMessage(Dictionary<int, List<object>> fields)
        {
            this.fields = fields;
        }

        public static WireMessage Parse(ByteString bytes)
        {
            var fields = new Dictionary<int, List<object>>();
            var input = new CodedInputStream(bytes.ToByteArray());
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                object value = WireFormat.GetTagWireType(tag) switch
                {
                    WireFormat.WireType.Varint => input.ReadUInt64(),
                    WireFormat.WireType.LengthDelimited => input.ReadBytes(),
                    WireFormat.WireType.Fixed32 => input.ReadFixed32(),
                    WireFormat.WireType.Fixed64 => input.ReadFixed64(),
                    WireFormat.WireType other => throw new InvalidDataException($"unexpected wire type {other}"),
                };
                int number = WireFormat.GetTagFieldNumber(tag);
                if (!fields.TryGetValue(number, out List<object>? values))
                {
                    values = [];
                    fields[number] = values;
                }

                values.Add(value);
            }

            return new WireMessage(fields);
        }

        public ulong Varint(int number) => (ulong)fields[number].Single();

        public ByteString Bytes(int number) => (ByteString)fields[number].Single();

        /// <summary>A string field; an absent one reads as the empty string, its default.</summary>
        public string Text(int number) => fields.TryGetValue(number, out List<object>? values) ? ((ByteString)values.Single()).ToStringUtf8() : "";

        public WireMessage Message(int number) => Parse(Bytes(number));

        public WireMessage[] Messages(int number) =>
            fields.TryGetValue(number, out List<object>? values) ? [.. values.Select(value => Parse((ByteString)value))] : [];
    }

    [TestCase("Qc8w")]
    [TestCase("Qb4w")]
    [TestCase("F32")]
    public void OnnxRuntime_OnTheBuiltModel_MatchesTheReference(string schemeName)
    {
        // ONNX Runtime 1.31.1 dies with SIGSEGV creating a session under qemu-user; the CLI does not
        // run it there either.
        Assume.That(XnnKleidi.Cli.Platform.HostInfo.IsEmulated, Is.False, "ONNX Runtime does not run under qemu-user");
        var scheme = Enum.Parse<WeightScheme>(schemeName);
        var data = new BenchData(scheme, 5, 96, 17, 32, 11);
        using var runner = new OrtRunner(data, 1);
        runner.Run();
        var result = new LayerReference(data).Check(runner.Output, OnnxModelBuilder.ActivationQuantizationFor(scheme));
        Assert.That(result.Passed, Is.True, result.Failure);
    }
}
