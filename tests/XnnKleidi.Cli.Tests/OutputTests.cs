using System.Text.Json;
using Google.Protobuf;
using NUnit.Framework;
using XnnKleidi.Cli.Bench;
using XnnKleidi.Cli.Onnx;
using XnnKleidi.Cli.Onnx.Proto;
using XnnKleidi.Cli.Output;

namespace XnnKleidi.Cli.Tests;

public class OutputTests
{
    private static BenchReport SampleReport()
    {
        var options = new BenchOptions
        {
            Shapes = [new LayerShape("custom", "a,\"b\"", 4, 64, 8)],
            Schemes = [Scheme.Qc8w],
            Packings = [Packing.Off],
            Threads = [2],
        };
        var report = new BenchReport { Options = options, Host = new HostSummary("linux-x64", "Test CPU", "avx2 fma3", "xnnpack=abc", null, ".NET") };
        report.Cases.Add(new CaseResult
        {
            Shape = options.Shapes[0], Scheme = Scheme.Qc8w, Threads = 2, Packing = Packing.Off, Backend = Backend.XnnKleidi,
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
        foreach (var field in new[] { "targetValue", "arch", "device", "os", "rid", "cpuFeatures", "threads", "kernel" })
        {
            Assert.That(first.TryGetProperty(field, out _), Is.True, field);
        }
        Assert.That(first.GetProperty("threads").GetInt32(), Is.EqualTo(2));
    }

    [Test]
    public void Csv_HasOneHeaderAndOneRowPerCase_WithQuotedFields()
    {
        var lines = RecordWriters.ToCsv(SampleReport()).TrimEnd().Split('\n');
        Assert.That(lines, Has.Length.EqualTo(2));
        Assert.That(lines[0].Split(','), Is.EqualTo(RecordWriters.CsvColumns));
        Assert.That(lines[1], Does.StartWith("custom,\"a,\"\"b\"\"\",4,64,8,qc8w,2,off,xnnkleidi,"));
    }

    // Schemes by name: the enum is internal to the CLI, and NUnit test methods are public.
    [TestCase("Qc8w", "DynamicQuantizeMatMul", "com.microsoft")]
    [TestCase("Qb4w", "MatMulNBits", "com.microsoft")]
    [TestCase("F32", "Gemm", "")]
    public void OnnxModel_SurvivesARoundTripThroughTheWireFormat(string schemeName, string op, string domain)
    {
        var data = new BenchData(Enum.Parse<Scheme>(schemeName), 3, 64, 5, 32, 1);
        var bytes = OnnxModelBuilder.Serialize(data);
        var model = ModelProto.Parser.ParseFrom(bytes);
        Assert.That(model.IrVersion, Is.EqualTo(10));
        Assert.That(model.Graph.Node.Single().OpType, Is.EqualTo(op));
        Assert.That(model.Graph.Node.Single().Domain, Is.EqualTo(domain));
        Assert.That(model.Graph.Input.Single().Type.TensorType.Shape.Dim.Select(d => d.DimValue), Is.EqualTo(new long[] { 3, 64 }));
        Assert.That(model.Graph.Output.Single().Name, Is.EqualTo(OnnxModelBuilder.OutputName));
        Assert.That(model.ToByteArray(), Is.EqualTo(bytes));
    }

    [TestCase("Qc8w")]
    [TestCase("Qb4w")]
    [TestCase("F32")]
    public void OnnxRuntime_OnTheBuiltModel_MatchesTheReference(string schemeName)
    {
        // ONNX Runtime 1.31.1 dies with SIGSEGV creating a session under qemu-user; the CLI does not
        // run it there either.
        Assume.That(XnnKleidi.Cli.Platform.HostInfo.IsEmulated, Is.False, "ONNX Runtime does not run under qemu-user");
        var scheme = Enum.Parse<Scheme>(schemeName);
        var data = new BenchData(scheme, 5, 96, 17, 32, 11);
        using var runner = new OrtRunner(data, 1);
        runner.Run();
        var result = new Reference(data).Check(runner.Output, OnnxModelBuilder.ActivationQuantizationFor(scheme));
        Assert.That(result.Passed, Is.True, result.Failure);
    }
}
