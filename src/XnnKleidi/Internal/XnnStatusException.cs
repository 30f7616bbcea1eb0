using XnnKleidi.Interop;

namespace XnnKleidi.Internal;

/// <summary>
/// Turns an <c>xnn_status</c> into the exception a .NET caller expects, in one place (like ONNX Runtime's
/// VerifySuccess or LibGit2Sharp's Ensure). The message names the native operation and the status code, and
/// <see cref="Exception.Data"/> carries them under <see cref="StatusKey"/> and <see cref="OperationKey"/>.
/// </summary>
internal static class XnnStatusException
{
    public const string StatusKey = "XnnStatus";
    public const string OperationKey = "XnnOperation";

    public static void ThrowIfFailed(xnn_status status, string operation, string? parameterName = null)
    {
        if (status != xnn_status.xnn_status_success)
        {
            throw Create(status, operation, parameterName);
        }
    }

    public static Exception Create(xnn_status status, string operation, string? parameterName = null)
    {
        string message = $"{operation} failed with {Describe(status)}.";
        Exception exception = status switch
        {
            xnn_status.xnn_status_invalid_parameter => new ArgumentException(message, parameterName),
            xnn_status.xnn_status_unsupported_hardware => new PlatformNotSupportedException(
                message + " XNNPACK does not support this CPU for this operation."),
            xnn_status.xnn_status_out_of_memory => new InsufficientMemoryException(message),
            xnn_status.xnn_status_unsupported_parameter => new NotSupportedException(
                message + " This XNNPACK build does not support the requested combination."),
            xnn_status.xnn_status_deprecated => new NotSupportedException(message),
            xnn_status.xnn_status_uninitialized => new InvalidOperationException(
                message + " XNNPACK is not initialized."),
            // invalid_state, reallocation_required and any code this binding does not know.
            _ => new InvalidOperationException(message),
        };
        exception.Data[StatusKey] = (int)status;
        exception.Data[OperationKey] = operation;
        return exception;
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
}
