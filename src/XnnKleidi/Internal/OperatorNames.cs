using XnnKleidi.Interop;

namespace XnnKleidi.Internal;

/// <summary>Reads the operator names of a runtime created with XNN_FLAG_BASIC_PROFILING.</summary>
internal static unsafe class OperatorNames
{
    /// <summary>The names, in order: XNNPACK writes as many NUL-terminated names as num_operators says.</summary>
    public static string[] Read(xnn_runtime* runtime)
    {
        nuint count = 0;
        nuint required = 0;
        Ensure.Success(
            NativeMethods.xnn_get_runtime_profiling_info(runtime, xnn_profile_info.xnn_profile_info_num_operators, (nuint)sizeof(nuint), &count, &required),
            "xnn_get_runtime_profiling_info(num_operators)");
        byte[] names = new byte[1024];
        while (true)
        {
            fixed (byte* buffer = names)
            {
                xnn_status status = NativeMethods.xnn_get_runtime_profiling_info(
                    runtime, xnn_profile_info.xnn_profile_info_operator_name, (nuint)names.Length, buffer, &required);
                // param_value_size_ret is only written when the buffer is too small.
                if (status == xnn_status.xnn_status_out_of_memory && required > (nuint)names.Length)
                {
                    names = new byte[(int)required];
                    continue;
                }

                Ensure.Success(status, "xnn_get_runtime_profiling_info(operator_name)");
            }

            break;
        }

        var result = new string[(int)count];
        int offset = 0;
        for (int i = 0; i < result.Length; i++)
        {
            int end = Array.IndexOf(names, (byte)0, offset);
            result[i] = System.Text.Encoding.UTF8.GetString(names, offset, end - offset);
            offset = end + 1;
        }

        return result;
    }
}
