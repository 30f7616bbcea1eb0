using System.Diagnostics;
using System.Runtime.CompilerServices;
using NUnit.Framework;
using XnnKleidi.Interop;
using XnnKleidi.Tests.Support;
using static XnnKleidi.Interop.NativeMethods;

namespace XnnKleidi.Tests;

/// <summary>
/// The case that crashed XNNPACK 4ea82e5 (qc8w weights behind the qc4w "maybe pack" flag, a packed input reaching
/// a qc8w node with no QP8 kernel) is driven through the raw bindings, bypassing every check of the safe layer, in a
/// child process so that a crash fails this test instead of killing the run. With patch 0003 XNNPACK must refuse
/// the graph where the flag takes effect (Arm with dotprod or i8mm) and compute it unpacked elsewhere.
/// </summary>
[TestFixture]
[Category(TestCategories.KernelDependent)]
public sealed class OldCrashCaseTests
{
    private const string ProbeVariable = "XNNKLEIDI_OLD_CRASH_PROBE";

    /// <summary>
    /// When the test executable is started with the probe variable set, it runs the probe and exits before the test
    /// platform starts. A module initializer is the one hook that runs that early in the entry assembly.
    /// </summary>
    [ModuleInitializer]
    internal static void RunProbeIfAsked()
    {
        if (Environment.GetEnvironmentVariable(ProbeVariable) == "1")
        {
            Console.Out.WriteLine($"define_fully_connected={DefineQc8wBehindQc4wFlag()}");
            Console.Out.Flush();
            Environment.Exit(0);
        }
    }

    [Test]
    public void Qc8wWeightsBehindTheQc4wFlag_ThroughRawBindings_AreRefusedOrComputedAndNeverCrash()
    {
        TestEnvironment.RequireKnownCpu();
        (int exitCode, string output) = RunChild();

        Assert.That(exitCode, Is.Zero, $"the child process died; its output:\n{output}");
        // Where the flag packs (QEMU max, cortex-a76) XNNPACK must refuse the mismatched layout; where it is a no-op
        // (x86-64, cortex-a72) the graph stays QD8 and is valid.
        string expected = TestEnvironment.HasQp8 ? nameof(xnn_status.xnn_status_invalid_parameter) : nameof(xnn_status.xnn_status_success);
        Assert.That(output, Does.Contain($"define_fully_connected={expected}"));
    }

    private static (int ExitCode, string Output) RunChild()
    {
        ProcessStartInfo start = ChildProcess.StartInfoForThisExecutable();
        start.Environment[ProbeVariable] = "1";
        return ChildProcess.Run(start);
    }

    /// <summary>fp32 → convert with the qc4w flag → fully connected with qc8w weights: the graph that crashed.</summary>
    private static unsafe string DefineQc8wBehindQc4wFlag()
    {
        const int K = 64, N = 8, M = 5;
        xnn_status status = xnn_initialize(null);
        if (status != xnn_status.xnn_status_success)
        {
            return $"initialize:{status}";
        }

        xnn_subgraph* subgraph = null;
        status = xnn_create_subgraph(2, 0, &subgraph);
        if (status != xnn_status.xnn_status_success)
        {
            return $"create_subgraph:{status}";
        }

        try
        {
            // XNNPACK keeps pointers to static weights until the subgraph is gone: keep them on the pinned heap.
            sbyte[] weights = GC.AllocateArray<sbyte>(N * K, pinned: true);
            float[] scales = GC.AllocateArray<float>(N, pinned: true);
            for (int i = 0; i < weights.Length; i++)
            {
                weights[i] = (sbyte)((i * 37 % 255) - 127);
            }
            Array.Fill(scales, 0.02f);

            nuint* inputDims = stackalloc nuint[] { M, K };
            nuint* weightDims = stackalloc nuint[] { N, K };
            nuint* outputDims = stackalloc nuint[] { M, N };
            uint inputId = XNN_INVALID_VALUE_ID, quantizedId = XNN_INVALID_VALUE_ID;
            uint weightId = XNN_INVALID_VALUE_ID, outputId = XNN_INVALID_VALUE_ID;
            status = xnn_define_tensor_value(subgraph, xnn_datatype.xnn_datatype_fp32, 2, inputDims, null, 0,
                XNN_VALUE_FLAG_EXTERNAL_INPUT, &inputId);
            if (status == xnn_status.xnn_status_success)
            {
                status = xnn_define_dynamically_quantized_tensor_value(subgraph, xnn_datatype.xnn_datatype_qdint8, 2, 1,
                    inputDims, XNN_INVALID_VALUE_ID, 0, &quantizedId);
            }
            fixed (sbyte* weightData = weights)
            fixed (float* scaleData = scales)
            {
                if (status == xnn_status.xnn_status_success)
                {
                    status = xnn_define_channelwise_quantized_tensor_value_v2(subgraph, xnn_datatype.xnn_datatype_qcint8,
                        0, scaleData, 2, 0, weightDims, weightData, XNN_INVALID_VALUE_ID, 0, &weightId);
                }
            }
            if (status == xnn_status.xnn_status_success)
            {
                status = xnn_define_tensor_value(subgraph, xnn_datatype.xnn_datatype_fp32, 2, outputDims, null, 1,
                    XNN_VALUE_FLAG_EXTERNAL_OUTPUT, &outputId);
            }
            if (status == xnn_status.xnn_status_success)
            {
                // The qc4w flag on purpose: the safe layer never passes it for qc8w weights.
                status = xnn_define_unary(subgraph, xnn_unary_operator.xnn_unary_convert, null, inputId, quantizedId,
                    XNN_FLAG_MAYBE_PACK_FOR_GEMM);
            }
            if (status != xnn_status.xnn_status_success)
            {
                return $"setup:{status}";
            }

            status = xnn_define_fully_connected(subgraph, float.NegativeInfinity, float.PositiveInfinity, quantizedId,
                weightId, XNN_INVALID_VALUE_ID, outputId, 0);
            if (status == xnn_status.xnn_status_success)
            {
                // Accepted: it must then also build and run without harm.
                xnn_runtime* runtime = null;
                xnn_status create = xnn_create_runtime_v3(subgraph, null, null, 0, &runtime);
                if (create != xnn_status.xnn_status_success)
                {
                    return $"create_runtime:{create}";
                }
                xnn_delete_runtime(runtime);
            }
            return status.ToString();
        }
        finally
        {
            xnn_delete_subgraph(subgraph);
        }
    }
}
