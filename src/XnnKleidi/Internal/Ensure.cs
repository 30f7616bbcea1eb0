using XnnKleidi.Interop;

namespace XnnKleidi.Internal;

/// <summary>
/// Turns a failed <c>xnn_status</c> into an exception, in one place (like ONNX Runtime's VerifySuccess or
/// LibGit2Sharp's Ensure): an <see cref="XnnPackException"/> carrying the status and the native function, or, for
/// hardware XNNPACK does not support, a <see cref="PlatformNotSupportedException"/> wrapping one. No parameter name
/// is attached: every argument was checked in managed code first, so a native refusal does not say which one is at fault.
/// </summary>
internal static class Ensure
{
    public static void Success(xnn_status status, string operation)
    {
        if (status != xnn_status.xnn_status_success)
        {
            throw Failure(status, operation);
        }
    }

    public static Exception Failure(xnn_status status, string operation)
    {
        var native = new XnnPackException(ToStatus(status), operation, $"{operation} failed with {Describe(status)}.{Advice(status)}");
        return status == xnn_status.xnn_status_unsupported_hardware
            ? new PlatformNotSupportedException(native.Message, native)
            : native;
    }

    /// <summary>"xnn_status_invalid_parameter (2)", or "unknown xnn_status (42)".</summary>
    public static string Describe(xnn_status status)
    {
        string name = status switch
        {
            xnn_status.xnn_status_success => "xnn_status_success",
            xnn_status.xnn_status_uninitialized => "xnn_status_uninitialized",
            xnn_status.xnn_status_invalid_parameter => "xnn_status_invalid_parameter",
            xnn_status.xnn_status_invalid_state => "xnn_status_invalid_state",
            xnn_status.xnn_status_unsupported_parameter => "xnn_status_unsupported_parameter",
            xnn_status.xnn_status_unsupported_hardware => "xnn_status_unsupported_hardware",
            xnn_status.xnn_status_out_of_memory => "xnn_status_out_of_memory",
            xnn_status.xnn_status_reallocation_required => "xnn_status_reallocation_required",
            xnn_status.xnn_status_deprecated => "xnn_status_deprecated",
            _ => "unknown xnn_status",
        };
        return $"{name} ({(int)status})";
    }

    // A code this binding does not know is reported as an invalid state: something went wrong that no caller can fix.
    private static XnnStatus ToStatus(xnn_status status) =>
        Enum.IsDefined((XnnStatus)(int)status) ? (XnnStatus)(int)status : XnnStatus.InvalidState;

    private static string Advice(xnn_status status) => status switch
    {
        xnn_status.xnn_status_unsupported_hardware => " XNNPACK does not support this CPU for this operation.",
        xnn_status.xnn_status_unsupported_parameter => " This XNNPACK build does not support the requested combination.",
        xnn_status.xnn_status_uninitialized => " XNNPACK is not initialized.",
        xnn_status.xnn_status_out_of_memory => " A native allocation failed.",
        _ => string.Empty,
    };
}
