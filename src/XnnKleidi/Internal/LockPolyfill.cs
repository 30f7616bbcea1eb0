#if !NET9_0_OR_GREATER
namespace XnnKleidi;

/// <summary>
/// net8.0 has no <c>System.Threading.Lock</c>; the code locks on a <c>Lock</c> field, which on net8.0 is this plain
/// object and takes the ordinary monitor. The net10.0 build uses the runtime's own type.
/// </summary>
internal sealed class Lock
{
}
#endif
