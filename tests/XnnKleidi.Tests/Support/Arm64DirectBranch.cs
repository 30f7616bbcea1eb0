using System.Buffers.Binary;

namespace XnnKleidi.Tests.Support;

/// <summary>
/// Finds the first direct branch (B or BL) in AArch64 machine code: how XNNPACK's KleidiAI wrappers hand over to
/// the kernel they wrap (a tail call, B, or a call, BL). Encodings from the Arm Architecture Reference Manual,
/// "Unconditional branch (immediate)" and "Unconditional branch (register)".
/// </summary>
internal static class Arm64DirectBranch
{
    /// <summary>
    /// The address the first B or BL of <paramref name="code"/> (which starts at <paramref name="codeAddress"/>)
    /// branches to. Throws if the code returns or branches through a register first, or has no direct branch:
    /// then it does not forward to one known function.
    /// </summary>
    public static ulong FirstTarget(ReadOnlySpan<byte> code, ulong codeAddress)
    {
        for (int offset = 0; offset + 4 <= code.Length; offset += 4)
        {
            uint instruction = BinaryPrimitives.ReadUInt32LittleEndian(code[offset..]);
            // B is 0b000101 and BL 0b100101 in bits 31..26; imm26 is a signed count of 4-byte words from here.
            if ((instruction & 0x7C000000u) == 0x14000000u)
            {
                long words = ((long)(instruction & 0x03FFFFFFu) << 38) >> 38;
                return (ulong)((long)codeAddress + offset + (words * 4));
            }

            // BR, BLR, RET and their authenticated forms all have 0b1101011 in bits 31..25.
            if ((instruction & 0xFE000000u) == 0xD6000000u)
            {
                throw new InvalidOperationException(
                    $"instruction 0x{instruction:x8} at 0x{codeAddress + (ulong)offset:x} returns or branches through a register before any B or BL.");
            }
        }

        throw new InvalidOperationException($"no B or BL in the {code.Length} bytes at 0x{codeAddress:x}.");
    }
}
