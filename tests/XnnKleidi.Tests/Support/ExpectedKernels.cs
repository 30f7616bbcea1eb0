namespace XnnKleidi.Tests.Support;

/// <summary>
/// The KleidiAI kernel each QP8 configuration of the patched XNNPACK calls, per CPU feature set, scheme and batch: read
/// from gemm-config.c (patches 0003, 0005 and 0007) and the KleidiAI call in each wrapper's source, not from the
/// library. SME2 comes first, then SME, then i8mm, then dotprod; one row runs the configuration's 1-row kernel. The
/// i8mm configurations pair a dotprod GEMV with their i8mm GEMM, and the dotprod 4-bit ones have only the GEMV. qb4w
/// has no SME pair.
/// The kernel table of docs/kernels.md is this table; <see cref="KernelTableDocTests"/> holds it to that.
/// </summary>
internal static class ExpectedKernels
{
    /// <summary>What a CPU model offers the kernels (after any cap).</summary>
    internal readonly record struct Features(bool Sme2, bool Sme, bool I8mm, bool Dotprod)
    {
        /// <summary>The same CPU with the kernel families above <paramref name="cap"/> taken away.</summary>
        public Features CappedAt(ArmKernelFamily cap) => new(
            Sme2 && cap >= ArmKernelFamily.Sme2,
            Sme && cap >= ArmKernelFamily.Sme,
            I8mm && cap >= ArmKernelFamily.I8mm,
            Dotprod && cap >= ArmKernelFamily.Dotprod);
    }

    /// <summary>The features of the CPU model this run is on (XNNKLEIDI_EXPECTED_CPU); none on x64.</summary>
    public static Features OfThisCpu => new(TestEnvironment.HasSme2, TestEnvironment.HasSme2, TestEnvironment.HasI8mm, TestEnvironment.HasQp8);

    /// <summary>The kernel name, or null where no QP8 kernel runs.</summary>
    public static string? Name(Features cpu, WeightScheme scheme, int batch)
    {
        bool oneRow = batch == 1;
        string? kernel = scheme switch
        {
            WeightScheme.Qc8w when cpu.Sme2 => oneRow ? "qai8dxp1x4_qsi8cxp4vlx4_1x4vl_sme2_dot" : "qai8dxp1vlx4_qsi8cxp4vlx4_1vlx4vl_sme2_mopa",
            WeightScheme.Qc8w when cpu.Sme => oneRow ? "qai8dxp1x4_qsi8cxp4vlx4_1x4vl_sme_dot" : "qai8dxp1vlx4_qsi8cxp4vlx4_1vlx4vl_sme_mopa",
            WeightScheme.Qc8w when cpu.I8mm => oneRow ? "qai8dxp1x8_qsi8cxp4x8_1x4_neon_dotprod" : "qai8dxp4x8_qsi8cxp4x8_16x4_neon_i8mm",
            WeightScheme.Qc8w when cpu.Dotprod => oneRow ? "qai8dxp1x4_qsi8cxp4x4_1x4_neon_dotprod" : "qai8dxp4x4_qsi8cxp4x4_16x4_neon_dotprod",
            WeightScheme.Qc4w when cpu.Sme2 => oneRow ? "qai8dxp1x4_qsi4cxp4vlx4_1x4vl_sme2_sdot" : "qai8dxp1vlx8_qsi4cxp4vlx8_1vlx4vl_sme2_mopa",
            WeightScheme.Qc4w when cpu.Sme => oneRow ? "qai8dxp1x4_qsi4cxp4vlx4_1x4vl_sme_dot" : "qai8dxp1vlx4_qsi4cxp4vlx4_1vlx4vl_sme_mopa",
            WeightScheme.Qc4w when cpu.I8mm => oneRow ? "qai8dxp1x8_qsi4cxp8x8_1x8x32_neon_dotprod" : "qai8dxp4x8_qsi4cxp8x8_8x8x32_neon_i8mm",
            WeightScheme.Qc4w when cpu.Dotprod => "qai8dxp1x8_qsi4cxp8x8_1x8x32_neon_dotprod",
            WeightScheme.Qb4w when cpu.Sme2 => oneRow ? "qai8dxp1x4_qsi4c32p4vlx4_1x4vl_sme2_dot" : "qai8dxp1vlx4_qsi4c32p4vlx4_1vlx4vl_sme2_mopa",
            WeightScheme.Qb4w when cpu.I8mm => oneRow ? "qai8dxp1x8_qsi4c32p4x8_1x4x32_neon_dotprod" : "qai8dxp4x8_qsi4c32p4x8_16x4x32_neon_i8mm",
            WeightScheme.Qb4w when cpu.Dotprod => "qai8dxp1x8_qsi4c32p8x8_1x8x32_neon_dotprod",
            _ => null,
        };
        return kernel is null ? null : "kai_matmul_clamp_f32_" + kernel;
    }

    /// <summary>The family a layer runs on an arm64 CPU with <paramref name="cpu"/>, packed or not.</summary>
    public static ArmKernelFamily Family(Features cpu, WeightScheme scheme, int batch, bool packed)
    {
        if (scheme == WeightScheme.F32)
        {
            return cpu.Sme2 ? ArmKernelFamily.Sme2 : ArmKernelFamily.Neon;
        }

        if (packed && Name(cpu, scheme, batch) is { } name)
        {
            return name.Contains("_sme2_", StringComparison.Ordinal) ? ArmKernelFamily.Sme2
                : name.Contains("_sme_", StringComparison.Ordinal) ? ArmKernelFamily.Sme
                : name.EndsWith("_i8mm", StringComparison.Ordinal) ? ArmKernelFamily.I8mm
                : ArmKernelFamily.Dotprod;
        }

        // XNNPACK's QD8 configurations choose i8mm, then dotprod, then NEON.
        return cpu.I8mm ? ArmKernelFamily.I8mm : cpu.Dotprod ? ArmKernelFamily.Dotprod : ArmKernelFamily.Neon;
    }
}
