namespace XnnKleidi;

/// <summary>The status codes of XNNPACK's C API (<c>enum xnn_status</c>), carried by <see cref="XnnPackException.Status"/>.</summary>
public enum XnnStatus
{
    /// <summary><c>xnn_status_success</c>.</summary>
    Success = 0,

    /// <summary><c>xnn_status_uninitialized</c>: XNNPACK was not initialized.</summary>
    Uninitialized = 1,

    /// <summary><c>xnn_status_invalid_parameter</c>: XNNPACK refused a value it was given.</summary>
    InvalidParameter = 2,

    /// <summary><c>xnn_status_invalid_state</c>: the object was not in a state that allows the call.</summary>
    InvalidState = 3,

    /// <summary><c>xnn_status_unsupported_parameter</c>: this XNNPACK build does not support the requested combination.</summary>
    UnsupportedParameter = 4,

    /// <summary><c>xnn_status_unsupported_hardware</c>: XNNPACK does not support this CPU for the operation.</summary>
    UnsupportedHardware = 5,

    /// <summary><c>xnn_status_out_of_memory</c>: a native allocation failed.</summary>
    OutOfMemory = 6,

    /// <summary><c>xnn_status_reallocation_required</c>.</summary>
    ReallocationRequired = 7,

    /// <summary><c>xnn_status_deprecated</c>: the operation is deprecated and no longer supported.</summary>
    Deprecated = 8,
}
